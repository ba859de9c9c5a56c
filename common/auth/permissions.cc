#include "common/auth/permissions.h"

#include "common/errors.h"

namespace sopsidebar {
namespace {

constexpr RoleSet kEditors = RoleBit(v1::SALES_OPS) | RoleBit(v1::ADMIN);

constexpr RoleSet kLeaders = RoleBit(v1::SALES_OPS) | RoleBit(v1::ADMIN) | RoleBit(v1::VP_SALES) |
                             RoleBit(v1::MARKETING_DIRECTOR);

// Who sees everyone's analytics: those who manage the process or its
// inputs (Marketing's lead sources), not the reps measured by it.
constexpr RoleSet kAnalysts = kLeaders | RoleBit(v1::SALES_MANAGER) | RoleBit(v1::MARKETING);

// Who previews a draft's targeting against records: the SOP editors and the
// managers whose teams' records it routes (SopService.PreviewTargeting).
constexpr RoleSet kPreviewers = kEditors | RoleBit(v1::SALES_MANAGER) | RoleBit(v1::MARKETING);

constexpr Permission kTable[] = {
    // operation, description, roles, owners, approvers, server_admin_only
    {Operation::kLookup, "look up SOPs", kPeopleRoles, false, false, false},
    {Operation::kReadPublished, "read published SOPs", kPeopleRoles, false, false, false},
    {Operation::kReadDrafts, "read SOP drafts", kEditors, true, true, false},
    {Operation::kReadHistory, "read SOP history", kEditors, true, true, false},
    {Operation::kWriteSops, "create, change or delete SOPs", kEditors, false, false, false},
    {Operation::kPublishSops, "publish SOPs", kEditors, false, false, false},
    {Operation::kManageTokens, "manage tokens", RoleBit(v1::ADMIN), false, false, false},
    {Operation::kManageOrgs, "manage orgs", 0, false, false, true},
    {Operation::kManageServerAdmins, "manage server-admin tokens", 0, false, false, true},
    {Operation::kDebugTargeting, "see near misses", kEditors, false, false, false},
    {Operation::kPing, "call sopd", kAllRoles, false, false, false},
    {Operation::kManageRoleMaps, "manage CRM role maps", RoleBit(v1::ADMIN), false, false, false},
    {Operation::kManageFieldMaps, "manage CRM field maps", kEditors, false, false, false},
    {Operation::kSubmitSops, "submit SOPs for review or mark them reviewed", kEditors, true, false,
     false},
    {Operation::kSignOffSops, "sign off this SOP (hold one of its required approver roles)", 0,
     false, true, false},
    {Operation::kEmergencyPublish, "publish without the required sign-offs", RoleBit(v1::ADMIN),
     false, false, false},
    {Operation::kComment, "comment on SOPs", kEditors, true, true, false},
    {Operation::kReadAudit, "read the audit trail", kLeaders, false, false, false},
    {Operation::kManageOrgSettings, "change the org's settings", RoleBit(v1::ADMIN), false, false,
     false},
    {Operation::kRecordEvents, "record panel events", kPeopleRoles, false, false, false},
    {Operation::kReadOwnAnalytics, "read your analytics", kPeopleRoles, false, false, false},
    {Operation::kReadAllAnalytics, "read everyone's analytics and coverage gaps", kAnalysts, false,
     false, false},
    {Operation::kTakeBackups, "take backups", 0, false, false, true},
    {Operation::kPreviewTargeting, "preview SOP targeting against CRM records", kPreviewers, false,
     false, false},
    {Operation::kManageWebhooks, "manage webhooks", kEditors, false, false, false},
};

const Permission& Row(Operation operation) {
  for (const Permission& p : kTable) {
    if (p.operation == operation) return p;
  }
  // Every Operation has a row (permissions_test checks it).
  return kTable[0];
}

RoleSet ApproverRoles(const v1::Sop& sop) {
  RoleSet roles = 0;
  for (int role : sop.required_approver_roles()) roles |= RoleBit(static_cast<v1::Role>(role));
  return roles;
}

// Exact: user ids are identities, and the free-text `owner` (a job title
// anyone's display name could spell) grants nothing.
bool IsOwnerId(const Caller& caller, absl::string_view owner_user_id) {
  return !owner_user_id.empty() && owner_user_id == caller.user_id;
}

}  // namespace

absl::Span<const Permission> PermissionTable() { return kTable; }

bool IsOwner(const Caller& caller, const v1::Sop& sop) {
  return IsOwnerId(caller, sop.owner_user_id());
}

SopAccess AccessOf(const v1::Sop& sop) {
  return {VisibleToRoles(sop), ApproverRoles(sop), sop.owner_user_id()};
}

bool IsAllowed(const Caller& caller, Operation operation, const v1::Sop* sop) {
  // Without an SOP the owner and approver rules grant nothing: it is
  // visible to no role.
  if (sop == nullptr) return IsAllowed(caller, operation, SopAccess{0, 0, ""});
  return IsAllowed(caller, operation, AccessOf(*sop));
}

bool IsAllowed(const Caller& caller, Operation operation, const SopAccess& sop) {
  const Permission& p = Row(operation);
  if (p.server_admin_only) return caller.server_admin;
  if (caller.roles & p.roles) return true;
  if (!p.owners && !p.approvers) return false;
  // Owning or approving adds rights on an SOP the caller's roles already see
  // and never widens who sees it. Approver roles are among the roles that
  // see the SOP; an owner's roles may not be.
  return RolesMaySee(caller.roles, sop.visible_to) &&
         ((p.owners && IsOwnerId(caller, sop.owner_user_id)) ||
          (p.approvers && (caller.roles & sop.approvers) != 0));
}

absl::Status Authorize(const Caller& caller, Operation operation, const v1::Sop* sop) {
  if (IsAllowed(caller, operation, sop)) return absl::OkStatus();
  return error::PermissionDenied(Row(operation).description);
}

}  // namespace sopsidebar
