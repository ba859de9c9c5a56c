#include "server/domain/auth/permissions.h"

#include "server/common/errors.h"

namespace sopsidebar {
namespace {

constexpr RoleSet kEditors = RoleBit(v1::SALES_OPS) | RoleBit(v1::ADMIN);

constexpr Permission kTable[] = {
    {Operation::kLookup, "look up SOPs", kAllRoles, false, false},
    {Operation::kReadPublished, "read published SOPs", kAllRoles, false, false},
    {Operation::kReadDrafts, "read SOP drafts", kEditors, true, false},
    {Operation::kReadHistory, "read SOP history", kEditors, true, false},
    {Operation::kWriteSops, "create, change or delete SOPs", kEditors, false, false},
    {Operation::kPublishSops, "publish SOPs", kEditors, false, false},
    {Operation::kManageTokens, "manage tokens", RoleBit(v1::ADMIN), false, false},
    {Operation::kManageOrgs, "manage orgs", 0, false, true},
    {Operation::kManageServerAdmins, "manage server-admin tokens", 0, false, true},
    {Operation::kDebugTargeting, "see near misses", kEditors, false, false},
    {Operation::kPing, "call sopd", kAllRoles, false, false},
};

const Permission& Row(Operation operation) {
  for (const Permission& p : kTable) {
    if (p.operation == operation) return p;
  }
  // Every Operation has a row (permissions_test checks it).
  return kTable[0];
}

bool IsApprover(const Caller& caller, const v1::Sop& sop) {
  for (int role : sop.required_approver_roles()) {
    if (caller.roles & RoleBit(static_cast<v1::Role>(role))) return true;
  }
  return false;
}

}  // namespace

absl::Span<const Permission> PermissionTable() { return kTable; }

bool IsOwner(const Caller& caller, const v1::Sop& sop) {
  // Exact: user ids are identities, and the free-text `owner` (a job title
  // anyone's display name could spell) grants nothing.
  return !sop.owner_user_id().empty() && sop.owner_user_id() == caller.user_id;
}

bool IsAllowed(const Caller& caller, Operation operation, const v1::Sop* sop) {
  const Permission& p = Row(operation);
  if (p.server_admin_only) return caller.server_admin;
  if (caller.roles & p.roles) return true;
  if (!p.owners_and_approvers || sop == nullptr) return false;
  // Owning or approving adds reads of an SOP the caller's roles already see
  // and never widens who sees it. Approver roles are among the roles that
  // see the SOP; an owner's roles may not be.
  return RolesMaySee(caller.roles, VisibleToRoles(*sop)) &&
         (IsOwner(caller, *sop) || IsApprover(caller, *sop));
}

absl::Status Authorize(const Caller& caller, Operation operation, const v1::Sop* sop) {
  if (IsAllowed(caller, operation, sop)) return absl::OkStatus();
  return error::PermissionDenied(Row(operation).description);
}

}  // namespace sopsidebar
