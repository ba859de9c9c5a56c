#include "server/domain/analytics/reports.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "server/domain/analytics/analytics_counters.h"
#include "server/domain/analytics/event_facts.h"

namespace sopsidebar {
namespace {

constexpr int kDefaultReportDays = 30;

int64_t Count(const internal::v1::EventAggregate& aggregate, absl::string_view name) {
  auto it = aggregate.counts().find(std::string(name));
  return it == aggregate.counts().end() ? 0 : it->second;
}

double Ratio(int64_t part, int64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

// The Monday of `day`'s week (1970-01-01 was a Thursday).
DayNumber WeekOf(DayNumber day) {
  const int weekday = ((day + 3) % 7 + 7) % 7;  // 0: Monday
  return day - weekday;
}

std::string ValueOf(v1::AnalyticsDimension dimension, DayNumber day,
                    const internal::v1::AggregateDimensions& d) {
  switch (dimension) {
    case v1::WEEK:
      return FormatDay(WeekOf(day));
    case v1::DAY:
      return FormatDay(day);
    case v1::LEAD_SOURCE:
      return d.lead_source();
    case v1::CAMPAIGN:
      return d.campaign();
    case v1::TEAM:
      return d.team();
    case v1::REP:
      return d.rep();
    case v1::SOP:
      return d.sop();
    case v1::REVISION:
      return d.revision_id();
    case v1::RECORD_TYPE:
      return d.record_type();
    case v1::STATUS:
      return d.status();
    default:
      return "";
  }
}

bool InScope(const ReportScope& scope, const internal::v1::AggregateDimensions& d) {
  if (scope.rep && d.rep() != *scope.rep) return false;
  if (!scope.sop.empty() && d.sop() != scope.sop) return false;
  return scope.lead_sources.empty() || scope.lead_sources.contains(d.lead_source());
}

template <typename Row>
void SetKey(const ReportGroup& group, Row* row) {
  *row->mutable_key() = group.key;
}

}  // namespace

absl::StatusOr<ReportScope> ScopeOf(const v1::ReportQuery& query, absl::string_view field,
                                    DayNumber today,
                                    std::vector<v1::AnalyticsDimension> default_group_by) {
  ReportScope scope;
  scope.last = today;
  if (!query.end_day().empty()) {
    SOP_ASSIGN_OR_RETURN(scope.last, ParseDay(absl::StrCat(field, ".end_day"), query.end_day()));
  }
  scope.first = scope.last - (kDefaultReportDays - 1);
  if (!query.start_day().empty()) {
    SOP_ASSIGN_OR_RETURN(scope.first,
                         ParseDay(absl::StrCat(field, ".start_day"), query.start_day()));
  }
  if (scope.first > scope.last) {
    return error::InvalidField(absl::StrCat(field, ".start_day"), "is after end_day");
  }
  if (scope.last - scope.first + 1 > kMaxReportDays) {
    return error::InvalidField(absl::StrCat(field, ".start_day"),
                               absl::StrCat("the range is longer than ", kMaxReportDays, " days"));
  }
  for (int i = 0; i < query.group_by_size(); ++i) {
    const int dimension = query.group_by(i);
    if (dimension == v1::ANALYTICS_DIMENSION_UNSPECIFIED ||
        !v1::AnalyticsDimension_IsValid(dimension)) {
      return error::InvalidField(absl::StrCat(field, ".group_by[", i, "]"),
                                 absl::StrCat("is not a known dimension (", dimension, ")"));
    }
    scope.group_by.push_back(static_cast<v1::AnalyticsDimension>(dimension));
  }
  if (scope.group_by.empty()) scope.group_by = std::move(default_group_by);
  scope.lead_sources.insert(query.lead_sources().begin(), query.lead_sources().end());
  scope.sop = query.sop();
  return scope;
}

absl::StatusOr<std::vector<ReportGroup>> GroupAggregates(
    const EventStore& store, absl::string_view org, const ReportScope& scope,
    absl::Span<const internal::v1::DayAggregate> more) {
  // Ordered by the key's values, so rows come out sorted.
  std::map<std::vector<std::string>, internal::v1::EventAggregate> groups;
  auto add = [&](DayNumber day, const internal::v1::AggregateDimensions& d,
                 const internal::v1::EventAggregate& aggregate) {
    if (day < scope.first || day > scope.last || !InScope(scope, d)) return;
    std::vector<std::string> key;
    key.reserve(scope.group_by.size());
    for (v1::AnalyticsDimension dimension : scope.group_by) {
      key.push_back(ValueOf(dimension, day, d));
    }
    AddAggregate(aggregate, &groups[std::move(key)]);
  };
  SOP_RETURN_IF_ERROR(
      store.ForEachAggregate(org, scope.first, scope.last,
                             [&](DayNumber day, const internal::v1::AggregateDimensions& d,
                                 const internal::v1::EventAggregate& aggregate) {
                               add(day, d, aggregate);
                               return absl::OkStatus();
                             }));
  for (const internal::v1::DayAggregate& row : more)
    add(row.day(), row.dimensions(), row.aggregate());
  std::vector<ReportGroup> result;
  result.reserve(groups.size());
  for (auto& [values, total] : groups) {
    ReportGroup group;
    for (const std::string& value : values) group.key.add_values(value);
    group.total = std::move(total);
    result.push_back(std::move(group));
  }
  return result;
}

int64_t NearestRank(std::vector<int64_t> values, int p) {
  if (values.empty()) return 0;
  // The smallest value with at least p% of the values at or below it.
  const size_t rank = std::max<size_t>(1, (values.size() * p + 99) / 100);
  std::nth_element(values.begin(), values.begin() + (rank - 1), values.end());
  return values[rank - 1];
}

v1::SlaReport SlaReportOf(const std::vector<ReportGroup>& groups) {
  v1::SlaReport report;
  for (const ReportGroup& group : groups) {
    const int64_t contacts = Count(group.total, counters::kFirstContacts);
    if (contacts == 0) continue;
    v1::SlaReport::Row* row = report.add_rows();
    SetKey(group, row);
    const int64_t within = Count(group.total, counters::kWithinWindow);
    row->set_first_contacts(contacts);
    row->set_within_window(within);
    row->set_compliance(Ratio(within, contacts));
    const std::vector<int64_t> delays(group.total.first_contact_delays_ms().begin(),
                                      group.total.first_contact_delays_ms().end());
    row->set_p50_ms(NearestRank(delays, 50));
    row->set_p90_ms(NearestRank(delays, 90));
  }
  return report;
}

v1::CodeReport CodeReportOf(const std::vector<ReportGroup>& groups) {
  v1::CodeReport report;
  for (const ReportGroup& group : groups) {
    const int64_t records = Count(group.total, counters::kCodedRecords);
    const int64_t disqualified = Count(group.total, counters::kDisqualified);
    if (records == 0 && disqualified == 0) continue;
    v1::CodeReport::Row* row = report.add_rows();
    SetKey(group, row);
    row->set_records(records);
    row->set_disqualified(disqualified);
    row->set_rejection_rate(Ratio(disqualified, records));
    for (const auto& [name, count] : group.total.counts()) {
      if (absl::StartsWith(name, counters::kCodePrefix)) {
        (*row->mutable_by_code())[name.substr(counters::kCodePrefix.size())] = count;
      }
    }
  }
  return report;
}

v1::UsageReport UsageReportOf(const std::vector<ReportGroup>& groups) {
  v1::UsageReport report;
  for (const ReportGroup& group : groups) {
    const int64_t shown = Count(group.total, counters::kShown);
    const int64_t records = Count(group.total, counters::kRecords);
    const int64_t steps = Count(group.total, counters::kSteps);
    const int64_t assets = Count(group.total, counters::kAssets);
    if (shown == 0 && records == 0 && steps == 0 && assets == 0) continue;
    v1::UsageReport::Row* row = report.add_rows();
    SetKey(group, row);
    row->set_impressions(shown);
    row->set_records(records);
    row->set_steps_completed(steps);
    row->set_assets_opened(assets);
    for (const auto& [name, count] : group.total.counts()) {
      int ordinal = 0;
      if (absl::StartsWith(name, counters::kStepPrefix) &&
          absl::SimpleAtoi(absl::string_view(name).substr(counters::kStepPrefix.size()),
                           &ordinal)) {
        (*row->mutable_by_step())[ordinal] = count;
      }
    }
  }
  return report;
}

v1::CoverageReport CoverageReportOf(const std::vector<ReportGroup>& groups) {
  v1::CoverageReport report;
  for (const ReportGroup& group : groups) {
    const int64_t unmatched = Count(group.total, counters::kUnmatchedLookups);
    if (unmatched == 0) continue;
    v1::CoverageReport::Row* row = report.add_rows();
    SetKey(group, row);
    row->set_unmatched_lookups(unmatched);
  }
  std::stable_sort(report.mutable_rows()->begin(), report.mutable_rows()->end(),
                   [](const v1::CoverageReport::Row& a, const v1::CoverageReport::Row& b) {
                     return a.unmatched_lookups() > b.unmatched_lookups();
                   });
  return report;
}

}  // namespace sopsidebar
