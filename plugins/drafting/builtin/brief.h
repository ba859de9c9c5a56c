// The structured brief the built-in drafter reads (docs/AUTHORING.md):
// clauses separated by commas, semicolons or line breaks, e.g.
//
//   inbound MQL, 5-touch cadence over 5 days, channels call/email/LinkedIn,
//   5-minute first contact, owner Sales Ops
//   disqualify: no budget, wrong persona
//
// Clauses are read without regard to ASCII case. A `disqualify:` clause runs
// to the end of its line or to the next semicolon, so its reasons may be
// separated by commas. Thread-safe (pure).
#ifndef SOPSIDEBAR_PLUGINS_DRAFTING_BUILTIN_BRIEF_H_
#define SOPSIDEBAR_PLUGINS_DRAFTING_BUILTIN_BRIEF_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "sopsidebar/v1/sop.pb.h"

namespace sopsidebar {

// Where the leads come from; it narrows the targeting by lead_source.
enum class LeadSource { kAny, kInbound, kOutbound, kPartner };

// Cadence limits: a cadence the panel can show one touch at a time.
inline constexpr int kMaxBriefTouches = 30;
inline constexpr int kMaxBriefDays = 90;
inline constexpr int kMaxTouchesPerDay = 5;

// What a brief asks for.
struct Brief {
  // Required: lead, MQL, SQL or nurture ("inbound MQL").
  v1::FunnelStage stage = v1::FUNNEL_STAGE_UNSPECIFIED;
  LeadSource source = LeadSource::kAny;
  // Required: "5-touch cadence over 5 days": 1..kMaxBriefTouches touches
  // over 1..kMaxBriefDays days, at most kMaxTouchesPerDay a day.
  int touches = 0;
  int days = 0;
  // Required, in the order written, each once: "call/email/LinkedIn".
  std::vector<v1::Channel> channels;
  // "5-minute first contact": positive, at most 24 hours (day 1).
  std::optional<absl::Duration> first_contact;
  // "owner Sales Ops"; empty: the drafter's default.
  std::string owner;
  // "title: ..."; empty: the drafter writes one.
  std::string title;
  // "role AE": who works the cadence; unset: the stage's usual role.
  std::optional<v1::Role> role;
  // "min score 75": 0..100.
  std::optional<int> min_score;
  // "disqualify: no budget, wrong persona": each reason once.
  std::vector<std::string> disqualify_reasons;
};

// Reads `text` (already checked by ValidateBrief). Returns INVALID_ARGUMENT
// (error::BriefNotUnderstood) listing every problem, each naming its clause
// by number and text: a clause it does not know, a value out of range
// ("0-touch cadence"), a clause that contradicts an earlier one ("2-hour
// first contact" after "5-minute first contact"; repeating the same value is
// fine), a stage it cannot draft for (opportunity, customer); and a missing
// stage, cadence or channels.
absl::StatusOr<Brief> ParseBrief(absl::string_view text);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_PLUGINS_DRAFTING_BUILTIN_BRIEF_H_
