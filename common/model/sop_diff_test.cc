#include "common/model/sop_diff.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// One change as "KIND path before -> after", the section checked apart.
std::vector<std::string> Summary(const v1::SopDiff& diff) {
  std::vector<std::string> out;
  for (const v1::FieldChange& c : diff.changes()) {
    out.push_back(absl::StrCat(v1::FieldChange::Kind_Name(c.kind()), " ", c.path(), " ", c.before(),
                               " -> ", c.after()));
  }
  return out;
}

std::vector<std::string> Sections(const v1::SopDiff& diff) {
  std::vector<std::string> out;
  for (const v1::FieldChange& c : diff.changes()) out.push_back(c.section());
  return out;
}

v1::SopDiff Diff(const v1::Sop& a, const v1::Sop& b) {
  v1::SopDiff diff;
  DiffSops(a, b, &diff);
  return diff;
}

std::vector<std::string> Lines(const std::vector<v1::LineChange>& lines) {
  std::vector<std::string> out;
  for (const v1::LineChange& l : lines) {
    out.push_back(absl::StrCat(v1::LineChange::Op_Name(l.op()), " ", l.text()));
  }
  return out;
}

std::vector<std::string> Lines(const v1::FieldChange& change) {
  return Lines(std::vector<v1::LineChange>(change.lines().begin(), change.lines().end()));
}

v1::Step* AddStep(v1::Sop* sop, int ordinal, const std::string& title) {
  v1::Step* step = sop->add_steps();
  step->set_ordinal(ordinal);
  step->set_title(title);
  return step;
}

v1::CadenceTouch* AddTouch(v1::Sop* sop, int day, v1::Channel channel, const std::string& action) {
  v1::CadenceTouch* touch = sop->add_cadence();
  touch->set_day(day);
  touch->set_channel(channel);
  touch->set_action(action);
  return touch;
}

// An SOP with something in every section.
v1::Sop FullSop() {
  v1::Sop sop;
  sop.set_title("Inbound MQL follow-up");
  sop.set_purpose("Reach every MQL fast.\nQualify or disqualify.");
  sop.set_owner("Sales Ops");
  sop.set_review_cycle(v1::QUARTERLY);
  sop.add_tags("mql");
  sop.add_tags("inbound");
  sop.set_funnel_stage(v1::MQL);
  v1::TargetingRule* rule = sop.add_targeting_rules();
  rule->add_record_types("Lead");
  v1::Condition* c = rule->add_conditions();
  c->set_field("lead_status");
  c->mutable_equals()->set_string_value("MQL");
  rule->set_priority(10);
  v1::Step* step = AddStep(&sop, 1, "Call");
  step->set_instructions("Dial the lead.\nLeave a voicemail.");
  step->set_responsible_role(v1::SDR);
  step->mutable_time_limit()->mutable_duration()->set_seconds(3600);
  step->add_asset_ids("script");
  v1::FieldUpdate* update = step->add_required_updates();
  update->set_field("lead_status");
  update->mutable_value()->set_string_value("Working");
  AddStep(&sop, 2, "Qualify");
  AddTouch(&sop, 1, v1::CALL, "Call")->mutable_within()->set_seconds(300);
  AddTouch(&sop, 2, v1::EMAIL, "Follow up");
  v1::SlaTerm* term = sop.add_sla_terms();
  term->set_name("first_contact_window");
  term->mutable_duration()->set_seconds(300);
  v1::DisqualificationCode* code = sop.add_disqualification_codes();
  code->set_code("D-TooSmall");
  code->set_label("Too small");
  v1::Asset* asset = sop.add_assets();
  asset->set_id("script");
  asset->set_title("Call script");
  sop.add_visibility_roles(v1::SDR);
  sop.add_visibility_roles(v1::AE);
  sop.add_required_approver_roles(v1::SALES_MANAGER);
  sop.set_anchor_field("status_changed_at");
  sop.set_owner_user_id("u-1");
  return sop;
}

TEST(SopDiffTest, IdenticalSopsHaveNoChanges) {
  const v1::Sop sop = FullSop();
  EXPECT_THAT(Diff(sop, sop).changes(), IsEmpty());
  EXPECT_THAT(Diff(v1::Sop(), v1::Sop()).changes(), IsEmpty());
}

