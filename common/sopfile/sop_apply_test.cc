#include "common/sopfile/sop_apply.h"

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

using ::testing::ElementsAre;

// A target that keeps SOPs in a map and counts calls.
class FakeTarget : public SopApplyTarget {
 public:
  absl::StatusOr<v1::Sop> Get(const std::string& name) override {
    auto it = sops_.find(name);
    if (it == sops_.end()) return error::SopNotFound(name);
    return it->second;
  }
  absl::StatusOr<v1::Sop> Create(const std::string& parent, const std::string& sop_id,
                                 const v1::Sop& sop) override {
    ++creates;
    v1::Sop stored = sop;
    stored.set_name(absl::StrCat(parent, "/sops/", sop_id));
    stored.set_revision_id("1");
    stored.set_etag("e1");
    return sops_[stored.name()] = stored;
  }
  absl::StatusOr<v1::Sop> Update(const v1::Sop& sop) override {
    ++updates;
    last_update_etag = sop.etag();
    v1::Sop stored = sop;
    stored.set_revision_id(absl::StrCat(std::stoi(sops_[sop.name()].revision_id()) + 1));
    return sops_[sop.name()] = stored;
  }
  absl::StatusOr<v1::Sop> Publish(const std::string& name,
                                  const std::string& emergency_reason) override {
    ++publishes;
    last_emergency_reason = emergency_reason;
    if (!publish_status.ok()) return publish_status;
    v1::Sop& stored = sops_[name];
    stored.set_published_revision_id(stored.revision_id());
    stored.clear_review();
    return stored;
  }
  absl::StatusOr<v1::Sop> Submit(const std::string& name) override {
    ++submits;
    v1::Sop& stored = sops_[name];
    stored.mutable_review()->set_state(v1::DraftReview::IN_REVIEW);
    for (int role : stored.required_approver_roles()) {
      stored.mutable_review()->add_awaiting_roles(static_cast<v1::Role>(role));
    }
    return stored;
  }
  // What an approver's sign-off does to the stored SOP.
  void Approve(const std::string& name) {
    sops_[name].mutable_review()->set_state(v1::DraftReview::APPROVED);
    sops_[name].mutable_review()->clear_awaiting_roles();
  }

  absl::Status Authorize(ApplyWrite write, const SopName&, const v1::Sop*) override {
    return write == ApplyWrite::kWrite ? write_status : absl::OkStatus();
  }
  bool SeesDraft(const v1::Sop&) override { return sees_drafts; }

  int creates = 0, updates = 0, publishes = 0, submits = 0;
  std::string last_update_etag;
  std::string last_emergency_reason;
  // What Authorize answers for writes, Publish answers, SeesDraft answers.
  absl::Status write_status;
  absl::Status publish_status;
  bool sees_drafts = true;

 private:
  std::map<std::string, v1::Sop> sops_;
};

SopFile File(const std::string& title) {
  SopFile file;
  file.path = "x.yaml";
  file.sop_id = "mql";
  file.sop.set_title(title);
  file.sop.set_owner("Ops");
  file.sop.add_targeting_rules()->add_record_types("Lead");
  return file;
}

TEST(ApplySopFileTest, CreatesThenLeavesUnchangedThenUpdates) {
  FakeTarget target;
  auto first = ApplySopFile(target, File("A"), ApplyOptions());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->action, ApplyAction::kCreated);
  EXPECT_EQ(first->sop.name(), "orgs/default/sops/mql");
  auto again = ApplySopFile(target, File("A"), ApplyOptions());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->action, ApplyAction::kUnchanged);
  auto changed = ApplySopFile(target, File("B"), ApplyOptions());
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed->action, ApplyAction::kUpdated);
  EXPECT_EQ(target.creates, 1);
  EXPECT_EQ(target.updates, 1);
  EXPECT_EQ(target.publishes, 0);
}

