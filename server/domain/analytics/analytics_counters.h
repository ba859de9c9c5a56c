// The names of the counters an EventAggregate keeps (records.proto), one
// vocabulary for the code that writes them (event_facts.cc, coverage) and
// the code that reads them (reports.cc).
#ifndef SOPSIDEBAR_SERVER_DOMAIN_ANALYTICS_ANALYTICS_COUNTERS_H_
#define SOPSIDEBAR_SERVER_DOMAIN_ANALYTICS_ANALYTICS_COUNTERS_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace sopsidebar::counters {

// PANEL_SHOWN events.
inline constexpr absl::string_view kShown = "shown";
// Records counted once per SOP: the first event of a record for the SOP.
inline constexpr absl::string_view kRecords = "records";
// The same, for SOPs that list disqualification codes (the denominator of
// the rejection rate).
inline constexpr absl::string_view kCodedRecords = "coded_records";
// STEP_COMPLETED events, and per step: "step/<ordinal>".
inline constexpr absl::string_view kSteps = "steps";
inline constexpr absl::string_view kStepPrefix = "step/";
// ASSET_OPENED events.
inline constexpr absl::string_view kAssets = "assets";
// DISQUALIFIED events, and per code: "code/<code>".
inline constexpr absl::string_view kDisqualified = "disqualified";
inline constexpr absl::string_view kCodePrefix = "code/";
// A record's first FIRST_CONTACT for an SOP with a first_contact_window,
// and those inside the window (their delays are in the aggregate's
// first_contact_delays_ms).
inline constexpr absl::string_view kFirstContacts = "first_contacts";
inline constexpr absl::string_view kWithinWindow = "within_window";
// STATUS_CHANGED events.
inline constexpr absl::string_view kStatusChanges = "status_changes";
// Lookups that matched no SOP (coverage gaps).
inline constexpr absl::string_view kUnmatchedLookups = "unmatched_lookups";

inline std::string Step(int ordinal) { return absl::StrCat(kStepPrefix, ordinal); }
inline std::string Code(absl::string_view code) { return absl::StrCat(kCodePrefix, code); }

}  // namespace sopsidebar::counters

#endif  // SOPSIDEBAR_SERVER_DOMAIN_ANALYTICS_ANALYTICS_COUNTERS_H_
