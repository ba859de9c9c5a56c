#include "server/domain/store/in_memory_event_store.h"

#include <tuple>
#include <vector>

#include "common/proto_time.h"
#include "common/status_macros.h"

namespace sopsidebar {
namespace {

int64_t EventMicros(const internal::v1::StoredEvent& event) {
  return absl::ToUnixMicros(FromProtoTimestamp(event.event().event_time()));
}

}  // namespace

InMemoryEventStore::InMemoryEventStore(Options options) : options_(std::move(options)) {}

absl::StatusOr<std::vector<bool>> InMemoryEventStore::Seen(
    absl::string_view org, absl::Span<const std::string> keys) const {
  std::vector<bool> seen(keys.size(), false);
  absl::MutexLock lock(&mu_);
  auto it = orgs_.find(org);
  if (it == orgs_.end()) return seen;
  const OrgEvents& data = it->second;
  for (size_t i = 0; i < keys.size(); ++i) {
    seen[i] = data.ids.count(keys[i]) > 0 || data.marks.count(keys[i]) > 0;
  }
  return seen;
}

absl::Status InMemoryEventStore::Write(const EventWrite& write) {
  SOP_RETURN_IF_ERROR(CheckEventWrite(write));
  absl::MutexLock lock(&mu_);
  OrgEvents& data = orgs_[write.org];
  for (const internal::v1::StoredEvent& event : write.events) {
    const int64_t micros = EventMicros(event);
    data.events[{micros, event.event().event_id()}] = event;
    data.ids[event.event().event_id()] = micros;
  }
  const int64_t marks_micros = absl::ToUnixMicros(write.marks_time);
  for (const std::string& mark : write.marks) {
    auto [it, inserted] = data.marks.try_emplace(mark, marks_micros);
    if (!inserted) {
      data.marks_by_time.erase({it->second, mark});
      it->second = marks_micros;
    }
    data.marks_by_time.insert({marks_micros, mark});
  }
  for (const AggregateDelta& delta : write.deltas) {
    AddAggregate(delta.delta, &data.aggregates[{delta.day, delta.dimensions.SerializeAsString()}]);
  }
  PruneLocked();
  return absl::OkStatus();
}

void InMemoryEventStore::PruneForTesting() {
  absl::MutexLock lock(&mu_);
  PruneLocked();
}

void InMemoryEventStore::PruneLocked() {
  const int64_t cutoff = absl::ToUnixMicros(options_.now() - options_.retention);
  for (auto& [org, data] : orgs_) {
    auto event = data.events.begin();
    for (; event != data.events.end() && event->first.first < cutoff; ++event) {
      // The id stays while a later event under it does (a retry with
      // another time), as RocksDbStore's id key holds the latest time.
      auto id = data.ids.find(event->first.second);
      if (id != data.ids.end() && id->second < cutoff) data.ids.erase(id);
    }
    data.events.erase(data.events.begin(), event);
    auto mark = data.marks_by_time.begin();
    for (; mark != data.marks_by_time.end() && mark->first < cutoff; ++mark) {
      data.marks.erase(mark->second);
    }
    data.marks_by_time.erase(data.marks_by_time.begin(), mark);
  }
}

absl::Status InMemoryEventStore::ForEachAggregate(
    absl::string_view org, DayNumber first, DayNumber last,
    const std::function<absl::Status(DayNumber, const internal::v1::AggregateDimensions&,
                                     const internal::v1::EventAggregate&)>& fn) const {
  std::vector<std::tuple<DayNumber, std::string, internal::v1::EventAggregate>> copy;
  {
    absl::MutexLock lock(&mu_);
    auto it = orgs_.find(org);
    if (it == orgs_.end() || last < first) return absl::OkStatus();
    const auto& aggregates = it->second.aggregates;
    for (auto a = aggregates.lower_bound({first, ""});
         a != aggregates.end() && a->first.first <= last; ++a) {
      copy.emplace_back(a->first.first, a->first.second, a->second);
    }
  }
  internal::v1::AggregateDimensions dimensions;
  for (const auto& [day, serialized, aggregate] : copy) {
    dimensions.ParseFromString(serialized);
    SOP_RETURN_IF_ERROR(fn(day, dimensions, aggregate));
  }
  return absl::OkStatus();
}

absl::Status InMemoryEventStore::ForEachEvent(
    absl::string_view org, absl::Time since, absl::Time until,
    const std::function<absl::Status(const internal::v1::StoredEvent&)>& fn) const {
  const int64_t since_micros = absl::ToUnixMicros(since);
  const int64_t until_micros = absl::ToUnixMicros(until);
  std::vector<internal::v1::StoredEvent> copy;
  {
    absl::MutexLock lock(&mu_);
    auto it = orgs_.find(org);
    if (it == orgs_.end()) return absl::OkStatus();
    const auto& events = it->second.events;
    for (auto e = events.lower_bound({since_micros, ""});
         e != events.end() && e->first.first < until_micros; ++e) {
      copy.push_back(e->second);
    }
  }
  for (const internal::v1::StoredEvent& event : copy) SOP_RETURN_IF_ERROR(fn(event));
  return absl::OkStatus();
}

}  // namespace sopsidebar
