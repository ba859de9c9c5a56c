#include "plugins/drafting/builtin/builtin_drafter.h"

#include <map>
#include <string>
#include <vector>

#include "common/errors.h"
#include "common/model/validation.h"
#include "common/sopfile/sop_file.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

using ::testing::ElementsAre;

constexpr absl::string_view kIssueBrief =
    "5-touch cadence over 5 days, call/email/LinkedIn, inbound MQL, 5-minute first contact";

v1::Sop DraftOrDie(absl::string_view brief) {
  const absl::StatusOr<v1::Sop> sop = BuiltinDrafter().Draft(brief);
  EXPECT_TRUE(sop.ok()) << sop.status();
  return sop.ok() ? *sop : v1::Sop();
}

std::vector<int> DaysOf(const v1::Sop& sop) {
  std::vector<int> days;
  for (const v1::CadenceTouch& touch : sop.cadence()) days.push_back(touch.day());
  return days;
}

const v1::SlaTerm* SlaTermNamed(const v1::Sop& sop, absl::string_view name) {
  for (const v1::SlaTerm& term : sop.sla_terms()) {
    if (term.name() == name) return &term;
  }
  return nullptr;
}

TEST(BuiltinDrafterTest, IssueExampleGivesACompleteValidMqlCadence) {
  const v1::Sop sop = DraftOrDie(kIssueBrief);
  EXPECT_TRUE(ValidateSopBody(sop, "").ok());
  EXPECT_EQ(sop.title(), "Inbound MQL: 5-Touch Cadence over 5 Days");
  EXPECT_FALSE(sop.purpose().empty());
  EXPECT_EQ(sop.owner(), kDefaultOwner);
  EXPECT_EQ(sop.funnel_stage(), v1::MQL);
  EXPECT_EQ(sop.anchor_field(), "status_changed_at");
  EXPECT_EQ(sop.name(), "");
  EXPECT_EQ(sop.state(), v1::Sop::STATE_UNSPECIFIED);

  ASSERT_EQ(sop.targeting_rules_size(), 1);
  const v1::TargetingRule& rule = sop.targeting_rules(0);
  EXPECT_THAT(rule.record_types(), ElementsAre("Lead"));
  ASSERT_EQ(rule.conditions_size(), 2);
  EXPECT_EQ(rule.conditions(0).field(), "lead_status");
  EXPECT_EQ(rule.conditions(0).equals().string_value(), "MQL – New Handoff");
  EXPECT_EQ(rule.conditions(1).field(), "lead_source");
  ASSERT_EQ(rule.conditions(1).any_of().values_size(), 2);
  EXPECT_EQ(rule.conditions(1).any_of().values(0).string_value(), "Web");

  ASSERT_EQ(sop.cadence_size(), 5);
  EXPECT_THAT(DaysOf(sop), ElementsAre(1, 2, 3, 4, 5));
  std::vector<v1::Channel> channels;
  for (const v1::CadenceTouch& touch : sop.cadence()) channels.push_back(touch.channel());
  EXPECT_THAT(channels, ElementsAre(v1::CALL, v1::EMAIL, v1::LINKEDIN, v1::CALL, v1::EMAIL));
  EXPECT_EQ(sop.cadence(0).within().seconds(), 300);

  const v1::SlaTerm* first_contact = SlaTermNamed(sop, "first_contact_window");
  ASSERT_NE(first_contact, nullptr);
  EXPECT_EQ(first_contact->duration().seconds(), 300);
  const v1::SlaTerm* min_score = SlaTermNamed(sop, "min_lead_score");
  ASSERT_NE(min_score, nullptr);
  EXPECT_EQ(min_score->number(), kDefaultMqlMinScore);
  ASSERT_NE(SlaTermNamed(sop, "touches_required"), nullptr);
  EXPECT_EQ(SlaTermNamed(sop, "touches_required")->number(), 5);

  // One step per touch and a close-out; each with a role and a time limit.
  ASSERT_EQ(sop.steps_size(), 6);
  for (const v1::Step& step : sop.steps()) {
    EXPECT_EQ(step.responsible_role(), v1::SDR) << step.title();
    EXPECT_GT(step.time_limit().duration().seconds(), 0) << step.title();
  }
  EXPECT_EQ(sop.steps(0).title(), "Touch 1 (Day 1): call within 5 minutes");
  EXPECT_EQ(sop.steps(0).time_limit().duration().seconds(), 300);
  EXPECT_EQ(sop.steps(0).time_limit().anchor_event(), "MQL assigned");
  EXPECT_EQ(sop.steps(2).conditions(0).equals().number_value(), 2);
  EXPECT_EQ(sop.steps(5).conditions(0).range().min(), 5);

  EXPECT_GE(sop.disqualification_codes_size(), 1);
  EXPECT_THAT(sop.required_approver_roles(), ElementsAre(v1::VP_SALES, v1::MARKETING_DIRECTOR));
}