TEST(ApplySopFileTest, KeepLeavesAnExistingSopAloneAndCreatesAMissingOne) {
  FakeTarget target;
  ApplyOptions keep;
  keep.existing = ExistingSop::kKeep;
  keep.publish = true;
  auto first = ApplySopFile(target, File("A"), keep);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->action, ApplyAction::kCreated);
  EXPECT_TRUE(first->published);
  auto changed = ApplySopFile(target, File("B"), keep);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(changed->action, ApplyAction::kKept);
  EXPECT_FALSE(changed->published);
  EXPECT_EQ(changed->sop.title(), "A");
  EXPECT_EQ(target.creates, 1);
  EXPECT_EQ(target.updates, 0);
  EXPECT_EQ(target.publishes, 1);
}

TEST(ApplySopFileTest, StepsInAnotherOrderThanStoredAreUnchanged) {
  FakeTarget target;
  SopFile file = File("T");
  file.sop.add_steps()->set_ordinal(10);
  file.sop.add_steps()->set_ordinal(20);
  ASSERT_TRUE(ApplySopFile(target, file, ApplyOptions()).ok());
  file.sop.mutable_steps()->SwapElements(0, 1);
  auto again = ApplySopFile(target, file, ApplyOptions());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->action, ApplyAction::kUnchanged);
  EXPECT_EQ(target.updates, 0);
}

TEST(ApplySopFileTest, PublishesOnlyWhenTheDraftIsAhead) {
  FakeTarget target;
  ApplyOptions options;
  options.publish = true;
  auto first = ApplySopFile(target, File("A"), options);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->published);
  auto again = ApplySopFile(target, File("A"), options);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->published);
  EXPECT_EQ(target.publishes, 1);
}

TEST(ApplySopFileTest, AnSopNeedingSignOffsIsSubmittedThenPublishedOnceApproved) {
  FakeTarget target;
  ApplyOptions options;
  options.publish = true;
  SopFile file = File("A");
  file.sop.add_required_approver_roles(v1::VP_SALES);
  file.sop.add_required_approver_roles(v1::MARKETING_DIRECTOR);
  auto first = ApplySopFile(target, file, options);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->published);
  EXPECT_TRUE(first->submitted);
  EXPECT_THAT(first->awaiting, ElementsAre(v1::VP_SALES, v1::MARKETING_DIRECTOR));
  EXPECT_EQ(target.submits, 1);
  EXPECT_EQ(target.publishes, 0);
  // Applied again while in review: nothing to do but wait.
  auto waiting = ApplySopFile(target, file, options);
  ASSERT_TRUE(waiting.ok()) << waiting.status();
  EXPECT_FALSE(waiting->published);
  EXPECT_TRUE(waiting->submitted);
  EXPECT_EQ(target.submits, 1);
  // Once approved, the same apply publishes.
  target.Approve("orgs/default/sops/mql");
  auto live = ApplySopFile(target, file, options);
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_TRUE(live->published);
  EXPECT_EQ(target.publishes, 1);
  EXPECT_EQ(target.last_emergency_reason, "");
}

TEST(ApplySopFileTest, AnEmergencyReasonPublishesWithoutTheSignOffs) {
  FakeTarget target;
  ApplyOptions options;
  options.publish = true;
  options.emergency_reason = "the old script quotes a price we withdrew";
  SopFile file = File("A");
  file.sop.add_required_approver_roles(v1::VP_SALES);
  auto applied = ApplySopFile(target, file, options);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_TRUE(applied->published);
  EXPECT_EQ(target.submits, 0);
  EXPECT_EQ(target.last_emergency_reason, "the old script quotes a price we withdrew");
}

