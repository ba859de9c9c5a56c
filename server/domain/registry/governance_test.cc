// Review, sign-off, restore, comments, owner reviews, point-in-time lookups
// and the audit trail, through SopRegistry on an in-memory store with a fake
// clock.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/proto_time.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"
#include "server/domain/matching/linear_sop_matcher.h"
#include "server/domain/registry/sop_registry.h"
#include "server/domain/registry/sop_review.h"
#include "server/domain/store/in_memory_sop_store.h"

namespace sopsidebar {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kName[] = "orgs/default/sops/mql-handoff";

constexpr char kMqlSop[] = R"pb(
  title: "MQL Acceptance & Handoff"
  owner: "Sales Operations Manager"
  owner_user_id: "owner@example.com"
  review_cycle: QUARTERLY
  required_approver_roles: VP_SALES
  required_approver_roles: MARKETING_DIRECTOR
  targeting_rules {
    record_types: "Lead"
    priority: 100
    conditions {
      field: "lead_status"
      equals { string_value: "MQL – New Handoff" }
    }
  }
  steps {
    ordinal: 1
    title: "Open the lead within 5 minutes"
    instructions: "Call first.\nThen email."
  }
  steps { ordinal: 2 title: "Accept or reject with a code" }
)pb";

constexpr char kMqlLead[] = R"pb(
  record_type: "Lead"
  fields {
    key: "lead_status"
    value { string_value: "MQL – New Handoff" }
  }
)pb";

template <typename T>
T Parse(const std::string& text) {
  T message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

Caller Person(const std::string& user, std::initializer_list<v1::Role> roles) {
  Caller caller;
  caller.org = "default";
  caller.user_id = user;
  for (v1::Role role : roles) caller.roles |= RoleBit(role);
  return caller;
}

std::string ReasonOf(const absl::Status& status) { return error::ReasonOf(status); }

class GovernanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto registry = SopRegistry::Create(&store_, &clock_, LinearSopMatcher::Build);
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = std::move(registry).value();
    registry_->SetOrgPolicySource([this](absl::string_view) { return policy_; });
    policy_.create_time = clock_.Now() - absl::Hours(1);
  }

  // Creates the SOP and takes it live through a full review.
  void CreateLive() {
    v1::CreateSopRequest create;
    create.set_parent("orgs/default");
    create.set_sop_id("mql-handoff");
    *create.mutable_sop() = Parse<v1::Sop>(kMqlSop);
    ASSERT_TRUE(registry_->CreateSop(ops_, create).ok());
    ASSERT_TRUE(Submit(ops_).ok());
    ASSERT_TRUE(Approve(vp_).ok());
    ASSERT_TRUE(Approve(director_).ok());
    ASSERT_TRUE(Publish(ops_).ok());
  }

  absl::StatusOr<v1::Sop> Edit(const Caller& caller, const std::string& title) {
    v1::UpdateSopRequest update;
    update.mutable_sop()->set_name(kName);
    update.mutable_sop()->set_title(title);
    update.mutable_update_mask()->add_paths("title");
    return registry_->UpdateSop(caller, update);
  }
  absl::StatusOr<v1::Sop> Submit(const Caller& caller) {
    v1::SubmitSopRequest request;
    request.set_name(kName);
    return registry_->SubmitSop(caller, request);
  }
  absl::StatusOr<v1::Sop> Approve(const Caller& caller, const std::string& revision = "",
                                  v1::Role role = v1::ROLE_UNSPECIFIED) {
    v1::ApproveSopRequest request;
    request.set_name(kName);
    request.set_revision_id(revision);
    request.set_role(role);
    request.set_comment("looks right");
    return registry_->ApproveSop(caller, request);
  }
  absl::StatusOr<v1::PublishSopResponse> Publish(const Caller& caller, bool emergency = false,
                                                 const std::string& reason = "") {
    v1::PublishSopRequest request;
    request.set_name(kName);
    request.set_emergency(emergency);
    request.set_reason(reason);
    return registry_->PublishSop(caller, request);
  }
  v1::Sop Head() {
    v1::GetSopRequest get;
    get.set_name(kName);
    auto sop = registry_->GetSop(ops_, get);
    EXPECT_TRUE(sop.ok()) << sop.status();
    return sop.value_or(v1::Sop());
  }
  // The title of what a lookup matches, now or as of `as_of`.
  absl::StatusOr<std::string> LiveTitle(std::optional<absl::Time> as_of = std::nullopt) {
    v1::LookupSopsRequest request;
    *request.mutable_context() = Parse<v1::CrmContext>(kMqlLead);
    if (as_of) *request.mutable_as_of_time() = ToProtoTimestamp(*as_of);
    auto response = registry_->LookupSops(sdr_, request);
    if (!response.ok()) return response.status();
    if (response->matches().empty()) return std::string("(none)");
    return response->matches(0).sop_body().title();
  }
  std::vector<std::string> AuditActions() {
    v1::ListAuditEventsRequest request;
    request.set_parent("orgs/default");
    request.set_page_size(1000);
    auto events = registry_->audit().ListAuditEvents(admin_, request);
    EXPECT_TRUE(events.ok()) << events.status();
    std::vector<std::string> actions;
    const v1::ListAuditEventsResponse response = events.value_or(v1::ListAuditEventsResponse());
    for (const auto& e : response.events()) {
      actions.push_back(absl::StrCat(e.action(), " ", e.actor()));
    }
    return actions;
  }

  FakeClock clock_;
  InMemorySopStore store_;
  std::unique_ptr<SopRegistry> registry_;
  SopRegistry::OrgPolicy policy_;
  const Caller ops_ = Person("ops@example.com", {v1::SALES_OPS});
  const Caller vp_ = Person("vp@example.com", {v1::VP_SALES});
  const Caller director_ = Person("director@example.com", {v1::MARKETING_DIRECTOR});
  const Caller sdr_ = Person("sdr@example.com", {v1::SDR});
  const Caller admin_ = Person("admin@example.com", {v1::ADMIN});
};