TEST(SopDiffTest, OutputOnlyFieldsNeverAppear) {
  const v1::Sop a = FullSop();
  v1::Sop b = a;
  b.set_name("orgs/default/sops/other");
  b.set_state(v1::Sop::PUBLISHED);
  b.set_revision_id("7");
  b.set_etag("e7");
  b.mutable_create_time()->set_seconds(1);
  b.mutable_update_time()->set_seconds(2);
  b.set_published_revision_id("6");
  b.mutable_delete_time()->set_seconds(3);
  b.mutable_publish_time()->set_seconds(4);
  b.mutable_review()->set_state(v1::DraftReview::IN_REVIEW);
  b.mutable_last_review_time()->set_seconds(5);
  b.mutable_next_review_time()->set_seconds(6);
  EXPECT_THAT(Diff(a, b).changes(), IsEmpty());
}

TEST(SopDiffTest, ReplacesTheChangesAndLeavesTheRevisionNames) {
  v1::SopDiff diff;
  diff.set_revision_a("orgs/o/sops/s/revisions/1");
  diff.add_changes()->set_path("stale");
  DiffSops(FullSop(), FullSop(), &diff);
  EXPECT_THAT(diff.changes(), IsEmpty());
  EXPECT_EQ(diff.revision_a(), "orgs/o/sops/s/revisions/1");
}

TEST(SopDiffTest, ScalarsAreAddedChangedOrRemovedInFieldOrder) {
  v1::Sop a;
  a.set_title("Old");
  a.set_review_cycle(v1::MONTHLY);
  a.set_anchor_field("created_at");
  v1::Sop b;
  b.set_title("New \"title\"");
  b.set_owner("Sales Ops");
  b.set_review_cycle(v1::QUARTERLY);
  b.set_funnel_stage(v1::SQL);
  const v1::SopDiff diff = Diff(a, b);
  EXPECT_THAT(
      Summary(diff),
      ElementsAre(R"(CHANGED title "Old" -> "New \"title\"")", R"(ADDED owner  -> "Sales Ops")",
                  R"(CHANGED review_cycle "MONTHLY" -> "QUARTERLY")",
                  R"(ADDED funnel_stage  -> "SQL")", R"(REMOVED anchor_field "created_at" -> )"));
  EXPECT_THAT(Sections(diff),
              ElementsAre("title", "owner", "review_cycle", "funnel_stage", "anchor_field"));
  for (const v1::FieldChange& c : diff.changes()) EXPECT_THAT(c.lines(), IsEmpty()) << c.path();
}

TEST(SopDiffTest, MultiLinePurposeCarriesItsLineDiff) {
  v1::Sop a;
  a.set_purpose("Reach every MQL.\nQualify.");
  v1::Sop b;
  b.set_purpose("Reach every MQL.\nQualify or disqualify.\nLog the outcome.");
  const v1::SopDiff diff = Diff(a, b);
  ASSERT_EQ(diff.changes_size(), 1);
  const v1::FieldChange& c = diff.changes(0);
  EXPECT_EQ(c.section(), "purpose");
  EXPECT_EQ(c.path(), "purpose");
  EXPECT_EQ(c.kind(), v1::FieldChange::CHANGED);
  EXPECT_EQ(c.before(), R"("Reach every MQL.\nQualify.")");
  EXPECT_EQ(c.after(), R"("Reach every MQL.\nQualify or disqualify.\nLog the outcome.")");
  EXPECT_THAT(Lines(c), ElementsAre("KEPT Reach every MQL.", "REMOVED Qualify.",
                                    "ADDED Qualify or disqualify.", "ADDED Log the outcome."));
}

TEST(SopDiffTest, TextGainingASecondLineCarriesLines) {
  v1::Sop a;
  a.set_purpose("One line.");
  v1::Sop b;
  b.set_purpose("One line.\nTwo lines.");
  const v1::SopDiff diff = Diff(a, b);
  ASSERT_EQ(diff.changes_size(), 1);
  EXPECT_THAT(Lines(diff.changes(0)), ElementsAre("KEPT One line.", "ADDED Two lines."));
}

