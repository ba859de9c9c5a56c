#include "common/diagram/sop_diagram.h"

#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/diagram/graphviz.h"
#include "common/errors.h"
#include "common/sopfile/sop_file.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

v1::Sop SopFrom(const std::string& text) {
  v1::Sop sop;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &sop)) << text;
  return sop;
}

std::string Render(const v1::Sop& sop, DiagramKind kind, DiagramFormat format) {
  absl::StatusOr<std::string> text = RenderSopDiagram(sop, {kind, format});
  EXPECT_TRUE(text.ok()) << text.status();
  return text.value_or("");
}

std::string Mermaid(const v1::Sop& sop, DiagramKind kind = DiagramKind::kFlowchart) {
  return Render(sop, kind, DiagramFormat::kMermaid);
}

std::string Dot(const v1::Sop& sop, DiagramKind kind = DiagramKind::kFlowchart) {
  return Render(sop, kind, DiagramFormat::kDot);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// --- The showcase: examples/sops/mql-acceptance-handoff.yaml -------------
//
// Each diagram is compared byte for byte with its committed file. After an
// intended change, regenerate the files (CMake build) with
//   scripts/update-diagram-goldens
// which runs this test with SOP_UPDATE_GOLDENS=1, and review the diff.

struct Golden {
  DiagramKind kind;
  DiagramFormat format;
  const char* file;
};

class GoldenTest : public ::testing::TestWithParam<Golden> {};

TEST_P(GoldenTest, MqlHandoffDiagramIsTheCommittedOne) {
  const std::string sop_path = absl::StrCat(SOP_EXAMPLES_DIR, "/mql-acceptance-handoff.yaml");
  const absl::StatusOr<v1::Sop> sop = ParseSopFile(sop_path, ReadFile(sop_path));
  ASSERT_TRUE(sop.ok()) << sop.status();
  const std::string rendered = Render(*sop, GetParam().kind, GetParam().format);
  const std::string golden_path = absl::StrCat(SOP_DIAGRAM_TESTDATA, "/", GetParam().file);
  const char* update = std::getenv("SOP_UPDATE_GOLDENS");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(golden_path, std::ios::binary) << rendered;
    std::cerr << "rewrote " << golden_path << "\n";
    return;
  }
  EXPECT_EQ(rendered, ReadFile(golden_path))
      << golden_path << " differs; if the change is intended, run scripts/update-diagram-goldens "
      << "and review the diff";
}

INSTANTIATE_TEST_SUITE_P(
    MqlHandoff, GoldenTest,
    ::testing::Values(
        Golden{DiagramKind::kFlowchart, DiagramFormat::kMermaid, "mql-handoff-flowchart.mmd"},
        Golden{DiagramKind::kFlowchart, DiagramFormat::kDot, "mql-handoff-flowchart.dot"},
        Golden{DiagramKind::kSwimlane, DiagramFormat::kMermaid, "mql-handoff-swimlane.mmd"},
        Golden{DiagramKind::kSwimlane, DiagramFormat::kDot, "mql-handoff-swimlane.dot"}),
    [](const ::testing::TestParamInfo<Golden>& info) {
      return absl::StrCat(info.param.kind == DiagramKind::kFlowchart ? "Flowchart" : "Swimlane",
                          info.param.format == DiagramFormat::kMermaid ? "Mermaid" : "Dot");
    });

// --- What is drawn -----------------------------------------------------------

constexpr char kTwoRoles[] = R"pb(
  title: "Handoff"
  steps {
    ordinal: 1
    title: "Route"
    responsible_role: SALES_OPS
    required_updates {
      field: "lead_status"
      value { string_value: "MQL" }
    }
    required_updates { field: "owner_id" }
  }
  steps {
    ordinal: 2
    title: "Check"
    responsible_role: SDR
    conditions {
      field: "lead_status"
      equals { string_value: "MQL" }
    }
    time_limit {
      duration { seconds: 300 }
      anchor_event: "MQL assigned"
    }
  }
)pb";

