#include "server/domain/store/sop_store.h"

#include "absl/strings/match.h"
#include "common/errors.h"
#include "common/status_macros.h"

namespace sopsidebar {

absl::StatusOr<SopWriteKeys> CheckSopWrite(const SopWrite& write) {
  SOP_ASSIGN_OR_RETURN(SopName sop, ParseSopName("head.name", write.head.name()));
  SOP_ASSIGN_OR_RETURN(RevisionName revision,
                       ParseRevisionName("revision.name", write.revision.name()));
  if (!(revision.sop == sop)) {
    return error::InvalidField("revision.name", "is not a revision of head.name");
  }
  if (write.audit) {
    SOP_ASSIGN_OR_RETURN(std::string org, CheckAuditEvent(*write.audit));
    if (org != sop.org) return error::InvalidField("audit.name", "is not in head.name's org");
  }
  return SopWriteKeys{std::move(sop), std::move(revision)};
}

absl::StatusOr<std::string> CheckAuditEvent(const v1::AuditEvent& event) {
  constexpr absl::string_view kPrefix = "orgs/";
  absl::string_view name = event.name();
  const size_t slash = name.find('/', kPrefix.size());
  if (!absl::StartsWith(name, kPrefix) || slash == absl::string_view::npos ||
      event.sequence() <= 0 ||
      name !=
          AuditEventName(name.substr(kPrefix.size(), slash - kPrefix.size()), event.sequence())) {
    return error::InvalidField("audit.name",
                               "must be orgs/{org}/auditEvents/{sequence} with the event's "
                               "positive sequence");
  }
  std::string org(name.substr(kPrefix.size(), slash - kPrefix.size()));
  if (!IsValidResourceId(org)) return error::InvalidField("audit.name", "has an invalid org id");
  return org;
}

}  // namespace sopsidebar
