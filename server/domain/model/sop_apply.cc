#include "server/domain/model/sop_apply.h"

#include "server/common/status_macros.h"
#include "server/domain/model/names.h"
#include "server/domain/model/sop_body.h"

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

absl::StatusOr<ApplyResult> ApplySopFile(SopApplyTarget& target, const SopFile& file,
                                         const ApplyOptions& options) {
  std::string org = options.default_org;
  if (!file.sop.name().empty()) {
    SOP_ASSIGN_OR_RETURN(SopName named, ParseSopName("name", file.sop.name()));
    org = named.org;
  }
  const SopName name{org, file.sop_id};
  v1::Sop body = file.sop;
  ClearOutputOnlyFields(&body);
  // Compared in the form the target stores, so that steps written in another
  // order are no change.
  NormalizeSopBody(&body);

  ApplyResult result;
  absl::StatusOr<v1::Sop> current = target.Get(name.Full());
  if (current.status().code() == absl::StatusCode::kNotFound) {
    SOP_ASSIGN_OR_RETURN(result.sop, target.Create(OrgName(org), name.sop, body));
    result.action = ApplyAction::kCreated;
  } else if (!current.ok()) {
    return current.status();
  } else if (options.existing == ExistingSop::kKeep) {
    result.sop = *std::move(current);
    result.action = ApplyAction::kKept;
    return result;
  } else if (SameBody(*current, body)) {
    result.sop = *std::move(current);
    result.action = ApplyAction::kUnchanged;
  } else {
    body.set_name(name.Full());
    body.set_etag(file.sop.etag());
    SOP_ASSIGN_OR_RETURN(result.sop, target.Update(body));
    result.action = ApplyAction::kUpdated;
  }
  if (options.publish && result.sop.published_revision_id() != result.sop.revision_id()) {
    SOP_ASSIGN_OR_RETURN(result.sop, target.Publish(name.Full()));
    result.published = true;
  }
  return result;
}

}  // namespace sopsidebar
