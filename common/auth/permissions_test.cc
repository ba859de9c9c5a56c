#include "common/auth/permissions.h"

#include <set>

#include "common/errors.h"
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
  EXPECT_EQ(seen.size(), static_cast<size_t>(Operation::kManageWebhooks) + 1);
}

TEST(PermissionsTest, EveryRoleButIntegrationMayLookUpAndReadPublished) {
  for (int r = v1::Role_MIN + 1; r <= v1::Role_MAX; ++r) {
    Caller caller = WithRoles(RoleBit(static_cast<v1::Role>(r)));
    const bool person = r != v1::INTEGRATION;
    EXPECT_EQ(IsAllowed(caller, Operation::kLookup), person) << r;
    EXPECT_EQ(IsAllowed(caller, Operation::kReadPublished), person) << r;
    EXPECT_TRUE(IsAllowed(caller, Operation::kPing)) << r;
  }
}

TEST(PermissionsTest, OnlyAdminManagesRoleMapsAndEditorsFieldMaps) {
  for (int r = v1::Role_MIN + 1; r <= v1::Role_MAX; ++r) {
    Caller caller = WithRoles(RoleBit(static_cast<v1::Role>(r)));
    EXPECT_EQ(IsAllowed(caller, Operation::kManageRoleMaps), r == v1::ADMIN) << r;
    EXPECT_EQ(IsAllowed(caller, Operation::kManageWebhooks), r == v1::ADMIN || r == v1::SALES_OPS)
        << r;
    EXPECT_EQ(IsAllowed(caller, Operation::kManageFieldMaps), r == v1::ADMIN || r == v1::SALES_OPS)
        << r;
  }
}

TEST(PermissionsTest, RepsReadTheirOwnAnalyticsAndThoseWhoRunTheProcessReadEveryones) {
  for (int r = v1::Role_MIN + 1; r <= v1::Role_MAX; ++r) {
    Caller caller = WithRoles(RoleBit(static_cast<v1::Role>(r)));
    const bool person = r != v1::INTEGRATION;
    const bool rep = r == v1::SDR || r == v1::AE;
    EXPECT_EQ(IsAllowed(caller, Operation::kRecordEvents), person) << r;
    EXPECT_EQ(IsAllowed(caller, Operation::kReadOwnAnalytics), person) << r;
    EXPECT_EQ(IsAllowed(caller, Operation::kReadAllAnalytics), person && !rep) << r;
  }
}

