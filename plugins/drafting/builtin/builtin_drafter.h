// The built-in drafter: turns a structured brief (brief.h, docs/AUTHORING.md)
// into a complete SOP for a lead-stage outreach cadence, offline and
// deterministically: the same brief always gives the same SOP.
//
// What it writes: a title and purpose; the owner; the funnel stage and a
// targeting rule on the stage's lead_status (and lead_source for inbound,
// outbound or partner leads); one step per cadence touch, each current
// while cadence_touches_completed says it is next, with its role and time
// limit (the first-contact window for the first touch), and a close-out
// step; the cadence itself (N touches spread evenly over D days, channels
// taken in turn); SLA terms (first_contact_window, min_lead_score for MQLs,
// cadence_length_days, touches_required); disqualification codes (the
// brief's, or a standard set); required approvers for the stage.
#ifndef SOPSIDEBAR_PLUGINS_DRAFTING_BUILTIN_BUILTIN_DRAFTER_H_
#define SOPSIDEBAR_PLUGINS_DRAFTING_BUILTIN_BUILTIN_DRAFTER_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/drafting/drafter.h"
#include "plugins/drafting/builtin/brief.h"
#include "sopsidebar/v1/sop.pb.h"

namespace sopsidebar {

// The minimum lead score of an MQL when the brief does not say.
inline constexpr int kDefaultMqlMinScore = 75;
// The owner when the brief does not say.
inline constexpr absl::string_view kDefaultOwner = "Sales Operations Manager";

// The SOP `brief` asks for, checked by FinishDraft. INVALID_ARGUMENT only
// when a value from the brief breaks a field limit (an owner longer than
// 256 characters). Thread-safe (pure).
absl::StatusOr<v1::Sop> DraftFromBrief(const Brief& brief);

// Drafter over ValidateBrief, ParseBrief and DraftFromBrief. Stateless and
// thread-safe.
class BuiltinDrafter final : public Drafter {
 public:
  absl::StatusOr<v1::Sop> Draft(absl::string_view brief) const override;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_PLUGINS_DRAFTING_BUILTIN_BUILTIN_DRAFTER_H_