TEST(SopDiffTest, StepsArePairedByOrdinalNotByPosition) {
  v1::Sop a;
  AddStep(&a, 1, "Call");
  AddStep(&a, 2, "Qualify");
  AddStep(&a, 3, "Book");
  v1::Sop b;
  AddStep(&b, 3, "Book");
  AddStep(&b, 1, "Call");
  AddStep(&b, 2, "Qualify");
  EXPECT_THAT(Diff(a, b).changes(), IsEmpty());
  b.mutable_steps(0)->set_title("Book a meeting");
  EXPECT_THAT(Summary(Diff(a, b)),
              ElementsAre(R"(CHANGED steps[ordinal=3].title "Book" -> "Book a meeting")"));
}

TEST(SopDiffTest, AStepInBothGetsOneChangePerDifferingField) {
  v1::Sop a = FullSop();
  v1::Sop b = a;
  v1::Step* step = b.mutable_steps(0);
  step->set_title("Call now");
  step->set_responsible_role(v1::AE);
  step->mutable_time_limit()->set_anchor_event("MQL assigned");
  step->mutable_required_updates(0)->mutable_value()->set_string_value("Contacted");
  v1::FieldUpdate* update = step->add_required_updates();
  update->set_field("next_step");
  step->add_asset_ids("deck");
  v1::Condition* c = step->add_conditions();
  c->set_field("phone");
  c->set_exists(true);
  b.mutable_steps(1)->set_instructions("Ask about budget.");
  const v1::SopDiff diff = Diff(a, b);
  EXPECT_THAT(
      Summary(diff),
      ElementsAre(
          R"(CHANGED steps[ordinal=1].title "Call" -> "Call now")",
          R"(CHANGED steps[ordinal=1].responsible_role "SDR" -> "AE")",
          R"(CHANGED steps[ordinal=1].time_limit {"duration":"3600s"} -> {"duration":"3600s","anchorEvent":"MQL assigned"})",
          R"(CHANGED steps[ordinal=1].required_updates[lead_status] {"field":"lead_status","value":"Working"} -> {"field":"lead_status","value":"Contacted"})",
          R"(ADDED steps[ordinal=1].required_updates[next_step]  -> {"field":"next_step"})",
          R"(ADDED steps[ordinal=1].asset_ids[deck]  -> "deck")",
          R"(ADDED steps[ordinal=1].conditions[0]  -> {"field":"phone","exists":true})",
          R"(ADDED steps[ordinal=2].instructions  -> "Ask about budget.")"));
  for (const std::string& section : Sections(diff)) EXPECT_EQ(section, "steps");
}

TEST(SopDiffTest, AddedAndRemovedStepsHoldTheWholeStepWhereTheyStood) {
  v1::Sop a;
  AddStep(&a, 1, "Call");
  AddStep(&a, 2, "Email");
  AddStep(&a, 3, "Qualify");
  AddStep(&a, 4, "Book");
  v1::Sop b;
  AddStep(&b, 1, "Call");
  AddStep(&b, 3, "Qualify");
  AddStep(&b, 5, "Hand over")->set_responsible_role(v1::AE);
  EXPECT_THAT(
      Summary(Diff(a, b)),
      ElementsAre(
          R"(REMOVED steps[ordinal=2] {"ordinal":2,"title":"Email"} -> )",
          R"(REMOVED steps[ordinal=4] {"ordinal":4,"title":"Book"} -> )",
          R"(ADDED steps[ordinal=5]  -> {"ordinal":5,"title":"Hand over","responsibleRole":"AE"})"));
  // A step removed before any kept step comes first.
  v1::Sop c;
  AddStep(&c, 0, "Research");
  AddStep(&c, 1, "Call");
  v1::Sop d;
  AddStep(&d, 1, "Call");
  AddStep(&d, 2, "Email");
  EXPECT_THAT(Summary(Diff(c, d)),
              ElementsAre(R"(REMOVED steps[ordinal=0] {"title":"Research"} -> )",
                          R"(ADDED steps[ordinal=2]  -> {"ordinal":2,"title":"Email"})"));
}

TEST(SopDiffTest, InstructionsCarryKeptAddedAndRemovedLinesInOrder) {
  v1::Sop a;
  AddStep(&a, 2, "Call")->set_instructions("Open the record.\nDial.\nLeave a voicemail.\nLog it.");
  v1::Sop b;
  AddStep(&b, 2, "Call")
      ->set_instructions("Open the record.\nCheck the time zone.\nDial.\nLog it.\nSet a task.");
  const v1::SopDiff diff = Diff(a, b);
  ASSERT_EQ(diff.changes_size(), 1);
  const v1::FieldChange& c = diff.changes(0);
  EXPECT_EQ(c.section(), "steps");
  EXPECT_EQ(c.path(), "steps[ordinal=2].instructions");
  EXPECT_EQ(c.kind(), v1::FieldChange::CHANGED);
  EXPECT_EQ(c.before(), R"("Open the record.\nDial.\nLeave a voicemail.\nLog it.")");
  EXPECT_THAT(Lines(c),
              ElementsAre("KEPT Open the record.", "ADDED Check the time zone.", "KEPT Dial.",
                          "REMOVED Leave a voicemail.", "KEPT Log it.", "ADDED Set a task."));
}

