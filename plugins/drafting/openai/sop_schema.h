// What the model drafter tells a model about the SOP schema, and how it
// reads the model's answer back. The schema is described from the
// compiled-in descriptor of sopsidebar.v1.Sop, so it follows sop.proto;
// the few notes written by hand (kSopSchemaNotes) name fields in backticks,
// and a test checks that each of them exists. Thread-safe (pure).
#ifndef SOPSIDEBAR_PLUGINS_DRAFTING_OPENAI_SOP_SCHEMA_H_
#define SOPSIDEBAR_PLUGINS_DRAFTING_OPENAI_SOP_SCHEMA_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "sopsidebar/v1/sop.pb.h"

namespace sopsidebar {

// The fields a writer controls (no output-only field, no name), message by
// message from Sop down, one line per field:
//   "  title: string, required"
//   "  steps: list of Step"
//   "  equals: JSON value (one of op)"
// then each enum's values (without *_UNSPECIFIED).
std::string SopSchemaDescription();

// Guidance beyond the types: units, numbering, conventions of the CRM
// fields. Field names appear in backticks.
extern const absl::string_view kSopSchemaNotes;

// The system message: the task, the answer's form (one JSON object, proto
// JSON mapping, snake_case names), SopSchemaDescription and kSopSchemaNotes.
std::string DraftingSystemPrompt();

// A model's answer, read: the SOP (as FinishDraft returns it), or every
// problem found, each one line ("is not valid JSON: ...", "steps[0].title: is
// required").
struct ModelAnswer {
  std::optional<v1::Sop> sop;
  std::vector<std::string> problems;
};

// Reads `content` (choices[0].message.content): the JSON object itself, or
// inside a ```json fenced block; anything else (prose) is a problem. The
// output-only fields of Sop (name, state, etag, revision_id, times) are
// dropped, unread; everything else goes through ParseSopFile and FinishDraft.
ModelAnswer ReadModelAnswer(absl::string_view content);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_PLUGINS_DRAFTING_OPENAI_SOP_SCHEMA_H_
