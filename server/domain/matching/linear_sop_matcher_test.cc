#include "server/domain/matching/linear_sop_matcher.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/domain/matching/test_sops.h"

namespace sopsidebar {
namespace {

using test::Context;
using test::Published;
using ::testing::ElementsAre;

constexpr char kMqlLead[] = R"pb(
  org: "orgs/default" record_type: "Lead"
  fields { key: "lead_status" value { string_value: "MQL – New Handoff" } }
  fields { key: "lead_score" value { number_value: 82 } }
)pb";

std::vector<std::string> Ids(const std::vector<SopMatchResult>& results) {
  std::vector<std::string> ids;
  for (const auto& r : results) ids.push_back(r.sop->name.sop);
  return ids;
}

std::vector<SopMatchResult> MatchAll(const LinearSopMatcher& matcher, const v1::CrmContext& c,
                                     int max_results = 10) {
  return matcher.Match(MatchQuery{"default", &c, max_results, kAllRoles});
}

TEST(LinearSopMatcherTest, LookupRanksHigherPriorityFirst) {
  LinearSopMatcher matcher({
      Published("low", R"pb(targeting_rules { record_types: "Lead" priority: 1 })pb"),
      Published("high", R"pb(targeting_rules { record_types: "Lead" priority: 9 })pb"),
  });
  EXPECT_THAT(Ids(MatchAll(matcher, Context(kMqlLead))), ElementsAre("high", "low"));
}

TEST(LinearSopMatcherTest, EqualPriorityRanksMoreSpecificFirst) {
  LinearSopMatcher matcher({
      Published("broad", R"pb(targeting_rules { record_types: "Lead" })pb"),
      Published("narrow", R"pb(targeting_rules {
                                 record_types: "Lead"
                                 conditions { field: "lead_score" range { min: 75 } }
                               })pb"),
  });
  auto results = MatchAll(matcher, Context(kMqlLead));
  EXPECT_THAT(Ids(results), ElementsAre("narrow", "broad"));
  EXPECT_EQ(results[0].specificity, 2);
  EXPECT_EQ(results[1].specificity, 1);
}

TEST(LinearSopMatcherTest, EqualRankPrefersMostRecentlyPublished) {
  LinearSopMatcher matcher({
      Published("older", R"pb(targeting_rules { record_types: "Lead" })pb", 100),
      Published("newer", R"pb(targeting_rules { record_types: "Lead" })pb", 200),
  });
  EXPECT_THAT(Ids(MatchAll(matcher, Context(kMqlLead))), ElementsAre("newer", "older"));
}

TEST(LinearSopMatcherTest, RulesAreOredAndTheBestMatchingRuleIsReported) {
  LinearSopMatcher matcher({Published("sop", R"pb(
    targeting_rules { record_types: "Contact" priority: 50 }
    targeting_rules { record_types: "Lead" priority: 5 }
    targeting_rules {
      record_types: "Lead" priority: 5
      conditions { field: "lead_score" range { min: 75 } }
    }
  )pb")});
  auto results = MatchAll(matcher, Context(kMqlLead));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].rule_index, 2);
  EXPECT_EQ(results[0].priority, 5);
  EXPECT_EQ(results[0].specificity, 2);
}

TEST(LinearSopMatcherTest, OnlyTheContextsOrgIsMatched) {
  LinearSopMatcher matcher({
      Published("mine", R"pb(targeting_rules { record_types: "Lead" })pb", 1, "default"),
      Published("theirs", R"pb(targeting_rules { record_types: "Lead" })pb", 1, "acme"),
  });
  EXPECT_THAT(Ids(MatchAll(matcher, Context(kMqlLead))), ElementsAre("mine"));
}

TEST(LinearSopMatcherTest, MaxResultsKeepsTheBest) {
  std::vector<PublishedSopPtr> sops;
  for (int p = 0; p < 20; ++p) {
    sops.push_back(Published("p" + std::to_string(p),
                             "targeting_rules { record_types: 'Lead' priority: " +
                                 std::to_string(p) + " }"));
  }
  LinearSopMatcher matcher(std::move(sops));
  EXPECT_THAT(Ids(MatchAll(matcher, Context(kMqlLead), 3)), ElementsAre("p19", "p18", "p17"));
}

TEST(LinearSopMatcherTest, NonMatchingSopsAreLeftOut) {
  LinearSopMatcher matcher({Published("sql", R"pb(targeting_rules {
    record_types: "Lead"
    conditions { field: "lead_status" equals { string_value: "SQL – Accepted" } }
  })pb")});
  EXPECT_TRUE(MatchAll(matcher, Context(kMqlLead)).empty());
}

TEST(LinearSopMatcherTest, SopsHiddenFromTheViewersRolesDoNotMatch) {
  LinearSopMatcher matcher({
      Published("public", R"pb(targeting_rules { record_types: "Lead" })pb"),
      Published("ae-only", R"pb(visibility_roles: AE targeting_rules { record_types: "Lead" })pb"),
  });
  v1::CrmContext lead = Context(kMqlLead);
  EXPECT_THAT(Ids(matcher.Match(MatchQuery{"default", &lead, 10, RoleBit(v1::SDR)})),
              ElementsAre("public"));
  EXPECT_THAT(Ids(matcher.Match(MatchQuery{"default", &lead, 10, RoleBit(v1::AE)})),
              ::testing::UnorderedElementsAre("public", "ae-only"));
  EXPECT_TRUE(matcher.Match(MatchQuery{"default", &lead, 10, 0}).empty());
}

}  // namespace
}  // namespace sopsidebar