TEST(SopDiffTest, CadenceTouchesPairByDayChannelAndActionThenByPositionInTheDay) {
  v1::Sop a;
  AddTouch(&a, 1, v1::CALL, "Call");
  AddTouch(&a, 1, v1::EMAIL, "Intro email");
  AddTouch(&a, 3, v1::LINKEDIN, "Connect");
  // Reordered within a day: the same touches.
  v1::Sop b;
  AddTouch(&b, 1, v1::EMAIL, "Intro email");
  AddTouch(&b, 1, v1::CALL, "Call");
  AddTouch(&b, 3, v1::LINKEDIN, "Connect");
  EXPECT_THAT(Diff(a, b).changes(), IsEmpty());
  // An edited action pairs by position among the day's touches left; a
  // touch moved to another day is removed and added.
  b.mutable_cadence(1)->set_action("Call and leave a voicemail");
  b.mutable_cadence(1)->mutable_within()->set_seconds(600);
  b.mutable_cadence(2)->set_day(4);
  AddTouch(&b, 1, v1::SMS, "Text");
  const v1::SopDiff diff = Diff(a, b);
  EXPECT_THAT(
      Summary(diff),
      ElementsAre(
          R"(ADDED cadence[day=1,#2].within  -> "600s")",
          R"(CHANGED cadence[day=1,#2].action "Call" -> "Call and leave a voicemail")",
          R"(REMOVED cadence[day=3,#1] {"day":3,"channel":"LINKEDIN","action":"Connect"} -> )",
          R"(ADDED cadence[day=4,#1]  -> {"day":4,"channel":"LINKEDIN","action":"Connect"})",
          R"(ADDED cadence[day=1,#3]  -> {"day":1,"channel":"SMS","action":"Text"})"));
  for (const std::string& section : Sections(diff)) EXPECT_EQ(section, "cadence");
}

TEST(SopDiffTest, SlaTermsArePairedByName) {
  v1::Sop a;
  v1::SlaTerm* window = a.add_sla_terms();
  window->set_name("first_contact_window");
  window->mutable_duration()->set_seconds(300);
  v1::SlaTerm* score = a.add_sla_terms();
  score->set_name("min_lead_score");
  score->set_number(75);
  v1::Sop b;
  v1::SlaTerm* new_score = b.add_sla_terms();
  new_score->set_name("min_lead_score");
  new_score->set_number(80);
  new_score->set_description("Scored by HubSpot");
  v1::SlaTerm* new_window = b.add_sla_terms();
  new_window->set_name("first_contact_window");
  new_window->set_number(0);  // A threshold of another kind, set to zero.
  v1::SlaTerm* budget = b.add_sla_terms();
  budget->set_name("max_touches");
  budget->set_number(8);
  EXPECT_THAT(Summary(Diff(a, b)),
              ElementsAre(R"(ADDED sla_terms[min_lead_score].description  -> "Scored by HubSpot")",
                          R"(CHANGED sla_terms[min_lead_score].number 75 -> 80)",
                          R"(ADDED sla_terms[first_contact_window].number  -> 0)",
                          R"(REMOVED sla_terms[first_contact_window].duration "300s" -> )",
                          R"(ADDED sla_terms[max_touches]  -> {"name":"max_touches","number":8})"));
}

