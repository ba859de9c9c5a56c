// Field-level differences between two SOP bodies, for DiffSopRevisions: what
// a reviewer reads before approving a draft. Pure functions, no I/O;
// thread-safe (they touch nothing but their arguments). They take any input,
// valid or not, and never fail.
//
// What DiffSops compares, and how it names it (FieldChange.path):
//  - Every field of Sop a writer controls (IsMutableSopField, sop_body.h):
//    never the name or the output-only fields (state, revision_id, etag,
//    the times, review, published_revision_id, ...).
//  - A scalar, enum or single message: one change, path the field's name
//    ("title", "review_cycle"). ADDED when `a` does not have it (a field
//    without presence at its default: "", 0, false, the zero enum), REMOVED
//    when `b` does not, CHANGED otherwise.
//  - A list of strings or roles (tags, visibility_roles,
//    required_approver_roles; within an item record_types and asset_ids) is
//    a set: order and repeats do not count, and each element added or
//    removed is one change, "visibility_roles[AE]", "tags[mql]".
//  - A list of items is compared item by item, by the item's key when it
//    has one: steps by ordinal ("steps[ordinal=2]"), sla_terms by name
//    ("sla_terms[first_contact_window]"), disqualification_codes by code,
//    assets by id, the FieldUpdates of required_updates and crm_updates by
//    field ("steps[ordinal=2].required_updates[lead_status]"). A numeric key
//    is written name=value, a text key as it is (unescaped). Keys are unique
//    in a valid SOP; should one repeat, the k-th occurrence in `a` pairs
//    with the k-th in `b`, and every occurrence after the first says which
//    it is: "sla_terms[x,#2]".
//  - Cadence touches have no key. A touch pairs first with a touch of the
//    same day, channel and action (the k-th such with the k-th), then, among
//    those left, by position within its day (the k-th left of day 3 in `a`
//    with the k-th left of day 3 in `b`); a touch moved to another day is
//    one removed and one added. A touch's path is its day and its 1-based
//    position among that day's touches: "cadence[day=1,#2]".
//  - targeting_rules and the conditions of a rule or step are compared by
//    index: "targeting_rules[0]", "targeting_rules[0].conditions[1]".
//  - An item in one side only is one ADDED or REMOVED change holding the
//    whole item. An item of a section's list (a step, a touch, a term, a
//    code, an asset, a rule) in both sides gets one change per field that
//    differs, by the rules above: "steps[ordinal=2].title",
//    "steps[ordinal=2].time_limit", "cadence[day=1,#1].crm_updates[stage]".
//    The items of an item's lists (conditions, field updates) are compared
//    whole: one CHANGED with the whole condition before and after.
//  - A path uses the position or occurrence on the newer side (`b`), except
//    for a REMOVED item, which uses the older side's.
//
// FieldChange.section is the top-level field; before and after are compact
// JSON in the API's JSON mapping (MessageToJsonString): a message or an item
// as its object ("{\"ordinal\":2,\"title\":\"Call\"}"), a scalar as its
// value ("\"Title\"", "5", "\"AE\"", "true"); empty for the side that does
// not have the value, "null" for a value JSON cannot hold (a NaN in a
// Value, a Timestamp out of range). A text change where either side spans
// lines (has a '\n': instructions, purpose, ...) also carries the line diff
// (DiffLines) in FieldChange.lines.
//
// Order: the changes follow Sop's fields in declaration order and, within a
// list, the newer side's order, each removed item where it stood: right
// after the last, in the newer side, of the counterparts of the items before
// it in the older side (at the start when none of those is in both). Equal
// inputs give equal output.
//
// Cost: linear in the size of the SOPs plus the size of what changed (the
// JSON of the changes; the line diffs as DiffLines says), hashing the item
// keys; no quadratic step in the number of items.
#ifndef SOPSIDEBAR_COMMON_MODEL_SOP_DIFF_H_
#define SOPSIDEBAR_COMMON_MODEL_SOP_DIFF_H_

#include <vector>

#include "absl/strings/string_view.h"
#include "sopsidebar/v1/sop.pb.h"
#include "sopsidebar/v1/sop_service.pb.h"

namespace sopsidebar {

// The content differences from `a` (the older side) to `b` (the newer), as
// above: replaces diff->changes, leaves revision_a and revision_b (the
// caller's to set) alone. Identical contents give no changes. `diff` must not
// be nullptr.
void DiffSops(const v1::Sop& a, const v1::Sop& b, v1::SopDiff* diff);

// The line diff of two texts, each split on every '\n' (so "x\n" is the
// lines "x" and ""; the empty text has no lines): every line of both, in
// order, as KEPT (in both), REMOVED (only in `a`) or ADDED (only in `b`);
// where lines were replaced, the removed ones come first. The lines kept are
// a longest common subsequence (Myers' algorithm, after setting aside the
// lines the texts start and end with alike) as long as the texts differ by
// at most kMaxLineEdits added and removed lines; beyond that the differing
// middle is reported as all removed, then all added, which bounds the cost
// at O((lines) x kMaxLineEdits) time and O(kMaxLineEdits^2) memory.
std::vector<v1::LineChange> DiffLines(absl::string_view a, absl::string_view b);

// The most added plus removed lines DiffLines searches for a minimal diff.
inline constexpr int kMaxLineEdits = 1000;

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_COMMON_MODEL_SOP_DIFF_H_
