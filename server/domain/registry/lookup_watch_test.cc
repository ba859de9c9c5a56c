#include "server/domain/registry/lookup_watch.h"

#include <atomic>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/domain/auth/access_registry.h"
#include "server/domain/matching/linear_sop_matcher.h"
#include "server/domain/matching/test_sops.h"
#include "server/domain/store/in_memory_auth_store.h"
#include "server/domain/store/in_memory_sop_store.h"

namespace sopsidebar {
namespace {

using test::ParseText;
using ::testing::HasSubstr;

// How long a test waits for a message that must come.
constexpr absl::Duration kDeliveryWait = absl::Seconds(1);
// How long a test watches for a message that must not come: several passes
// at kShortRecheck.
constexpr absl::Duration kQuietWait = absl::Milliseconds(300);
constexpr absl::Duration kShortRecheck = absl::Milliseconds(50);

constexpr char kMqlSop[] = R"pb(
  title: "MQL Acceptance & Handoff"
  owner: "Sales Operations Manager"
  targeting_rules {
    record_types: "Lead"
    priority: 100
    conditions {
      field: "lead_status"
      equals { string_value: "MQL – New Handoff" }
    }
  }
  steps { ordinal: 1 title: "Open the lead within 5 minutes" }
)pb";

// Matches the same leads as kMqlSop, below it.
constexpr char kNurtureSop[] = R"pb(
  title: "MQL Nurture"
  owner: "Sales Operations Manager"
  targeting_rules {
    record_types: "Lead"
    priority: 50
    conditions {
      field: "lead_status"
      equals { string_value: "MQL – New Handoff" }
    }
  }
  steps { ordinal: 1 title: "Add the lead to the nurture sequence" }
)pb";

// Matches no lead.
constexpr char kRenewalSop[] = R"pb(
  title: "Renewal Kickoff"
  owner: "Sales Operations Manager"
  targeting_rules { record_types: "Opportunity" priority: 10 }
  steps { ordinal: 1 title: "Book the kickoff call" }
)pb";

constexpr char kMqlLead[] = R"pb(
  org: "orgs/default"
  record_type: "Lead"
  fields {
    key: "lead_status"
    value { string_value: "MQL – New Handoff" }
  }
)pb";

Caller MakeCaller(RoleSet roles, const std::string& token = "tkrep") {
  Caller caller;
  caller.org = "default";
  caller.user_id = "rep@example.com";
  caller.roles = roles;
  caller.token_name = "orgs/default/tokens/" + token;
  return caller;
}

v1::WatchSopsRequest WatchRequest(const std::string& context = kMqlLead) {
  v1::WatchSopsRequest request;
  *request.mutable_context() = ParseText<v1::CrmContext>(context);
  return request;
}

// Records what the hub sends, and lets a test wait (bounded) for it.
class RecordingSink : public MessageSink {
 public:
  void Send(std::string message) override {
    absl::MutexLock lock(&mu_);
    if (closed_) misused_ = true;
    messages_.push_back(std::move(message));
  }
  void Close(absl::Status status) override {
    absl::MutexLock lock(&mu_);
    if (closed_) misused_ = true;
    closed_ = std::move(status);
  }

  // The n-th message (from 1) once it came, or nullopt when it did not
  // within `timeout`.
  std::optional<std::string> WaitForMessage(size_t n, absl::Duration timeout = kDeliveryWait) {
    absl::MutexLock lock(&mu_);
    auto arrived = [this, n] {
      mu_.AssertHeld();
      return messages_.size() >= n;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&arrived), timeout)) return std::nullopt;
    return messages_[n - 1];
  }
  // The status the stream was closed with, or nullopt when it was not
  // within `timeout`.
  std::optional<absl::Status> WaitForClose(absl::Duration timeout = kDeliveryWait) {
    absl::MutexLock lock(&mu_);
    auto closed = [this] {
      mu_.AssertHeld();
      return closed_.has_value();
    };
    mu_.AwaitWithTimeout(absl::Condition(&closed), timeout);
    return closed_;
  }
  size_t message_count() const {
    absl::MutexLock lock(&mu_);
    return messages_.size();
  }
  std::optional<absl::Status> closed() const {
    absl::MutexLock lock(&mu_);
    return closed_;
  }
  // Whether anything reached the sink after Close.
  bool misused() const {
    absl::MutexLock lock(&mu_);
    return misused_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> messages_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Status> closed_ ABSL_GUARDED_BY(mu_);
  bool misused_ ABSL_GUARDED_BY(mu_) = false;
};

class LookupWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto registry = SopRegistry::Create(&store_, &clock_, LinearSopMatcher::Build);
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = std::move(registry).value();
  }
  void TearDown() override {
    if (registry_) registry_->SetCatalogListener(nullptr);
    hub_.reset();
  }

  // Starts the hub, told of every catalog change. Without a recheck
  // interval given, only catalog changes re-run the watches.
  void StartHub(LookupWatchHub::Options options = HubOptions(absl::Hours(1)),
                LookupWatchHub::TokenCheck token_check = nullptr) {
    hub_ = std::make_unique<LookupWatchHub>(registry_.get(), std::move(token_check), options);
    registry_->SetCatalogListener([hub = hub_.get()] { hub->CatalogChanged(); });
  }
  static LookupWatchHub::Options HubOptions(absl::Duration recheck) {
    LookupWatchHub::Options options;
    options.recheck_interval = recheck;
    return options;
  }

  std::string Create(const std::string& id, const std::string& body) {
    v1::CreateSopRequest request;
    request.set_parent("orgs/default");
    request.set_sop_id(id);
    *request.mutable_sop() = ParseText<v1::Sop>(body);
    auto sop = registry_->CreateSop(writer_, request);
    EXPECT_TRUE(sop.ok()) << sop.status();
    return sop.ok() ? sop->name() : "";
  }
  v1::Sop Publish(const std::string& name) {
    v1::PublishSopRequest request;
    request.set_name(name);
    auto published = registry_->PublishSop(writer_, request);
    EXPECT_TRUE(published.ok()) << published.status();
    return published.ok() ? published->sop() : v1::Sop();
  }
  std::string CreateAndPublish(const std::string& id, const std::string& body) {
    const std::string name = Create(id, body);
    Publish(name);
    return name;
  }

  // What a watch of `request` must send now: LookupSops' response in a
  // WatchSopsResponse, serialised.
  std::string Expected(const Caller& caller, const v1::WatchSopsRequest& request = WatchRequest()) {
    v1::LookupSopsRequest lookup;
    *lookup.mutable_context() = request.context();
    lookup.set_max_results(request.max_results());
    auto found = registry_->LookupSops(caller, lookup);
    EXPECT_TRUE(found.ok()) << found.status();
    v1::WatchSopsResponse response;
    *response.mutable_result() = found.value_or(v1::LookupSopsResponse());
    return response.SerializeAsString();
  }
  // The SOP names a message's result matches, in order.
  static std::vector<std::string> MatchedSops(const std::optional<std::string>& message) {
    std::vector<std::string> names;
    v1::WatchSopsResponse response;
    if (!message || !response.ParseFromString(*message) || !response.has_result()) {
      return {"<not a WatchSopsResponse result>"};
    }
    for (const v1::SopMatch& match : response.result().matches()) names.push_back(match.sop());
    return names;
  }

  std::unique_ptr<MessageSubscription> MustWatch(
      const Caller& caller, std::shared_ptr<RecordingSink> sink,
      const v1::WatchSopsRequest& request = WatchRequest()) {
    auto subscription = hub_->Watch(caller, request, std::move(sink));
    EXPECT_TRUE(subscription.ok()) << subscription.status();
    return subscription.ok() ? std::move(subscription).value() : nullptr;
  }

  FakeClock clock_;
  InMemorySopStore store_;
  const Caller writer_ = MakeCaller(RoleBit(v1::SALES_OPS), "tkwriter");
  const Caller rep_ = MakeCaller(RoleBit(v1::SDR));
  InMemoryAuthStore auth_store_;
  std::unique_ptr<AccessRegistry> access_;  // for tests that check tokens
  std::unique_ptr<SopRegistry> registry_;
  std::unique_ptr<LookupWatchHub> hub_;  // destroyed first
};

