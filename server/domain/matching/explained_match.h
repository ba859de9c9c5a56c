// Turns matcher results into the API's explained matches: which rule and
// conditions matched with the record's values, the current step, its due
// time and the cadence day. Shared by every engine. Thread-safe (pure).
//
// Two forms of the same result: ExplainMatch builds the SopMatch message;
// AppendExplainedMatch writes its wire form straight into a response buffer
// without copying the SOP body or the rule's conditions (the lookup hot
// path, where building and then serialising the message dominated).
#ifndef SOPSIDEBAR_SERVER_DOMAIN_MATCHING_EXPLAINED_MATCH_H_
#define SOPSIDEBAR_SERVER_DOMAIN_MATCHING_EXPLAINED_MATCH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "server/domain/matching/condition.h"
#include "server/domain/matching/sop_matcher.h"
#include "sopsidebar/v1/context_service.pb.h"

namespace sopsidebar {

// `now` is the time cadence days are counted to.
v1::SopMatch ExplainMatch(const SopMatchResult& result, const v1::CrmContext& context,
                          absl::Time now);

// A near miss with the failed condition and the record's value for it.
v1::NearMiss ExplainNearMiss(const NearMiss& miss, const v1::CrmContext& context);

// The index into `sop.steps` of the first step, in ordinal order, whose
// conditions hold for `fields`; -1 when none does.
int CurrentStepIndex(const v1::Sop& sop, const FieldMap& fields);

// The parts of a SopMatch's wire form that depend only on the published SOP,
// each with its field tag: fields 1-2 (sop, revision_id), field 7
// (sop_body), and for every condition of every targeting rule the
// MatchedCondition field that holds it. Encoded once per published SOP, they
// make a lookup's response mostly a copy of bytes.
struct SopMatchWireParts {
  std::string head;
  std::string body;
  struct Rule {
    // MatchedCondition.condition (tag, length, Condition) of each condition
    // of the rule, in order, one after the other.
    std::string conditions;
    // Where each condition's bytes end in `conditions`.
    std::vector<uint32_t> condition_ends;
  };
  // Indexed like the body's targeting_rules.
  std::vector<Rule> rules;
};

// The wire parts of every match of `sop`.
SopMatchWireParts EncodeSopMatchParts(const PublishedSop& sop);

// EncodeSopMatchParts(sop), made once and kept in sop.wire_parts.
// Thread-safe and lock-free: concurrent first calls may each encode the
// parts; one result is kept.
const SopMatchWireParts& WireParts(const PublishedSop& sop);

// Appends to `out`, as field `field_number` (length-delimited, with its tag)
// of the message being written there, a SopMatch that parses to exactly
// ExplainMatch(result, context, now). The bytes are those of serialising
// that message (fields in number order), given that the context's values
// serialise the same way twice. `parts` must be
// EncodeSopMatchParts(*result.sop).
void AppendExplainedMatch(int field_number, const SopMatchResult& result,
                          const v1::CrmContext& context, absl::Time now,
                          const SopMatchWireParts& parts, std::string* out);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_MATCHING_EXPLAINED_MATCH_H_