TEST(ApplySopFileTest, NameInTheFileChoosesTheOrgAndEtagIsSentOnUpdate) {
  FakeTarget target;
  SopFile file = File("A");
  file.sop.set_name("orgs/acme/sops/mql");
  ASSERT_TRUE(ApplySopFile(target, file, ApplyOptions()).ok());
  EXPECT_TRUE(target.Get("orgs/acme/sops/mql").ok());
  file.sop.set_title("B");
  file.sop.set_etag("e1");
  file.sop.set_state(v1::Sop::PUBLISHED);  // output-only: ignored
  auto updated = ApplySopFile(target, file, ApplyOptions());
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(target.last_update_etag, "e1");
  EXPECT_EQ(updated->sop.state(), v1::Sop::STATE_UNSPECIFIED);
}

TEST(ApplySopFileTest, ApplyWithPublishWritesNothingWhenTheSopCannotBePublished) {
  FakeTarget target;
  ApplyOptions options;
  options.publish = true;
  SopFile file = File("A");
  file.sop.clear_targeting_rules();
  auto result = ApplySopFile(target, file, options);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(result.status().message(),
            "SOP orgs/default/sops/mql cannot be published: it has no targeting_rules, so no "
            "record would match it");
  EXPECT_EQ(target.creates, 0);
  EXPECT_EQ(target.publishes, 0);
}

TEST(ApplySopFileTest, PlanWritesNothingAndSaysWhatApplyWouldDo) {
  FakeTarget target;
  ApplyOptions options;
  options.publish = true;
  auto plan = PlanSopFile(target, File("A"), options);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->action, ApplyAction::kCreated);
  EXPECT_TRUE(plan->publish);
  EXPECT_TRUE(plan->problem.ok()) << plan->problem;
  EXPECT_EQ(plan->name, "orgs/default/sops/mql");
  EXPECT_EQ(target.creates + target.updates + target.publishes, 0);
}

TEST(ApplySopFileTest, PlanOfAChangedFileTheCallerMayNotWriteIsPermissionDenied) {
  FakeTarget target;
  ASSERT_TRUE(ApplySopFile(target, File("A"), ApplyOptions()).ok());
  target.write_status = error::PermissionDenied("create, change or delete SOPs");
  auto same = PlanSopFile(target, File("A"), ApplyOptions());
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->action, ApplyAction::kUnchanged);
  EXPECT_TRUE(same->problem.ok());
  auto changed = PlanSopFile(target, File("B"), ApplyOptions());
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed->action, ApplyAction::kUpdated);
  EXPECT_EQ(changed->problem.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(target.updates, 0);
}

TEST(ApplySopFileTest, PlanOfAStaleEtagIsAbortedAndOfADeletedSopFailedPrecondition) {
  FakeTarget target;
  ASSERT_TRUE(ApplySopFile(target, File("A"), ApplyOptions()).ok());
  SopFile stale = File("B");
  stale.sop.set_etag("e0");
  auto plan = PlanSopFile(target, stale, ApplyOptions());
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->problem.code(), absl::StatusCode::kAborted);

  v1::Sop deleted = *target.Get("orgs/default/sops/mql");
  deleted.set_state(v1::Sop::DELETED);
  ASSERT_TRUE(target.Update(deleted).ok());
  plan = PlanSopFile(target, File("B"), ApplyOptions());
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->problem, error::SopDeleted("orgs/default/sops/mql"));
}

TEST(ApplySopFileTest, PlanSaysWhenItComparedWithThePublishedRevisionOnly) {
  FakeTarget target;
  ASSERT_TRUE(ApplySopFile(target, File("A"), ApplyOptions()).ok());
  auto draft = PlanSopFile(target, File("A"), ApplyOptions());
  ASSERT_TRUE(draft.ok());
  EXPECT_TRUE(draft->compared_with_draft);
  target.sees_drafts = false;
  auto published = PlanSopFile(target, File("A"), ApplyOptions());
  ASSERT_TRUE(published.ok());
  EXPECT_FALSE(published->compared_with_draft);
  EXPECT_EQ(published->action, ApplyAction::kUnchanged);
}

}  // namespace
}  // namespace sopsidebar
