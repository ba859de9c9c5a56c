// What sopd makes of one analytics event (docs/ANALYTICS.md): its checks
// against the SOP revision the panel showed, the SLA evaluation of a first
// contact, and what it adds to the day's aggregate. Pure functions of their
// arguments; thread-safe.
//
// Errors (common/errors.h), each naming the field by its path under
// `field` ("events[3]"):
//   INVALID_ARGUMENT  a missing or malformed field; an unknown type; a time
//                     more than kMaxAhead ahead of `now` or older than the
//                     retention; a step, asset or code the revision does not
//                     have (the code's error lists the allowed codes); a
//                     first contact without the anchor time the SOP's SLA
//                     counts from, or before it.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_ANALYTICS_EVENT_FACTS_H_
#define SOPSIDEBAR_SERVER_DOMAIN_ANALYTICS_EVENT_FACTS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/domain/store/event_store.h"
#include "sopsidebar/internal/v1/records.pb.h"
#include "sopsidebar/v1/analytics_service.pb.h"
#include "sopsidebar/v1/sop.pb.h"

namespace sopsidebar {

// The context fields figures are grouped by (CRM-FIELDS.md names).
inline constexpr absl::string_view kLeadStatusField = "lead_status";
inline constexpr absl::string_view kLeadSourceField = "lead_source";
inline constexpr absl::string_view kCampaignField = "campaign";
inline constexpr absl::string_view kTeamField = "team";
// The field a step asks for when it needs a disqualification code.
inline constexpr absl::string_view kDisqualificationCodeField = "disqualification_code";
// The SLA term a first contact is measured against.
inline constexpr absl::string_view kFirstContactWindowTerm = "first_contact_window";

// When an event may have happened, relative to the server's clock.
struct EventWindow {
  absl::Time now;
  // Older events are refused: their raw form would already be dropped.
  absl::Duration retention;
  // Clocks of browsers differ; later than now + kMaxAhead is refused.
  static constexpr absl::Duration kMaxAhead = absl::Minutes(5);
};

// One event, checked, with what it adds to the figures.
struct EventFacts {
  // The event (its context in our field names), the rep, and the SLA
  // evaluation of a first contact.
  internal::v1::StoredEvent stored;
  DayNumber day = 0;
  internal::v1::AggregateDimensions dimensions;
  // Counted once per (SOP, record): the key of that, for EventStore::Seen.
  std::string record_mark;
  // FIRST_CONTACT: only a record's first counts; the key of that.
  std::string first_contact_mark;
};

// The UTC day of `t`, and back.
DayNumber DayOf(absl::Time t);
absl::Time StartOfDay(DayNumber day);
// "YYYY-MM-DD" of `day`; the day of such a string, or INVALID_ARGUMENT
// naming `field`.
std::string FormatDay(DayNumber day);
absl::StatusOr<DayNumber> ParseDay(absl::string_view field, absl::string_view text);

// Checks what can be checked of `event` without its SOP: id, type, time,
// sop and revision_id present, context's record_type and record_id.
absl::Status CheckEventShape(const v1::Event& event, absl::string_view field,
                             const EventWindow& window);

// The facts of `event`, already shape-checked and with its context in our
// field names, about `revision` (the SOP revision it names, which the rep
// may see), attributed to `rep`.
absl::StatusOr<EventFacts> DeriveEventFacts(const v1::Event& event, absl::string_view field,
                                            const v1::Sop& revision, absl::string_view rep,
                                            const EventWindow& window);

// What `facts` add to their day's aggregate: `new_record` when the event is
// the first of its record for the SOP, `first_contact` when it is the
// record's first contact (counted only then, and only when evaluated).
internal::v1::EventAggregate DeltaOf(const EventFacts& facts, const v1::Sop& revision,
                                     bool new_record, bool first_contact);

// A string context field as figures group it: its string, a number as
// written, "" otherwise.
std::string GroupValue(const v1::CrmContext& context, absl::string_view field);
// The same without copying (the lookup hot path): a view of the string, or
// of `scratch` holding the number as written; valid while both are.
absl::string_view GroupValueView(const v1::CrmContext& context, absl::string_view field,
                                 std::string& scratch);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_ANALYTICS_EVENT_FACTS_H_
