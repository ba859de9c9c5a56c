#include "common/diagram/sop_diagram.h"

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "common/errors.h"
#include "common/model/describe.h"
#include "common/model/values.h"
#include "common/utf8.h"

namespace sopsidebar {
namespace {

// The diagram as a graph, before it is written in a format: one builder
// serves both formats, one writer per format serves both kinds.
enum class Shape { kTerminal, kDecision, kStep, kTouch, kDisqualify };
enum class EdgeStyle { kFlow, kHandoff, kBranch };

struct Node {
  std::string id;  // generated, never user text
  Shape shape = Shape::kStep;
  std::vector<std::string> lines;  // cleaned (CleanText), not yet escaped
  std::optional<int> lane;         // the role whose lane holds it; none: outside
};

struct Edge {
  std::string from;
  std::string to;
  std::vector<std::string> label;  // cleaned, not yet escaped
  EdgeStyle style = EdgeStyle::kFlow;
};

struct Lane {
  int role = v1::ROLE_UNSPECIFIED;
  std::string label;  // "SDR", "UNASSIGNED", "ROLE_12"
  std::string id;     // the label in lower case: "sdr", "sales_ops"
};

struct Graph {
  std::vector<Lane> lanes;  // empty: no lanes (a flowchart)
  std::vector<Node> nodes;
  std::vector<Edge> edges;
};

bool IsLineBreakOrSpace(char32_t c) { return c == ' ' || c == 0x2028 || c == 0x2029; }

// `text` on one line, printable, at most kMaxDiagramTextChars characters.
std::string CleanText(absl::string_view text) {
  std::string one_line;
  bool space = false;
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Char c = DecodeUtf8At(text, pos);
    const absl::string_view bytes = text.substr(pos, c.size);
    pos += c.size;
    if (c.valid && (IsControlChar(c.code_point) || IsLineBreakOrSpace(c.code_point))) {
      space = !one_line.empty();
      continue;
    }
    if (space) one_line.push_back(' ');
    space = false;
    absl::StrAppend(&one_line, bytes);
  }
  const std::string printable = EscapeUnprintable(one_line);
  if (CountUtf8Chars(printable) <= kMaxDiagramTextChars) return printable;
  size_t end = 0;
  for (size_t n = 0; n + 1 < kMaxDiagramTextChars; ++n) end += DecodeUtf8At(printable, end).size;
  return absl::StrCat(printable.substr(0, end), "…");
}

// A role's or channel's name; ROLE_<number> or CHANNEL_<number> for a value
// this build does not know (an SOP from a newer server).
std::string RoleLabel(int role) {
  if (role == v1::ROLE_UNSPECIFIED) return "UNASSIGNED";
  const std::string& name = v1::Role_Name(static_cast<v1::Role>(role));
  return name.empty() ? absl::StrCat("ROLE_", role) : name;
}

std::string ChannelLabel(int channel) {
  const std::string& name = v1::Channel_Name(static_cast<v1::Channel>(channel));
  return name.empty() ? absl::StrCat("CHANNEL_", channel) : name;
}

std::string Duration(const google::protobuf::Duration& duration) {
  return HumanDuration(absl::Seconds(duration.seconds()) + absl::Nanoseconds(duration.nanos()));
}

// "within 5m of MQL assigned"; none without a time limit.
std::optional<std::string> TimeLimitLabel(const v1::Step& step) {
  if (!step.has_time_limit()) return std::nullopt;
  const v1::TimeLimit& limit = step.time_limit();
  std::string text = absl::StrCat("within ", Duration(limit.duration()));
  const std::string& anchor =
      limit.anchor_event().empty() ? limit.anchor_field() : limit.anchor_event();
  if (!anchor.empty()) absl::StrAppend(&text, " of ", anchor);
  return CleanText(text);
}

// "set lead_status = "SQL – Accepted"", "set owner_id".
std::string UpdateLine(const v1::FieldUpdate& update) {
  if (!update.has_value()) return CleanText(absl::StrCat("set ", update.field()));
  return CleanText(absl::StrCat("set ", update.field(), " = ", DescribeValue(update.value())));
}

// A handoff's label: the updates of `step` that set a value, as
// lead_status → "SQL – Accepted".
std::vector<std::string> StatusChange(const v1::Step& step) {
  std::vector<std::string> lines;
  for (const v1::FieldUpdate& update : step.required_updates()) {
    if (!update.has_value()) continue;
    lines.push_back(CleanText(absl::StrCat(update.field(), " → ", DescribeValue(update.value()))));
  }
  return lines;
}

bool RecordsDisqualificationCode(const v1::Step& step) {
  return std::any_of(step.required_updates().begin(), step.required_updates().end(),
                     [](const v1::FieldUpdate& update) {
                       return update.field() == kDisqualificationCodeUpdateField;
                     });
}

// Steps by ordinal, and touches by day; ties keep the SOP's order.
std::vector<const v1::Step*> StepsInOrder(const v1::Sop& sop) {
  std::vector<const v1::Step*> steps;
  for (const v1::Step& step : sop.steps()) steps.push_back(&step);
  std::stable_sort(steps.begin(), steps.end(), [](const v1::Step* a, const v1::Step* b) {
    return a->ordinal() < b->ordinal();
  });
  return steps;
}

std::vector<const v1::CadenceTouch*> TouchesInOrder(const v1::Sop& sop) {
  std::vector<const v1::CadenceTouch*> touches;
  for (const v1::CadenceTouch& touch : sop.cadence()) touches.push_back(&touch);
  std::stable_sort(
      touches.begin(), touches.end(),
      [](const v1::CadenceTouch* a, const v1::CadenceTouch* b) { return a->day() < b->day(); });
  return touches;
}

// Cadence touches name no role: the role of the last step that names one
// does them (the cadence follows the procedure), else the SDR.
int CadenceRole(const std::vector<const v1::Step*>& steps) {
  for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
    if ((*it)->responsible_role() != v1::ROLE_UNSPECIFIED) return (*it)->responsible_role();
  }
  return v1::SDR;
}