TEST(SopDiagramTest, SopWithoutStepsIsInvalidArgumentNamingSteps) {
  for (DiagramKind kind : {DiagramKind::kFlowchart, DiagramKind::kSwimlane}) {
    const absl::StatusOr<std::string> text =
        RenderSopDiagram(SopFrom(R"pb(title: "Empty")pb"), {kind, DiagramFormat::kDot});
    EXPECT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(text.status().message(), "steps: is empty: a diagram needs at least one step");
    ASSERT_EQ(error::FieldViolationsOf(text.status()).size(), 1u);
    EXPECT_EQ(error::FieldViolationsOf(text.status())[0].field, "steps");
  }
}

TEST(SopDiagramTest, StepsAreDrawnInOrdinalOrderWhateverTheirListOrder) {
  v1::Sop sorted = SopFrom(kTwoRoles);
  v1::Sop reversed = sorted;
  reversed.mutable_steps()->SwapElements(0, 1);
  for (DiagramFormat format : {DiagramFormat::kMermaid, DiagramFormat::kDot}) {
    EXPECT_EQ(Render(reversed, DiagramKind::kSwimlane, format),
              Render(sorted, DiagramKind::kSwimlane, format));
  }
  EXPECT_THAT(Mermaid(sorted), HasSubstr("  start --> step1\n"));
}

TEST(SopDiagramTest, StepWithConditionsIsEnteredThroughADecision) {
  const std::string text = Mermaid(SopFrom(kTwoRoles));
  EXPECT_THAT(text, HasSubstr("  gate2{\"lead_status = #quot;MQL#quot;?\"}\n"));
  EXPECT_THAT(text, HasSubstr("  step1 --> gate2\n"));
  EXPECT_THAT(text, HasSubstr("  gate2 -->|\"yes<br/>within 5m of MQL assigned\"| step2\n"));
  EXPECT_THAT(text, HasSubstr("  gate2 -->|\"no\"| done\n"));
  EXPECT_THAT(text, HasSubstr("  step2 --> done\n"));
}

TEST(SopDiagramTest, FlowchartStepsShowTheirRoleAndCrmUpdates) {
  EXPECT_THAT(
      Mermaid(SopFrom(kTwoRoles)),
      HasSubstr("  step1[\"1. Route<br/>role: SALES_OPS<br/>set lead_status = #quot;MQL#quot;"
                "<br/>set owner_id\"]\n"));
}

TEST(SopDiagramTest, SwimlaneHandoffIsBoldAndSaysTheStatusChange) {
  const std::string mermaid = Mermaid(SopFrom(kTwoRoles), DiagramKind::kSwimlane);
  EXPECT_THAT(mermaid, HasSubstr("  subgraph lane_sales_ops [\"SALES_OPS\"]\n    step1[\"1. "
                                 "Route\"]\n  end\n"));
  EXPECT_THAT(mermaid, HasSubstr("  subgraph lane_sdr [\"SDR\"]\n    gate2{"));
  EXPECT_THAT(mermaid, HasSubstr("  step1 ==>|\"lead_status → #quot;MQL#quot;\"| gate2\n"));
  // Within a lane, and into Done (outside the lanes), no handoff.
  EXPECT_THAT(mermaid, HasSubstr("  step2 --> done\n"));

  const std::string dot = Dot(SopFrom(kTwoRoles), DiagramKind::kSwimlane);
  EXPECT_THAT(dot, HasSubstr("  subgraph cluster_sales_ops {\n    label=\"SALES_OPS\";"));
  EXPECT_THAT(dot, HasSubstr("  subgraph cluster_sdr {\n    label=\"SDR\";"));
  EXPECT_THAT(dot, HasSubstr("  step1 -> gate2 [label=\"lead_status → \\\"MQL\\\"\", penwidth=2"));
}

