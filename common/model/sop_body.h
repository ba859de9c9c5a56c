// Helpers on the SOP body as a whole. Thread-safe (pure).
#ifndef SOPSIDEBAR_COMMON_MODEL_SOP_BODY_H_
#define SOPSIDEBAR_COMMON_MODEL_SOP_BODY_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "sopsidebar/v1/sop.pb.h"

namespace sopsidebar {

// True for a top-level Sop field a writer controls: not the name, not a field
// declared output only (field_behavior.h); false for nullptr.
bool IsMutableSopField(const google::protobuf::FieldDescriptor* field);

// Clears every output-only field, including the name: what is left is what
// a writer controls.
void ClearOutputOnlyFields(v1::Sop* sop);

// Clears the procedure: purpose, targeting_rules, steps, cadence, sla_terms,
// disqualification_codes and assets, the fields that can make an SOP
// megabytes large. What names, labels, classifies and dates the SOP stays:
// the SOP as SOP_VIEW_BASIC lists it.
void ClearSopProcedure(v1::Sop* sop);

// Puts a body in the form it is stored in: steps in ordinal order, so that
// GetSop, revisions and lookups (whose current_step_index counts in the
// stored order) list the procedure alike, whatever order it was written in.
// Every body a write stores passes through here first.
void NormalizeSopBody(v1::Sop* sop);

// True when the mutable fields of `a` and `b` are equal.
bool SameBody(const v1::Sop& a, const v1::Sop& b);

// The top-level mutable fields (proto names) whose values differ, in field
// number order.
std::vector<std::string> ChangedFields(const v1::Sop& before, const v1::Sop& after);

// Whether the SOP `name` with head `head` (its current state and draft) may
// be published: OK, or FAILED_PRECONDITION when it is deleted
// (error::SopDeleted) or has no targeting rule, so that it would match no
// record (error::SopNotPublishable). The one statement of PublishSop's
// preconditions on the SOP itself: sopd's PublishSop and the plan of an
// apply (sop_apply.h) both ask it.
absl::Status CheckPublishable(absl::string_view name, const v1::Sop& head);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_COMMON_MODEL_SOP_BODY_H_