class GraphBuilder {
 public:
  GraphBuilder(const v1::Sop& sop, DiagramKind kind)
      : sop_(sop), swimlanes_(kind == DiagramKind::kSwimlane) {}

  Graph Build() && {
    const std::vector<const v1::Step*> steps = StepsInOrder(sop_);
    const std::vector<const v1::CadenceTouch*> touches = TouchesInOrder(sop_);
    AddNode({"start", Shape::kTerminal, {CleanText(sop_.title().empty() ? "SOP" : sop_.title())}});
    pending_.push_back({"start"});
    for (size_t i = 0; i < steps.size(); ++i) AddStep(i + 1, *steps[i]);
    const int cadence_role = CadenceRole(steps);
    for (size_t i = 0; i < touches.size(); ++i) AddTouch(i + 1, *touches[i], cadence_role);
    AddDisqualification(steps);
    AddNode({"done", Shape::kTerminal, {"Done"}});
    Connect("done", std::nullopt);
    return std::move(graph_);
  }

 private:
  // Where the edges into the next node come from: a node, what its edge
  // says, and the step it is, if any (in swimlanes an edge from a step
  // carries the step's status change).
  struct Exit {
    std::string from;
    std::vector<std::string> label;
    const v1::Step* step = nullptr;
  };

  void AddNode(Node node) {
    if (swimlanes_ && node.lane.has_value()) AddLane(*node.lane);
    graph_.nodes.push_back(std::move(node));
  }

  void AddLane(int role) {
    for (const Lane& lane : graph_.lanes) {
      if (lane.role == role) return;
    }
    const std::string label = RoleLabel(role);
    graph_.lanes.push_back({role, label, absl::AsciiStrToLower(label)});
  }

  std::optional<int> LaneOf(const std::string& id) const {
    for (const Node& node : graph_.nodes) {
      if (node.id == id) return node.lane;
    }
    return std::nullopt;
  }

  // Edges from every pending exit to `to`, each label ending in `timing`.
  void Connect(const std::string& to, const std::optional<std::string>& timing) {
    const std::optional<int> to_lane = LaneOf(to);
    for (Exit& exit : pending_) {
      Edge edge{exit.from, to, std::move(exit.label)};
      if (swimlanes_ && exit.step != nullptr) {
        for (std::string& line : StatusChange(*exit.step)) edge.label.push_back(std::move(line));
        if (to_lane.has_value() && LaneOf(exit.from) != to_lane) edge.style = EdgeStyle::kHandoff;
      }
      if (timing.has_value()) edge.label.push_back(*timing);
      graph_.edges.push_back(std::move(edge));
    }
    pending_.clear();
  }

  void AddStep(size_t position, const v1::Step& step) {
    const int lane = step.responsible_role();
    const std::string id = absl::StrCat("step", position);
    std::vector<std::string> lines = {CleanText(absl::StrCat(step.ordinal(), ". ", step.title()))};
    if (!swimlanes_) {
      if (lane != v1::ROLE_UNSPECIFIED) lines.push_back(absl::StrCat("role: ", RoleLabel(lane)));
      for (const v1::FieldUpdate& update : step.required_updates()) {
        lines.push_back(UpdateLine(update));
      }
    }
    const std::optional<std::string> timing = TimeLimitLabel(step);
    if (step.conditions().empty()) {
      AddNode({id, Shape::kStep, std::move(lines), lane});
      Connect(id, timing);
      pending_.push_back({id, {}, &step});
      return;
    }
    const std::string gate = absl::StrCat("gate", position);
    std::vector<std::string> conditions;
    for (const v1::Condition& condition : step.conditions()) {
      conditions.push_back(
          CleanText(absl::StrCat(conditions.empty() ? "" : "and ", DescribeCondition(condition))));
    }
    conditions.back().push_back('?');
    AddNode({gate, Shape::kDecision, std::move(conditions), lane});
    Connect(gate, std::nullopt);
    AddNode({id, Shape::kStep, std::move(lines), lane});
    pending_.push_back({gate, {"yes"}});
    Connect(id, timing);
    pending_.push_back({id, {}, &step});
    pending_.push_back({gate, {"no"}});
  }

