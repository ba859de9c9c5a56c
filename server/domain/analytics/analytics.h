// The feedback loop's use cases (docs/ANALYTICS.md), behind AnalyticsService
// and ContextService.ValidateTransition: recording what reps saw and did,
// validated against the SOP revision the panel showed; the SLA evaluation
// of first contacts; the reports; and the coverage gaps lookups leave.
//
// Errors (common/errors.h): INVALID_ARGUMENT naming the field (for events,
// by index: "events[3].code"); NOT_FOUND for another org, and for an event
// about a revision that does not exist, was never published or the viewer
// may not see (alike); PERMISSION_DENIED without the operation
// (kRecordEvents, kReadOwnAnalytics, kReadAllAnalytics for coverage);
// storage errors, with nothing written.
//
// A batch of events is all or nothing: the first invalid event fails the
// call and nothing of it is recorded. Events whose event_id the org already
// recorded are skipped (RecordEventsResponse.duplicates); within one batch
// a repeated id is INVALID_ARGUMENT.
//
// Freshness: a recorded event is in the reports as soon as RecordEvents
// returns (aggregates are merged in the same write); unmatched lookups once
// the coverage flush runs (every Options::coverage_flush_interval).
//
// Thread-safe. Recording serialises the check of already-recorded ids with
// the write on one mutex; reports and lookups never take it.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_ANALYTICS_ANALYTICS_H_
#define SOPSIDEBAR_SERVER_DOMAIN_ANALYTICS_ANALYTICS_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/auth/caller.h"
#include "common/auth/permissions.h"
#include "server/common/clock.h"
#include "server/domain/analytics/coverage_recorder.h"
#include "server/domain/analytics/reports.h"
#include "server/domain/crm/crm_maps.h"
#include "server/domain/registry/sop_registry.h"
#include "server/domain/store/cluster_nodes.h"
#include "server/domain/store/event_store.h"
#include "server/domain/store/sop_store.h"
#include "sopsidebar/v1/analytics_service.pb.h"
#include "sopsidebar/v1/context_service.pb.h"

namespace sopsidebar {

class Analytics {
 public:
  struct Options {
    // Raw events older than this are refused, and dropped by the store.
    absl::Duration retention = absl::Hours(24 * 90);
    // How often unmatched lookups are written; zero: only by FlushCoverage.
    absl::Duration coverage_flush_interval = absl::Seconds(1);
    // Set when several sopd nodes share a store (--store=etcd): each node
    // keeps the panel events it received, so reports add up every node's
    // aggregates and name the nodes whose figures are missing
    // (docs/SCALING.md). `nodes` and `peers` must outlive the Analytics.
    struct Cluster {
      std::string node_id;  // this node's
      const ClusterNodes* nodes = nullptr;
      const PeerAggregates* peers = nullptr;
    };
    std::optional<Cluster> cluster;
  };
  static constexpr int kMaxEventsPerBatch = 500;

  // `events`, `sops` (revisions), `registry` (lookups), `crm` (contexts in a
  // CRM's names) and `clock` must outlive it.
  Analytics(EventStore* events, const SopStore* sops, const SopRegistry* registry,
            const CrmMaps* crm, const Clock* clock, Options options);
  // Stops the coverage flusher and flushes once more.
  ~Analytics();

  absl::StatusOr<v1::RecordEventsResponse> RecordEvents(const Caller& caller,
                                                        const v1::RecordEventsRequest& request);
  absl::StatusOr<v1::SlaReport> GetSlaReport(const Caller& caller,
                                             const v1::GetSlaReportRequest& request) const;
  absl::StatusOr<v1::CodeReport> GetCodeReport(const Caller& caller,
                                               const v1::GetCodeReportRequest& request) const;
  absl::StatusOr<v1::UsageReport> GetUsageReport(const Caller& caller,
                                                 const v1::GetUsageReportRequest& request) const;
  absl::StatusOr<v1::CoverageReport> GetCoverageReport(
      const Caller& caller, const v1::GetCoverageReportRequest& request) const;

  // This node's own day aggregates of `org` for days in [first, last], for
  // another node's report (PeerService; the caller is a node of the
  // cluster, not a user). INVALID_ARGUMENT naming "org", "first_day" or
  // "last_day" for an invalid org id, a day outside the store's range, first
  // after last or a range over kMaxReportDays; the store's errors.
  absl::Status ForEachNodeAggregate(
      absl::string_view org, DayNumber first, DayNumber last,
      const std::function<absl::Status(internal::v1::DayAggregate&&)>& fn) const;

  // ContextService.ValidateTransition (context_service.proto).
  absl::StatusOr<v1::ValidateTransitionResponse> ValidateTransition(
      const Caller& caller, const v1::ValidateTransitionRequest& request) const;

  // Where lookups report the contexts they matched nothing for.
  UnmatchedLookupSink* unmatched_lookups() { return &coverage_; }
  // Writes the unmatched lookups counted so far (the flusher does it on
  // its own; tests and shutdown call it).
  absl::Status FlushCoverage();

 private:
  // The revision `event` names, if it was published and `caller` may see
  // it; NOT_FOUND naming `field` otherwise.
  absl::StatusOr<std::shared_ptr<const v1::Sop>> ShownRevision(const Caller& caller,
                                                               absl::string_view field,
                                                               const v1::Event& event) const;
  // The query's org (the caller's) and scope, limited to the caller's own
  // figures unless they may read everyone's.
  absl::StatusOr<std::pair<std::string, ReportScope>> Scope(
      const Caller& caller, const v1::ReportQuery& query,
      std::vector<v1::AnalyticsDimension> default_group_by = {}) const;
  // `report_of` the aggregates the query counts, with its days, for a
  // caller allowed `operation`.
  // The other nodes' aggregates of `org` for days in [first, last], and
  // whose figures they are (Options::cluster). Nodes that are down or do not
  // answer are listed as missing; errors only when the nodes cannot be
  // listed.
  struct Gathered {
    std::vector<internal::v1::DayAggregate> aggregates;
    v1::ReportNodes nodes;
  };
  absl::StatusOr<Gathered> GatherPeers(absl::string_view org, DayNumber first,
                                       DayNumber last) const;
  template <typename Report>
  absl::StatusOr<Report> BuildReport(const Caller& caller, const v1::ReportQuery& query,
                                     Report (*report_of)(const std::vector<ReportGroup>&),
                                     std::vector<v1::AnalyticsDimension> default_group_by = {},
                                     Operation operation = Operation::kReadOwnAnalytics) const;
  void FlushLoop();

  EventStore* const events_;
  const SopStore* const sops_;
  const SopRegistry* const registry_;
  const CrmMaps* const crm_;
  const Clock* const clock_;
  const Options options_;
  CoverageRecorder coverage_;

  // Revisions are immutable: cached by full name, cleared when full.
  mutable absl::Mutex revisions_mu_;
  mutable absl::flat_hash_map<std::string, std::shared_ptr<const v1::Sop>> revisions_
      ABSL_GUARDED_BY(revisions_mu_);

  // Serialises "which ids and marks are new" with the write that records them.
  absl::Mutex record_mu_;

  absl::Notification stop_;
  std::thread flusher_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_ANALYTICS_ANALYTICS_H_