TEST_F(GovernanceTest, TheSeedScenarioGoesLiveOnlyWhenBothApproversSignedOff) {
  CreateLive();
  clock_.Advance(absl::Hours(1));
  const absl::Time before_change = clock_.Now();
  EXPECT_EQ(*LiveTitle(), "MQL Acceptance & Handoff");

  // Sales Ops drafts a change and submits it; the live revision stays.
  clock_.Advance(absl::Minutes(10));
  ASSERT_TRUE(Edit(ops_, "MQL Acceptance & Handoff (v2)").ok());
  EXPECT_EQ(Head().review().state(), v1::DraftReview::DRAFT);
  absl::StatusOr<v1::Sop> submitted = Submit(ops_);
  ASSERT_TRUE(submitted.ok()) << submitted.status();
  EXPECT_EQ(submitted->review().state(), v1::DraftReview::IN_REVIEW);
  EXPECT_THAT(submitted->review().awaiting_roles(),
              ElementsAre(v1::VP_SALES, v1::MARKETING_DIRECTOR));
  const std::string under_review = submitted->review().revision_id();
  EXPECT_EQ(under_review, submitted->revision_id());

  // The VP approves; publishing still fails, naming the Director.
  ASSERT_TRUE(Approve(vp_, under_review).ok());
  absl::StatusOr<v1::PublishSopResponse> early = Publish(ops_);
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(early.status().message(), HasSubstr("awaiting MARKETING_DIRECTOR"));
  EXPECT_EQ(ReasonOf(early.status()), "AWAITING_SIGN_OFF");
  EXPECT_EQ(*LiveTitle(), "MQL Acceptance & Handoff");

  // The Director approves; publish succeeds and lookups switch only now.
  clock_.Advance(absl::Minutes(10));
  absl::StatusOr<v1::Sop> approved = Approve(director_, under_review);
  ASSERT_TRUE(approved.ok()) << approved.status();
  EXPECT_EQ(approved->review().state(), v1::DraftReview::APPROVED);
  EXPECT_EQ(*LiveTitle(), "MQL Acceptance & Handoff");
  clock_.Advance(absl::Minutes(10));
  const absl::Time before_publish = clock_.Now();
  clock_.Advance(absl::Seconds(1));
  absl::StatusOr<v1::PublishSopResponse> published = Publish(ops_);
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_FALSE(published->sop().has_review());
  EXPECT_EQ(*LiveTitle(), "MQL Acceptance & Handoff (v2)");

  // As of moments before the publish, lookups answer with the old revision.
  v1::LookupSopsRequest then;
  *then.mutable_context() = Parse<v1::CrmContext>(kMqlLead);
  *then.mutable_as_of_time() = ToProtoTimestamp(before_publish);
  absl::StatusOr<v1::LookupSopsResponse> replay = registry_->LookupSops(sdr_, then);
  ASSERT_TRUE(replay.ok() && replay->matches_size() == 1) << replay.status();
  EXPECT_EQ(replay->matches(0).revision_id(), "5");  // create, submit, 2 approvals, publish
  EXPECT_EQ(*LiveTitle(before_change), "MQL Acceptance & Handoff");
  EXPECT_EQ(*LiveTitle(before_publish), "MQL Acceptance & Handoff");
  EXPECT_EQ(*LiveTitle(clock_.Now()), "MQL Acceptance & Handoff (v2)");

  // Restoring the previous content is a change like any other: it goes
  // back through review, and the v2 title stays live meanwhile.
  v1::RestoreSopRevisionRequest restore;
  restore.set_name(absl::StrCat(kName, "/revisions/1"));
  absl::StatusOr<v1::Sop> restored = registry_->RestoreSopRevision(ops_, restore);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->title(), "MQL Acceptance & Handoff");
  EXPECT_EQ(restored->review().state(), v1::DraftReview::DRAFT);
  EXPECT_EQ(Publish(ops_).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(*LiveTitle(), "MQL Acceptance & Handoff (v2)");

  EXPECT_THAT(AuditActions(),
              ElementsAre("sop.create ops@example.com", "sop.submit ops@example.com",
                          "sop.approve vp@example.com", "sop.approve director@example.com",
                          "sop.publish ops@example.com", "sop.update ops@example.com",
                          "sop.submit ops@example.com", "sop.approve vp@example.com",
                          "sop.approve director@example.com", "sop.publish ops@example.com",
                          "sop.restore ops@example.com"));
}