TEST(SopDiagramTest, StepsWithoutARoleShareAnUnassignedLane) {
  const std::string text = Mermaid(SopFrom(R"pb(steps { ordinal: 1 title: "A" }
                                                steps { ordinal: 2 title: "B" })pb"),
                                   DiagramKind::kSwimlane);
  EXPECT_THAT(text, HasSubstr("  subgraph lane_unassigned [\"UNASSIGNED\"]\n    step1[\"1. "
                              "A\"]\n    step2[\"2. B\"]\n  end\n"));
}

constexpr char kCadence[] = R"pb(
  title: "Cadence"
  steps { ordinal: 1 title: "Qualify" responsible_role: SDR }
  steps { ordinal: 2 title: "Call" responsible_role: AE }
  steps { ordinal: 3 title: "Note" }
  cadence { day: 2 channel: EMAIL action: "Send the recap" }
  cadence {
    day: 1
    within { seconds: 300 }
    channel: CALL
    action: "Call"
    template_name: "Script A"
  }
)pb";

TEST(SopDiagramTest, CadenceTouchesFollowTheStepsByDay) {
  const std::string text = Mermaid(SopFrom(kCadence));
  EXPECT_THAT(text, HasSubstr("  touch1(\"Day 1 · CALL<br/>Call<br/>template: Script A\")\n"));
  EXPECT_THAT(text, HasSubstr("  touch2(\"Day 2 · EMAIL<br/>Send the recap\")\n"));
  EXPECT_THAT(text, HasSubstr("  step3 -->|\"day 1, within 5m\"| touch1\n"));
  EXPECT_THAT(text, HasSubstr("  touch1 -->|\"day 2\"| touch2\n"));
  EXPECT_THAT(text, HasSubstr("  touch2 --> done\n"));
}

TEST(SopDiagramTest, CadenceTouchesAreInTheLaneOfTheLastStepWithARole) {
  const std::string text = Mermaid(SopFrom(kCadence), DiagramKind::kSwimlane);
  EXPECT_THAT(text, HasSubstr("  subgraph lane_ae [\"AE\"]\n    step2[\"2. Call\"]\n    touch1("));
}

TEST(SopDiagramTest, CadenceTouchesAreInTheSdrLaneWhenNoStepNamesARole) {
  const std::string text =
      Mermaid(SopFrom(R"pb(steps { ordinal: 1 title: "A" }
                           cadence { day: 1 channel: CALL action: "Call" })pb"),
              DiagramKind::kSwimlane);
  EXPECT_THAT(text, HasSubstr("  subgraph lane_sdr [\"SDR\"]\n    touch1("));
}

constexpr char kCodes[] = R"pb(
  disqualification_codes { code: "D-TooSmall" label: "Too small" }
  disqualification_codes { code: "D-Budget" label: "No budget" }
)pb";