TEST_F(LookupWatchTest, FirstMessageIsTheCurrentLookupResult) {
  const std::string mql = CreateAndPublish("mql", kMqlSop);
  StartHub();
  auto sink = std::make_shared<RecordingSink>();
  auto subscription = MustWatch(rep_, sink);
  // Sent before Watch returned: no wait.
  ASSERT_EQ(sink->message_count(), 1u);
  const std::optional<std::string> first = sink->WaitForMessage(1, absl::ZeroDuration());
  EXPECT_EQ(first, Expected(rep_));
  EXPECT_EQ(MatchedSops(first), std::vector<std::string>{mql});
  EXPECT_EQ(hub_->open_watches(), 1u);
}

TEST_F(LookupWatchTest, FirstMessageOfALookupWithoutMatchesIsAnEmptyResult) {
  StartHub();
  auto sink = std::make_shared<RecordingSink>();
  auto subscription = MustWatch(rep_, sink);
  const std::optional<std::string> first = sink->WaitForMessage(1, absl::ZeroDuration());
  EXPECT_EQ(first, std::string("\x0a\x00", 2));  // result set, empty
  EXPECT_EQ(first, Expected(rep_));
}

TEST_F(LookupWatchTest, MaxResultsOfTheRequestLimitsEveryMessage) {
  CreateAndPublish("mql", kMqlSop);
  StartHub();
  v1::WatchSopsRequest request = WatchRequest();
  request.set_max_results(1);
  auto sink = std::make_shared<RecordingSink>();
  auto subscription = MustWatch(rep_, sink, request);
  EXPECT_EQ(MatchedSops(sink->WaitForMessage(1)),
            std::vector<std::string>{"orgs/default/sops/mql"});
  // A second match ranks below the first: the result stays one SOP, the same.
  CreateAndPublish("nurture", kNurtureSop);
  EXPECT_EQ(sink->WaitForMessage(2, kQuietWait), std::nullopt);
  EXPECT_EQ(Expected(rep_, request), *sink->WaitForMessage(1));
}

TEST_F(LookupWatchTest, PublishThatChangesTheResultSendsTheNewResult) {
  const std::string mql = CreateAndPublish("mql", kMqlSop);
  StartHub();
  auto sink = std::make_shared<RecordingSink>();
  auto subscription = MustWatch(rep_, sink);
  const std::string nurture = CreateAndPublish("nurture", kNurtureSop);
  const std::optional<std::string> second = sink->WaitForMessage(2);
  ASSERT_TRUE(second.has_value()) << "no message within " << kDeliveryWait;
  EXPECT_EQ(second, Expected(rep_));
  EXPECT_EQ(MatchedSops(second), (std::vector<std::string>{mql, nurture}));
}

TEST_F(LookupWatchTest, ChangeThatLeavesTheResultAsItWasSendsNothing) {
  CreateAndPublish("mql", kMqlSop);
  // A short recheck too: the quiet wait spans several passes.
  StartHub(HubOptions(kShortRecheck));
  auto sink = std::make_shared<RecordingSink>();
  auto subscription = MustWatch(rep_, sink);
  CreateAndPublish("renewal", kRenewalSop);  // matches no lead
  EXPECT_EQ(sink->WaitForMessage(2, kQuietWait), std::nullopt);
  // The hub was re-running all along: a change that matters still comes.
  CreateAndPublish("nurture", kNurtureSop);
  EXPECT_EQ(sink->WaitForMessage(2), Expected(rep_));
  EXPECT_EQ(sink->message_count(), 2u);
}