TEST_F(GovernanceTest, SignOffMistakesAreEachAPreciseErrorThatChangesNothing) {
  CreateLive();
  ASSERT_TRUE(Edit(ops_, "v2").ok());
  const v1::Sop draft = Head();

  // Approving before submission.
  EXPECT_EQ(ReasonOf(Approve(vp_).status()), "REVIEW_STATE");
  ASSERT_TRUE(Submit(ops_).ok());
  EXPECT_EQ(ReasonOf(Submit(ops_).status()), "REVIEW_STATE");
  // Without the role; an SDR may not even try.
  absl::Status sdr = Approve(sdr_).status();
  EXPECT_EQ(sdr.code(), absl::StatusCode::kPermissionDenied);
  // A role the caller lacks, named explicitly.
  EXPECT_EQ(Approve(vp_, "", v1::MARKETING_DIRECTOR).status().code(),
            absl::StatusCode::kPermissionDenied);
  // One's own change: a VP who also edits.
  const Caller editing_vp = Person("vp2@example.com", {v1::VP_SALES, v1::SALES_OPS});
  ASSERT_TRUE(Edit(editing_vp, "v3").ok());
  ASSERT_TRUE(Submit(ops_).ok());
  EXPECT_EQ(ReasonOf(Approve(editing_vp).status()), "OWN_CHANGE");
  // Twice.
  ASSERT_TRUE(Approve(vp_).ok());
  absl::Status twice = Approve(vp_).status();
  EXPECT_EQ(twice.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReasonOf(twice), "ALREADY_SIGNED_OFF");
  // A stale view: the approver read a revision that is no longer reviewed.
  absl::Status stale = Approve(director_, draft.revision_id()).status();
  EXPECT_EQ(stale.code(), absl::StatusCode::kAborted);
  // A role the SOP does not require.
  EXPECT_EQ(Approve(director_, "", v1::AE).status().code(), absl::StatusCode::kInvalidArgument);

  // None of it changed the review: still awaiting the Director, one approval.
  const v1::Sop head = Head();
  EXPECT_EQ(head.review().state(), v1::DraftReview::IN_REVIEW);
  ASSERT_EQ(head.review().approvals_size(), 1);
  EXPECT_EQ(head.review().approvals(0).user_id(), "vp@example.com");
  EXPECT_THAT(head.review().awaiting_roles(), ElementsAre(v1::MARKETING_DIRECTOR));
}

