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

TEST(TargetingConflictsTest, ListValuesSatisfyConditionsNoScalarCan) {
  v1::TargetingRule a = ParseText<v1::TargetingRule>(R"pb(
    conditions { field: "tags" equals { string_value: "vip" } }
    conditions { field: "when" range { min_time { seconds: 1700000000 } exclusive_min: true } }
  )pb");
  v1::TargetingRule b = ParseText<v1::TargetingRule>(R"pb(
    conditions { field: "tags" equals { string_value: "renewal" } }
    conditions { field: "when" range { max_time { seconds: 1700000002 } } }
    conditions { field: "gone" none_of { values { string_value: "x" } } }
  )pb");
  std::optional<v1::CrmContext> example = ContextMatchingBoth(a, b, "default", "Lead");
  ASSERT_TRUE(example.has_value());
  EXPECT_EQ(example->fields().at("tags").list_value().values_size(), 2);
  EXPECT_FALSE(example->fields().contains("gone"));
}

}  // namespace
}  // namespace sopsidebar
