#include "common/sopfile/sop_apply.h"

#include "common/errors.h"
#include "common/model/names.h"
#include "common/model/sop_body.h"
#include "common/status_macros.h"

namespace sopsidebar {

const char* ApplyActionName(ApplyAction action) {
  switch (action) {
    case ApplyAction::kCreated:
      return "created";
    case ApplyAction::kUpdated:
      return "updated";
    case ApplyAction::kUnchanged:
      return "unchanged";
    case ApplyAction::kKept:
      return "kept";
  }
  return "unknown";
}

absl::StatusOr<ApplyPlan> PlanSopFile(SopApplyTarget& target, const SopFile& file,
                                      const ApplyOptions& options) {
  std::string org = options.default_org;
  if (!file.sop.name().empty()) {
    SOP_ASSIGN_OR_RETURN(SopName named, ParseSopName("name", file.sop.name()));
    org = named.org;
  }
  const SopName name{org, file.sop_id};
  ApplyPlan plan;
  plan.name = name.Full();
  plan.parent = OrgName(org);
  plan.sop_id = name.sop;
  plan.body = file.sop;
  ClearOutputOnlyFields(&plan.body);
  // Compared in the form the target stores, so that steps written in another
  // order are no change.
  NormalizeSopBody(&plan.body);

  absl::StatusOr<v1::Sop> current = target.Get(plan.name);
  if (current.status().code() == absl::StatusCode::kNotFound) {
    plan.action = ApplyAction::kCreated;
    plan.problem = target.Authorize(ApplyWrite::kWrite, name, nullptr);
  } else if (!current.ok()) {
    return current.status();
  } else {
    plan.compared_with_draft = target.SeesDraft(*current);
    plan.current = *std::move(current);
    if (options.existing == ExistingSop::kKeep) {
      plan.action = ApplyAction::kKept;
      return plan;
    }
    if (SameBody(*plan.current, plan.body)) {
      plan.action = ApplyAction::kUnchanged;
    } else {
      plan.action = ApplyAction::kUpdated;
      plan.body.set_name(plan.name);
      plan.body.set_etag(file.sop.etag());
      // The server's UpdateSop checks in this order too.
      plan.problem = target.Authorize(ApplyWrite::kWrite, name, &*plan.current);
      if (plan.problem.ok() && !file.sop.etag().empty() && plan.compared_with_draft &&
          file.sop.etag() != plan.current->etag()) {
        plan.problem = error::EtagMismatch(plan.name);
      }
      if (plan.problem.ok() && plan.current->state() == v1::Sop::DELETED) {
        plan.problem = error::SopDeleted(plan.name);
      }
    }
  }
  if (!options.publish || !plan.problem.ok()) return plan;
  // The head PublishSop would find after the write.
  v1::Sop head;
  if (plan.action == ApplyAction::kUnchanged) {
    if (plan.current->published_revision_id() == plan.current->revision_id()) return plan;
    head = *plan.current;
  } else {
    head = plan.body;
    head.set_state(plan.current ? plan.current->state() : v1::Sop::DRAFT);
  }
  plan.problem = CheckPublishable(plan.name, head);
  if (!plan.problem.ok()) return plan;
  if (!options.emergency_reason.empty()) {
    plan.publish = true;
    plan.problem = target.Authorize(ApplyWrite::kEmergencyPublish, name, &head);
    return plan;
  }
  const bool written = plan.action != ApplyAction::kUnchanged;
  const v1::DraftReview::State review =
      written || !head.has_review() ? v1::DraftReview::DRAFT : head.review().state();
  if (head.required_approver_roles().empty() || review == v1::DraftReview::APPROVED) {
    plan.publish = true;
    plan.problem = target.Authorize(ApplyWrite::kPublish, name, &head);
  } else if (review == v1::DraftReview::IN_REVIEW) {
    for (int role : head.review().awaiting_roles()) {
      plan.awaiting.push_back(static_cast<v1::Role>(role));
    }
  } else {
    plan.submit = true;
    for (int role : head.required_approver_roles()) {
      plan.awaiting.push_back(static_cast<v1::Role>(role));
    }
    plan.problem = target.Authorize(ApplyWrite::kSubmit, name, &head);
  }
  return plan;
}

absl::StatusOr<v1::Sop> WritePlannedSop(SopApplyTarget& target, const ApplyPlan& plan) {
  switch (plan.action) {
    case ApplyAction::kCreated:
      return target.Create(plan.parent, plan.sop_id, plan.body);
    case ApplyAction::kUpdated:
      return target.Update(plan.body);
    case ApplyAction::kUnchanged:
    case ApplyAction::kKept:
      break;
  }
  return *plan.current;
}

absl::StatusOr<v1::Sop> PublishPlannedSop(SopApplyTarget& target, const ApplyPlan& plan,
                                          const ApplyOptions& options) {
  if (plan.submit) return target.Submit(plan.name);
  return target.Publish(plan.name, options.emergency_reason);
}

absl::StatusOr<ApplyResult> ApplySopFile(SopApplyTarget& target, const SopFile& file,
                                         const ApplyOptions& options) {
  SOP_ASSIGN_OR_RETURN(const ApplyPlan plan, PlanSopFile(target, file, options));
  SOP_RETURN_IF_ERROR(plan.problem);
  ApplyResult result;
  result.action = plan.action;
  SOP_ASSIGN_OR_RETURN(result.sop, WritePlannedSop(target, plan));
  if (plan.publish || plan.submit) {
    SOP_ASSIGN_OR_RETURN(result.sop, PublishPlannedSop(target, plan, options));
  }
  result.published = plan.publish;
  result.submitted = plan.submit || !plan.awaiting.empty();
  result.awaiting = plan.awaiting;
  return result;
}

}  // namespace sopsidebar
