// The review rules of an SOP's draft (docs/GOVERNANCE.md), as functions of
// its head: what each review step requires and what it changes in
// Sop.review. The registry reads the head, applies one of these and writes
// the result with its revision and audit event; nothing here does I/O.
//
//   (edit) --> DRAFT --SubmitSop--> IN_REVIEW --ApproveSop (last role)--> APPROVED
//                ^                     |  ^                                  |
//                +------RejectSop------+  +--ApproveSop (roles remain)       |
//                +--------------------(edit: sign-offs void)-----------------+
//   APPROVED --PublishSop--> (no review: the draft is live)
//
// An SOP without required approver roles goes straight from IN_REVIEW to
// APPROVED, and PublishSop publishes its draft in any state, as before
// review existed. Errors come from common/errors.h. Thread-safe (pure).
#ifndef SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_SOP_REVIEW_H_
#define SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_SOP_REVIEW_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/auth/caller.h"
#include "sopsidebar/v1/sop.pb.h"
#include "sopsidebar/v1/sop_service.pb.h"

namespace sopsidebar {

// Records that `author` changed the content of `head`: the review returns
// to DRAFT (approvals and submission void) and `author` joins the authors,
// who may not approve the change.
void RecordEdit(const Caller& author, v1::Sop* head);

// SubmitSop: DRAFT (or a never-reviewed draft ahead of the live revision)
// becomes IN_REVIEW of `revision_id` (the revision this write creates), or
// APPROVED at once when the SOP requires no approver.
// FAILED_PRECONDITION when it is already submitted or there is nothing to
// review.
absl::Status Submit(const Caller& caller, const std::string& revision_id, absl::Time now,
                    v1::Sop* head);

// ApproveSop: adds the caller's sign-off for the role the request names (or
// the one role the caller holds that is awaited); APPROVED once no role is
// awaited. Returns the role signed for. The caller must already be
// authorized for Operation::kSignOffSops. ABORTED for a stale revision_id;
// PERMISSION_DENIED for an author of the change or a role the caller lacks;
// FAILED_PRECONDITION when not IN_REVIEW or the role (or the caller) already
// signed; INVALID_ARGUMENT for a role the SOP does not require, or when the
// role is ambiguous.
absl::StatusOr<v1::Role> Approve(const Caller& caller, const v1::ApproveSopRequest& request,
                                 absl::Time now, v1::Sop* head);

// RejectSop: the review returns to DRAFT with the rejection recorded. The
// same checks as Approve; the comment is required.
absl::StatusOr<v1::Role> Reject(const Caller& caller, const v1::RejectSopRequest& request,
                                absl::Time now, v1::Sop* head);

// OK when `head`'s draft may be published without an emergency: it requires
// no approver, or its review is APPROVED. FAILED_PRECONDITION naming what is
// missing ("awaiting MARKETING_DIRECTOR") otherwise.
absl::Status CheckSignedOff(const v1::Sop& head);

// After a publish at `now`: no review is pending, and publishing counts as
// the owner's review.
void RecordPublish(absl::Time now, v1::Sop* head);

// MarkSopReviewed at `now`.
void RecordOwnerReview(absl::Time now, v1::Sop* head);

// When a review done at `last` falls due under `cycle`: calendar months
// later (1, 3, 6, 12) in UTC; nullopt without a cycle.
std::optional<absl::Time> NextReviewTime(v1::ReviewCycle cycle, absl::Time last);

// Whether `head` has a draft that differs from its live revision and may
// be reviewed.
bool HasPendingDraft(const v1::Sop& head);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_SOP_REVIEW_H_
