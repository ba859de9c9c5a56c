#include "server/domain/registry/sop_review.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/errors.h"
#include "common/proto_time.h"
#include "common/status_macros.h"

namespace sopsidebar {
namespace {

constexpr size_t kMaxComment = 4000;

std::string StateName(const v1::Sop& head) {
  return head.has_review() ? v1::DraftReview::State_Name(head.review().state())
                           : std::string("live (nothing to review)");
}

bool Holds(const Caller& caller, v1::Role role) { return (caller.roles & RoleBit(role)) != 0; }

bool Contains(const google::protobuf::RepeatedField<int>& roles, v1::Role role) {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

// The awaited roles of `review`, in the SOP's order, as names.
std::vector<std::string> AwaitingNames(const v1::DraftReview& review) {
  std::vector<std::string> names;
  for (int role : review.awaiting_roles()) {
    names.push_back(v1::Role_Name(static_cast<v1::Role>(role)));
  }
  return names;
}

// The checks ApproveSop and RejectSop share; the role decided on.
absl::StatusOr<v1::Role> SignOffRole(const Caller& caller, const v1::Sop& head,
                                     absl::string_view action, const std::string& revision_id,
                                     v1::Role requested, const std::string& comment) {
  if (comment.size() > kMaxComment) return error::FieldTooLong("comment", kMaxComment);
  if (requested != v1::ROLE_UNSPECIFIED && !v1::Role_IsValid(requested)) {
    return error::InvalidField("role", absl::StrCat("unknown value ", static_cast<int>(requested)));
  }
  const v1::DraftReview& review = head.review();
  if (!revision_id.empty() && (!head.has_review() || revision_id != review.revision_id())) {
    return error::StaleReview(head.name(), revision_id, review.revision_id());
  }
  if (!head.has_review() || review.state() != v1::DraftReview::IN_REVIEW) {
    return error::ReviewState(head.name(), StateName(head), action,
                              head.has_review() && review.state() == v1::DraftReview::APPROVED
                                  ? "IN_REVIEW; every required role approved already"
                                  : "IN_REVIEW: submit it first");
  }
  for (const std::string& author : review.authors()) {
    if (author == caller.user_id) return error::OwnChange(head.name());
  }
  for (const v1::SignOff& approval : review.approvals()) {
    if (approval.user_id() == caller.user_id) {
      return error::AlreadySignedOff(
          head.name(), absl::StrCat(caller.user_id, " (for ", v1::Role_Name(approval.role()), ")"));
    }
  }
  if (requested != v1::ROLE_UNSPECIFIED) {
    if (!Contains(head.required_approver_roles(), requested)) {
      return error::InvalidField(
          "role", absl::StrCat(v1::Role_Name(requested), " is not a required approver role of ",
                               head.name()));
    }
    if (!Holds(caller, requested)) {
      return error::PermissionDenied(absl::StrCat("sign off for ", v1::Role_Name(requested)));
    }
    if (!Contains(review.awaiting_roles(), requested)) {
      return error::AlreadySignedOff(head.name(), v1::Role_Name(requested));
    }
    return requested;
  }
  std::vector<v1::Role> candidates;
  for (int role : review.awaiting_roles()) {
    if (Holds(caller, static_cast<v1::Role>(role)))
      candidates.push_back(static_cast<v1::Role>(role));
  }
  if (candidates.size() == 1) return candidates[0];
  if (candidates.empty()) {
    // The caller holds a required role (kSignOffSops), so it has signed.
    std::vector<std::string> held;
    for (int role : head.required_approver_roles()) {
      if (Holds(caller, static_cast<v1::Role>(role))) {
        held.push_back(v1::Role_Name(static_cast<v1::Role>(role)));
      }
    }
    return error::AlreadySignedOff(head.name(), absl::StrJoin(held, ", "));
  }
  std::vector<std::string> names;
  for (v1::Role role : candidates) names.push_back(v1::Role_Name(role));
  return error::InvalidField(
      "role", absl::StrCat("you hold several roles awaiting sign-off (", absl::StrJoin(names, ", "),
                           "); name the one you sign for"));
}

v1::SignOff MakeSignOff(const Caller& caller, v1::Role role, const std::string& revision_id,
                        const std::string& comment, absl::Time now) {
  v1::SignOff sign_off;
  sign_off.set_role(role);
  sign_off.set_user_id(caller.user_id);
  sign_off.set_via(caller.via);
  *sign_off.mutable_time() = ToProtoTimestamp(now);
  sign_off.set_comment(comment);
  sign_off.set_revision_id(revision_id);
  return sign_off;
}

}  // namespace

bool HasPendingDraft(const v1::Sop& head) {
  if (head.has_review()) return true;
  // A draft from before review existed, or one never published.
  return head.published_revision_id().empty() || head.revision_id() != head.published_revision_id();
}

void RecordEdit(const Caller& author, v1::Sop* head) {
  v1::DraftReview* review = head->mutable_review();
  review->set_state(v1::DraftReview::DRAFT);
  review->clear_revision_id();
  review->clear_submitted_by();
  review->clear_submit_time();
  review->clear_approvals();
  review->clear_awaiting_roles();
  const auto& authors = review->authors();
  if (std::find(authors.begin(), authors.end(), author.user_id) == authors.end()) {
    review->add_authors(author.user_id);
  }
}

absl::Status Submit(const Caller& caller, const std::string& revision_id, absl::Time now,
                    v1::Sop* head) {
  if (head->has_review() && head->review().state() != v1::DraftReview::DRAFT) {
    return error::ReviewState(head->name(), StateName(*head), "submitting",
                              "DRAFT: it was submitted already");
  }
  if (!HasPendingDraft(*head)) return error::NothingToReview(head->name());
  v1::DraftReview* review = head->mutable_review();
  review->set_revision_id(revision_id);
  review->set_submitted_by(caller.user_id);
  *review->mutable_submit_time() = ToProtoTimestamp(now);
  review->clear_approvals();
  review->clear_rejection();
  review->clear_awaiting_roles();
  for (int role : head->required_approver_roles())
    review->add_awaiting_roles(static_cast<v1::Role>(role));
  review->set_state(review->awaiting_roles().empty() ? v1::DraftReview::APPROVED
                                                     : v1::DraftReview::IN_REVIEW);
  return absl::OkStatus();
}

absl::StatusOr<v1::Role> Approve(const Caller& caller, const v1::ApproveSopRequest& request,
                                 absl::Time now, v1::Sop* head) {
  SOP_ASSIGN_OR_RETURN(v1::Role role, SignOffRole(caller, *head, "approving", request.revision_id(),
                                                  request.role(), request.comment()));
  v1::DraftReview* review = head->mutable_review();
  *review->add_approvals() =
      MakeSignOff(caller, role, review->revision_id(), request.comment(), now);
  auto* awaiting = review->mutable_awaiting_roles();
  awaiting->erase(std::remove(awaiting->begin(), awaiting->end(), role), awaiting->end());
  if (awaiting->empty()) review->set_state(v1::DraftReview::APPROVED);
  return role;
}

absl::StatusOr<v1::Role> Reject(const Caller& caller, const v1::RejectSopRequest& request,
                                absl::Time now, v1::Sop* head) {
  if (request.comment().empty()) return error::RequiredField("comment");
  SOP_ASSIGN_OR_RETURN(v1::Role role, SignOffRole(caller, *head, "rejecting", request.revision_id(),
                                                  request.role(), request.comment()));
  v1::DraftReview* review = head->mutable_review();
  *review->mutable_rejection() =
      MakeSignOff(caller, role, review->revision_id(), request.comment(), now);
  review->set_state(v1::DraftReview::DRAFT);
  review->clear_revision_id();
  review->clear_approvals();
  review->clear_awaiting_roles();
  return role;
}

absl::Status CheckSignedOff(const v1::Sop& head) {
  if (head.required_approver_roles().empty()) return absl::OkStatus();
  if (head.has_review() && head.review().state() == v1::DraftReview::APPROVED) {
    return absl::OkStatus();
  }
  if (head.has_review() && head.review().state() == v1::DraftReview::IN_REVIEW) {
    return error::AwaitingSignOff(head.name(), AwaitingNames(head.review()));
  }
  std::vector<std::string> roles;
  for (int role : head.required_approver_roles()) {
    roles.push_back(v1::Role_Name(static_cast<v1::Role>(role)));
  }
  return error::ReviewState(
      head.name(), StateName(head), "publishing",
      absl::StrCat("APPROVED: submit it for the sign-off of ", absl::StrJoin(roles, ", ")));
}

void RecordPublish(absl::Time now, v1::Sop* head) {
  head->clear_review();
  RecordOwnerReview(now, head);
}

void RecordOwnerReview(absl::Time now, v1::Sop* head) {
  *head->mutable_last_review_time() = ToProtoTimestamp(now);
  std::optional<absl::Time> next = NextReviewTime(head->review_cycle(), now);
  if (next) {
    *head->mutable_next_review_time() = ToProtoTimestamp(*next);
  } else {
    head->clear_next_review_time();
  }
}

std::optional<absl::Time> NextReviewTime(v1::ReviewCycle cycle, absl::Time last) {
  int months = 0;
  switch (cycle) {
    case v1::MONTHLY:
      months = 1;
      break;
    case v1::QUARTERLY:
      months = 3;
      break;
    case v1::SEMI_ANNUAL:
      months = 6;
      break;
    case v1::ANNUAL:
      months = 12;
      break;
    default:
      return std::nullopt;
  }
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::CivilSecond then = absl::ToCivilSecond(last, utc);
  // Day-of-month overflow normalises forward (Jan 31 + 1 month = Mar 3):
  // clamp to the month's last day instead.
  const absl::CivilMonth target = absl::CivilMonth(then) + months;
  absl::CivilDay day(target.year(), target.month(), then.day());
  if (absl::CivilMonth(day) != target) day = absl::CivilDay(absl::CivilMonth(target) + 1) - 1;
  const absl::CivilSecond due(day.year(), day.month(), day.day(), then.hour(), then.minute(),
                              then.second());
  return absl::FromCivil(due, utc) + (last - absl::FromCivil(then, utc));
}

}  // namespace sopsidebar
