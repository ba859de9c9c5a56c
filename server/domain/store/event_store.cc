#include "server/domain/store/event_store.h"

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/model/names.h"
#include "common/proto_time.h"

namespace sopsidebar {

void AddAggregate(const internal::v1::EventAggregate& delta, internal::v1::EventAggregate* into) {
  for (const auto& [name, count] : delta.counts()) (*into->mutable_counts())[name] += count;
  into->mutable_first_contact_delays_ms()->Add(delta.first_contact_delays_ms().begin(),
                                               delta.first_contact_delays_ms().end());
}

absl::Status CheckEventWrite(const EventWrite& write) {
  if (!IsValidResourceId(write.org)) return error::InvalidField("org", "is not a valid org id");
  for (int i = 0; i < static_cast<int>(write.events.size()); ++i) {
    const v1::Event& event = write.events[i].event();
    if (event.event_id().empty()) {
      return error::RequiredField(absl::StrCat("events[", i, "].event.event_id"));
    }
    if (FromProtoTimestamp(event.event_time()) < absl::UnixEpoch()) {
      return error::InvalidField(absl::StrCat("events[", i, "].event.event_time"),
                                 "is before 1970");
    }
  }
  for (int i = 0; i < static_cast<int>(write.marks.size()); ++i) {
    if (write.marks[i].empty()) return error::RequiredField(absl::StrCat("marks[", i, "]"));
  }
  if (!write.marks.empty() && write.marks_time < absl::UnixEpoch()) {
    return error::InvalidField("marks_time", "is before 1970");
  }
  for (int i = 0; i < static_cast<int>(write.deltas.size()); ++i) {
    if (write.deltas[i].day < 0 || write.deltas[i].day > kLastDayNumber) {
      return error::InvalidField(absl::StrCat("deltas[", i, "].day"),
                                 absl::StrCat("is outside [0, ", kLastDayNumber, "]"));
    }
  }
  return absl::OkStatus();
}

}  // namespace sopsidebar
