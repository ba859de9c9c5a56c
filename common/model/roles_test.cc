#include "common/model/roles.h"

#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

TEST(RolesTest, SopWithoutVisibilityRolesIsVisibleToEveryRole) {
  v1::Sop sop;
  for (int r = v1::Role_MIN + 1; r <= v1::Role_MAX; ++r) {
    EXPECT_TRUE(RolesMaySee(RoleBit(static_cast<v1::Role>(r)), VisibleToRoles(sop))) << r;
  }
  EXPECT_FALSE(RolesMaySee(0, VisibleToRoles(sop)));
}

TEST(RolesTest, AeOnlySopIsHiddenFromSdrButNotFromAeApproversAndManagers) {
  v1::Sop sop;
  sop.add_visibility_roles(v1::AE);
  sop.add_required_approver_roles(v1::VP_SALES);
  const RoleSet visible = VisibleToRoles(sop);
  EXPECT_FALSE(RolesMaySee(RoleBit(v1::SDR), visible));
  EXPECT_FALSE(RolesMaySee(RoleBit(v1::MARKETING), visible));
  EXPECT_TRUE(RolesMaySee(RoleBit(v1::AE), visible));
  EXPECT_TRUE(RolesMaySee(RoleBit(v1::VP_SALES), visible));
  EXPECT_TRUE(RolesMaySee(RoleBit(v1::SALES_OPS), visible));
  EXPECT_TRUE(RolesMaySee(RoleBit(v1::ADMIN), visible));
  EXPECT_TRUE(RolesMaySee(RoleBit(v1::SDR) | RoleBit(v1::AE), visible));
}

}  // namespace
}  // namespace sopsidebar
