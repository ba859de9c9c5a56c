#include "client/cli/format.h"

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/sopfile/sop_file.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace sopsidebar::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

template <typename T>
T FromText(const std::string& text) {
  T message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

constexpr int64_t kNow = 1714550400;

// examples/sops/mql-acceptance-handoff.yaml, as `sopctl apply` sends it.
v1::Sop ExampleMqlSop() {
  const std::string path = absl::StrCat(SOP_EXAMPLES_DIR, "/mql-acceptance-handoff.yaml");
  std::ifstream file(path);
  std::stringstream contents;
  contents << file.rdbuf();
  absl::StatusOr<v1::Sop> sop = ParseSopFile(path, contents.str());
  EXPECT_TRUE(sop.ok()) << sop.status();
  return sop.value_or(v1::Sop());
}

v1::LookupSopsResponse MqlMatch() {
  return FromText<v1::LookupSopsResponse>(R"pb(
    matches {
      sop: "orgs/default/sops/mql-acceptance-handoff"
      revision_id: "3"
      explanation {
        rule_index: 0
        priority: 100
        specificity: 3
        matched_record_type: "Lead"
        matched_conditions {
          condition {
            field: "lead_status"
            equals { string_value: "MQL – New Handoff" }
          }
          actual { string_value: "MQL – New Handoff" }
        }
        matched_conditions {
          condition {
            field: "lead_score"
            range { min: 75 }
          }
          actual { number_value: 82 }
        }
      }
      current_step_index: 1
      current_step_due_time { seconds: 1714550640 }
      cadence_day: 2
      sop_body {
        title: "MQL Acceptance & Handoff"
        steps { ordinal: 1 title: "Open the lead" }
        steps { ordinal: 2 title: "First call" responsible_role: SDR }
        steps { ordinal: 3 title: "Qualify" }
        cadence { day: 1 channel: CALL action: "Call" }
        cadence { day: 2 channel: EMAIL action: "Follow-up email" template_name: "mql-2" }
      }
    }
  )pb");
}

TEST(FormatLookupTest, ExplainsRankedMatches) {
  EXPECT_EQ(FormatLookup(MqlMatch(), absl::FromUnixSeconds(kNow)),
            "1. MQL Acceptance & Handoff  (orgs/default/sops/mql-acceptance-handoff @ rev 3)\n"
            "   matched rule 1 (priority 100, specificity 3): record_type = Lead; lead_status = "
            "\"MQL – New Handoff\" (actual \"MQL – New Handoff\"); lead_score >= 75 (actual 82)\n"
            "   current step 2/3: First call [SDR] due in 4m\n"
            "   cadence day 2: EMAIL Follow-up email (template mql-2)\n");
}

TEST(FormatLookupTest, ShowsTheCurrentStepsInstructionsCrmUpdatesAndAssets) {
  v1::LookupSopsResponse response = FromText<v1::LookupSopsResponse>(R"pb(
    matches {
      sop: "orgs/default/sops/mql-acceptance-handoff"
      revision_id: "2"
      explanation { rule_index: 0 priority: 100 specificity: 2 matched_record_type: "Lead" }
      current_step_index: 3
    }
  )pb");
  *response.mutable_matches(0)->mutable_sop_body() = ExampleMqlSop();
  EXPECT_EQ(FormatLookup(response, absl::FromUnixSeconds(kNow)),
            "1. MQL Acceptance & Handoff  (orgs/default/sops/mql-acceptance-handoff @ rev 2)\n"
            "   matched rule 1 (priority 100, specificity 2): record_type = Lead\n"
            "   current step 4/4: Reject: return to Marketing with a disqualification code [SDR]\n"
            "     1. Set the status to Rejected: Return to Marketing.\n"
            "     2. Pick exactly one disqualification code — the rejection cannot be saved\n"
            "        without it.\n"
            "     3. Add one sentence of context in disqualification_notes (what you saw,\n"
            "        where).\n"
            "\n"
            "     The lead goes back to Marketing nurture automatically; do not delete or\n"
            "     convert it. Marketing reviews every rejection (see Post-Disqualification\n"
            "     Feedback).\n"
            "     set lead_status = \"Rejected: Return to Marketing\"\n"
            "     set disqualification_code (any value): Mandatory. One code from the list "
            "below (D-TooSmall, D-WrongRole, D-Budget, …).\n"
            "     set disqualification_notes (any value): One sentence of evidence, e.g. "
            "\"LinkedIn shows 12 employees\".\n"
            "     asset: Disqualification codes — when to use which [guide] "
            "https://sops.example.com/assets/disqualification-code-guide\n");
}

TEST(FormatLookupTest, PastDueStepIsOverdue) {
  EXPECT_THAT(FormatLookup(MqlMatch(), absl::FromUnixSeconds(kNow + 300)),
              HasSubstr("First call [SDR] overdue by 1m\n"));
}

TEST(FormatLookupTest, MissingActualIsSaidAndCadenceDayOnlyWithCadence) {
  v1::LookupSopsResponse response = FromText<v1::LookupSopsResponse>(R"pb(
    matches {
      sop: "orgs/default/sops/a"
      revision_id: "1"
      explanation {
        rule_index: 1
        rule_description: "unassigned"
        priority: 5
        specificity: 1
        matched_conditions { condition { field: "owner" exists: false } }
      }
      current_step_index: -1
      cadence_day: 3
      sop_body { title: "A" }
    }
  )pb");
  EXPECT_EQ(FormatLookup(response, absl::FromUnixSeconds(kNow)),
            "1. A  (orgs/default/sops/a @ rev 1)\n"
            "   matched rule 2 \"unassigned\" (priority 5, specificity 1): owner is missing "
            "(actual missing)\n");
}

TEST(FormatLookupTest, NoMatchesIsSaid) {
  EXPECT_EQ(FormatLookup(v1::LookupSopsResponse(), absl::Now()),
            "No published SOP matches this record.\n");
}

TEST(FormatNearMissesTest, SaysTheFailedConditionAndTheRecordsValue) {
  v1::LookupSopsResponse response = FromText<v1::LookupSopsResponse>(R"pb(
    near_misses {
      sop: "orgs/default/sops/x"
      revision_id: "2"
      rule_index: 0
      failed_condition_index: 1
      failed_condition {
        field: "lead_status"
        equals { string_value: "MQL – New Handoff" }
      }
      actual { string_value: "MQL - New Handoff" }
      priority: 100
      specificity: 3
    }
    near_misses {
      sop: "orgs/default/sops/y"
      rule_index: 2
      failed_condition { field: "owner" exists: true }
      priority: 5
    }
  )pb");
  EXPECT_EQ(FormatNearMisses(response.near_misses()),
            "near misses:\n"
            "  orgs/default/sops/x rule 1 (priority 100): failed lead_status = \"MQL – New "
            "Handoff\" (actual \"MQL - New Handoff\")\n"
            "  orgs/default/sops/y rule 3 (priority 5): failed owner is set (missing)\n");
}

TEST(FormatNearMissesTest, SaysWhyTheValueLooksLikeASlip) {
  v1::LookupSopsResponse response = FromText<v1::LookupSopsResponse>(R"pb(
    near_misses {
      sop: "orgs/default/sops/x"
      failed_condition_index: 0
      failed_condition {
        field: "lead_status"
        equals { string_value: "SQL – Accepted" }
      }
      actual { string_value: "SQL - Accepted" }
      priority: 100
      hint: "differs only by dash"
    }
    near_misses {
      sop: "orgs/default/sops/y"
      rule_index: 1
      failed_condition_index: -1
      actual { string_value: "lead" }
      priority: 5
      hint: "differs only by case from record type \"Lead\""
    }
  )pb");
  EXPECT_EQ(FormatNearMisses(response.near_misses()),
            "near misses:\n"
            "  orgs/default/sops/x rule 1 (priority 100): failed lead_status = \"SQL – "
            "Accepted\" (actual \"SQL - Accepted\": differs only by dash)\n"
            "  orgs/default/sops/y rule 2 (priority 5): failed record type (actual \"lead\": "
            "differs only by case from record type \"Lead\")\n");
}

TEST(FormatNearMissesTest, NoneIsSaid) { EXPECT_EQ(FormatNearMisses({}), "near misses: none\n"); }

// Two rules of equal rank on a context with fields whose map order is not
// their name order.
v1::TargetingTie Tie() {
  return FromText<v1::TargetingTie>(R"pb(
    sop: "orgs/default/sops/x"
    revision_id: "7"
    rule_index: 0
    other_rule_index: 1
    priority: 100
    specificity: 2
    example_context {
      org: "orgs/default"
      record_type: "Lead"
      fields {
        key: "lead_status"
        value { string_value: "SQL – Accepted" }
      }
      fields {
        key: "lead_score"
        value { number_value: 82 }
      }
      fields {
        key: "tags"
        value { list_value { values { string_value: "a" } } }
      }
    }
  )pb");
}

TEST(FormatCrmContextTest, RecordTypeThenFieldsInNameOrder) {
  EXPECT_EQ(FormatCrmContext(Tie().example_context()),
            "record_type=Lead lead_score=82 lead_status=\"SQL – Accepted\" tags=[\"a\"]");
  v1::CrmContext bare;
  bare.set_record_type("Contact");
  EXPECT_EQ(FormatCrmContext(bare), "record_type=Contact");
}

TEST(FormatTieWarningTest, NamesTheOtherSopRulesRankAndExample) {
  EXPECT_EQ(FormatTieWarning(Tie()),
            "warning: ties with orgs/default/sops/x (rule 1 vs its rule 2, priority 100, "
            "specificity 2), e.g. record_type=Lead lead_score=82 lead_status=\"SQL – Accepted\" "
            "tags=[\"a\"]\n");
}

TEST(FormatTiesTest, OneBlockPerTie) {
  google::protobuf::RepeatedPtrField<v1::TargetingTie> ties;
  *ties.Add() = Tie();
  v1::TargetingTie& second = *ties.Add();
  second.set_sop("orgs/default/sops/y");
  second.set_rule_index(1);
  second.set_priority(5);
  second.set_specificity(1);
  second.mutable_example_context()->set_record_type("Contact");
  EXPECT_EQ(FormatTies(ties),
            "ties with orgs/default/sops/x (rev 7)\n"
            "  rules:        this SOP's rule 1 vs its rule 2\n"
            "  priority:     100\n"
            "  specificity:  2\n"
            "  example:      record_type=Lead lead_score=82 lead_status=\"SQL – Accepted\" "
            "tags=[\"a\"]\n"
            "ties with orgs/default/sops/y (rev -)\n"
            "  rules:        this SOP's rule 2 vs its rule 1\n"
            "  priority:     5\n"
            "  specificity:  1\n"
            "  example:      record_type=Contact\n");
}

TEST(FormatTiesTest, NoTiesIsSaid) { EXPECT_EQ(FormatTies({}), "no ties\n"); }

TEST(FormatConditionTest, WritesEachOperatorAsAnExpression) {
  auto format = [](const std::string& text) {
    return FormatCondition(FromText<v1::Condition>(text));
  };
  EXPECT_EQ(format(R"pb(field: "s"
                        equals { string_value: "MQL" })pb"),
            "s = \"MQL\"");
  EXPECT_EQ(format(R"pb(field: "s"
                        equals { number_value: 75 })pb"),
            "s = 75");
  EXPECT_EQ(format(R"pb(field: "s"
                        any_of {
                          values { string_value: "a" }
                          values { number_value: 2 }
                        }
                        case_insensitive: true)pb"),
            "s in [\"a\", 2] (any case)");
  EXPECT_EQ(format(R"pb(field: "s"
                        none_of { values { string_value: "a" } })pb"),
            "s not in [\"a\"]");
  EXPECT_EQ(format(R"pb(field: "n"
                        range { min: 50 max: 100 exclusive_max: true })pb"),
            "50 <= n < 100");
  EXPECT_EQ(format(R"pb(field: "n"
                        range { min: 50 exclusive_min: true })pb"),
            "n > 50");
  EXPECT_EQ(format(R"pb(field: "n"
                        range { max: 10 })pb"),
            "n <= 10");
  EXPECT_EQ(format(R"pb(field: "t"
                        range { min_time { seconds: 1714550400 } })pb"),
            "t >= 2024-05-01T08:00:00Z");
  EXPECT_EQ(format(R"pb(field: "title" prefix: "VP")pb"), "title starts with \"VP\"");
  EXPECT_EQ(format(R"pb(field: "email" exists: true)pb"), "email is set");
}

TEST(FormatSopTableTest, AlignsColumns) {
  std::vector<v1::Sop> sops = {FromText<v1::Sop>(R"pb(name: "orgs/default/sops/mql-handoff"
                                                      state: PUBLISHED
                                                      revision_id: "4"
                                                      published_revision_id: "3"
                                                      title: "MQL – Handoff")pb"),
                               FromText<v1::Sop>(R"pb(name: "orgs/default/sops/b"
                                                      state: DRAFT
                                                      revision_id: "12"
                                                      title: "B")pb")};
  EXPECT_EQ(
      FormatSopTable(sops),
      "NAME                           STATE                    REV  PUBLISHED  TITLE\n"
      "orgs/default/sops/mql-handoff  PUBLISHED (draft ahead)  4    3          MQL – Handoff\n"
      "orgs/default/sops/b            DRAFT                    12   -          B\n");
  EXPECT_EQ(FormatSopTable({}), "No SOPs.\n");
}

TEST(FormatSopTableTest, PublishedSopWithANewerDraftSaysTheDraftIsAhead) {
  std::vector<v1::Sop> sops = {FromText<v1::Sop>(R"pb(name: "orgs/default/sops/a"
                                                      state: PUBLISHED
                                                      revision_id: "4"
                                                      published_revision_id: "3"
                                                      title: "A")pb"),
                               FromText<v1::Sop>(R"pb(name: "orgs/default/sops/b"
                                                      state: PUBLISHED
                                                      revision_id: "2"
                                                      published_revision_id: "2"
                                                      title: "B")pb")};
  EXPECT_EQ(FormatSopTable(sops),
            "NAME                 STATE                    REV  PUBLISHED  TITLE\n"
            "orgs/default/sops/a  PUBLISHED (draft ahead)  4    3          A\n"
            "orgs/default/sops/b  PUBLISHED                2    2          B\n");
}

TEST(FormatRevisionsTest, ListsIdTimeAuthorAndChange) {
  std::vector<v1::SopRevision> revisions = {FromText<v1::SopRevision>(
      R"pb(name: "orgs/default/sops/a/revisions/2"
           author: "dana"
           create_time { seconds: 1714550400 }
           change_summary: "updated title")pb")};
  EXPECT_EQ(FormatRevisions(revisions),
            "REVISION  TIME                     AUTHOR  CHANGE\n"
            "2         2024-05-01 08:00:00 UTC  dana    updated title\n");
}

TEST(FormatSopTest, SummarizesHeadRulesAndSteps) {
  const std::string text = FormatSop(FromText<v1::Sop>(R"pb(
    name: "orgs/default/sops/a"
    title: "MQL Handoff"
    owner: "Sales Ops"
    state: PUBLISHED
    revision_id: "4"
    published_revision_id: "3"
    review_cycle: QUARTERLY
    targeting_rules {
      record_types: "Lead"
      priority: 100
      conditions {
        field: "lead_score"
        range { min: 75 }
      }
    }
    steps {
      ordinal: 1
      title: "Call"
      responsible_role: SDR
      time_limit {
        duration { seconds: 300 }
        anchor_event: "MQL assigned"
      }
      required_updates {
        field: "lead_status"
        value { string_value: "Working" }
      }
    }
    sla_terms {
      name: "first_contact"
      duration { seconds: 300 }
    }
  )pb"));
  EXPECT_THAT(text, HasSubstr("orgs/default/sops/a\n  Title:   MQL Handoff\n"));
  EXPECT_THAT(text, HasSubstr("  State:   PUBLISHED, draft rev 4, published rev 3\n"));
  EXPECT_THAT(text, HasSubstr("Targeting rules:\n  1. priority 100: record_type = Lead; "
                              "lead_score >= 75\n"));
  EXPECT_THAT(text, HasSubstr("Steps:\n  1. Call [SDR] within 5m of MQL assigned\n"
                              "     set lead_status = \"Working\"\n"));
  EXPECT_THAT(text, HasSubstr("SLA terms:\n  first_contact = 5m\n"));
}

TEST(FormatSopTest, ShowsEachStepsInstructionsCrmUpdatesAndAssets) {
  const std::string text = FormatSop(ExampleMqlSop());
  EXPECT_THAT(
      text,
      HasSubstr("  2. Open the lead and check acceptance criteria within 5 minutes [SDR] within "
                "5m of MQL assigned\n"
                "     when lead_status = \"MQL – New Handoff\"\n"
                "     You have 5 minutes from assignment. Open the lead and check all three\n"
                "     criteria:\n"
                "\n"
                "     Criterion     Accept when\n"
                "     ------------  "
                "------------------------------------------------------------------\n"
                "     Lead score    lead_score ≥ 75\n"
                "     Company size  company_size > 50 employees (check LinkedIn if the field is "
                "empty)\n"
                "     Seniority     VP-level or above: VP, SVP, EVP, Head of, C-level\n"
                "\n"
                "     - All three met → Accept (step 3).\n"
                "     - Any one clearly failed → Reject (step 4) with the matching code.\n"
                "     - Unsure (e.g. \"Director, acting VP\")? Accept and qualify on the first "
                "call\n"
                "       — do not leave the lead in MQL – New Handoff.\n"
                "     set lead_status (any value): SQL – Accepted or Rejected: Return to "
                "Marketing — decide before the clock runs out.\n"
                "     asset: MQL acceptance checklist (score, size, seniority) [checklist] "
                "https://sops.example.com/assets/mql-acceptance-checklist\n"
                "\n"
                "  3. Accept: set SQL – Accepted and start the cadence [SDR]\n"));
  EXPECT_THAT(text,
              HasSubstr("Assets:\n"
                        "  acceptance-checklist: MQL acceptance checklist (score, size, "
                        "seniority) [checklist] "
                        "https://sops.example.com/assets/mql-acceptance-checklist\n"
                        "  disqualification-code-guide: Disqualification codes — when to use "
                        "which [guide] https://sops.example.com/assets/disqualification-code-guide"
                        "\n"));
}

TEST(ToJsonTest, UsesProtoFieldNamesAndPrintsZeros) {
  v1::MatchExplanation why;
  why.set_matched_record_type("Lead");
  absl::StatusOr<std::string> json = ToJson(why);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_THAT(*json, HasSubstr("\"matched_record_type\": \"Lead\""));
  // rule_index 0 names the first rule; leaving it out would hide which rule matched.
  EXPECT_THAT(*json, HasSubstr("\"rule_index\": 0"));
}

// True when `text` holds no character a terminal would act on other than
// the line breaks between lines: no C0 or C1 control, DEL, bidi control.
bool IsSafeForTerminal(const std::string& text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\n') || c == 0x7f) return false;
    if (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) < 0xa0) {
      return false;  // U+0080-U+009F
    }
    if (text.compare(i, 3, "\u202e") == 0 || text.compare(i, 3, "\u2066") == 0) return false;
  }
  return true;
}

// Texts as a hostile server (or an SOP stored before validation) could
// send them: an escape sequence that clears the screen, a bidi override, a
// line break that forges a line, BEL, C1.
constexpr char kHostile[] = "A\x1b[2J\u202eB\r\nC\a\u0085";
constexpr char kHostileEscaped[] = "A\\x1b[2J\\u202eB\\r\\nC\\x07\\u0085";

TEST(FormatEscapingTest, SopTableEscapesControlCharactersInCells) {
  std::vector<v1::Sop> sops(1);
  sops[0].set_name("orgs/default/sops/a");
  sops[0].set_title(kHostile);
  const std::string text = FormatSopTable(sops);
  EXPECT_TRUE(IsSafeForTerminal(text)) << text;
  EXPECT_EQ(text, absl::StrCat("NAME                 STATE              REV  PUBLISHED  TITLE\n"
                               "orgs/default/sops/a  STATE_UNSPECIFIED  -    -          ",
                               kHostileEscaped, "\n"));
}

TEST(FormatEscapingTest, SopSummaryEscapesEveryTextItPrints) {
  v1::Sop sop;
  sop.set_name(absl::StrCat("orgs/default/sops/", kHostile));
  sop.set_title(kHostile);
  sop.set_owner(kHostile);
  sop.set_purpose(kHostile);
  sop.add_tags(kHostile);
  sop.set_anchor_field(kHostile);
  v1::TargetingRule* rule = sop.add_targeting_rules();
  rule->set_description(kHostile);
  rule->add_record_types(kHostile);
  v1::Condition* condition = rule->add_conditions();
  condition->set_field(kHostile);
  condition->mutable_equals()->set_string_value(kHostile);
  v1::Step* step = sop.add_steps();
  step->set_title(kHostile);
  step->mutable_time_limit()->set_anchor_event(kHostile);
  *step->add_conditions() = *condition;
  step->add_required_updates()->set_note(kHostile);
  v1::CadenceTouch* touch = sop.add_cadence();
  touch->set_action(kHostile);
  touch->set_template_name(kHostile);
  v1::SlaTerm* term = sop.add_sla_terms();
  term->set_name(kHostile);
  term->set_description(kHostile);
  v1::DisqualificationCode* code = sop.add_disqualification_codes();
  code->set_code(kHostile);
  code->set_label(kHostile);
  v1::Asset* asset = sop.add_assets();
  asset->set_id(kHostile);
  asset->set_title(kHostile);
  asset->set_uri(kHostile);
  asset->set_kind(kHostile);
  step->set_instructions(absl::StrCat("# ", kHostile, "\n- ", kHostile, "\n| ", kHostile, " |"));
  step->add_asset_ids(kHostile);
  const std::string text = FormatSop(sop);
  EXPECT_TRUE(IsSafeForTerminal(text)) << text;
  EXPECT_THAT(text, HasSubstr(absl::StrCat("  Title:    ", kHostileEscaped, "\n")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("  Purpose:  ", kHostileEscaped, "\n")));
}

TEST(FormatEscapingTest, LookupEscapesTitlesStepsAndValues) {
  v1::LookupSopsResponse response = MqlMatch();
  v1::SopMatch& match = *response.mutable_matches(0);
  match.mutable_sop_body()->set_title(kHostile);
  match.mutable_sop_body()->mutable_steps(1)->set_title(kHostile);
  match.mutable_sop_body()->mutable_steps(1)->set_instructions(kHostile);
  match.mutable_sop_body()->mutable_steps(1)->add_required_updates()->set_field(kHostile);
  match.mutable_sop_body()->mutable_steps(1)->add_asset_ids(kHostile);
  match.mutable_explanation()->set_rule_description(kHostile);
  match.mutable_explanation()->mutable_matched_conditions(0)->mutable_actual()->set_string_value(
      kHostile);
  const std::string text = FormatLookup(response, absl::FromUnixSeconds(kNow));
  EXPECT_TRUE(IsSafeForTerminal(text)) << text;
  EXPECT_THAT(text, HasSubstr(absl::StrCat("1. ", kHostileEscaped, "  (")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("(actual \"", kHostileEscaped, "\")")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("current step 2/3: ", kHostileEscaped, " [SDR]")));
}

TEST(FormatEscapingTest, NearMissesContextsAndTiesAreEscaped) {
  google::protobuf::RepeatedPtrField<v1::NearMiss> misses;
  v1::NearMiss& miss = *misses.Add();
  miss.set_sop(kHostile);
  miss.mutable_failed_condition()->set_field(kHostile);
  miss.mutable_actual()->set_string_value(kHostile);
  EXPECT_TRUE(IsSafeForTerminal(FormatNearMisses(misses))) << FormatNearMisses(misses);

  v1::TargetingTie tie = Tie();
  tie.set_sop(kHostile);
  (*tie.mutable_example_context()->mutable_fields())["note"].set_string_value(kHostile);
  EXPECT_THAT(FormatCrmContext(tie.example_context()),
              HasSubstr(absl::StrCat("note=\"", kHostileEscaped, "\"")));
  EXPECT_TRUE(IsSafeForTerminal(FormatTieWarning(tie))) << FormatTieWarning(tie);
  google::protobuf::RepeatedPtrField<v1::TargetingTie> ties;
  *ties.Add() = tie;
  EXPECT_TRUE(IsSafeForTerminal(FormatTies(ties))) << FormatTies(ties);
}

TEST(FormatEscapingTest, TokensOrgsRevisionsAndWhoAmIAreEscaped) {
  v1::Token token;
  token.set_name(kHostile);
  token.set_user_id(kHostile);
  const std::string tokens = FormatTokenTable({token}, absl::FromUnixSeconds(kNow));
  EXPECT_TRUE(IsSafeForTerminal(tokens)) << tokens;
  EXPECT_THAT(tokens, HasSubstr(kHostileEscaped));
  EXPECT_TRUE(IsSafeForTerminal(FormatCreatedToken(token))) << FormatCreatedToken(token);

  v1::Org org;
  org.set_name(kHostile);
  org.set_display_name(kHostile);
  EXPECT_TRUE(IsSafeForTerminal(FormatOrgTable({org}))) << FormatOrgTable({org});

  v1::SopRevision revision;
  revision.set_name(kHostile);
  revision.set_author(kHostile);
  revision.set_change_summary(kHostile);
  EXPECT_TRUE(IsSafeForTerminal(FormatRevisions({revision}))) << FormatRevisions({revision});

  v1::WhoAmIResponse who;
  who.set_org(kHostile);
  who.set_user_id(kHostile);
  who.set_display_name(kHostile);
  who.set_token(kHostile);
  EXPECT_TRUE(IsSafeForTerminal(FormatWhoAmI(who))) << FormatWhoAmI(who);
}

TEST(FormatEscapingTest, CrmMapsViaAndIntegrationTokensAreEscaped) {
  v1::RoleMap role_map;
  role_map.set_name(kHostile);
  role_map.add_entries()->set_crm_role(kHostile);
  EXPECT_TRUE(IsSafeForTerminal(FormatRoleMap(role_map))) << FormatRoleMap(role_map);

  v1::FieldMap field_map;
  field_map.set_name(kHostile);
  v1::FieldMapEntry& entry = *field_map.add_fields();
  entry.set_crm_field(kHostile);
  entry.set_field(kHostile);
  v1::RecordTypeMapEntry& type = *field_map.add_record_types();
  type.set_crm_object(kHostile);
  type.set_record_type(kHostile);
  EXPECT_TRUE(IsSafeForTerminal(FormatFieldMap(field_map))) << FormatFieldMap(field_map);

  v1::WhoAmIResponse who;
  who.set_via(kHostile);
  EXPECT_TRUE(IsSafeForTerminal(FormatWhoAmI(who))) << FormatWhoAmI(who);

  v1::Token token;
  token.set_crm(kHostile);
  token.set_hubspot_portal_id(kHostile);
  EXPECT_TRUE(IsSafeForTerminal(FormatCreatedToken(token))) << FormatCreatedToken(token);
  const std::string tokens = FormatTokenTable({token}, absl::FromUnixSeconds(kNow));
  EXPECT_TRUE(IsSafeForTerminal(tokens)) << tokens;

  v1::LookupSopsResponse response = MqlMatch();
  v1::FieldSource& source = *response.add_field_sources();
  source.set_field("lead_status");
  source.set_crm_field(kHostile);
  const std::string lookup = FormatLookup(response, absl::FromUnixSeconds(kNow));
  EXPECT_TRUE(IsSafeForTerminal(lookup)) << lookup;
}

TEST(FormatWhoAmITest, SaysViaOnlyWhenAnIntegrationActsForTheCaller) {
  v1::WhoAmIResponse who;
  who.set_org("orgs/default");
  who.set_user_id("salesforce:005A");
  EXPECT_THAT(FormatWhoAmI(who), Not(HasSubstr("Via:")));
  who.set_via("salesforce-integration");
  EXPECT_THAT(FormatWhoAmI(who), HasSubstr("User:          salesforce:005A\n"
                                           "Via:           salesforce-integration\n"));
}

TEST(FormatTokenTableTest, CrmColumnsOnlyWhenAnIntegrationTokenIsListed) {
  v1::Token person;
  person.set_name("orgs/default/tokens/t1");
  person.set_user_id("dana");
  person.add_roles(v1::SDR);
  const absl::Time now = absl::FromUnixSeconds(kNow);
  EXPECT_THAT(FormatTokenTable({person}, now), Not(HasSubstr("CRM")));

  v1::Token integration;
  integration.set_name("orgs/default/tokens/t2");
  integration.set_user_id("hubspot-integration");
  integration.add_roles(v1::INTEGRATION);
  integration.set_crm("hubspot");
  integration.set_hubspot_portal_id("123");
  integration.add_delegable_roles(v1::SDR);
  integration.add_delegable_roles(v1::AE);
  EXPECT_EQ(FormatTokenTable({person, integration}, now),
            "NAME                    USER                 ROLES        CRM                 "
            "DELEGABLE  CREATED  EXPIRES  STATUS\n"
            "orgs/default/tokens/t1  dana                 SDR          -                   "
            "-          -        never    active\n"
            "orgs/default/tokens/t2  hubspot-integration  INTEGRATION  hubspot portal 123  "
            "SDR,AE     -        never    active\n");
}

TEST(FormatLookupTest, SaysWhichCrmFieldEachMatchedFieldCameFrom) {
  v1::LookupSopsResponse response = MqlMatch();
  v1::FieldSource& source = *response.add_field_sources();
  source.set_field("lead_status");
  source.set_crm_field("Status");
  const std::string text = FormatLookup(response, absl::FromUnixSeconds(kNow));
  EXPECT_THAT(text, HasSubstr("lead_status = \"MQL – New Handoff\" (actual \"MQL – New Handoff\", "
                              "from Status); lead_score >= 75 (actual 82)\n"));
  EXPECT_THAT(text, ::testing::EndsWith("fields from the CRM: lead_status (from Status)\n"));

  v1::LookupSopsResponse none;
  *none.add_field_sources() = source;
  EXPECT_EQ(FormatLookup(none, absl::FromUnixSeconds(kNow)),
            "No published SOP matches this record.\n"
            "fields from the CRM: lead_status (from Status)\n");
  EXPECT_THAT(FormatLookup(MqlMatch(), absl::FromUnixSeconds(kNow)),
              Not(HasSubstr("fields from the CRM")));
}

TEST(FormatFieldMapTest, SaysTheDefaultMapAndTypesWithoutTheirPrefix) {
  const v1::FieldMap map = FromText<v1::FieldMap>(R"pb(
    name: "orgs/default/fieldMaps/hubspot"
    is_default: true
    fields { crm_field: "hs_lead_status" field: "lead_status" type: FIELD_TYPE_STRING }
    fields { crm_field: "hs_tags" field: "tags" type: FIELD_TYPE_STRING_LIST }
    record_types { crm_object: "0-1" record_type: "Contact" }
  )pb");
  EXPECT_EQ(FormatFieldMap(map),
            "orgs/default/fieldMaps/hubspot\n"
            "(default map)\n"
            "CRM FIELD       FIELD        TYPE\n"
            "hs_lead_status  lead_status  STRING\n"
            "hs_tags         tags         STRING_LIST\n"
            "\n"
            "CRM OBJECT  RECORD TYPE\n"
            "0-1         Contact\n");
}

TEST(FormatEscapingTest, JsonOutputStaysJson) {
  v1::Sop sop;
  sop.set_title(kHostile);
  absl::StatusOr<std::string> json = ToJson(sop);
  ASSERT_TRUE(json.ok()) << json.status();
  v1::Sop parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(*json, &parsed).ok()) << *json;
  EXPECT_EQ(parsed.title(), kHostile);
}

TEST(FormatFailureTest, PrintsEveryFieldViolationOnItsOwnLine) {
  const absl::Status status = error::InvalidFields({{"sop.title", "is required"},
                                                    {"sop.owner", "is required"},
                                                    {"sop.steps[0].title", "is required"}});
  EXPECT_EQ(FormatFailure(status),
            "INVALID_ARGUMENT: sop.title: is required\n"
            "INVALID_ARGUMENT: sop.owner: is required\n"
            "INVALID_ARGUMENT: sop.steps[0].title: is required\n");
}

TEST(FormatFailureTest, PrintsCodeAndMessageWithoutViolations) {
  EXPECT_EQ(FormatFailure(absl::NotFoundError("SOP orgs/o/sops/x not found")),
            "NOT_FOUND: SOP orgs/o/sops/x not found\n");
}

// A diff of every shape: a changed scalar, a line diff, an added and a
// removed item, two changes in one section.
v1::SopDiff ExampleDiff() {
  return FromText<v1::SopDiff>(R"pb(
    revision_a: "orgs/default/sops/a/revisions/3"
    revision_b: "orgs/default/sops/a/revisions/5"
    changes {
      section: "title"
      path: "title"
      kind: CHANGED
      before: "\"Handoff\""
      after: "\"MQL handoff\""
    }
    changes {
      section: "steps"
      path: "steps[ordinal=2].instructions"
      kind: CHANGED
      lines { op: KEPT text: "Call the lead." }
      lines { op: REMOVED text: "Leave a voicemail." }
      lines { op: ADDED text: "Leave a voicemail and an email." }
    }
    changes {
      section: "steps"
      path: "steps[ordinal=3]"
      kind: ADDED
      after: "{\"ordinal\":3,\"title\":\"Follow up\"}"
    }
    changes {
      section: "visibility_roles"
      path: "visibility_roles[AE]"
      kind: REMOVED
      before: "\"AE\""
    })pb");
}

TEST(FormatSopDiffTest, GroupsChangesBySectionWithMinusAndPlusLines) {
  EXPECT_EQ(FormatSopDiff(ExampleDiff(), false),
            "diff orgs/default/sops/a/revisions/3 -> orgs/default/sops/a/revisions/5\n"
            "[title]\n"
            "changed title\n"
            "  - \"Handoff\"\n"
            "  + \"MQL handoff\"\n"
            "[steps]\n"
            "changed steps[ordinal=2].instructions\n"
            "    Call the lead.\n"
            "  - Leave a voicemail.\n"
            "  + Leave a voicemail and an email.\n"
            "added steps[ordinal=3]\n"
            "  + {\"ordinal\":3,\"title\":\"Follow up\"}\n"
            "[visibility_roles]\n"
            "removed visibility_roles[AE]\n"
            "  - \"AE\"\n");
}

TEST(FormatSopDiffTest, ColourMakesMinusRedPlusGreenAndSectionsBold) {
  EXPECT_EQ(FormatSopDiff(ExampleDiff(), true),
            "diff orgs/default/sops/a/revisions/3 -> orgs/default/sops/a/revisions/5\n"
            "\x1b[1m[title]\x1b[0m\n"
            "changed title\n"
            "\x1b[31m  - \"Handoff\"\x1b[0m\n"
            "\x1b[32m  + \"MQL handoff\"\x1b[0m\n"
            "\x1b[1m[steps]\x1b[0m\n"
            "changed steps[ordinal=2].instructions\n"
            "    Call the lead.\n"
            "\x1b[31m  - Leave a voicemail.\x1b[0m\n"
            "\x1b[32m  + Leave a voicemail and an email.\x1b[0m\n"
            "added steps[ordinal=3]\n"
            "\x1b[32m  + {\"ordinal\":3,\"title\":\"Follow up\"}\x1b[0m\n"
            "\x1b[1m[visibility_roles]\x1b[0m\n"
            "removed visibility_roles[AE]\n"
            "\x1b[31m  - \"AE\"\x1b[0m\n");
}

TEST(FormatSopDiffTest, EscapesWhatTheServerSentEvenWhenColouring) {
  v1::SopDiff diff = FromText<v1::SopDiff>(R"pb(
    revision_a: "orgs/default/sops/a/revisions/1"
    revision_b: "orgs/default/sops/a/revisions/draft"
    changes {
      section: "purpose"
      path: "purpose"
      kind: CHANGED
      lines { op: ADDED text: "evil\x1b[2J" }
    })pb");
  EXPECT_EQ(FormatSopDiff(diff, true),
            "diff orgs/default/sops/a/revisions/1 -> orgs/default/sops/a/revisions/draft\n"
            "\x1b[1m[purpose]\x1b[0m\n"
            "changed purpose\n"
            "\x1b[32m  + evil\\x1b[2J\x1b[0m\n");
}

TEST(FormatSopDiffTest, EmptyDiffSaysNoChanges) {
  v1::SopDiff diff;
  diff.set_revision_a("orgs/default/sops/a/revisions/2");
  diff.set_revision_b("orgs/default/sops/a/revisions/live");
  EXPECT_EQ(FormatSopDiff(diff, true),
            "diff orgs/default/sops/a/revisions/2 -> orgs/default/sops/a/revisions/live\n"
            "no changes\n");
}

TEST(FormatLookupTest, SaysWhenAMatchsReviewIsOverdue) {
  v1::LookupSopsResponse response = FromText<v1::LookupSopsResponse>(R"pb(
    matches {
      sop: "orgs/default/sops/a"
      revision_id: "2"
      sop_body { title: "A" }
      current_step_index: -1
      review_overdue: true
      next_review_time { seconds: 1714291200 }
    }
    matches {
      sop: "orgs/default/sops/b"
      revision_id: "3"
      sop_body { title: "B" }
      current_step_index: -1
      next_review_time { seconds: 1714986000 }
    })pb");
  const std::string text = FormatLookup(response, absl::FromUnixSeconds(kNow));
  EXPECT_THAT(text, HasSubstr("1. A  (orgs/default/sops/a @ rev 2)\n"
                              "   matched rule 1 (priority 0, specificity 0)\n"
                              "   review overdue since 2024-04-28 08:00:00 UTC: this SOP may be "
                              "out of date\n"));
  EXPECT_EQ(text.find("review overdue"), text.rfind("review overdue"));
}

TEST(ShouldColorTest, OnlyOnATerminalWithoutNoColor) {
  EXPECT_TRUE(ShouldColor(true, nullptr));
  EXPECT_TRUE(ShouldColor(true, ""));
  EXPECT_FALSE(ShouldColor(true, "1"));
  EXPECT_FALSE(ShouldColor(false, nullptr));
}

TEST(FormatSopTableTest, ReviewColumnShowsEachDraftsStateAndTheRolesAwaited) {
  std::vector<v1::Sop> sops = {FromText<v1::Sop>(R"pb(name: "orgs/default/sops/a"
                                                      state: PUBLISHED
                                                      revision_id: "4"
                                                      published_revision_id: "3"
                                                      title: "A"
                                                      review {
                                                        state: IN_REVIEW
                                                        awaiting_roles: [ AE, SALES_MANAGER ]
                                                      })pb"),
                               FromText<v1::Sop>(R"pb(name: "orgs/default/sops/b"
                                                      state: PUBLISHED
                                                      revision_id: "2"
                                                      published_revision_id: "2"
                                                      title: "B")pb"),
                               FromText<v1::Sop>(R"pb(name: "orgs/default/sops/c"
                                                      state: DRAFT
                                                      revision_id: "1"
                                                      title: "C"
                                                      review { state: APPROVED })pb")};
  EXPECT_EQ(FormatSopTable(sops),
            "NAME                 STATE                    REV  PUBLISHED  "
            "REVIEW                                  TITLE\n"
            "orgs/default/sops/a  PUBLISHED (draft ahead)  4    3          "
            "IN_REVIEW (awaiting AE, SALES_MANAGER)  A\n"
            "orgs/default/sops/b  PUBLISHED                2    2          "
            "-                                       B\n"
            "orgs/default/sops/c  DRAFT                    1    -          "
            "APPROVED                                C\n");
}

TEST(FormatSopTest, ShowsTheDraftsReviewAndTheNextOwnerReview) {
  const std::string text = FormatSop(FromText<v1::Sop>(R"pb(
    name: "orgs/default/sops/a"
    next_review_time { seconds: 1714550400 }
    review {
      state: IN_REVIEW
      revision_id: "4"
      submitted_by: "ops@example.com"
      awaiting_roles: [ SALES_MANAGER ]
      approvals { role: AE user_id: "ae@example.com" }
    })pb"));
  EXPECT_THAT(text, HasSubstr("  Next review:   2024-05-01 08:00:00 UTC\n"));
  EXPECT_THAT(text, HasSubstr("  Draft review:  IN_REVIEW (awaiting SALES_MANAGER)\n"));
  EXPECT_THAT(text, HasSubstr("  Submitted:     by ops@example.com (rev 4)\n"));
  EXPECT_THAT(text, HasSubstr("  Approvals:     AE by ae@example.com\n"));
}

TEST(FormatCommentsTest, OneRowPerCommentWithItsFirstLine) {
  std::vector<v1::Comment> comments = {
      FromText<v1::Comment>(R"pb(name: "orgs/default/sops/a/comments/c1"
                                 text: "Is 5 minutes right?\nMarketing says 15."
                                 step_ordinal: 2
                                 author: "ae@example.com"
                                 create_time { seconds: 1714550400 })pb"),
      FromText<v1::Comment>(R"pb(name: "orgs/default/sops/a/comments/c2"
                                 text: "Typo in the title"
                                 author: "dana"
                                 author_via: "salesforce-integration"
                                 create_time { seconds: 1714554000 }
                                 resolved: true
                                 resolved_by: "ops@example.com")pb")};
  EXPECT_EQ(FormatComments(comments),
            "ID  STEP  AUTHOR                           CREATED                  "
            "STATUS                       TEXT\n"
            "c1  2     ae@example.com                   2024-05-01 08:00:00 UTC  "
            "open                         Is 5 minutes right? ...\n"
            "c2  -     dana via salesforce-integration  2024-05-01 09:00:00 UTC  "
            "resolved by ops@example.com  Typo in the title\n");
  EXPECT_EQ(FormatComments({}), "No comments.\n");
}

TEST(FormatDueReviewsTest, SaysHowOverdueOrHowSoon) {
  std::vector<v1::Sop> sops = {
      FromText<v1::Sop>(R"pb(name: "orgs/default/sops/a"
                             owner: "Sales Ops"
                             title: "A"
                             next_review_time { seconds: 1714291200 })pb"),
      FromText<v1::Sop>(R"pb(name: "orgs/default/sops/b"
                             owner: "RevOps"
                             title: "B"
                             next_review_time { seconds: 1714986000 })pb")};
  EXPECT_EQ(FormatDueReviews(sops, absl::FromUnixSeconds(kNow)),
            "NAME                 NEXT REVIEW              DUE         OWNER      TITLE\n"
            "orgs/default/sops/a  2024-04-28 08:00:00 UTC  overdue 3d  Sales Ops  A\n"
            "orgs/default/sops/b  2024-05-06 09:00:00 UTC  in 5d1h     RevOps     B\n");
  EXPECT_EQ(FormatDueReviews({}, absl::FromUnixSeconds(kNow)), "No reviews due.\n");
}

TEST(FormatSearchResultsTest, MarksMatchesInBracketsOrBoldAndSaysWhenCorrected) {
  const auto response = FromText<v1::SearchSopsResponse>(R"pb(
    corrected_query: "pricing"
    results {
      sop: "orgs/default/sops/p"
      title: "Pricing"
      score: 1.5
      snippet { text: "Quote at list " }
      snippet { text: "pricing" highlighted: true }
      snippet { text: "\nfirst" }
    })pb");
  EXPECT_EQ(FormatSearchResults(response, false),
            "Showing results for: pricing\n"
            "  1.50  orgs/default/sops/p  Pricing\n"
            "        Quote at list [pricing] first\n");
  EXPECT_EQ(FormatSearchResults(response, true),
            "Showing results for: pricing\n"
            "  1.50  orgs/default/sops/p  Pricing\n"
            "        Quote at list \x1b[1mpricing\x1b[0m first\n");
  EXPECT_EQ(FormatSearchResults(v1::SearchSopsResponse(), false), "No SOPs found.\n");
}

TEST(FormatAuditEventsTest, OneRowPerEvent) {
  std::vector<v1::AuditEvent> events = {
      FromText<v1::AuditEvent>(R"pb(sequence: 1
                                    time { seconds: 1714550400 }
                                    actor: "ops@example.com"
                                    action: "sop.create"
                                    resource: "orgs/default/sops/a"
                                    revision_id: "1"
                                    detail: "created")pb"),
      FromText<v1::AuditEvent>(R"pb(sequence: 2
                                    time { seconds: 1714550460 }
                                    actor: "dana"
                                    actor_via: "salesforce-integration"
                                    action: "comment.add"
                                    resource: "orgs/default/sops/a/comments/c1")pb")};
  EXPECT_EQ(FormatAuditEvents(events),
            "SEQ  TIME                     ACTOR                            ACTION       "
            "RESOURCE                         DETAIL\n"
            "1    2024-05-01 08:00:00 UTC  ops@example.com                  sop.create   "
            "orgs/default/sops/a @ rev 1      created\n"
            "2    2024-05-01 08:01:00 UTC  dana via salesforce-integration  comment.add  "
            "orgs/default/sops/a/comments/c1  \n");
  EXPECT_EQ(FormatAuditEvents({}), "No audit events.\n");
}

TEST(FormatAuditHeadTest, SaysTheSequenceAndHash) {
  EXPECT_EQ(FormatAuditHead(FromText<v1::AuditHead>(R"pb(org: "orgs/default"
                                                         sequence: 7
                                                         hash: "ab12")pb")),
            "orgs/default: sequence 7, hash ab12\n");
  EXPECT_EQ(FormatAuditHead(FromText<v1::AuditHead>(R"pb(org: "orgs/default")pb")),
            "orgs/default: no audit events yet\n");
}

TEST(FormatAuditVerificationTest, IntactOrTheFirstBrokenSequenceAndItsProblem) {
  EXPECT_EQ(FormatAuditVerification(FromText<v1::VerifyAuditLogResponse>(R"pb(
              intact: true
              events_checked: 7
              head { org: "orgs/default" sequence: 7 hash: "ab12" })pb")),
            "intact: 7 events checked, head at sequence 7 (hash ab12)\n");
  EXPECT_EQ(FormatAuditVerification(FromText<v1::VerifyAuditLogResponse>(R"pb(
              events_checked: 4
              first_broken_sequence: 4
              problem: "previous_hash does not match event 3")pb")),
            "BROKEN at sequence 4: previous_hash does not match event 3\n"
            "4 events checked\n");
}

TEST(FormatMissingNodesTest, OneWarningPerMissingNodeAndNothingWhenComplete) {
  v1::ReportNodes nodes;
  nodes.add_counted("node-a");
  EXPECT_EQ(FormatMissingNodes(nodes), "");
  v1::ReportNodes::Missing* missing = nodes.add_missing();
  missing->set_node("node-b");
  missing->set_address("10.0.0.2:50051");
  missing->set_reason("not running (no live lease in etcd)");
  EXPECT_EQ(FormatMissingNodes(nodes),
            "warning: partial report: node-b (10.0.0.2:50051) is missing: not running (no live "
            "lease in etcd)\n");
}

}  // namespace
}  // namespace sopsidebar::cli