TEST(BuiltinDrafterTest, SameBriefGivesTheSameSop) {
  const v1::Sop first = DraftOrDie(kIssueBrief);
  const v1::Sop second = DraftOrDie(kIssueBrief);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(first, second));
  const v1::Sop other = DraftOrDie("inbound MQL, 5-touch cadence over 5 days, call/email/LinkedIn");
  EXPECT_FALSE(google::protobuf::util::MessageDifferencer::Equals(first, other));
  EXPECT_EQ(SlaTermNamed(other, "first_contact_window"), nullptr);
  EXPECT_FALSE(other.cadence(0).has_within());
}

TEST(BuiltinDrafterTest, DenseCadenceStaysWithinTheDailyLimit) {
  const v1::Sop sop = DraftOrDie("SQL, 7-touch cadence over 2 days, call/email");
  EXPECT_THAT(DaysOf(sop), ElementsAre(1, 1, 1, 1, 2, 2, 2));
  std::map<int, int> per_day;
  const v1::Sop densest = DraftOrDie("SQL, 30-touch cadence over 6 days, call/email/SMS");
  for (int day : DaysOf(densest)) ++per_day[day];
  ASSERT_EQ(per_day.size(), 6u);
  for (const auto& [day, count] : per_day) EXPECT_LE(count, kMaxTouchesPerDay) << "day " << day;
}

TEST(BuiltinDrafterTest, SparseCadenceEndsOnTheLastDay) {
  EXPECT_THAT(DaysOf(DraftOrDie("nurture, 3-touch cadence over 10 days, email")),
              ElementsAre(1, 6, 10));
  EXPECT_THAT(DaysOf(DraftOrDie("nurture, 1-touch cadence over 10 days, email")), ElementsAre(1));
}

TEST(BuiltinDrafterTest, BriefsOptionsReachTheSop) {
  const v1::Sop sop = DraftOrDie(
      "partner lead, 4-touch cadence over 8 days, email/video, owner Sales Ops, role AE, "
      "min score 40, title: Partner referral follow-up\n"
      "disqualify: no budget, wrong persona");
  EXPECT_EQ(sop.title(), "Partner referral follow-up");
  EXPECT_EQ(sop.owner(), "Sales Ops");
  EXPECT_EQ(sop.funnel_stage(), v1::LEAD);
  EXPECT_EQ(sop.targeting_rules(0).conditions(0).equals().string_value(), "Open - Not Contacted");
  EXPECT_EQ(sop.targeting_rules(0).conditions(1).any_of().values(0).string_value(),
            "Partner Referral");
  for (const v1::Step& step : sop.steps()) EXPECT_EQ(step.responsible_role(), v1::AE);
  ASSERT_NE(SlaTermNamed(sop, "min_lead_score"), nullptr);
  EXPECT_EQ(SlaTermNamed(sop, "min_lead_score")->number(), 40);
  ASSERT_EQ(sop.disqualification_codes_size(), 2);
  EXPECT_EQ(sop.disqualification_codes(0).code(), "D-NoBudget");
  EXPECT_EQ(sop.disqualification_codes(0).label(), "No budget");
  EXPECT_EQ(sop.disqualification_codes(1).code(), "D-WrongPersona");
  EXPECT_EQ(sop.cadence(1).channel(), v1::VIDEO);
  EXPECT_EQ(sop.cadence(2).template_name(), "email-template-2");
}

TEST(BuiltinDrafterTest, DraftReadsBackAsAnSopFile) {
  const v1::Sop sop = DraftOrDie(kIssueBrief);
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(sop, &json, options).ok());
  const absl::StatusOr<v1::Sop> read = ParseSopFile("draft.json", json);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(sop, *read));
}

TEST(BuiltinDrafterTest, BriefItCannotSatisfyIsInvalidArgumentNamingTheClause) {
  const absl::StatusOr<v1::Sop> sop =
      BuiltinDrafter().Draft("inbound MQL, 0-touch cadence over 5 days, call");
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sop.status().message(),
            "brief: clause 2 \"0-touch cadence over 5 days\": a cadence has 1 to 30 touches; "
            "brief: names no cadence: add e.g. \"5-touch cadence over 5 days\"");
}

TEST(BuiltinDrafterTest, EmptyBriefIsRequired) {
  EXPECT_EQ(BuiltinDrafter().Draft("  ").status().message(), "brief: is required");
}

TEST(BuiltinDrafterTest, OwnerOverTheFieldLimitIsNamed) {
  const absl::StatusOr<v1::Sop> sop = BuiltinDrafter().Draft(
      absl::StrCat("MQL, 1-touch cadence over 1 day, call, owner ", std::string(300, 'x')));
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(error::FieldViolationsOf(sop.status()).size(), 1u);
  EXPECT_EQ(error::FieldViolationsOf(sop.status())[0].field, "owner");
}

}  // namespace
}  // namespace sopsidebar
