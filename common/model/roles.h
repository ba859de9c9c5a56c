// Roles as bit sets, so "may this viewer see this SOP" is one AND on the
// lookup hot path. Thread-safe (pure).
#ifndef SOPSIDEBAR_COMMON_MODEL_ROLES_H_
#define SOPSIDEBAR_COMMON_MODEL_ROLES_H_

#include <cstdint>

#include "sopsidebar/v1/sop.pb.h"

namespace sopsidebar {

// Bit i is v1::Role value i.
using RoleSet = uint32_t;

inline constexpr RoleSet RoleBit(v1::Role role) { return RoleSet{1} << static_cast<int>(role); }

// Every role (ROLE_UNSPECIFIED excluded).
inline constexpr RoleSet kAllRoles = ((RoleSet{1} << (v1::Role_MAX + 1)) - 1) & ~RoleSet{1};

// The roles of people: every role but INTEGRATION, which only acts for a
// viewer and sees nothing by itself.
inline constexpr RoleSet kPeopleRoles = kAllRoles & ~RoleBit(v1::INTEGRATION);

// Roles that manage SOPs and so see every SOP of their org.
inline constexpr RoleSet kSopManagerRoles = RoleBit(v1::SALES_OPS) | RoleBit(v1::ADMIN);

// The roles that may see `sop`: every role when visibility_roles is empty,
// otherwise those roles plus its required approvers and the SOP managers.
RoleSet VisibleToRoles(const v1::Sop& sop);

// True when a viewer holding `viewer` may see an SOP visible to `visible_to`.
inline bool RolesMaySee(RoleSet viewer, RoleSet visible_to) {
  return (viewer & visible_to) != 0;
}

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_COMMON_MODEL_ROLES_H_