  void AddTouch(size_t position, const v1::CadenceTouch& touch, int role) {
    const std::string id = absl::StrCat("touch", position);
    std::vector<std::string> lines = {
        absl::StrCat("Day ", touch.day(), " · ", ChannelLabel(touch.channel())),
        CleanText(touch.action())};
    if (!touch.template_name().empty()) {
      lines.push_back(CleanText(absl::StrCat("template: ", touch.template_name())));
    }
    for (const v1::FieldUpdate& update : touch.crm_updates()) lines.push_back(UpdateLine(update));
    AddNode({id, Shape::kTouch, std::move(lines), role});
    std::string timing = absl::StrCat("day ", touch.day());
    if (touch.has_within()) absl::StrAppend(&timing, ", within ", Duration(touch.within()));
    Connect(id, timing);
    pending_.push_back({id});
  }

  // The codes branch off the steps that record one, else off the last step.
  void AddDisqualification(const std::vector<const v1::Step*>& steps) {
    if (sop_.disqualification_codes().empty()) return;
    std::vector<size_t> from;
    for (size_t i = 0; i < steps.size(); ++i) {
      if (RecordsDisqualificationCode(*steps[i])) from.push_back(i);
    }
    if (from.empty()) from.push_back(steps.size() - 1);
    std::vector<std::string> lines = {"Disqualify with one code:"};
    for (const v1::DisqualificationCode& code : sop_.disqualification_codes()) {
      lines.push_back(CleanText(absl::StrCat(code.code(), ": ", code.label())));
    }
    AddNode({"disqualify", Shape::kDisqualify, std::move(lines),
             steps[from.front()]->responsible_role()});
    for (size_t i : from) {
      graph_.edges.push_back(
          {absl::StrCat("step", i + 1), "disqualify", {"disqualify"}, EdgeStyle::kBranch});
    }
  }

  const v1::Sop& sop_;
  const bool swimlanes_;
  Graph graph_;
  std::vector<Exit> pending_;
};

// `lines` with each character of `escapes` replaced, joined by `line_break`,
// in double quotes.
std::string Quoted(const std::vector<std::string>& lines,
                   std::initializer_list<std::pair<absl::string_view, absl::string_view>> escapes,
                   absl::string_view line_break) {
  std::vector<std::string> escaped;
  for (const std::string& line : lines) escaped.push_back(absl::StrReplaceAll(line, escapes));
  return absl::StrCat("\"", absl::StrJoin(escaped, line_break), "\"");
}

// Mermaid: every text quoted, with the characters Mermaid would act on even
// inside quotes written as its entity codes.
std::string MermaidText(const std::vector<std::string>& lines) {
  return Quoted(lines,
                {{"\"", "#quot;"},
                 {"#", "#35;"},
                 {"&", "#amp;"},
                 {"<", "#lt;"},
                 {">", "#gt;"},
                 {"|", "#124;"},
                 {"`", "#96;"}},
                "<br/>");
}

std::string MermaidNode(const Node& node) {
  const std::string text = MermaidText(node.lines);
  switch (node.shape) {
    case Shape::kTerminal:
      return absl::StrCat(node.id, "([", text, "])");
    case Shape::kDecision:
      return absl::StrCat(node.id, "{", text, "}");
    case Shape::kStep:
      return absl::StrCat(node.id, "[", text, "]");
    case Shape::kTouch:
      return absl::StrCat(node.id, "(", text, ")");
    case Shape::kDisqualify:
      return absl::StrCat(node.id, "{{", text, "}}");
  }
  return node.id;
}

std::string MermaidEdge(const Edge& edge) {
  const char* arrow = edge.style == EdgeStyle::kHandoff  ? "==>"
                      : edge.style == EdgeStyle::kBranch ? "-.->"
                                                         : "-->";
  const std::string label =
      edge.label.empty() ? "" : absl::StrCat("|", MermaidText(edge.label), "|");
  return absl::StrCat(edge.from, " ", arrow, label, " ", edge.to);
}

