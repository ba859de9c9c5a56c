#include "server/domain/matching/targeting_conflicts.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/domain/matching/condition.h"
#include "server/domain/matching/test_sops.h"

namespace sopsidebar {
namespace {

using test::ParseText;
using test::Published;

const SopName kCandidate{"default", "candidate"};

TEST(TargetingConflictsTest, OverlappingRulesOfEqualRankTieWithAnExampleBothMatch) {
  v1::Sop candidate = ParseText<v1::Sop>(R"pb(targeting_rules {
    record_types: "Lead" priority: 5
    conditions { field: "lead_status" equals { string_value: "MQL" } }
    conditions { field: "lead_score" range { min: 70 exclusive_min: true } }
  })pb");
  std::vector<PublishedSopPtr> published = {Published("other", R"pb(targeting_rules {
    record_types: "Contact" record_types: "Lead" priority: 5
    conditions { field: "lead_status" any_of { values { string_value: "mql" } values { string_value: "SQL" } } case_insensitive: true }
    conditions { field: "lead_score" range { max: 90 } }
  })pb")};
  std::vector<TargetingTie> ties = FindTargetingTies(candidate, kCandidate, published);
  ASSERT_EQ(ties.size(), 1u);
  EXPECT_EQ(ties[0].other->name.sop, "other");
  EXPECT_EQ(ties[0].candidate_rule, 0);
  EXPECT_EQ(ties[0].other_rule, 0);
  EXPECT_EQ(ties[0].priority, 5);
  EXPECT_EQ(ties[0].specificity, 3);
  EXPECT_EQ(ties[0].example.record_type(), "Lead");
  EXPECT_EQ(ties[0].example.org(), "orgs/default");
  EXPECT_TRUE(RuleMatches(candidate.targeting_rules(0), ties[0].example));
  EXPECT_TRUE(RuleMatches(published[0]->body.targeting_rules(0), ties[0].example));
}

TEST(TargetingConflictsTest, DisjointConditionsDoNotTie) {
  v1::Sop candidate = ParseText<v1::Sop>(R"pb(targeting_rules {
    record_types: "Lead"
    conditions { field: "lead_score" range { min: 80 } }
  })pb");
  std::vector<PublishedSopPtr> published = {
      Published("low", R"pb(targeting_rules {
        record_types: "Lead"
        conditions { field: "lead_score" range { max: 80 exclusive_max: true } }
      })pb"),
      Published("contact", R"pb(targeting_rules {
        record_types: "Contact"
        conditions { field: "lead_score" range { min: 80 } }
      })pb"),
      Published("excluded", R"pb(targeting_rules {
        record_types: "Lead"
        conditions { field: "lead_score" exists: false }
      })pb")};
  EXPECT_TRUE(FindTargetingTies(candidate, kCandidate, published).empty());
}

TEST(TargetingConflictsTest, DifferentPriorityOrSpecificityIsNotATie) {
  v1::Sop candidate = ParseText<v1::Sop>(R"pb(targeting_rules {
    record_types: "Lead" priority: 1
  })pb");
  std::vector<PublishedSopPtr> published = {
      Published("higher", R"pb(targeting_rules { record_types: "Lead" priority: 2 })pb"),
      Published("narrower", R"pb(targeting_rules {
        record_types: "Lead" priority: 1
        conditions { field: "x" exists: true }
      })pb")};
  EXPECT_TRUE(FindTargetingTies(candidate, kCandidate, published).empty());
}

TEST(TargetingConflictsTest, OwnRevisionOtherOrgsAndUnseenSopsAreIgnored) {
  v1::Sop candidate = ParseText<v1::Sop>(R"pb(visibility_roles: SDR targeting_rules {
    record_types: "Lead"
  })pb");
  std::vector<PublishedSopPtr> published = {
      Published("candidate", R"pb(targeting_rules { record_types: "Lead" })pb"),
      Published("elsewhere", R"pb(targeting_rules { record_types: "Lead" })pb", 1000, "other"),
      Published("ae-only", R"pb(visibility_roles: AE targeting_rules { record_types: "Lead" })pb")};
  // SOP managers see both SDR-only and AE-only SOPs: that one still ties.
  std::vector<TargetingTie> ties = FindTargetingTies(candidate, kCandidate, published);
  ASSERT_EQ(ties.size(), 1u);
  EXPECT_EQ(ties[0].other->name.sop, "ae-only");
}

TEST(TargetingConflictsTest, DifferentValuesOfAScalarFieldDoNotTie) {
  // A status is one value: no record is both "Demo Cancelled" and
  // "Demo No-Show", nor both "SQL – Accepted" and one of two other statuses.
  v1::Sop candidate = ParseText<v1::Sop>(R"pb(targeting_rules {
    record_types: "Lead" priority: 100
    conditions { field: "lead_status" equals { string_value: "Demo Cancelled" } }
  }
  targeting_rules {
    record_types: "Lead" priority: 100
    conditions { field: "lead_status" equals { string_value: "SQL – Accepted" } }
  })pb");
  std::vector<PublishedSopPtr> published = {
      Published("no-show", R"pb(targeting_rules {
        record_types: "Lead" priority: 100
        conditions { field: "lead_status" equals { string_value: "Demo No-Show" } }
      })pb"),
      Published("handoff", R"pb(targeting_rules {
        record_types: "Lead" priority: 100
        conditions { field: "lead_status" any_of { values { string_value: "MQL – New Handoff" } values { string_value: "Open" } } }
      })pb")};
  std::vector<TargetingTie> ties = FindTargetingTies(candidate, kCandidate, published);
  EXPECT_TRUE(ties.empty()) << ties[0].example.ShortDebugString();
}

TEST(TargetingConflictsTest, AFieldOneRuleTreatsAsAListTiesThroughAListValue) {
  // Rule a needs "tags" to hold both "vip" and "renewal": a multi-select
  // list, so a record may also carry b's "renewal" and "churn-risk".
  v1::TargetingRule a = ParseText<v1::TargetingRule>(R"pb(
    conditions { field: "tags" equals { string_value: "vip" } }
    conditions { field: "tags" equals { string_value: "renewal" } }
    conditions { field: "when" range { min_time { seconds: 1700000000 } exclusive_min: true } }
  )pb");
  v1::TargetingRule b = ParseText<v1::TargetingRule>(R"pb(
    conditions { field: "tags" equals { string_value: "churn-risk" } }
    conditions { field: "when" range { max_time { seconds: 1700000002 } } }
    conditions { field: "gone" none_of { values { string_value: "x" } } }
  )pb");
  std::optional<v1::CrmContext> example = ContextMatchingBoth(a, b, "default", "Lead");
  ASSERT_TRUE(example.has_value());
  EXPECT_EQ(example->fields().at("tags").list_value().values_size(), 3);
  EXPECT_FALSE(example->fields().contains("gone"));
  EXPECT_TRUE(RuleMatches(a, *example));
  EXPECT_TRUE(RuleMatches(b, *example));
}

TEST(TargetingConflictsTest, ScalarValuesNeverBecomeAListNeitherRuleNeeds) {
  v1::TargetingRule a = ParseText<v1::TargetingRule>(R"pb(
    conditions { field: "tags" equals { string_value: "vip" } }
  )pb");
  v1::TargetingRule b = ParseText<v1::TargetingRule>(R"pb(
    conditions { field: "tags" equals { string_value: "renewal" } }
  )pb");
  EXPECT_EQ(ContextMatchingBoth(a, b, "default", "Lead"), std::nullopt);
}

}  // namespace
}  // namespace sopsidebar
