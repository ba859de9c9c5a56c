#include "server/domain/auth/permissions.h"

#include <set>

#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

Caller WithRoles(RoleSet roles) {
  Caller caller;
  caller.org = "default";
  caller.user_id = "rep@example.com";
  caller.roles = roles;
  return caller;
}

TEST(PermissionsTest, EveryOperationHasExactlyOneRow) {
  std::set<Operation> seen;
  for (const Permission& p : PermissionTable()) {
    EXPECT_TRUE(seen.insert(p.operation).second);
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(Operation::kPing) + 1);
}

TEST(PermissionsTest, EveryRoleMayLookUpAndReadPublished) {
  for (int r = v1::Role_MIN + 1; r <= v1::Role_MAX; ++r) {
    Caller caller = WithRoles(RoleBit(static_cast<v1::Role>(r)));
    EXPECT_TRUE(IsAllowed(caller, Operation::kLookup)) << r;
    EXPECT_TRUE(IsAllowed(caller, Operation::kReadPublished)) << r;
  }
}

TEST(PermissionsTest, OnlySalesOpsAndAdminWriteAndPublish) {
  for (int r = v1::Role_MIN + 1; r <= v1::Role_MAX; ++r) {
    const bool editor = r == v1::SALES_OPS || r == v1::ADMIN;
    Caller caller = WithRoles(RoleBit(static_cast<v1::Role>(r)));
    EXPECT_EQ(IsAllowed(caller, Operation::kWriteSops), editor) << r;
    EXPECT_EQ(IsAllowed(caller, Operation::kPublishSops), editor) << r;
  }
}

TEST(PermissionsTest, OwnersAndApproversReadDraftsAndHistoryOfTheirSop) {
  v1::Sop sop;
  sop.set_owner("Rep@Example.com");
  sop.add_required_approver_roles(v1::VP_SALES);
  EXPECT_TRUE(IsAllowed(WithRoles(RoleBit(v1::SDR)), Operation::kReadDrafts, &sop));
  EXPECT_TRUE(IsAllowed(WithRoles(RoleBit(v1::VP_SALES)), Operation::kReadHistory, &sop));
  Caller other = WithRoles(RoleBit(v1::SDR));
  other.user_id = "someone@example.com";
  EXPECT_FALSE(IsAllowed(other, Operation::kReadDrafts, &sop));
  EXPECT_FALSE(IsAllowed(other, Operation::kReadHistory, &sop));
}

TEST(PermissionsTest, OrgsNeedAServerAdminWhateverTheRoles) {
  EXPECT_FALSE(IsAllowed(WithRoles(kAllRoles), Operation::kManageOrgs));
  Caller admin = WithRoles(RoleBit(v1::ADMIN));
  admin.server_admin = true;
  EXPECT_TRUE(IsAllowed(admin, Operation::kManageOrgs));
}

TEST(PermissionsTest, DenialNamesTheOperation) {
  absl::Status s = Authorize(WithRoles(RoleBit(v1::SDR)), Operation::kPublishSops);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "your roles do not allow you to publish SOPs");
}

TEST(PermissionsTest, CallerWithoutRolesMayDoNothing) {
  for (const Permission& p : PermissionTable()) {
    EXPECT_FALSE(IsAllowed(WithRoles(0), p.operation)) << p.description;
  }
}

}  // namespace
}  // namespace sopsidebar
