// An EventStore in memory: for tests of the layers above storage and for the
// in-process sopd behind sopctl's tests, so it keeps the same promises as
// RocksDbStore (atomic writes, exact merges, the retention). Thread-safe.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_STORE_IN_MEMORY_EVENT_STORE_H_
#define SOPSIDEBAR_SERVER_DOMAIN_STORE_IN_MEMORY_EVENT_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/domain/store/event_store.h"

namespace sopsidebar {

class InMemoryEventStore : public EventStore {
 public:
  struct Options {
    // Raw events, their ids and marks whose time is older than now minus
    // this are dropped by the next Write. Aggregates are kept for ever.
    absl::Duration retention = absl::Hours(24 * 90);
    // The clock the retention is measured by (default absl::Now).
    std::function<absl::Time()> now = absl::Now;
  };

  InMemoryEventStore() : InMemoryEventStore(Options()) {}
  explicit InMemoryEventStore(Options options);

  absl::StatusOr<std::vector<bool>> Seen(absl::string_view org,
                                         absl::Span<const std::string> keys) const override;
  // Drops what the retention expired after writing.
  absl::Status Write(const EventWrite& write) override;
  // Both call `fn` on a copy taken under the lock, so `fn` may use the store.
  absl::Status ForEachAggregate(
      absl::string_view org, DayNumber first, DayNumber last,
      const std::function<absl::Status(DayNumber, const internal::v1::AggregateDimensions&,
                                       const internal::v1::EventAggregate&)>& fn) const override;
  absl::Status ForEachEvent(
      absl::string_view org, absl::Time since, absl::Time until,
      const std::function<absl::Status(const internal::v1::StoredEvent&)>& fn) const override;

  // Drops what the retention has expired by options.now(), as Write does.
  void PruneForTesting();

 private:
  // One org's data; times are Unix microseconds, as RocksDbStore keys them.
  struct OrgEvents {
    // By (event time, event id): oldest first.
    std::map<std::pair<int64_t, std::string>, internal::v1::StoredEvent> events;
    // Event id -> the time of the latest event written under it.
    std::map<std::string, int64_t> ids;
    // Mark -> its marks_time, and the same pairs by time, for pruning.
    std::map<std::string, int64_t> marks;
    std::set<std::pair<int64_t, std::string>> marks_by_time;
    // By (day, serialized AggregateDimensions).
    std::map<std::pair<DayNumber, std::string>, internal::v1::EventAggregate> aggregates;
  };

  void PruneLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  mutable absl::Mutex mu_;
  std::map<std::string, OrgEvents, std::less<>> orgs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_STORE_IN_MEMORY_EVENT_STORE_H_