TEST(SopDiagramTest, DisqualificationBranchesOffTheStepsRecordingACode) {
  const std::string text = Mermaid(SopFrom(absl::StrCat(kCodes, R"pb(
    steps {
      ordinal: 1
      title: "Reject"
      required_updates { field: "disqualification_code" }
    }
    steps { ordinal: 2 title: "Accept" }
    steps {
      ordinal: 3
      title: "Drop"
      required_updates { field: "disqualification_code" }
    })pb")));
  EXPECT_THAT(text, HasSubstr("  disqualify{{\"Disqualify with one code:<br/>D-TooSmall: Too "
                              "small<br/>D-Budget: No budget\"}}\n"));
  EXPECT_THAT(text, HasSubstr("  step1 -.->|\"disqualify\"| disqualify\n"));
  EXPECT_THAT(text, HasSubstr("  step3 -.->|\"disqualify\"| disqualify\n"));
  EXPECT_THAT(text, Not(HasSubstr("step2 -.->")));
  EXPECT_THAT(Dot(SopFrom(absl::StrCat(kCodes, R"pb(steps { ordinal: 1 title: "A" })pb"))),
              HasSubstr("  step1 -> disqualify [label=\"disqualify\", style=dashed"));
}

TEST(SopDiagramTest, DisqualificationBranchesOffTheLastStepWhenNoStepRecordsACode) {
  const std::string text = Mermaid(SopFrom(absl::StrCat(kCodes, R"pb(
    steps { ordinal: 1 title: "A" }
    steps { ordinal: 2 title: "B" })pb")));
  EXPECT_THAT(text, HasSubstr("  step2 -.->|\"disqualify\"| disqualify\n"));
  EXPECT_THAT(text, Not(HasSubstr("step1 -.->")));
}

TEST(SopDiagramTest, NoDisqualificationNodeWithoutCodes) {
  EXPECT_THAT(Mermaid(SopFrom(kTwoRoles)), Not(HasSubstr("disqualify")));
}

// --- Untrusted text ------------------------------------------------------------

constexpr char kHostile[] = R"pb(
  title: "Say \"hi\"\nthen <script>alert(1)</script>"
  steps {
    ordinal: 1
    title: "\"]; evil [ label=\"x"
    responsible_role: SALES_OPS
    required_updates {
      field: "lead_status"
      value { string_value: "a\" --> b | {c} `d` #quot; & \\N \\\\ ;" }
    }
  }
  steps {
    ordinal: 2
    title: "--> x\n%% comment\r\nsubgraph end"
    responsible_role: SDR
    conditions {
      field: "lead_status"
      equals { string_value: "<b>\"}; bad -> x {\"" }
    }
  }
  disqualification_codes { code: "D-<i>" label: "`md` **x** &lt;" }
)pb";

TEST(SopDiagramTest, EveryMermaidLineIsOneOfTheGeneratedFormsWhateverTheText) {
  // A node, the start or end of a lane, or an edge; every text quoted, and
  // inside the quotes nothing Mermaid acts on but our own <br/> and entity
  // codes.
  const std::string text = R"((?:[^"<>&|`#\n]|<br/>|#[a-z0-9]+;)*)";
  const std::string quoted = absl::StrCat("\"", text, "\"");
  const std::regex line(absl::StrCat(
      "flowchart TD|", "  (  )?[a-z0-9_]+(\\(\\[", quoted, "\\]\\)|\\{\\{", quoted, "\\}\\}|\\[",
      quoted, "\\]|\\{", quoted, "\\}|\\(", quoted, "\\))|", "  subgraph lane_[a-z0-9_]+ \\[",
      quoted, "\\]|  end|", "  [a-z0-9_]+ (-->|==>|-\\.->)(\\|", quoted, "\\|)? [a-z0-9_]+"));
  for (DiagramKind kind : {DiagramKind::kFlowchart, DiagramKind::kSwimlane}) {
    const std::string mermaid = Mermaid(SopFrom(kHostile), kind);
    for (absl::string_view l : absl::StrSplit(mermaid, '\n', absl::SkipEmpty())) {
      EXPECT_TRUE(std::regex_match(std::string(l), line)) << l;
    }
    EXPECT_THAT(mermaid,
                HasSubstr("Say #quot;hi#quot; then #lt;script#gt;alert(1)#lt;/script#gt;"));
    EXPECT_THAT(mermaid, HasSubstr("#quot;]; evil [ label=#quot;x"));
    EXPECT_THAT(mermaid, HasSubstr("--#gt; x %% comment subgraph end"));
    EXPECT_THAT(mermaid, HasSubstr("#96;md#96; **x** #amp;lt;"));
  }
  EXPECT_THAT(Mermaid(SopFrom(kHostile)),
              HasSubstr("set lead_status = #quot;a#quot; --#gt; b #124; {c} #96;d#96; #35;quot; "
                        "#amp; \\N \\\\ ;#quot;"));
}

// The SVG's node and cluster names: the ids the generator made, and no other.
std::set<std::string> SvgTitles(const std::string& svg) {
  std::set<std::string> titles;
  const std::regex title("<title>([^<]*)</title>");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), title); it != std::sregex_iterator();
       ++it) {
    titles.insert((*it)[1]);
  }
  return titles;
}

TEST(SopDiagramTest, DotOfHostileTextRendersWithTheTextShownAsWritten) {
  for (DiagramKind kind : {DiagramKind::kFlowchart, DiagramKind::kSwimlane}) {
    const std::string dot = Dot(SopFrom(kHostile), kind);
    absl::StatusOr<std::string> svg = RenderWithGraphviz(dot, GraphvizOutput::kSvg);
    if (svg.status().code() == absl::StatusCode::kFailedPrecondition) {
      GTEST_SKIP() << "Graphviz's dot is not installed (scripts/setup installs graphviz): "
                   << svg.status();
    }
    ASSERT_TRUE(svg.ok()) << svg.status() << "\n" << dot;
    // Graphviz writes the text XML-escaped: each piece as the SOP has it.
    EXPECT_THAT(*svg, HasSubstr("Say &quot;hi&quot; then &lt;script&gt;alert(1)&lt;/script&gt;"));
    EXPECT_THAT(*svg, HasSubstr("1. &quot;]; evil [ label=&quot;x"));
    EXPECT_THAT(*svg, HasSubstr("&lt;b&gt;"));
    EXPECT_THAT(*svg, HasSubstr("`md` **x** &amp;lt;"));
    EXPECT_THAT(*svg, Not(HasSubstr("<script")));
    EXPECT_THAT(*svg, Not(HasSubstr("<b>")));
    const std::set<std::string> titles = SvgTitles(*svg);
    for (const std::string& title : titles) {
      EXPECT_TRUE(std::regex_match(title, std::regex("sop|cluster_[a-z_]+|[a-z0-9]+|"
                                                     "[a-z0-9]+&#45;&gt;[a-z0-9]+")))
          << title;
    }
    EXPECT_TRUE(titles.count("disqualify")) << *svg;
    if (kind == DiagramKind::kSwimlane) {
      EXPECT_TRUE(titles.count("cluster_sales_ops"));
      EXPECT_TRUE(titles.count("cluster_sdr"));
      EXPECT_THAT(*svg, HasSubstr(">SALES_OPS</text>"));
      EXPECT_THAT(*svg, HasSubstr(">SDR</text>"));
    }
  }
}

TEST(SopDiagramTest, DotEscapesQuotesBackslashesAndEntities) {
  const std::string dot = Dot(SopFrom(kHostile));
  EXPECT_THAT(dot, HasSubstr("label=\"Say \\\"hi\\\" then <script>alert(1)</script>\""));
  EXPECT_THAT(dot, HasSubstr("set lead_status = \\\"a\\\" --> b | {c} `d` #quot; &amp; "
                             "\\\\N \\\\\\\\ ;\\\""));
}

TEST(SopDiagramTest, UnprintableCharactersAreShownEscapedAndLongTextIsCut) {
  v1::Sop sop = SopFrom(R"pb(steps { ordinal: 1 title: "x" })pb");
  sop.set_title("bad \xff byte \u202e flipped\ttab");
  sop.mutable_steps(0)->set_title(std::string(200, 'a'));
  const std::string text = Mermaid(sop);
  EXPECT_THAT(text, HasSubstr("start([\"bad \\xff byte \\u202e flipped tab\"])"));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("step1[\"", "1. ", std::string(76, 'a'), "…\"]")));
}

TEST(SopDiagramTest, UnknownRolesAndChannelsGetNumberedNames) {
  v1::Sop sop = SopFrom(R"pb(steps { ordinal: 1 title: "x" }
                             cadence { day: 1 action: "y" })pb");
  sop.mutable_steps(0)->set_responsible_role(static_cast<v1::Role>(77));
  sop.mutable_cadence(0)->set_channel(static_cast<v1::Channel>(88));
  const std::string text = Mermaid(sop, DiagramKind::kSwimlane);
  EXPECT_THAT(text, HasSubstr("  subgraph lane_role_77 [\"ROLE_77\"]\n"));
  EXPECT_THAT(text, HasSubstr("Day 1 · CHANNEL_88"));
}

}  // namespace
}  // namespace sopsidebar