TEST_F(LookupWatchTest, DeleteAndUndeleteEachSendTheNewResult) {
  const std::string mql = CreateAndPublish("mql", kMqlSop);
  StartHub();
  auto sink = std::make_shared<RecordingSink>();
  auto subscription = MustWatch(rep_, sink);

  v1::DeleteSopRequest remove;
  remove.set_name(mql);
  ASSERT_TRUE(registry_->DeleteSop(writer_, remove).ok());
  const std::optional<std::string> deleted = sink->WaitForMessage(2);
  EXPECT_EQ(deleted, Expected(rep_));
  EXPECT_EQ(MatchedSops(deleted), std::vector<std::string>{});

  v1::UndeleteSopRequest undelete;
  undelete.set_name(mql);
  ASSERT_TRUE(registry_->UndeleteSop(writer_, undelete).ok());
  const std::optional<std::string> undeleted = sink->WaitForMessage(3);
  EXPECT_EQ(undeleted, Expected(rep_));
  EXPECT_EQ(MatchedSops(undeleted), std::vector<std::string>{mql});
}

TEST_F(LookupWatchTest, PublishedVisibilityChangeHidingTheSopSendsAResultWithoutIt) {
  const std::string mql = CreateAndPublish("mql", kMqlSop);
  const std::string nurture = CreateAndPublish("nurture", kNurtureSop);
  StartHub();
  auto sdr_sink = std::make_shared<RecordingSink>();
  auto sdr_watch = MustWatch(rep_, sdr_sink);
  const Caller ae = MakeCaller(RoleBit(v1::AE), "tkae");
  auto ae_sink = std::make_shared<RecordingSink>();
  auto ae_watch = MustWatch(ae, ae_sink);
  ASSERT_EQ(MatchedSops(sdr_sink->WaitForMessage(1)), (std::vector<std::string>{mql, nurture}));

  v1::UpdateSopRequest update;
  update.mutable_sop()->set_name(mql);
  update.mutable_sop()->add_visibility_roles(v1::AE);
  update.mutable_update_mask()->add_paths("visibility_roles");
  ASSERT_TRUE(registry_->UpdateSop(writer_, update).ok());
  Publish(mql);

  const std::optional<std::string> hidden = sdr_sink->WaitForMessage(2);
  EXPECT_EQ(hidden, Expected(rep_));
  EXPECT_EQ(MatchedSops(hidden), std::vector<std::string>{nurture});
  // The AE still sees both, the new revision of mql among them.
  const std::optional<std::string> ae_result = ae_sink->WaitForMessage(2);
  EXPECT_EQ(ae_result, Expected(ae));
  EXPECT_EQ(MatchedSops(ae_result), (std::vector<std::string>{mql, nurture}));
}

TEST_F(LookupWatchTest, BurstOfChangesDuringAPassCostsOneMorePass) {
  // The token check runs once per watch per pass: it counts the passes, and
  // holds the first one until the burst is over.
  absl::Mutex mu;
  int passes = 0;
  absl::Notification in_first_pass;
  absl::Notification burst_over;
  StartHub(HubOptions(absl::Hours(1)), [&](const Caller&) {
    bool first;
    {
      absl::MutexLock lock(&mu);
      first = ++passes == 1;
    }
    if (first) {
      in_first_pass.Notify();
      burst_over.WaitForNotification();
    }
    return absl::OkStatus();
  });
  auto sink = std::make_shared<RecordingSink>();
  auto subscription = MustWatch(rep_, sink);
  hub_->CatalogChanged();
  ASSERT_TRUE(in_first_pass.WaitForNotificationWithTimeout(kDeliveryWait));
  for (int i = 0; i < 100; ++i) hub_->CatalogChanged();
  burst_over.Notify();
  absl::SleepFor(kQuietWait);
  absl::MutexLock lock(&mu);
  EXPECT_EQ(passes, 2);
}

