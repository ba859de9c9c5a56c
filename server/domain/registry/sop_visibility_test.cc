#include "server/domain/registry/sop_visibility.h"

#include <string>

#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

const SopName kName{"default", "pricing"};

Caller MakeCaller(RoleSet roles, const std::string& user_id = "rep@example.com") {
  Caller caller;
  caller.org = "default";
  caller.user_id = user_id;
  caller.roles = roles;
  return caller;
}

v1::Sop Head(v1::Sop::State state, std::initializer_list<v1::Role> visibility) {
  v1::Sop head;
  head.set_name(kName.Full());
  head.set_title("Pricing");
  head.set_owner("Deal Desk Manager");
  head.set_owner_user_id("owner@example.com");
  head.set_state(state);
  for (v1::Role role : visibility) head.add_visibility_roles(role);
  return head;
}

TEST(SopVisibilityIndexTest, MissingSopIsSeenByNobody) {
  SopVisibilityIndex index;
  EXPECT_FALSE(index.MaySee(MakeCaller(kAllRoles), kName));
}

TEST(SopVisibilityIndexTest, FollowsDraftPublishUpdateAndDelete) {
  SopVisibilityIndex index;
  const Caller sdr = MakeCaller(RoleBit(v1::SDR));
  const Caller editor = MakeCaller(RoleBit(v1::SALES_OPS));

  index.Record(Head(v1::Sop::DRAFT, {}));
  EXPECT_FALSE(index.MaySee(sdr, kName));  // a draft, and no draft access
  EXPECT_TRUE(index.MaySee(editor, kName));

  const v1::Sop published = Head(v1::Sop::PUBLISHED, {});
  index.Record(published);
  index.RecordPublished(*MakePublishedSop(kName, 2, absl::UnixEpoch(), published));
  EXPECT_TRUE(index.MaySee(sdr, kName));

  // A draft ahead that narrows visibility leaves the published revision.
  index.Record(Head(v1::Sop::PUBLISHED, {v1::AE}));
  EXPECT_TRUE(index.MaySee(sdr, kName));
  // Publishing it narrows who sees the SOP.
  const v1::Sop narrowed = Head(v1::Sop::PUBLISHED, {v1::AE});
  index.RecordPublished(*MakePublishedSop(kName, 4, absl::UnixEpoch(), narrowed));
  EXPECT_FALSE(index.MaySee(sdr, kName));
  EXPECT_TRUE(index.MaySee(MakeCaller(RoleBit(v1::AE)), kName));

  index.Record(Head(v1::Sop::DELETED, {}));
  EXPECT_FALSE(index.MaySee(MakeCaller(RoleBit(v1::AE)), kName));
  EXPECT_TRUE(index.MaySee(editor, kName));
}

TEST(SopVisibilityIndexTest, OwnerSeesTheDraftOnlyWhereTheirRolesSeeTheSop) {
  SopVisibilityIndex index;
  index.Record(Head(v1::Sop::DRAFT, {v1::AE}));
  EXPECT_FALSE(index.MaySee(MakeCaller(RoleBit(v1::SDR), "owner@example.com"), kName));
  EXPECT_TRUE(index.MaySee(MakeCaller(RoleBit(v1::AE), "owner@example.com"), kName));
  EXPECT_FALSE(index.MaySee(MakeCaller(RoleBit(v1::AE), "other@example.com"), kName));
}

TEST(SopVisibilityIndexTest, OtherOrgsNamesAreOtherSops) {
  SopVisibilityIndex index;
  index.Record(Head(v1::Sop::DRAFT, {}));
  EXPECT_FALSE(index.MaySee(MakeCaller(kAllRoles), SopName{"acme", "pricing"}));
}

}  // namespace
}  // namespace sopsidebar