TEST(PermissionsTest, EditorsAndManagersPreviewTargeting) {
  for (int r = v1::Role_MIN + 1; r <= v1::Role_MAX; ++r) {
    Caller caller = WithRoles(RoleBit(static_cast<v1::Role>(r)));
    const bool previewer =
        r == v1::SALES_OPS || r == v1::ADMIN || r == v1::SALES_MANAGER || r == v1::MARKETING;
    EXPECT_EQ(IsAllowed(caller, Operation::kPreviewTargeting), previewer) << r;
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
  sop.set_owner_user_id("rep@example.com");
  sop.add_required_approver_roles(v1::VP_SALES);
  EXPECT_TRUE(IsAllowed(WithRoles(RoleBit(v1::SDR)), Operation::kReadDrafts, &sop));
  EXPECT_TRUE(IsAllowed(WithRoles(RoleBit(v1::VP_SALES)), Operation::kReadHistory, &sop));
  Caller other = WithRoles(RoleBit(v1::SDR));
  other.user_id = "someone@example.com";
  EXPECT_FALSE(IsAllowed(other, Operation::kReadDrafts, &sop));
  EXPECT_FALSE(IsAllowed(other, Operation::kReadHistory, &sop));
}

TEST(PermissionsTest, OwnerIsTheExactOwnerUserIdNotTheFreeTextOwner) {
  v1::Sop sop;
  sop.set_owner("Deal Desk Manager");
  sop.set_owner_user_id("rep@example.com");
  Caller owner = WithRoles(RoleBit(v1::SDR));
  EXPECT_TRUE(IsOwner(owner, sop));
  Caller other_case = owner;
  other_case.user_id = "Rep@Example.com";
  EXPECT_FALSE(IsOwner(other_case, sop));
  // The free-text owner is a label: matching it as user id or display name
  // grants nothing.
  Caller label = WithRoles(RoleBit(v1::SDR));
  label.user_id = "deal desk manager";
  label.display_name = "Deal Desk Manager";
  EXPECT_FALSE(IsOwner(label, sop));
  EXPECT_FALSE(IsAllowed(label, Operation::kReadDrafts, &sop));
  EXPECT_FALSE(IsAllowed(label, Operation::kReadHistory, &sop));
  // Without an owner_user_id nobody owns the SOP, not even a caller without
  // a user id.
  sop.clear_owner_user_id();
  Caller anonymous = WithRoles(RoleBit(v1::SDR));
  anonymous.user_id.clear();
  EXPECT_FALSE(IsOwner(anonymous, sop));
}

TEST(PermissionsTest, OwnershipGrantsNothingOnAnSopTheRolesDoNotSee) {
  v1::Sop sop;
  sop.set_owner_user_id("rep@example.com");
  sop.add_visibility_roles(v1::AE);
  const Caller sdr_owner = WithRoles(RoleBit(v1::SDR));
  ASSERT_TRUE(IsOwner(sdr_owner, sop));
  EXPECT_FALSE(IsAllowed(sdr_owner, Operation::kReadDrafts, &sop));
  EXPECT_FALSE(IsAllowed(sdr_owner, Operation::kReadHistory, &sop));
  EXPECT_EQ(Authorize(sdr_owner, Operation::kReadDrafts, &sop),
            error::PermissionDenied("read SOP drafts"));
  const Caller ae_owner = WithRoles(RoleBit(v1::AE));
  EXPECT_TRUE(IsAllowed(ae_owner, Operation::kReadDrafts, &sop));
  EXPECT_TRUE(IsAllowed(ae_owner, Operation::kReadHistory, &sop));
}

TEST(PermissionsTest, OrgsAndServerAdminTokensNeedAServerAdminWhateverTheRoles) {
  EXPECT_FALSE(IsAllowed(WithRoles(kAllRoles), Operation::kManageOrgs));
  EXPECT_FALSE(IsAllowed(WithRoles(kAllRoles), Operation::kManageServerAdmins));
  EXPECT_FALSE(IsAllowed(WithRoles(kAllRoles), Operation::kTakeBackups));
  Caller admin = WithRoles(RoleBit(v1::ADMIN));
  admin.server_admin = true;
  EXPECT_TRUE(IsAllowed(admin, Operation::kManageOrgs));
  EXPECT_TRUE(IsAllowed(admin, Operation::kManageServerAdmins));
  EXPECT_TRUE(IsAllowed(admin, Operation::kTakeBackups));
}

TEST(PermissionsTest, OnlyHoldersOfARequiredApproverRoleSignOff) {
  v1::Sop sop;
  sop.add_required_approver_roles(v1::VP_SALES);
  sop.add_required_approver_roles(v1::MARKETING_DIRECTOR);
  sop.set_owner_user_id("owner@example.com");
  for (int r = v1::Role_MIN + 1; r <= v1::Role_MAX; ++r) {
    const bool approver = r == v1::VP_SALES || r == v1::MARKETING_DIRECTOR;
    EXPECT_EQ(
        IsAllowed(WithRoles(RoleBit(static_cast<v1::Role>(r))), Operation::kSignOffSops, &sop),
        approver)
        << r;
  }
  // Owning the SOP is not an approver role, and neither is ADMIN.
  Caller owner = WithRoles(RoleBit(v1::SDR));
  owner.user_id = "owner@example.com";
  EXPECT_FALSE(IsAllowed(owner, Operation::kSignOffSops, &sop));
  EXPECT_TRUE(IsAllowed(owner, Operation::kSubmitSops, &sop));
  // Approver roles see the SOP whatever its visibility roles say.
  sop.add_visibility_roles(v1::AE);
  EXPECT_TRUE(IsAllowed(WithRoles(RoleBit(v1::VP_SALES)), Operation::kSignOffSops, &sop));
  EXPECT_FALSE(IsAllowed(WithRoles(RoleBit(v1::SALES_MANAGER)), Operation::kSignOffSops, &sop));
}

TEST(PermissionsTest, OwnersSubmitButApproversDoNot) {
  v1::Sop sop;
  sop.add_required_approver_roles(v1::VP_SALES);
  EXPECT_FALSE(IsAllowed(WithRoles(RoleBit(v1::VP_SALES)), Operation::kSubmitSops, &sop));
  EXPECT_TRUE(IsAllowed(WithRoles(RoleBit(v1::SALES_OPS)), Operation::kSubmitSops, &sop));
  EXPECT_TRUE(IsAllowed(WithRoles(RoleBit(v1::VP_SALES)), Operation::kComment, &sop));
  EXPECT_FALSE(IsAllowed(WithRoles(RoleBit(v1::SDR)), Operation::kComment, &sop));
}

TEST(PermissionsTest, OnlyAdminPublishesInAnEmergency) {
  for (int r = v1::Role_MIN + 1; r <= v1::Role_MAX; ++r) {
    EXPECT_EQ(IsAllowed(WithRoles(RoleBit(static_cast<v1::Role>(r))), Operation::kEmergencyPublish),
              r == v1::ADMIN)
        << r;
  }
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