TEST_F(LookupWatchTest, InvalidRequestFailsAsLookupSopsDoesAndOpensNothing) {
  StartHub();
  v1::WatchSopsRequest no_context;
  v1::WatchSopsRequest negative = WatchRequest();
  negative.set_max_results(-1);
  v1::WatchSopsRequest other_org = WatchRequest();
  other_org.mutable_context()->set_org("orgs/acme");
  for (const v1::WatchSopsRequest& request : {no_context, negative, other_org}) {
    v1::LookupSopsRequest lookup;
    if (request.has_context()) *lookup.mutable_context() = request.context();
    lookup.set_max_results(request.max_results());
    const absl::Status expected = registry_->LookupSops(rep_, lookup).status();
    ASSERT_FALSE(expected.ok()) << request.ShortDebugString();

    auto sink = std::make_shared<RecordingSink>();
    auto subscription = hub_->Watch(rep_, request, sink);
    EXPECT_EQ(subscription.status(), expected) << request.ShortDebugString();
    EXPECT_EQ(sink->message_count(), 0u);
    EXPECT_EQ(sink->closed(), std::nullopt);
  }
  EXPECT_EQ(error::FieldViolationsOf(
                hub_->Watch(rep_, no_context, std::make_shared<RecordingSink>()).status()),
            std::vector<error::FieldViolation>{(error::FieldViolation{"context", "is required"})});
  EXPECT_EQ(hub_->open_watches(), 0u);
}

TEST_F(LookupWatchTest, PerTokenCapIsResourceExhaustedUntilASubscriptionEnds) {
  LookupWatchHub::Options options = HubOptions(absl::Hours(1));
  options.max_watches_per_token = 2;
  StartHub(options);
  auto first = MustWatch(rep_, std::make_shared<RecordingSink>());
  auto second = MustWatch(rep_, std::make_shared<RecordingSink>());
  auto refused_sink = std::make_shared<RecordingSink>();
  auto refused = hub_->Watch(rep_, WatchRequest(), refused_sink);
  EXPECT_EQ(refused.status(), error::TooManyWatches("this token", 2));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(refused_sink->message_count(), 0u);
  // Another token has its own allowance.
  auto other =
      MustWatch(MakeCaller(RoleBit(v1::SDR), "tkother"), std::make_shared<RecordingSink>());
  EXPECT_EQ(hub_->open_watches(), 3u);

  first.reset();
  EXPECT_EQ(hub_->open_watches(), 2u);
  EXPECT_TRUE(hub_->Watch(rep_, WatchRequest(), std::make_shared<RecordingSink>()).ok());
}

TEST_F(LookupWatchTest, EachViewerOfAnIntegrationTokenHasItsOwnAllowance) {
  LookupWatchHub::Options options = HubOptions(absl::Hours(1));
  options.max_watches_per_token = 1;
  StartHub(options);
  Caller ana = MakeCaller(RoleBit(v1::SDR), "tkcrm");
  ana.via = "salesforce-integration";
  ana.user_id = "salesforce:005ANA";
  Caller ben = ana;
  ben.user_id = "salesforce:005BEN";
  auto first = MustWatch(ana, std::make_shared<RecordingSink>());
  auto second = MustWatch(ben, std::make_shared<RecordingSink>());
  EXPECT_EQ(hub_->Watch(ana, WatchRequest(), std::make_shared<RecordingSink>()).status(),
            error::TooManyWatches("this token", 1));
  EXPECT_EQ(hub_->open_watches(), 2u);
}

