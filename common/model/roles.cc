#include "common/model/roles.h"

namespace sopsidebar {

RoleSet VisibleToRoles(const v1::Sop& sop) {
  if (sop.visibility_roles().empty()) return kAllRoles;
  RoleSet roles = kSopManagerRoles;
  for (int role : sop.visibility_roles()) roles |= RoleBit(static_cast<v1::Role>(role));
  for (int role : sop.required_approver_roles()) roles |= RoleBit(static_cast<v1::Role>(role));
  return roles;
}

}  // namespace sopsidebar
