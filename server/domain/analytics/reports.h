// The analytics reports (AnalyticsService.Get*Report) built from the
// stored per-day aggregates: which aggregates a query counts, how they
// group, and each report's figures. Pure functions over an EventStore;
// thread-safe as the store is.
//
// Errors: INVALID_ARGUMENT naming the query's field (a day not YYYY-MM-DD,
// start after end, over kMaxReportDays, an unknown dimension); the store's.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_ANALYTICS_REPORTS_H_
#define SOPSIDEBAR_SERVER_DOMAIN_ANALYTICS_REPORTS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "server/domain/store/event_store.h"
#include "sopsidebar/internal/v1/records.pb.h"
#include "sopsidebar/v1/analytics_service.pb.h"

namespace sopsidebar {

// The longest range a report counts.
inline constexpr int kMaxReportDays = 731;

// What a report counts.
struct ReportScope {
  DayNumber first = 0;
  DayNumber last = 0;
  std::vector<v1::AnalyticsDimension> group_by;
  absl::flat_hash_set<std::string> lead_sources;  // empty: all
  std::string sop;                                // empty: all
  // Set for a caller who sees only their own figures: their user id.
  std::optional<std::string> rep;
};

// The scope of `query` (fields named under `field`, e.g. "query"), days
// defaulting as ReportQuery says around `today`; `default_group_by` when
// the query groups by nothing and the report has a natural grouping.
absl::StatusOr<ReportScope> ScopeOf(const v1::ReportQuery& query, absl::string_view field,
                                    DayNumber today,
                                    std::vector<v1::AnalyticsDimension> default_group_by = {});

// One group of aggregates: its key and their sum.
struct ReportGroup {
  v1::ReportKey key;
  internal::v1::EventAggregate total;
};

// The aggregates of `org` in `scope`, summed per group, in key order: those
// of `store` and the `more` other nodes sent (days outside the scope's are
// skipped, as are the store's).
absl::StatusOr<std::vector<ReportGroup>> GroupAggregates(
    const EventStore& store, absl::string_view org, const ReportScope& scope,
    absl::Span<const internal::v1::DayAggregate> more = {});

// The reports from the groups (rows without anything to report left out).
v1::SlaReport SlaReportOf(const std::vector<ReportGroup>& groups);
v1::CodeReport CodeReportOf(const std::vector<ReportGroup>& groups);
v1::UsageReport UsageReportOf(const std::vector<ReportGroup>& groups);
// Most unmatched lookups first.
v1::CoverageReport CoverageReportOf(const std::vector<ReportGroup>& groups);

// The nearest-rank percentile `p` (0 < p <= 100) of `values`; 0 when empty.
int64_t NearestRank(std::vector<int64_t> values, int p);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_ANALYTICS_REPORTS_H_