TEST_F(LookupWatchTest, HubCapIsResourceExhaustedWhateverTheToken) {
  LookupWatchHub::Options options = HubOptions(absl::Hours(1));
  options.max_watches = 2;
  StartHub(options);
  auto first = MustWatch(MakeCaller(RoleBit(v1::SDR), "tka"), std::make_shared<RecordingSink>());
  auto second = MustWatch(MakeCaller(RoleBit(v1::SDR), "tkb"), std::make_shared<RecordingSink>());
  EXPECT_EQ(hub_->Watch(MakeCaller(RoleBit(v1::SDR), "tkc"), WatchRequest(),
                        std::make_shared<RecordingSink>())
                .status(),
            error::TooManyWatches("the server", 2));
}

TEST_F(LookupWatchTest, RevokedTokenClosesTheStreamWithUnauthenticatedAtTheNextRecheck) {
  auto access = AccessRegistry::Create(&auth_store_, &clock_);
  ASSERT_TRUE(access.ok()) << access.status();
  access_ = std::move(access).value();
  auto admin_secret = access_->BootstrapAdminToken();
  ASSERT_TRUE(admin_secret.ok() && admin_secret->has_value());
  const Caller admin = access_->Authenticate(**admin_secret).value();
  v1::CreateTokenRequest issue;
  issue.set_parent("orgs/default");
  issue.mutable_token()->set_user_id("rep@example.com");
  issue.mutable_token()->add_roles(v1::SDR);
  auto issued = access_->CreateToken(admin, issue);
  ASSERT_TRUE(issued.ok()) << issued.status();
  const Caller rep = access_->Authenticate(issued->secret()).value();

  CreateAndPublish("mql", kMqlSop);
  StartHub(HubOptions(kShortRecheck),
           [access = access_.get()](const Caller& caller) { return access->CheckActive(caller); });
  auto sink = std::make_shared<RecordingSink>();
  auto subscription = MustWatch(rep, sink);
  auto admin_sink = std::make_shared<RecordingSink>();
  auto admin_watch = MustWatch(admin, admin_sink);
  // Rechecks pass while the token is active.
  EXPECT_EQ(sink->WaitForClose(kQuietWait), std::nullopt);

  v1::RevokeTokenRequest revoke;
  revoke.set_name(rep.token_name);
  ASSERT_TRUE(access_->RevokeToken(admin, revoke).ok());
  EXPECT_EQ(sink->WaitForClose(), error::Unauthenticated());
  EXPECT_EQ(sink->message_count(), 1u);
  // The closed watch frees its place; the admin's stays open.
  const absl::Time deadline = absl::Now() + kDeliveryWait;
  while (hub_->open_watches() != 1 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_EQ(hub_->open_watches(), 1u);
  EXPECT_EQ(admin_sink->closed(), std::nullopt);
  subscription.reset();  // after the hub closed it: nothing more happens
  EXPECT_FALSE(sink->misused());
}

TEST_F(LookupWatchTest, ExpiredTokenClosesTheStreamWithUnauthenticatedAtTheNextRecheck) {
  auto access = AccessRegistry::Create(&auth_store_, &clock_);
  ASSERT_TRUE(access.ok()) << access.status();
  access_ = std::move(access).value();
  auto admin_secret = access_->BootstrapAdminToken();
  ASSERT_TRUE(admin_secret.ok() && admin_secret->has_value());
  const Caller admin = access_->Authenticate(**admin_secret).value();
  v1::CreateTokenRequest issue;
  issue.set_parent("orgs/default");
  issue.mutable_token()->set_user_id("rep@example.com");
  issue.mutable_token()->add_roles(v1::SDR);
  issue.mutable_ttl()->set_seconds(3600);
  auto issued = access_->CreateToken(admin, issue);
  ASSERT_TRUE(issued.ok()) << issued.status();
  const Caller rep = access_->Authenticate(issued->secret()).value();

  StartHub(HubOptions(kShortRecheck),
           [access = access_.get()](const Caller& caller) { return access->CheckActive(caller); });
  auto sink = std::make_shared<RecordingSink>();
  auto subscription = MustWatch(rep, sink);
  clock_.Advance(absl::Minutes(59));
  EXPECT_EQ(sink->WaitForClose(kQuietWait), std::nullopt);
  clock_.Advance(absl::Minutes(2));
  EXPECT_EQ(sink->WaitForClose(), error::Unauthenticated());
}

TEST_F(LookupWatchTest, DestroyedSubscriptionReceivesNothingMore) {
  CreateAndPublish("mql", kMqlSop);
  StartHub(HubOptions(kShortRecheck));
  auto ended_sink = std::make_shared<RecordingSink>();
  auto ended = MustWatch(rep_, ended_sink);
  auto open_sink = std::make_shared<RecordingSink>();
  auto open = MustWatch(rep_, open_sink);
  ended.reset();
  EXPECT_EQ(hub_->open_watches(), 1u);

  CreateAndPublish("nurture", kNurtureSop);
  ASSERT_TRUE(open_sink->WaitForMessage(2).has_value());  // the change was sent
  EXPECT_EQ(ended_sink->WaitForMessage(2, kQuietWait), std::nullopt);
  EXPECT_EQ(ended_sink->message_count(), 1u);
  EXPECT_EQ(ended_sink->closed(), std::nullopt);
}

// A sink that fails the test when it is called after its subscription was
// destroyed.
class DetachableSink : public MessageSink {
 public:
  void Send(std::string) override { Called(); }
  void Close(absl::Status) override { Called(); }
  void Detach() { detached_ = true; }
  int calls() const { return calls_; }
  bool called_after_detach() const { return called_after_detach_; }

 private:
  void Called() {
    ++calls_;
    if (detached_) called_after_detach_ = true;
  }
  std::atomic<int> calls_{0};
  std::atomic<bool> detached_{false};
  std::atomic<bool> called_after_detach_{false};
};

TEST_F(LookupWatchTest, SubscriptionsDestroyedDuringPassesNeverHearFromTheHubAgain) {
  constexpr int kWatches = 200;
  const std::string mql = CreateAndPublish("mql", kMqlSop);
  StartHub(HubOptions(absl::Milliseconds(1)));
  std::vector<std::shared_ptr<DetachableSink>> sinks;
  std::vector<std::unique_ptr<MessageSubscription>> subscriptions;
  for (int i = 0; i < kWatches; ++i) {
    sinks.push_back(std::make_shared<DetachableSink>());
    auto subscription = hub_->Watch(MakeCaller(RoleBit(v1::SDR), absl::StrCat("tk", i / 50)),
                                    WatchRequest(), sinks.back());
    ASSERT_TRUE(subscription.ok()) << subscription.status();
    subscriptions.push_back(std::move(subscription).value());
  }
  // Every publish of a new revision changes every result: passes keep
  // sending while the subscriptions go.
  std::atomic<bool> stop{false};
  std::atomic<int> publishes{0};
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      v1::UpdateSopRequest update;
      update.mutable_sop()->set_name(mql);
      update.mutable_sop()->set_title(absl::StrCat("MQL Acceptance #", i));
      update.mutable_update_mask()->add_paths("title");
      if (!registry_->UpdateSop(writer_, update).ok()) break;
      v1::PublishSopRequest publish;
      publish.set_name(mql);
      if (!registry_->PublishSop(writer_, publish).ok()) break;
      ++publishes;
    }
  });
  for (int i = 0; i < kWatches; ++i) {
    absl::SleepFor(absl::Microseconds(500));
    subscriptions[i].reset();
    sinks[i]->Detach();
  }
  stop = true;
  writer.join();
  EXPECT_EQ(hub_->open_watches(), 0u);
  EXPECT_GT(publishes, 0);
  int later_sends = 0;  // sends after the first message: the passes did run
  for (const auto& sink : sinks) {
    EXPECT_FALSE(sink->called_after_detach());
    later_sends += sink->calls() - 1;
  }
  EXPECT_GT(later_sends, 0);
}

