#include "server/domain/matching/indexed_sop_matcher.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/domain/matching/linear_sop_matcher.h"
#include "server/domain/matching/test_sops.h"

namespace sopsidebar {
namespace {

using test::Context;
using test::Published;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Every case runs on both engines: the indexed one must agree with the
// baseline on each operator and edge case, not just on random workloads.
class MatcherTest : public ::testing::TestWithParam<SopMatcherFactory> {
 protected:
  std::vector<std::string> Ids(const std::vector<PublishedSopPtr>& sops, const std::string& ctx,
                               RoleSet viewer = kAllRoles, int max_results = 10) {
    std::unique_ptr<const SopMatcher> matcher = GetParam()(sops);
    v1::CrmContext context = Context(ctx);
    std::vector<std::string> ids;
    for (const SopMatchResult& r :
         matcher->Match(MatchQuery{"default", &context, max_results, viewer})) {
      ids.push_back(r.sop->name.sop);
    }
    return ids;
  }

  // Whether a single-condition rule on a Lead matches `ctx`.
  bool Holds(const std::string& condition, const std::string& ctx) {
    return !Ids({Published("s", "targeting_rules { record_types: \"Lead\" conditions {" +
                                    condition + "} }")},
                ctx)
                .empty();
  }
};

std::string Lead(const std::string& fields) {
  return "org: \"orgs/default\" record_type: \"Lead\" " + fields;
}
std::string StrField(const std::string& name, const std::string& v) {
  return "fields { key: \"" + name + "\" value { string_value: \"" + v + "\" } } ";
}
std::string NumField(const std::string& name, double v) {
  return "fields { key: \"" + name + "\" value { number_value: " + std::to_string(v) + " } } ";
}
std::string ListField(const std::string& name, const std::string& values) {
  return "fields { key: \"" + name + "\" value { list_value { " + values + " } } } ";
}
std::string NullField(const std::string& name) {
  return "fields { key: \"" + name + "\" value { null_value: NULL_VALUE } } ";
}

TEST_P(MatcherTest, EqualsMatchesTheExactStringOnly) {
  const std::string c = R"(field: "status" equals { string_value: "MQL" })";
  EXPECT_TRUE(Holds(c, Lead(StrField("status", "MQL"))));
  EXPECT_FALSE(Holds(c, Lead(StrField("status", "mql"))));
  EXPECT_FALSE(Holds(c, Lead(StrField("status", "MQL "))));
  EXPECT_FALSE(Holds(c, Lead("")));
}

TEST_P(MatcherTest, CaseInsensitiveEqualsFoldsAsciiCase) {
  const std::string c = R"(field: "status" equals { string_value: "mQl" } case_insensitive: true)";
  EXPECT_TRUE(Holds(c, Lead(StrField("status", "MQL"))));
  EXPECT_TRUE(Holds(c, Lead(StrField("status", "mql"))));
  EXPECT_FALSE(Holds(c, Lead(StrField("status", "sql"))));
}

TEST_P(MatcherTest, NumbersNeverEqualStrings) {
  const std::string c = R"(field: "score" equals { number_value: 82 })";
  EXPECT_TRUE(Holds(c, Lead(NumField("score", 82))));
  EXPECT_FALSE(Holds(c, Lead(StrField("score", "82"))));
}

TEST_P(MatcherTest, NegativeZeroEqualsZero) {
  EXPECT_TRUE(Holds(R"(field: "n" equals { number_value: -0.0 })", Lead(NumField("n", 0))));
  EXPECT_TRUE(Holds(R"(field: "n" any_of { values { number_value: 0 } })",
                    Lead("fields { key: \"n\" value { number_value: -0.0 } }")));
}

TEST_P(MatcherTest, BoolsMatchBools) {
  const std::string c = R"(field: "vip" equals { bool_value: false })";
  EXPECT_TRUE(Holds(c, Lead("fields { key: \"vip\" value { bool_value: false } }")));
  EXPECT_FALSE(Holds(c, Lead("fields { key: \"vip\" value { bool_value: true } }")));
  EXPECT_FALSE(Holds(c, Lead(NumField("vip", 0))));
}

TEST_P(MatcherTest, AnyOfMatchesAnyListedValue) {
  const std::string c =
      R"(field: "src" any_of { values { string_value: "Web" } values { string_value: "Phone" } })";
  EXPECT_TRUE(Holds(c, Lead(StrField("src", "Phone"))));
  EXPECT_FALSE(Holds(c, Lead(StrField("src", "Partner"))));
}

TEST_P(MatcherTest, ListFieldMatchesWhenAnyElementDoes) {
  const std::string c = R"(field: "tags" equals { string_value: "vip" })";
  EXPECT_TRUE(Holds(c, Lead(ListField("tags", R"(values { string_value: "x" }
                                                  values { string_value: "vip" })"))));
  EXPECT_FALSE(Holds(c, Lead(ListField("tags", R"(values { string_value: "x" })"))));
  EXPECT_FALSE(Holds(c, Lead(ListField("tags", ""))));
}

TEST_P(MatcherTest, NoneOfHoldsForMissingNullAndOtherValues) {
  const std::string c = R"(field: "src" none_of { values { string_value: "Spam" } })";
  EXPECT_TRUE(Holds(c, Lead("")));
  EXPECT_TRUE(Holds(c, Lead(NullField("src"))));
  EXPECT_TRUE(Holds(c, Lead(StrField("src", "Web"))));
  EXPECT_FALSE(Holds(c, Lead(StrField("src", "Spam"))));
}

TEST_P(MatcherTest, NoneOfFailsWhenAnyListElementIsExcluded) {
  const std::string c =
      R"(field: "tags" none_of { values { string_value: "spam" } } case_insensitive: true)";
  EXPECT_FALSE(Holds(c, Lead(ListField("tags", R"(values { string_value: "ok" }
                                                   values { string_value: "SPAM" })"))));
  EXPECT_TRUE(Holds(c, Lead(ListField("tags", R"(values { string_value: "ok" })"))));
  EXPECT_TRUE(Holds(c, Lead(ListField("tags", ""))));
}

TEST_P(MatcherTest, ExistsDistinguishesMissingAndNullFromPresent) {
  EXPECT_TRUE(Holds(R"(field: "x" exists: true)", Lead(StrField("x", ""))));
  EXPECT_TRUE(Holds(R"(field: "x" exists: true)", Lead(ListField("x", ""))));
  EXPECT_FALSE(Holds(R"(field: "x" exists: true)", Lead(NullField("x"))));
  EXPECT_TRUE(Holds(R"(field: "x" exists: false)", Lead(NullField("x"))));
  EXPECT_TRUE(Holds(R"(field: "x" exists: false)", Lead("")));
  EXPECT_FALSE(Holds(R"(field: "x" exists: false)", Lead(NumField("x", 1))));
}

TEST_P(MatcherTest, NumberRangeHonoursExclusiveBounds) {
  const std::string inclusive = R"(field: "s" range { min: 50 max: 80 })";
  const std::string exclusive =
      R"(field: "s" range { min: 50 max: 80 exclusive_min: true exclusive_max: true })";
  EXPECT_TRUE(Holds(inclusive, Lead(NumField("s", 50))));
  EXPECT_TRUE(Holds(inclusive, Lead(NumField("s", 80))));
  EXPECT_FALSE(Holds(exclusive, Lead(NumField("s", 50))));
  EXPECT_FALSE(Holds(exclusive, Lead(NumField("s", 80))));
  EXPECT_TRUE(Holds(exclusive, Lead(NumField("s", 65))));
  EXPECT_FALSE(Holds(inclusive, Lead(StrField("s", "65"))));
}

TEST_P(MatcherTest, TimeRangeComparesRfc3339Strings) {
  const std::string c =
      R"(field: "t" range { min_time { seconds: 1700000000 } exclusive_min: true })";
  EXPECT_FALSE(Holds(c, Lead(StrField("t", "2023-11-14T22:13:20Z"))));  // == min
  EXPECT_TRUE(Holds(c, Lead(StrField("t", "2023-11-14T22:13:20.000000001Z"))));
  EXPECT_TRUE(Holds(c, Lead(StrField("t", "2023-11-15T00:13:20+01:00"))));
  EXPECT_FALSE(Holds(c, Lead(StrField("t", "yesterday"))));
  EXPECT_FALSE(Holds(c, Lead(NumField("t", 1800000000))));
}

TEST_P(MatcherTest, PrefixRespectsCaseMode) {
  EXPECT_TRUE(Holds(R"(field: "title" prefix: "VP")", Lead(StrField("title", "VP Sales"))));
  EXPECT_FALSE(Holds(R"(field: "title" prefix: "VP")", Lead(StrField("title", "vp sales"))));
  EXPECT_TRUE(Holds(R"(field: "title" prefix: "vp" case_insensitive: true)",
                    Lead(StrField("title", "VP Sales"))));
  EXPECT_FALSE(Holds(R"(field: "title" prefix: "VP")", Lead(StrField("title", "SVP"))));
}

TEST_P(MatcherTest, AnyTypeRulesMatchEveryRecordType) {
  auto sops = {
      Published("any", R"pb(targeting_rules { conditions { field: "x" exists: true } })pb"),
      Published("contact", R"pb(targeting_rules { record_types: "Contact" })pb")};
  EXPECT_THAT(Ids(sops, Lead(NumField("x", 1))), ElementsAre("any"));
  EXPECT_THAT(Ids(sops, R"(org: "orgs/default" record_type: "Contact" )" + NumField("x", 1)),
              ElementsAre("any", "contact"));  // equal rank: by name
}

TEST_P(MatcherTest, RulesNamingTheSameTypeTwiceMatchOnce) {
  auto sops = {
      Published("twice", R"pb(targeting_rules { record_types: "Lead" record_types: "Lead" })pb")};
  EXPECT_THAT(Ids(sops, Lead("")), ElementsAre("twice"));
}

TEST_P(MatcherTest, HiddenSopsDoNotMatchAndVisibleOnesDo) {
  auto sops = {Published("ae-only", R"pb(visibility_roles: AE
                                         targeting_rules { record_types: "Lead" })pb"),
               Published("all", R"pb(targeting_rules { record_types: "Lead" })pb", 900)};
  EXPECT_THAT(Ids(sops, Lead(""), RoleBit(v1::SDR)), ElementsAre("all"));
  EXPECT_THAT(Ids(sops, Lead(""), RoleBit(v1::AE)), ElementsAre("ae-only", "all"));
  EXPECT_THAT(Ids(sops, Lead(""), RoleBit(v1::ADMIN)), ElementsAre("ae-only", "all"));
  EXPECT_THAT(Ids(sops, Lead(""), 0), IsEmpty());
}

TEST_P(MatcherTest, MaxResultsZeroReturnsNothing) {
  auto sops = {Published("a", R"pb(targeting_rules { record_types: "Lead" })pb")};
  EXPECT_THAT(Ids(sops, Lead(""), kAllRoles, 0), IsEmpty());
}

TEST_P(MatcherTest, TopResultsAreTheBestWhenManyMatch) {
  std::vector<PublishedSopPtr> sops;
  for (int i = 0; i < 300; ++i) {
    sops.push_back(Published(
        "s" + std::to_string(i),
        "targeting_rules { record_types: \"Lead\" priority: " + std::to_string(i % 37) +
            " conditions { field: \"k\" any_of { values { number_value: " + std::to_string(i % 3) +
            " } values { number_value: 1 } } } }",
        1000 + i % 7));
  }
  EXPECT_THAT(Ids(sops, Lead(NumField("k", 1)), kAllRoles, 3), ElementsAre("s258", "s110", "s221"));
}

TEST_P(MatcherTest, BestRuleOfAnSopIsReported) {
  std::unique_ptr<const SopMatcher> matcher = GetParam()({Published("sop", R"pb(
    targeting_rules { record_types: "Lead" priority: 5 }
    targeting_rules {
      priority: 5
      conditions { field: "a" exists: true }
    }
    targeting_rules {
      record_types: "Lead"
      priority: 5
      conditions { field: "a" exists: true }
    }
    targeting_rules {
      record_types: "Lead"
      priority: 5
      conditions { field: "b" exists: true }
    }
  )pb")});
  v1::CrmContext context = Context(Lead(NumField("a", 1) + NumField("b", 1)));
  auto results = matcher->Match(MatchQuery{"default", &context, 10, kAllRoles});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].rule_index, 2);
  EXPECT_EQ(results[0].specificity, 2);
}

TEST_P(MatcherTest, NearMissesNameTheOneFailedCondition) {
  std::unique_ptr<const SopMatcher> matcher = GetParam()({
      Published("one-off", R"pb(targeting_rules {
                                  record_types: "Lead"
                                  priority: 3
                                  conditions {
                                    field: "status"
                                    equals { string_value: "MQL" }
                                  }
                                  conditions {
                                    field: "score"
                                    range { min: 80 }
                                  }
                                })pb"),
      Published("two-off", R"pb(targeting_rules {
                                  record_types: "Lead"
                                  conditions {
                                    field: "status"
                                    equals { string_value: "SQL" }
                                  }
                                  conditions {
                                    field: "score"
                                    range { min: 80 }
                                  }
                                })pb"),
      Published("matches", R"pb(targeting_rules {
                                  record_types: "Lead"
                                  conditions {
                                    field: "status"
                                    equals { string_value: "MQL" }
                                  }
                                })pb"),
      Published("other-type", R"pb(targeting_rules {
                                     record_types: "Contact"
                                     conditions {
                                       field: "status"
                                       equals { string_value: "SQL" }
                                     }
                                   })pb"),
  });
  v1::CrmContext context = Context(Lead(StrField("status", "MQL") + NumField("score", 50)));
  std::vector<NearMiss> misses =
      matcher->NearMisses(MatchQuery{"default", &context, 10, kAllRoles}, 10);
  ASSERT_EQ(misses.size(), 1u);
  EXPECT_EQ(misses[0].sop->name.sop, "one-off");
  EXPECT_EQ(misses[0].rule_index, 0);
  EXPECT_EQ(misses[0].failed_condition, 1);
  EXPECT_EQ(misses[0].priority, 3);
  EXPECT_EQ(misses[0].specificity, 3);
}

TEST_P(MatcherTest, NearMissesIncludeARecordTypeThatDiffersOnlyByCase) {
  std::unique_ptr<const SopMatcher> matcher = GetParam()({
      Published("lead", R"pb(targeting_rules {
                               record_types: "Contact"
                               record_types: "Lead"
                               record_types: "LEAD"
                               priority: 4
                               conditions { field: "status" equals { string_value: "MQL" } }
                             })pb"),
      Published("lead-and-status", R"pb(targeting_rules {
                                          record_types: "Lead"
                                          conditions { field: "status" equals { string_value: "SQL" } }
                                        })pb"),
      Published("contact", R"pb(targeting_rules { record_types: "Contact" })pb"),
      Published("exact", R"pb(targeting_rules {
                                record_types: "lead"
                                conditions { field: "status" equals { string_value: "SQL" } }
                              })pb"),
  });
  v1::CrmContext context = Context(R"pb(org: "orgs/default" record_type: "lead"
                                        fields { key: "status" value { string_value: "MQL" } })pb");
  std::vector<NearMiss> misses =
      matcher->NearMisses(MatchQuery{"default", &context, 10, kAllRoles}, 10);
  ASSERT_EQ(misses.size(), 2u);
  EXPECT_EQ(misses[0].sop->name.sop, "lead");
  EXPECT_EQ(misses[0].rule_index, 0);
  EXPECT_EQ(misses[0].failed_condition, NearMiss::kRecordType);
  EXPECT_EQ(misses[0].priority, 4);
  EXPECT_EQ(misses[0].specificity, 2);
  EXPECT_EQ(misses[1].sop->name.sop, "exact");
  EXPECT_EQ(misses[1].failed_condition, 0);
}

TEST_P(MatcherTest, WithChangesReplacesAndRemovesWithoutTouchingTheOriginal) {
  std::unique_ptr<const SopMatcher> v1 =
      GetParam()({Published("a", R"pb(targeting_rules { record_types: "Lead" })pb"),
                  Published("b", R"pb(targeting_rules { record_types: "Lead" })pb")});
  std::unique_ptr<const SopMatcher> v2 =
      v1->WithChanges({Published("a", R"pb(targeting_rules { record_types: "Contact" })pb"),
                       Published("c", R"pb(targeting_rules { record_types: "Lead" })pb", 2000)},
                      {SopName{"default", "b"}, SopName{"default", "missing"}});
  v1::CrmContext context = Context(Lead(""));
  auto ids = [&](const SopMatcher& m) {
    std::vector<std::string> out;
    for (const auto& r : m.Match(MatchQuery{"default", &context, 10, kAllRoles})) {
      out.push_back(r.sop->name.sop);
    }
    return out;
  };
  EXPECT_THAT(ids(*v1), ElementsAre("a", "b"));
  EXPECT_THAT(ids(*v2), ElementsAre("c"));
  EXPECT_EQ(v2->PublishedSops("default").size(), 2u);
}

// Compiled conditions keep short operand counts in their header word and
// longer ones in a word of their own: both must read back the same.
TEST_P(MatcherTest, LongValueSetsAndPrefixesMatchLikeShortOnes) {
  std::string values;
  for (int i = 0; i < 100; ++i)
    values += "values { string_value: \"v" + std::to_string(i) + "\" } ";
  const std::string any_of = "field: \"tag\" any_of { " + values + "}";
  const std::string none_of = "field: \"tag\" none_of { " + values + "}";
  for (const std::string v : {"v0", "v62", "v63", "v99"}) {
    EXPECT_TRUE(Holds(any_of, Lead(StrField("tag", v)))) << v;
    EXPECT_FALSE(Holds(none_of, Lead(StrField("tag", v)))) << v;
  }
  EXPECT_FALSE(Holds(any_of, Lead(StrField("tag", "v100"))));
  EXPECT_TRUE(Holds(none_of, Lead(StrField("tag", "v100"))));

  const std::string long_prefix(70, 'p');
  const std::string prefix = "field: \"title\" prefix: \"" + long_prefix + "\"";
  EXPECT_TRUE(Holds(prefix, Lead(StrField("title", long_prefix + " VP"))));
  EXPECT_FALSE(Holds(prefix, Lead(StrField("title", long_prefix.substr(1)))));
}

// Beyond 65,534 distinct condition fields, field ids no longer fit the
// header word; conditions on those fields must still match.
TEST(IndexedSopMatcherTest, ConditionsOnFieldsBeyondTheCompactIdRangeMatch) {
  constexpr int kFields = 66000;
  std::vector<PublishedSopPtr> sops;
  sops.reserve(kFields);
  for (int i = 0; i < kFields; ++i) {
    sops.push_back(Published("s" + std::to_string(i),
                             "targeting_rules { record_types: \"Lead\" conditions { field: \"f" +
                                 std::to_string(i) + "\" range { min: 1 } } }"));
  }
  std::unique_ptr<const SopMatcher> matcher = IndexedSopMatcher::Build(sops);
  for (int i : {0, 65534, 65535, 65999}) {
    v1::CrmContext context = Context(Lead(NumField("f" + std::to_string(i), 2)));
    std::vector<SopMatchResult> results =
        matcher->Match(MatchQuery{"default", &context, 10, kAllRoles});
    ASSERT_EQ(results.size(), 1u) << i;
    EXPECT_EQ(results[0].sop->name.sop, "s" + std::to_string(i));
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, MatcherTest,
                         ::testing::Values(SopMatcherFactory(LinearSopMatcher::Build),
                                           SopMatcherFactory(IndexedSopMatcher::Build)),
                         [](const auto& info) {
                           return info.index == 0 ? std::string("Linear") : std::string("Indexed");
                         });

TEST(IndexedSopMatcherTest, SmallWritesAddASegmentAndFullBuildsHaveOne) {
  std::vector<PublishedSopPtr> sops;
  for (int i = 0; i < 50; ++i) {
    sops.push_back(
        Published("s" + std::to_string(i), R"pb(targeting_rules { record_types: "Lead" })pb"));
  }
  std::unique_ptr<const SopMatcher> base = IndexedSopMatcher::Build(sops);
  EXPECT_EQ(static_cast<const IndexedSopMatcher&>(*base).segment_count(), 1u);
  std::unique_ptr<const SopMatcher> next = base->WithChanges(
      {Published("s1", R"pb(targeting_rules { record_types: "Contact" })pb")}, {});
  const auto& indexed = static_cast<const IndexedSopMatcher&>(*next);
  EXPECT_EQ(indexed.segment_count(), 2u);
  EXPECT_EQ(indexed.sop_count(), 50u);
}

TEST(IndexedSopMatcherTest, RemovingEverySopLeavesAnEmptyMatcher) {
  std::unique_ptr<const SopMatcher> m =
      IndexedSopMatcher::Build({Published("a", R"pb(targeting_rules { record_types: "Lead" })pb")});
  m = m->WithChanges({}, {SopName{"default", "a"}});
  v1::CrmContext context = Context(Lead(""));
  EXPECT_THAT(m->Match(MatchQuery{"default", &context, 10, kAllRoles}), IsEmpty());
  EXPECT_EQ(static_cast<const IndexedSopMatcher&>(*m).sop_count(), 0u);
}

}  // namespace
}  // namespace sopsidebar
