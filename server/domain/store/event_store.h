// The persistence interface for analytics events (docs/ANALYTICS.md): the
// raw events, kept for a retention period, and per-day aggregates kept
// current by merging deltas into them, never by reading and rewriting them.
// Implementations: RocksDbStore (its events column family, with a merge
// operator and a retention compaction filter) and InMemoryEventStore
// (tests, in-process sopctl).
#ifndef SOPSIDEBAR_SERVER_DOMAIN_STORE_EVENT_STORE_H_
#define SOPSIDEBAR_SERVER_DOMAIN_STORE_EVENT_STORE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "sopsidebar/internal/v1/records.pb.h"

namespace sopsidebar {

// A UTC day as days since 1970-01-01.
using DayNumber = int32_t;
// The last day an aggregate may be kept for (stores key days with eight
// digits); the first is 0.
inline constexpr DayNumber kLastDayNumber = 99'999'999;

// One delta to merge into the aggregate of (org, day, dimensions).
struct AggregateDelta {
  DayNumber day = 0;
  internal::v1::AggregateDimensions dimensions;
  internal::v1::EventAggregate delta;
};

// One atomic write: all of it lands, or none of it.
struct EventWrite {
  std::string org;
  // Raw events to keep until their event_time is older than the retention;
  // each under its event.event_id, which records the id as seen (Seen).
  std::vector<internal::v1::StoredEvent> events;
  // Marks that make each of these keys Seen from now on, without an event
  // ("the first event of record R for SOP S"), kept as long as the events.
  std::vector<std::string> marks;
  absl::Time marks_time;
  std::vector<AggregateDelta> deltas;
};

// Adds `delta` to `into`: counts summed by name, delays appended. The merge
// every EventStore applies; associative.
void AddAggregate(const internal::v1::EventAggregate& delta, internal::v1::EventAggregate* into);

// What every EventStore checks before it writes, so that each one keys the
// write the same way: INVALID_ARGUMENT naming the field when the org is not
// a valid org id, an event has no event_id or an event_time before 1970,
// a mark is empty, marks_time is before 1970 (with marks), or a delta's day
// is outside [0, kLastDayNumber].
absl::Status CheckEventWrite(const EventWrite& write);

// Thread-safe: reads may run concurrently with each other and with Write,
// and concurrent Writes never lose a delta. Callers that check Seen before
// writing serialise that pair themselves.
class EventStore {
 public:
  virtual ~EventStore() = default;

  // For each of `keys` (event ids and marks) of `org`: whether a write
  // recorded it and the retention has not dropped it yet.
  virtual absl::StatusOr<std::vector<bool>> Seen(absl::string_view org,
                                                 absl::Span<const std::string> keys) const = 0;

  // Writes `write` atomically (synced, like every write of the store).
  // INVALID_ARGUMENT when CheckEventWrite refuses it (nothing written).
  virtual absl::Status Write(const EventWrite& write) = 0;

  // Calls `fn` with every aggregate of `org` whose day is in [first, last],
  // day by day (dimensions in no particular order), each with every delta
  // written before the call began merged in. Stops at, and returns, the
  // first error `fn` returns.
  virtual absl::Status ForEachAggregate(
      absl::string_view org, DayNumber first, DayNumber last,
      const std::function<absl::Status(DayNumber, const internal::v1::AggregateDimensions&,
                                       const internal::v1::EventAggregate&)>& fn) const = 0;

  // Calls `fn` with the raw events of `org` with event_time in
  // [since, until), oldest first.
  virtual absl::Status ForEachEvent(
      absl::string_view org, absl::Time since, absl::Time until,
      const std::function<absl::Status(const internal::v1::StoredEvent&)>& fn) const = 0;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_STORE_EVENT_STORE_H_
