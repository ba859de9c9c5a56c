// The report arithmetic and the query checks, without a server.
#include "server/domain/analytics/reports.h"

#include <vector>

#include "common/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/domain/analytics/analytics_counters.h"
#include "server/domain/analytics/coverage_recorder.h"
#include "server/domain/analytics/event_facts.h"
#include "server/domain/store/in_memory_event_store.h"

namespace sopsidebar {
namespace {

using ::testing::ElementsAre;
using ::testing::SizeIs;

std::string FieldOf(const absl::Status& status) {
  auto violations = error::FieldViolationsOf(status);
  return violations.empty() ? "" : violations[0].field;
}

TEST(ReportsTest, NearestRankIsTheSmallestValueWithTheShareAtOrBelowIt) {
  EXPECT_EQ(NearestRank({}, 50), 0);
  EXPECT_EQ(NearestRank({7}, 90), 7);
  EXPECT_EQ(NearestRank({40, 10, 30, 20}, 50), 20);
  EXPECT_EQ(NearestRank({40, 10, 30, 20}, 90), 40);
  std::vector<int64_t> hundred;
  for (int i = 100; i >= 1; --i) hundred.push_back(i);
  EXPECT_EQ(NearestRank(hundred, 50), 50);
  EXPECT_EQ(NearestRank(hundred, 90), 90);
}

TEST(ReportsTest, DaysRoundTripAndMalformedOnesAreNamed) {
  auto day = ParseDay("query.start_day", "2026-11-30");
  ASSERT_TRUE(day.ok());
  EXPECT_EQ(FormatDay(*day), "2026-11-30");
  EXPECT_EQ(DayOf(StartOfDay(*day) + absl::Hours(23)), *day);
  EXPECT_EQ(DayOf(absl::UnixEpoch() - absl::Seconds(1)), -1);
  EXPECT_EQ(FieldOf(ParseDay("query.start_day", "30/11/2026").status()), "query.start_day");
  EXPECT_EQ(FieldOf(ParseDay("query.start_day", "2026-13-01").status()), "query.start_day");
}

TEST(ReportsTest, AQueryOutOfOrderTooLongOrWithAnUnknownDimensionIsRefused) {
  const DayNumber today = *ParseDay("d", "2026-11-30");
  v1::ReportQuery query;
  auto scope = ScopeOf(query, "query", today);
  ASSERT_TRUE(scope.ok());
  EXPECT_EQ(scope->last - scope->first, 29);
  query.set_start_day("2026-12-01");
  query.set_end_day("2026-11-01");
  EXPECT_EQ(FieldOf(ScopeOf(query, "query", today).status()), "query.start_day");
  query.set_start_day("2020-01-01");
  query.set_end_day("2026-01-01");
  EXPECT_EQ(FieldOf(ScopeOf(query, "query", today).status()), "query.start_day");
  query.clear_start_day();
  query.add_group_by(v1::WEEK);
  query.add_group_by(static_cast<v1::AnalyticsDimension>(99));
  EXPECT_EQ(FieldOf(ScopeOf(query, "query", today).status()), "query.group_by[1]");
}

TEST(ReportsTest, WeeksStartOnMondayAndGroupsAddUp) {
  InMemoryEventStore store;
  EventWrite write;
  write.org = "default";
  // Sunday 29 and Monday 30 November 2026: two weeks.
  for (const char* day : {"2026-11-29", "2026-11-30"}) {
    AggregateDelta& delta = write.deltas.emplace_back();
    delta.day = *ParseDay("d", day);
    delta.dimensions.set_lead_source("Web");
    (*delta.delta.mutable_counts())[std::string(counters::kShown)] = 2;
  }
  ASSERT_TRUE(store.Write(write).ok());
  ReportScope scope;
  scope.first = *ParseDay("d", "2026-11-01");
  scope.last = *ParseDay("d", "2026-12-31");
  scope.group_by = {v1::WEEK, v1::LEAD_SOURCE};
  auto groups = GroupAggregates(store, "default", scope);
  ASSERT_TRUE(groups.ok());
  ASSERT_THAT(*groups, SizeIs(2));
  EXPECT_THAT((*groups)[0].key.values(), ElementsAre("2026-11-23", "Web"));
  EXPECT_THAT((*groups)[1].key.values(), ElementsAre("2026-11-30", "Web"));
  scope.rep = "someone-else@example.com";
  EXPECT_THAT(*GroupAggregates(store, "default", scope), SizeIs(0));
}

TEST(CoverageRecorderTest, CountsPerOrgRecordTypeAndStatusAndStaysBounded) {
  CoverageRecorder recorder;
  v1::CrmContext context;
  context.set_record_type("Opportunity");
  for (int i = 0; i < 3; ++i) recorder.Unmatched("default", context);
  recorder.Unmatched("acme", context);
  // Far more distinct statuses than the shards hold: the rest count as (other).
  const int distinct = 16 * static_cast<int>(CoverageRecorder::kMaxKeysPerShard) + 1000;
  for (int i = 0; i < distinct; ++i) {
    (*context.mutable_fields())["lead_status"].set_string_value(absl::StrCat("status-", i));
    recorder.Unmatched("wide", context);
  }
  InMemoryEventStore store;
  const DayNumber today = DayOf(absl::Now());
  ASSERT_TRUE(recorder.Flush(store, today).ok());
  int64_t in_default = 0, in_acme = 0, in_wide = 0, wide_keys = 0;
  auto sum = [&](absl::string_view org, int64_t* total, int64_t* keys) {
    ASSERT_TRUE(store
                    .ForEachAggregate(org, today, today,
                                      [&](DayNumber, const internal::v1::AggregateDimensions&,
                                          const internal::v1::EventAggregate& a) {
                                        *total += a.counts().at("unmatched_lookups");
                                        if (keys != nullptr) ++*keys;
                                        return absl::OkStatus();
                                      })
                    .ok());
  };
  sum("default", &in_default, nullptr);
  sum("acme", &in_acme, nullptr);
  sum("wide", &in_wide, &wide_keys);
  EXPECT_EQ(in_default, 3);
  EXPECT_EQ(in_acme, 1);
  EXPECT_EQ(in_wide, distinct);
  EXPECT_LE(wide_keys, 16 * static_cast<int64_t>(CoverageRecorder::kMaxKeysPerShard) + 16);
  // A second flush has nothing new to write.
  ASSERT_TRUE(recorder.Flush(store, today).ok());
  int64_t again = 0;
  sum("default", &again, nullptr);
  EXPECT_EQ(again, 3);
}

}  // namespace
}  // namespace sopsidebar