TEST_F(GovernanceTest, AnEditAfterSubmissionVoidsTheSignOffs) {
  CreateLive();
  ASSERT_TRUE(Edit(ops_, "v2").ok());
  ASSERT_TRUE(Submit(ops_).ok());
  ASSERT_TRUE(Approve(vp_).ok());
  const std::string reviewed = Head().review().revision_id();
  ASSERT_TRUE(Edit(ops_, "v2 with a late edit").ok());
  const v1::Sop head = Head();
  EXPECT_EQ(head.review().state(), v1::DraftReview::DRAFT);
  EXPECT_THAT(head.review().approvals(), IsEmpty());
  // The Director's approval of what they read is refused as stale.
  EXPECT_EQ(Approve(director_, reviewed).status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(Publish(ops_).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(GovernanceTest, RejectingReturnsTheDraftWithTheReason) {
  CreateLive();
  ASSERT_TRUE(Edit(ops_, "v2").ok());
  ASSERT_TRUE(Submit(ops_).ok());
  ASSERT_TRUE(Approve(vp_).ok());
  v1::RejectSopRequest reject;
  reject.set_name(kName);
  EXPECT_EQ(registry_->RejectSop(director_, reject).status().code(),
            absl::StatusCode::kInvalidArgument);  // the comment is required
  reject.set_comment("The 5-minute rule is missing");
  absl::StatusOr<v1::Sop> rejected = registry_->RejectSop(director_, reject);
  ASSERT_TRUE(rejected.ok()) << rejected.status();
  EXPECT_EQ(rejected->review().state(), v1::DraftReview::DRAFT);
  EXPECT_THAT(rejected->review().approvals(), IsEmpty());
  EXPECT_EQ(rejected->review().rejection().role(), v1::MARKETING_DIRECTOR);
  EXPECT_EQ(rejected->review().rejection().comment(), "The 5-minute rule is missing");
}

TEST_F(GovernanceTest, OnlyAnAdminPublishesInAnEmergencyWithAReasonRecordedInTheTrail) {
  CreateLive();
  ASSERT_TRUE(Edit(ops_, "Hotfix").ok());
  EXPECT_EQ(Publish(ops_, true, "legal asked").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Publish(admin_, true, "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Publish(admin_, false, "a reason alone").status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(Publish(admin_, true, "Legal asked to remove a claim today").ok());
  EXPECT_EQ(*LiveTitle(), "Hotfix");
  v1::ListAuditEventsRequest request;
  request.set_parent("orgs/default");
  request.set_actor("admin@example.com");
  auto events = registry_->audit().ListAuditEvents(admin_, request);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->events_size(), 1);
  EXPECT_EQ(events->events(0).action(), "sop.emergency_publish");
  EXPECT_THAT(events->events(0).detail(), HasSubstr("Legal asked to remove a claim today"));
}

TEST_F(GovernanceTest, AnSopWithoutRequiredApproversPublishesAsBefore) {
  v1::CreateSopRequest create;
  create.set_parent("orgs/default");
  create.set_sop_id("mql-handoff");
  *create.mutable_sop() = Parse<v1::Sop>(kMqlSop);
  create.mutable_sop()->clear_required_approver_roles();
  ASSERT_TRUE(registry_->CreateSop(ops_, create).ok());
  ASSERT_TRUE(Publish(ops_).ok());
  EXPECT_EQ(*LiveTitle(), "MQL Acceptance & Handoff");
}

TEST_F(GovernanceTest, DiffComparesRevisionsOfOneSopOnly) {
  CreateLive();
  ASSERT_TRUE(Edit(ops_, "v2").ok());
  v1::DiffSopRevisionsRequest request;
  request.set_revision_a(absl::StrCat(kName, "/revisions/live"));
  request.set_revision_b(absl::StrCat(kName, "/revisions/draft"));
  absl::StatusOr<v1::SopDiff> diff = registry_->DiffSopRevisions(ops_, request);
  ASSERT_TRUE(diff.ok()) << diff.status();
  ASSERT_EQ(diff->changes_size(), 1);
  EXPECT_EQ(diff->changes(0).path(), "title");
  EXPECT_EQ(diff->changes(0).before(), "\"MQL Acceptance & Handoff\"");
  EXPECT_EQ(diff->changes(0).after(), "\"v2\"");
  EXPECT_EQ(diff->revision_b(), absl::StrCat(kName, "/revisions/", Head().revision_id()));

  request.set_revision_b("orgs/default/sops/other/revisions/1");
  absl::Status across = registry_->DiffSopRevisions(ops_, request).status();
  EXPECT_EQ(across.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(across.message(), HasSubstr("revision_b"));
  request.set_revision_b(absl::StrCat(kName, "/revisions/99"));
  EXPECT_EQ(registry_->DiffSopRevisions(ops_, request).status().code(),
            absl::StatusCode::kNotFound);
  // An SDR sees the live SOP but may not read its history.
  request.set_revision_b(absl::StrCat(kName, "/revisions/1"));
  EXPECT_EQ(registry_->DiffSopRevisions(sdr_, request).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(GovernanceTest, CommentsAreTiedToARevisionAndAStepThatExists) {
  CreateLive();
  v1::AddCommentRequest add;
  add.set_parent(kName);
  add.mutable_comment()->set_text("Should this say 5 business minutes?");
  add.mutable_comment()->set_step_ordinal(1);
  absl::StatusOr<v1::Comment> comment = registry_->AddComment(director_, add);
  ASSERT_TRUE(comment.ok()) << comment.status();
  EXPECT_EQ(comment->revision_id(), Head().revision_id());
  EXPECT_EQ(comment->author(), "director@example.com");

  add.mutable_comment()->set_step_ordinal(7);
  absl::Status no_step = registry_->AddComment(director_, add).status();
  EXPECT_EQ(no_step.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(no_step.message(), HasSubstr("no step 7"));
  add.mutable_comment()->set_step_ordinal(1);
  EXPECT_EQ(registry_->AddComment(sdr_, add).status().code(), absl::StatusCode::kPermissionDenied);

  v1::ResolveCommentRequest resolve;
  resolve.set_name(comment->name());
  EXPECT_EQ(registry_->ResolveComment(vp_, resolve).status().code(),
            absl::StatusCode::kPermissionDenied);
  absl::StatusOr<v1::Comment> resolved = registry_->ResolveComment(director_, resolve);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_TRUE(resolved->resolved());

  v1::ListCommentsRequest list;
  list.set_parent(kName);
  auto all = registry_->ListComments(ops_, list);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->comments_size(), 1);
  EXPECT_TRUE(all->comments(0).resolved());
  list.set_unresolved_only(true);
  EXPECT_THAT(registry_->ListComments(ops_, list)->comments(), IsEmpty());
}

TEST_F(GovernanceTest, OwnerReviewsFallDueOnTheCycleAndOverdueSopsAreFlaggedOrDropped) {
  CreateLive();
  v1::Sop head = Head();
  ASSERT_TRUE(head.has_next_review_time());
  const absl::Time due = FromProtoTimestamp(head.next_review_time());
  EXPECT_EQ(due, *NextReviewTime(v1::QUARTERLY, FromProtoTimestamp(head.last_review_time())));

  v1::ListDueReviewsRequest list;
  list.set_parent("orgs/default");
  list.mutable_within()->set_seconds(30 * 86400);
  EXPECT_THAT(registry_->ListDueReviews(ops_, list)->sops(), IsEmpty());

  clock_.Set(due + absl::Hours(24) * 3);
  ASSERT_EQ(registry_->ListDueReviews(ops_, list)->sops_size(), 1);
  v1::LookupSopsRequest lookup;
  *lookup.mutable_context() = Parse<v1::CrmContext>(kMqlLead);
  auto overdue = registry_->LookupSops(sdr_, lookup);
  ASSERT_TRUE(overdue.ok() && overdue->matches_size() == 1);
  EXPECT_TRUE(overdue->matches(0).review_overdue());
  EXPECT_EQ(FromProtoTimestamp(overdue->matches(0).next_review_time()), due);

  // An org that drops SOPs overdue by more than two days.
  policy_.stale_review_cutoff = absl::Hours(48);
  EXPECT_EQ(*LiveTitle(), "(none)");

  // The owner reviews it: it matches again, due a quarter later.
  v1::MarkSopReviewedRequest reviewed;
  reviewed.set_name(kName);
  EXPECT_EQ(registry_->MarkSopReviewed(vp_, reviewed).status().code(),
            absl::StatusCode::kPermissionDenied);
  const Caller owner = Person("owner@example.com", {v1::SDR});
  absl::StatusOr<v1::Sop> marked = registry_->MarkSopReviewed(owner, reviewed);
  ASSERT_TRUE(marked.ok()) << marked.status();
  EXPECT_EQ(*LiveTitle(), "MQL Acceptance & Handoff");
  auto fresh = registry_->LookupSops(sdr_, lookup);
  ASSERT_TRUE(fresh.ok());
  EXPECT_FALSE(fresh->matches(0).review_overdue());
  EXPECT_THAT(registry_->ListDueReviews(ops_, list)->sops(), IsEmpty());
}

TEST_F(GovernanceTest, NextReviewTimeKeepsTheDayOrTheMonthsLastDay) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  auto at = [&](int y, int m, int d) {
    return absl::FromCivil(absl::CivilSecond(y, m, d, 9, 30, 0), utc);
  };
  EXPECT_EQ(*NextReviewTime(v1::MONTHLY, at(2026, 1, 31)), at(2026, 2, 28));
  EXPECT_EQ(*NextReviewTime(v1::QUARTERLY, at(2026, 11, 30)), at(2027, 2, 28));
  EXPECT_EQ(*NextReviewTime(v1::ANNUAL, at(2028, 2, 29)), at(2029, 2, 28));
  EXPECT_EQ(*NextReviewTime(v1::SEMI_ANNUAL, at(2026, 3, 15)), at(2026, 9, 15));
  EXPECT_FALSE(NextReviewTime(v1::REVIEW_CYCLE_UNSPECIFIED, at(2026, 3, 15)).has_value());
}

TEST_F(GovernanceTest, PointInTimeLookupsRefuseTheFutureAndTheTimeBeforeTheOrg) {
  CreateLive();
  absl::StatusOr<std::string> future = LiveTitle(clock_.Now() + absl::Minutes(1));
  EXPECT_EQ(future.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(future.status().message(), HasSubstr("as_of_time"));
  absl::StatusOr<std::string> early = LiveTitle(policy_.create_time - absl::Seconds(1));
  EXPECT_EQ(early.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(early.status().message(), HasSubstr("before org default existed"));
  // Between the org's creation and the first publish: nothing was live.
  EXPECT_EQ(*LiveTitle(policy_.create_time), "(none)");
}

TEST_F(GovernanceTest, TheAuditChainVerifiesAndAnsweresToItsSavedHead) {
  CreateLive();
  v1::GetAuditHeadRequest head_request;
  head_request.set_parent("orgs/default");
  absl::StatusOr<v1::AuditHead> head = registry_->audit().GetAuditHead(admin_, head_request);
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->sequence(), 5);
  v1::VerifyAuditLogRequest verify;
  verify.set_parent("orgs/default");
  *verify.mutable_expected_head() = *head;
  auto result = registry_->audit().VerifyAuditLog(admin_, verify);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->intact()) << result->problem();
  EXPECT_EQ(result->events_checked(), 5);
  // A head from a chain that never existed here.
  verify.mutable_expected_head()->set_sequence(9);
  result = registry_->audit().VerifyAuditLog(admin_, verify);
  ASSERT_TRUE(result.ok());
  EXPECT_FALSE(result->intact());
  EXPECT_EQ(result->first_broken_sequence(), 6);
  EXPECT_THAT(result->problem(), HasSubstr("cut off its end"));
  // SDRs do not read the trail.
  EXPECT_EQ(registry_->audit().GetAuditHead(sdr_, head_request).status().code(),
            absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace sopsidebar