std::string WriteMermaid(const Graph& graph) {
  std::string text = "flowchart TD\n";
  const auto in_lanes = [&graph](const Node& node) {
    return !graph.lanes.empty() && node.lane.has_value();
  };
  for (const Node& node : graph.nodes) {
    if (!in_lanes(node)) absl::StrAppend(&text, "  ", MermaidNode(node), "\n");
  }
  for (const Lane& lane : graph.lanes) {
    absl::StrAppend(&text, "  subgraph lane_", lane.id, " [", MermaidText({lane.label}), "]\n");
    for (const Node& node : graph.nodes) {
      if (in_lanes(node) && *node.lane == lane.role) {
        absl::StrAppend(&text, "    ", MermaidNode(node), "\n");
      }
    }
    absl::StrAppend(&text, "  end\n");
  }
  for (const Edge& edge : graph.edges) absl::StrAppend(&text, "  ", MermaidEdge(edge), "\n");
  return text;
}

// DOT: every text a quoted string; `&` is written as an entity because
// Graphviz reads entities in labels ("&lt;" would show as "<").
std::string DotText(const std::vector<std::string>& lines) {
  return Quoted(lines, {{"\\", "\\\\"}, {"\"", "\\\""}, {"&", "&amp;"}}, "\\n");
}

std::string DotNode(const Node& node) {
  const char* style = "";
  switch (node.shape) {
    case Shape::kTerminal:
      style = "shape=oval, style=filled, fillcolor=\"#e8eef9\"";
      break;
    case Shape::kDecision:
      style = "shape=diamond, style=filled, fillcolor=\"#fff4d6\"";
      break;
    case Shape::kStep:
      style = "shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\"";
      break;
    case Shape::kTouch:
      style = "shape=box, style=filled, fillcolor=\"#eaf6ec\"";
      break;
    case Shape::kDisqualify:
      style = "shape=box, style=\"filled,bold\", color=\"#b03a2e\", fillcolor=\"#fdecea\"";
      break;
  }
  return absl::StrCat(node.id, " [", style, ", label=", DotText(node.lines), "];");
}

std::string DotEdge(const Edge& edge) {
  std::vector<std::string> attributes;
  if (!edge.label.empty()) attributes.push_back(absl::StrCat("label=", DotText(edge.label)));
  if (edge.style == EdgeStyle::kHandoff) {
    attributes.push_back("penwidth=2, color=\"#1f5fbf\", fontcolor=\"#1f5fbf\"");
  } else if (edge.style == EdgeStyle::kBranch) {
    attributes.push_back("style=dashed, color=\"#b03a2e\", fontcolor=\"#b03a2e\"");
  }
  std::string text = absl::StrCat(edge.from, " -> ", edge.to);
  if (!attributes.empty()) absl::StrAppend(&text, " [", absl::StrJoin(attributes, ", "), "]");
  return absl::StrCat(text, ";");
}

std::string WriteDot(const Graph& graph) {
  std::string text =
      "digraph sop {\n"
      "  graph [rankdir=TB, fontname=\"Helvetica\", nodesep=0.3, ranksep=0.4];\n"
      "  node [fontname=\"Helvetica\", fontsize=11];\n"
      "  edge [fontname=\"Helvetica\", fontsize=9];\n";
  const auto in_lanes = [&graph](const Node& node) {
    return !graph.lanes.empty() && node.lane.has_value();
  };
  for (const Node& node : graph.nodes) {
    if (!in_lanes(node)) absl::StrAppend(&text, "  ", DotNode(node), "\n");
  }
  for (const Lane& lane : graph.lanes) {
    absl::StrAppend(&text, "  subgraph cluster_", lane.id, " {\n    label=", DotText({lane.label}),
                    ";\n    style=\"rounded,filled\"; fillcolor=\"#f5f6f8\"; color=\"#a9b1bd\";\n");
    for (const Node& node : graph.nodes) {
      if (in_lanes(node) && *node.lane == lane.role) {
        absl::StrAppend(&text, "    ", DotNode(node), "\n");
      }
    }
    absl::StrAppend(&text, "  }\n");
  }
  for (const Edge& edge : graph.edges) absl::StrAppend(&text, "  ", DotEdge(edge), "\n");
  return absl::StrCat(text, "}\n");
}

}  // namespace

absl::StatusOr<std::string> RenderSopDiagram(const v1::Sop& sop, const DiagramOptions& options) {
  if (sop.steps().empty()) {
    return error::InvalidField("steps", "is empty: a diagram needs at least one step");
  }
  Graph graph = GraphBuilder(sop, options.kind).Build();
  switch (options.format) {
    case DiagramFormat::kMermaid:
      return WriteMermaid(graph);
    case DiagramFormat::kDot:
      return WriteDot(graph);
  }
  return absl::InvalidArgumentError("unknown diagram format");
}

}  // namespace sopsidebar
