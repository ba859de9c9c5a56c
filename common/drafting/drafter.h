// Drafting an SOP from a brief: the port both drafters implement (the
// built-in one in plugins/drafting/builtin, one for OpenAI-compatible model
// servers in plugins/drafting/openai). It lives in common/ because sopd
// (AuthoringService.DraftSop) drafts through it.
//
// A draft is only ever a proposal: whoever calls a drafter saves its result
// as a DRAFT that goes through review (docs/GOVERNANCE.md), never publishes
// it. docs/AUTHORING.md describes the brief.
#ifndef SOPSIDEBAR_COMMON_DRAFTING_DRAFTER_H_
#define SOPSIDEBAR_COMMON_DRAFTING_DRAFTER_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sopsidebar/v1/sop.pb.h"

namespace sopsidebar {

// Turns a brief (what the author wants, in words) into a complete SOP body.
// Implementations are thread-safe: Draft may be called from several threads
// at once.
class Drafter {
 public:
  virtual ~Drafter() = default;

  // The SOP `brief` asks for. On OK the SOP passes ValidateSopBody, has no
  // output-only field set (no name, state, etag, revision, times) and is
  // normalised (NormalizeSopBody): ready to be created as a draft. Errors
  // (common/errors.h; nothing is drafted on any of them):
  //   INVALID_ARGUMENT  the brief is empty, too long or not valid text
  //                     (ValidateBrief), or the drafter cannot satisfy it
  //                     (error::BriefNotUnderstood, naming each clause);
  //   UNAVAILABLE, DEADLINE_EXCEEDED, FAILED_PRECONDITION
  //                     a drafter that calls a model server could not get
  //                     a valid SOP from it (error::Model*).
  virtual absl::StatusOr<v1::Sop> Draft(absl::string_view brief) const = 0;
};

// A brief's size limit, in characters.
inline constexpr size_t kMaxBriefChars = 4000;

// OK when `brief` is valid UTF-8 text (newlines and tabs allowed) of 1 to
// kMaxBriefChars characters with something besides white space; else
// INVALID_ARGUMENT naming the field "brief". Every drafter checks this first.
absl::Status ValidateBrief(absl::string_view brief);

// `sop` as a drafter returns it: output-only fields cleared (a model's
// answer may set them: they are never trusted), normalised, and checked with
// ValidateSopBody (INVALID_ARGUMENT listing every violation, paths relative
// to the SOP: "steps[0].title").
absl::StatusOr<v1::Sop> FinishDraft(v1::Sop sop);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_COMMON_DRAFTING_DRAFTER_H_
