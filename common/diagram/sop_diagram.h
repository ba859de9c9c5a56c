// Diagrams of an SOP, generated from the SOP itself (the v1::Sop message is
// the data model): a flowchart of the procedure, or swimlanes with one lane
// per responsible role, as Mermaid or Graphviz DOT text. sopctl prints them
// (`sopctl diagram`) and renders the DOT with Graphviz (graphviz.h); sopd
// serves them (AuthoringService.GetSopDiagram).
//
// What is drawn, for both kinds:
//   - a start node with the SOP's title, then the steps in ordinal order,
//     then the cadence touches by day (a touch's list order within a day),
//     then a "Done" node;
//   - before a step with conditions, a decision node listing them: "yes"
//     leads into the step, "no" on to the next step (the current step is the
//     first whose conditions hold);
//   - the time limit of a step on the edges into it ("within 5m of MQL
//     assigned"), a touch's day and window on the edge into it;
//   - when the SOP has disqualification codes, a "Disqualify" node listing
//     them, on a dashed "disqualify" branch from each step with a required
//     update of `disqualification_code` (the field the panel's code picker
//     fills), or from the last step when no step names that field.
// A flowchart's step nodes also show the responsible role and the required
// CRM updates. Swimlanes put each step (and its decision) in the lane of its
// responsible_role, lanes ordered by first appearance ("UNASSIGNED" for steps
// without a role); the cadence touches go in the lane of the role of the last
// step that names one, else in the SDR lane. An edge leaving a step is
// labelled with the step's CRM status change (its required updates that set
// a value: lead_status → "SQL – Accepted"); one into another lane is a
// handoff, drawn bold. The Disqualify node sits in the lane of the step that
// leads to it; Start and Done sit outside the lanes.
//
// Both flow top down, lanes as bands one below the other where the work
// moves on. Mermaid: `flowchart TD`, a `subgraph lane_<role>` per lane. DOT:
// `digraph` with `rankdir=TB`, a `subgraph cluster_<role>` per lane
// (cluster_sdr, cluster_sales_ops).
//
// User text (titles, conditions, updates, codes, actions) is untrusted: every
// run of whitespace or control characters becomes one space, other
// characters a terminal would act on are written as EscapeUnprintable writes
// them, each text is cut to kMaxDiagramTextChars characters ("…" marks the
// cut), and then escaped for the format: in Mermaid every text is quoted
// with `"`, `#`, `&`, `<`, `>`, `|` and the backtick written as entity codes
// (#quot; #35; …); in DOT every text is a quoted string with `\` and `"`
// backslash-escaped and `&` written `&amp;`. Node and lane ids are generated
// (start, gate2, step2, touch1, disqualify, done, lane_sdr), never taken from
// user text. The output is deterministic: the same SOP gives the same bytes.
#ifndef SOPSIDEBAR_COMMON_DIAGRAM_SOP_DIAGRAM_H_
#define SOPSIDEBAR_COMMON_DIAGRAM_SOP_DIAGRAM_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sopsidebar/v1/sop.pb.h"

namespace sopsidebar {

enum class DiagramKind { kFlowchart, kSwimlane };
enum class DiagramFormat { kMermaid, kDot };

// The longest user text, in characters, a node or edge shows.
inline constexpr size_t kMaxDiagramTextChars = 80;

// The name of the field whose required update records a disqualification
// code (a disqualification branch starts at such a step).
inline constexpr absl::string_view kDisqualificationCodeUpdateField = "disqualification_code";

struct DiagramOptions {
  // What to draw; default a flowchart.
  DiagramKind kind = DiagramKind::kFlowchart;
  // How to write it; default Mermaid.
  DiagramFormat format = DiagramFormat::kMermaid;
};

// The diagram of `sop` as text, ending in a newline. Only the SOP's content
// is read (title, steps, cadence, disqualification codes); it need not be
// valid otherwise: duplicate ordinals, unknown roles or channels and
// arbitrary bytes in texts give a diagram too. Returns INVALID_ARGUMENT
// "steps: is empty: a diagram needs at least one step" (field "steps") for an
// SOP without steps. Thread-safe (pure function).
absl::StatusOr<std::string> RenderSopDiagram(const v1::Sop& sop, const DiagramOptions& options);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_COMMON_DIAGRAM_SOP_DIAGRAM_H_