TEST_F(LookupWatchTest, ShutdownSendsReconnectThenClosesEveryWatchWithUnavailable) {
  StartHub();
  auto first_sink = std::make_shared<RecordingSink>();
  auto first = MustWatch(rep_, first_sink);
  auto second_sink = std::make_shared<RecordingSink>();
  auto second = MustWatch(MakeCaller(RoleBit(v1::AE), "tkae"), second_sink);

  hub_->Shutdown();
  for (const auto& sink : {first_sink, second_sink}) {
    ASSERT_EQ(sink->message_count(), 2u);  // the result, then the last word
    v1::WatchSopsResponse last;
    ASSERT_TRUE(last.ParseFromString(*sink->WaitForMessage(2)));
    EXPECT_EQ(last.event_case(), v1::WatchSopsResponse::kReconnect);
    EXPECT_THAT(last.reconnect().reason(), HasSubstr("shutting down"));
  }
  EXPECT_EQ(first_sink->closed(), error::ShuttingDown());
  EXPECT_EQ(second_sink->closed(), error::ShuttingDown());
  EXPECT_EQ(first_sink->closed()->code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(hub_->open_watches(), 0u);

  auto refused_sink = std::make_shared<RecordingSink>();
  auto refused = hub_->Watch(rep_, WatchRequest(), refused_sink);
  EXPECT_EQ(refused.status(), error::ShuttingDown());
  EXPECT_EQ(refused_sink->message_count(), 0u);

  hub_->Shutdown();                  // idempotent: nothing is closed twice
  CreateAndPublish("mql", kMqlSop);  // no pass runs any more
  EXPECT_EQ(first_sink->WaitForMessage(3, kQuietWait), std::nullopt);
  first.reset();
  EXPECT_FALSE(first_sink->misused());
  EXPECT_FALSE(second_sink->misused());
}

TEST_F(LookupWatchTest, SubscriptionMayOutliveTheHub) {
  StartHub();
  auto sink = std::make_shared<RecordingSink>();
  auto subscription = MustWatch(rep_, sink);
  registry_->SetCatalogListener(nullptr);
  hub_.reset();  // closes the watch
  EXPECT_EQ(sink->closed(), error::ShuttingDown());
  subscription.reset();
  EXPECT_FALSE(sink->misused());
}

TEST_F(LookupWatchTest, ThousandWatchesAllReceiveOneChange) {
  constexpr int kWatches = 1000;
  CreateAndPublish("mql", kMqlSop);
  StartHub();
  std::vector<std::shared_ptr<RecordingSink>> sinks;
  std::vector<std::unique_ptr<MessageSubscription>> subscriptions;
  for (int i = 0; i < kWatches; ++i) {
    sinks.push_back(std::make_shared<RecordingSink>());
    subscriptions.push_back(
        MustWatch(MakeCaller(RoleBit(v1::SDR), absl::StrCat("tk", i / 50)), sinks.back()));
  }
  ASSERT_EQ(hub_->open_watches(), static_cast<size_t>(kWatches));

  const absl::Time changed = absl::Now();
  CreateAndPublish("nurture", kNurtureSop);
  const std::string expected = Expected(rep_);
  int received = 0;
  for (const auto& sink : sinks) {
    received += sink->WaitForMessage(2, absl::Seconds(10)) == expected;
  }
  const absl::Duration pass = absl::Now() - changed;
  EXPECT_EQ(received, kWatches);
  std::cout << "[ timing   ] " << kWatches << " watches re-run and sent after one change in "
            << absl::FormatDuration(pass) << "\n";
  for (const auto& sink : sinks) EXPECT_EQ(sink->message_count(), 2u);
}

}  // namespace
}  // namespace sopsidebar