TEST(SopDiffTest, DisqualificationCodesArePairedByCodeAndAssetsById) {
  v1::Sop a = FullSop();
  v1::Sop b = a;
  b.mutable_disqualification_codes(0)->set_label("Under 10 seats");
  v1::DisqualificationCode* code = b.add_disqualification_codes();
  code->set_code("D-NoBudget");
  code->set_label("No budget");
  b.clear_assets();
  v1::Asset* deck = b.add_assets();
  deck->set_id("deck");
  deck->set_title("Deck");
  v1::Asset* script = b.add_assets();
  *script = a.assets(0);
  script->set_uri("https://example.com/script");
  const v1::SopDiff diff = Diff(a, b);
  EXPECT_THAT(
      Summary(diff),
      ElementsAre(
          R"(CHANGED disqualification_codes[D-TooSmall].label "Too small" -> "Under 10 seats")",
          R"(ADDED disqualification_codes[D-NoBudget]  -> {"code":"D-NoBudget","label":"No budget"})",
          R"(ADDED assets[deck]  -> {"id":"deck","title":"Deck"})",
          R"(ADDED assets[script].uri  -> "https://example.com/script")"));
  EXPECT_THAT(Sections(diff),
              ElementsAre("disqualification_codes", "disqualification_codes", "assets", "assets"));
}

TEST(SopDiffTest, TargetingRulesArePairedByIndexWithOneChangePerCondition) {
  v1::Sop a = FullSop();
  v1::Condition* size = a.mutable_targeting_rules(0)->add_conditions();
  size->set_field("company_size");
  size->mutable_range()->set_min(10);
  v1::TargetingRule* extra = a.add_targeting_rules();
  extra->add_record_types("Contact");
  v1::Sop b = a;
  v1::TargetingRule* rule = b.mutable_targeting_rules(0);
  rule->add_record_types("Contact");
  rule->mutable_conditions(1)->mutable_range()->set_min(50);
  rule->set_priority(20);
  rule->set_description("Inbound MQLs");
  b.mutable_targeting_rules()->RemoveLast();
  const v1::SopDiff diff = Diff(a, b);
  EXPECT_THAT(
      Summary(diff),
      ElementsAre(
          R"(ADDED targeting_rules[0].record_types[Contact]  -> "Contact")",
          R"(CHANGED targeting_rules[0].conditions[1] {"field":"company_size","range":{"min":10}} -> {"field":"company_size","range":{"min":50}})",
          R"(CHANGED targeting_rules[0].priority 10 -> 20)",
          R"(ADDED targeting_rules[0].description  -> "Inbound MQLs")",
          R"(REMOVED targeting_rules[1] {"recordTypes":["Contact"]} -> )"));
  for (const std::string& section : Sections(diff)) EXPECT_EQ(section, "targeting_rules");
}

TEST(SopDiffTest, RolesAndTagsAreSets) {
  v1::Sop a;
  a.add_tags("mql");
  a.add_tags("inbound");
  a.add_visibility_roles(v1::SDR);
  a.add_visibility_roles(v1::AE);
  a.add_required_approver_roles(v1::SALES_MANAGER);
  a.add_required_approver_roles(v1::VP_SALES);
  v1::Sop b;
  b.add_tags("inbound");
  b.add_tags("mql");
  b.add_tags("mql");  // A repeat counts once.
  b.add_visibility_roles(v1::AE);
  b.add_visibility_roles(v1::SDR);
  b.add_required_approver_roles(v1::VP_SALES);
  b.add_required_approver_roles(v1::SALES_MANAGER);
  EXPECT_THAT(Diff(a, b).changes(), IsEmpty());
  b.add_tags("hot");
  b.clear_visibility_roles();
  b.add_visibility_roles(v1::AE);
  b.add_visibility_roles(v1::SALES_MANAGER);
  b.clear_required_approver_roles();
  const v1::SopDiff diff = Diff(a, b);
  EXPECT_THAT(
      Summary(diff),
      ElementsAre(R"(ADDED tags[hot]  -> "hot")", R"(REMOVED visibility_roles[SDR] "SDR" -> )",
                  R"(ADDED visibility_roles[SALES_MANAGER]  -> "SALES_MANAGER")",
                  R"(REMOVED required_approver_roles[SALES_MANAGER] "SALES_MANAGER" -> )",
                  R"(REMOVED required_approver_roles[VP_SALES] "VP_SALES" -> )"));
  EXPECT_THAT(Sections(diff), ElementsAre("tags", "visibility_roles", "visibility_roles",
                                          "required_approver_roles", "required_approver_roles"));
}

TEST(SopDiffTest, RepeatedKeysPairByOccurrenceAndSayWhichInThePath) {
  v1::Sop a;
  a.add_sla_terms()->set_name("x");
  a.add_sla_terms()->set_name("x");
  v1::Sop b = a;
  b.mutable_sla_terms(1)->set_description("second");
  b.add_sla_terms()->set_name("x");
  EXPECT_THAT(Summary(Diff(a, b)), ElementsAre(R"(ADDED sla_terms[x,#2].description  -> "second")",
                                               R"(ADDED sla_terms[x,#3]  -> {"name":"x"})"));
}

TEST(SopDiffTest, StructValuesCompareByKeyWhateverTheirOrder) {
  v1::Sop a;
  auto* fields = AddStep(&a, 1, "Call")
                     ->add_conditions()
                     ->mutable_equals()
                     ->mutable_struct_value()
                     ->mutable_fields();
  for (int i = 0; i < 20; ++i) (*fields)[absl::StrCat("k", i)].set_number_value(i);
  v1::Sop b;
  auto* reversed = AddStep(&b, 1, "Call")
                       ->add_conditions()
                       ->mutable_equals()
                       ->mutable_struct_value()
                       ->mutable_fields();
  for (int i = 19; i >= 0; --i) (*reversed)[absl::StrCat("k", i)].set_number_value(i);
  EXPECT_THAT(Diff(a, b).changes(), IsEmpty());
  (*reversed)["k3"].set_number_value(30);
  EXPECT_THAT(
      Summary(Diff(a, b)),
      ElementsAre(::testing::StartsWith("CHANGED steps[ordinal=1].conditions[0] {\"equals\":{")));
}

TEST(SopDiffTest, EverySectionChangedListsChangesInSopFieldOrder) {
  const v1::Sop a = FullSop();
  v1::Sop b;
  b.set_title("T");
  const v1::SopDiff diff = Diff(a, b);
  std::vector<std::string> sections = Sections(diff);
  sections.erase(std::unique(sections.begin(), sections.end()), sections.end());
  EXPECT_THAT(sections,
              ElementsAre("title", "purpose", "owner", "review_cycle", "tags", "funnel_stage",
                          "targeting_rules", "steps", "cadence", "sla_terms",
                          "disqualification_codes", "assets", "visibility_roles",
                          "required_approver_roles", "anchor_field", "owner_user_id"));
  // And back: everything added.
  const v1::SopDiff back = Diff(b, a);
  for (const v1::FieldChange& c : back.changes()) {
    if (c.section() == "title") continue;
    EXPECT_EQ(c.kind(), v1::FieldChange::ADDED) << c.path();
    EXPECT_EQ(c.before(), "") << c.path();
  }
}

TEST(SopDiffTest, ALargeSopInAnotherOrderWithOneEditGivesOneChange) {
  v1::Sop a;
  v1::Sop b;
  constexpr int kSteps = 5000;
  for (int i = 1; i <= kSteps; ++i) {
    AddStep(&a, i, absl::StrCat("Step ", i))->set_instructions("Do it.\nLog it.");
    AddStep(&b, kSteps + 1 - i, absl::StrCat("Step ", kSteps + 1 - i))
        ->set_instructions("Do it.\nLog it.");
  }
  b.mutable_steps(0)->set_instructions("Do it.\nLog it twice.");
  const v1::SopDiff diff = Diff(a, b);
  ASSERT_EQ(diff.changes_size(), 1);
  EXPECT_EQ(diff.changes(0).path(), absl::StrCat("steps[ordinal=", kSteps, "].instructions"));
  EXPECT_THAT(Lines(diff.changes(0)),
              ElementsAre("KEPT Do it.", "REMOVED Log it.", "ADDED Log it twice."));
}

TEST(DiffLinesTest, KeepsAddsAndRemovesLinesInOrder) {
  EXPECT_THAT(Lines(DiffLines("a\nb\nc\nd", "a\nc\nd\ne")),
              ElementsAre("KEPT a", "REMOVED b", "KEPT c", "KEPT d", "ADDED e"));
}

TEST(DiffLinesTest, ReplacedLinesAreRemovedBeforeTheyAreAdded) {
  EXPECT_THAT(Lines(DiffLines("x\nold 1\nold 2\ny", "x\nnew 1\nnew 2\ny")),
              ElementsAre("KEPT x", "REMOVED old 1", "REMOVED old 2", "ADDED new 1", "ADDED new 2",
                          "KEPT y"));
}

TEST(DiffLinesTest, TheEmptyTextHasNoLinesAndATrailingNewlineEndsInAnEmptyLine) {
  EXPECT_THAT(DiffLines("", ""), IsEmpty());
  EXPECT_THAT(Lines(DiffLines("", "a\nb")), ElementsAre("ADDED a", "ADDED b"));
  EXPECT_THAT(Lines(DiffLines("a\nb", "")), ElementsAre("REMOVED a", "REMOVED b"));
  EXPECT_THAT(Lines(DiffLines("a", "a\n")), ElementsAre("KEPT a", "ADDED "));
  EXPECT_THAT(Lines(DiffLines("a\n\nb", "a\n\nb")), ElementsAre("KEPT a", "KEPT ", "KEPT b"));
}

// The length of a longest common subsequence, by dynamic programming.
size_t LcsLength(const std::vector<std::string>& x, const std::vector<std::string>& y) {
  std::vector<std::vector<size_t>> t(x.size() + 1, std::vector<size_t>(y.size() + 1, 0));
  for (size_t i = 1; i <= x.size(); ++i) {
    for (size_t j = 1; j <= y.size(); ++j) {
      t[i][j] = x[i - 1] == y[j - 1] ? t[i - 1][j - 1] + 1 : std::max(t[i - 1][j], t[i][j - 1]);
    }
  }
  return t[x.size()][y.size()];
}

TEST(DiffLinesTest, KeepsALongestCommonSubsequenceAndRebuildsBothTexts) {
  uint32_t state = 12345;  // A fixed linear congruential sequence.
  const auto next = [&state](uint32_t bound) {
    state = state * 1103515245u + 12345u;
    return (state >> 16) % bound;
  };
  for (int round = 0; round < 300; ++round) {
    std::vector<std::string> x, y;
    const uint32_t alphabet = 2 + next(5);
    for (uint32_t i = next(12); i > 0; --i) x.push_back(std::string(1, 'a' + next(alphabet)));
    for (uint32_t i = next(12); i > 0; --i) y.push_back(std::string(1, 'a' + next(alphabet)));
    const std::vector<v1::LineChange> lines =
        DiffLines(absl::StrJoin(x, "\n"), absl::StrJoin(y, "\n"));
    std::vector<std::string> rebuilt_x, rebuilt_y;
    size_t kept = 0;
    for (const v1::LineChange& l : lines) {
      if (l.op() != v1::LineChange::ADDED) rebuilt_x.push_back(l.text());
      if (l.op() != v1::LineChange::REMOVED) rebuilt_y.push_back(l.text());
      if (l.op() == v1::LineChange::KEPT) ++kept;
    }
    // An empty joined text has no lines, not one empty line.
    if (x.size() == 1 && x[0].empty()) x.clear();
    if (y.size() == 1 && y[0].empty()) y.clear();
    ASSERT_EQ(rebuilt_x, x) << "round " << round;
    ASSERT_EQ(rebuilt_y, y) << "round " << round;
    ASSERT_EQ(kept, LcsLength(x, y)) << "round " << round;
  }
}

TEST(DiffLinesTest, BeyondTheEditBoundTheMiddleIsRemovedThenAdded) {
  std::vector<std::string> x = {"head"}, y = {"head"};
  for (int i = 0; i < kMaxLineEdits; ++i) {
    x.push_back(absl::StrCat("old ", i));
    y.push_back(absl::StrCat("new ", i));
  }
  x.push_back("tail");
  y.push_back("tail");
  const std::vector<v1::LineChange> lines =
      DiffLines(absl::StrJoin(x, "\n"), absl::StrJoin(y, "\n"));
  ASSERT_EQ(lines.size(), 2 * static_cast<size_t>(kMaxLineEdits) + 2);
  EXPECT_EQ(Lines({lines.front()}), std::vector<std::string>{"KEPT head"});
  EXPECT_EQ(Lines({lines[1]}), std::vector<std::string>{"REMOVED old 0"});
  EXPECT_EQ(Lines({lines[kMaxLineEdits]}),
            std::vector<std::string>{absl::StrCat("REMOVED old ", kMaxLineEdits - 1)});
  EXPECT_EQ(Lines({lines[kMaxLineEdits + 1]}), std::vector<std::string>{"ADDED new 0"});
  EXPECT_EQ(Lines({lines.back()}), std::vector<std::string>{"KEPT tail"});
}

}  // namespace
}  // namespace sopsidebar
