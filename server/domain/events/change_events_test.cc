// ChangeEvents over a real SopRegistry on in-memory stores with a fake
// clock; attempts go to a scripted poster (the HTTP client itself is tested
// end to end against a real receiver: tests/e2e/webhooks_e2e_test.py).
#include "server/domain/events/change_events.h"

#include <algorithm>
#include <deque>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/errors.h"
#include "common/proto_time.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"
#include "server/domain/matching/linear_sop_matcher.h"
#include "server/domain/registry/sop_registry.h"
#include "server/domain/store/in_memory_sop_store.h"
#include "server/domain/store/in_memory_webhook_store.h"

namespace sopsidebar {
namespace {

using ::testing::HasSubstr;

constexpr char kSop[] = R"pb(
  title: "MQL handoff"
  owner: "Sales Ops"
  review_cycle: QUARTERLY
  targeting_rules { record_types: "Lead" priority: 100 }
  steps { ordinal: 1 title: "Call the lead" }
)pb";

Caller Person(const std::string& user, std::initializer_list<v1::Role> roles) {
  Caller caller;
  caller.org = "default";
  caller.user_id = user;
  for (v1::Role role : roles) caller.roles |= RoleBit(role);
  return caller;
}

// Answers attempts from a script of statuses (0: a refused connection);
// past its end, the last entry again. Records the requests.
class ScriptedPoster {
 public:
  void Script(std::vector<int> statuses) {
    absl::MutexLock lock(&mu_);
    script_.assign(statuses.begin(), statuses.end());
  }
  absl::StatusOr<HttpResponse> Post(const HttpPostRequest& request) {
    absl::MutexLock lock(&mu_);
    requests_.push_back(request);
    int status = script_.empty() ? 200 : script_.front();
    if (script_.size() > 1) script_.pop_front();
    if (status == 0) return absl::UnavailableError("connect: Connection refused");
    HttpResponse response;
    response.status = status;
    response.body = status == 200 ? "ok" : "boom";
    return response;
  }
  std::vector<HttpPostRequest> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

 private:
  absl::Mutex mu_;
  std::deque<int> script_;
  std::vector<HttpPostRequest> requests_;
};

// A sink that keeps what it is sent.
class CollectingSink : public MessageSink {
 public:
  void Send(std::string message) override {
    absl::MutexLock lock(&mu_);
    v1::ChangeEvent event;
    event.ParseFromString(message);
    events_.push_back(event);
  }
  void Close(absl::Status status) override {
    absl::MutexLock lock(&mu_);
    closed_ = status;
  }
  std::vector<v1::ChangeEvent> events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  std::optional<absl::Status> closed() {
    absl::MutexLock lock(&mu_);
    return closed_;
  }

 private:
  absl::Mutex mu_;
  std::vector<v1::ChangeEvent> events_;
  std::optional<absl::Status> closed_;
};

class ChangeEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto registry = SopRegistry::Create(&sops_, &clock_, LinearSopMatcher::Build);
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = std::move(registry).value();
    StartEvents();
  }
  void TearDown() override {
    registry_->SetChangeSink(nullptr);
    events_.reset();
  }

  // The registry's feed; with `node_id`, one node of several that share
  // the store.
  void StartEvents(const std::string& node_id = "") {
    if (events_) registry_->SetChangeSink(nullptr);
    events_.reset();
    events_ = Feed(node_id);
    registry_->SetChangeSink(events_.get());
  }
  std::unique_ptr<ChangeEvents> Feed(const std::string& node_id) {
    ChangeEvents::Options options;
    options.backoff_base = absl::Seconds(1);
    options.backoff_cap = absl::Seconds(4);
    options.review_due_scan_interval = absl::Hours(1);  // tests scan by hand
    options.node_id = node_id;
    auto events =
        ChangeEvents::Create(&webhooks_, registry_.get(), &clock_, options,
                             [this](const HttpPostRequest& r) { return poster_.Post(r); });
    EXPECT_TRUE(events.ok()) << events.status();
    return events.ok() ? std::move(events).value() : nullptr;
  }

  absl::StatusOr<v1::Webhook> AddWebhook(const std::string& id, int max_attempts,
                                         v1::Webhook::PayloadFormat format = v1::Webhook::JSON,
                                         ChangeEvents* through = nullptr) {
    v1::CreateWebhookRequest request;
    request.set_parent("orgs/default");
    request.set_webhook_id(id);
    request.mutable_webhook()->set_url("http://127.0.0.1:9/hook");
    request.mutable_webhook()->set_secret("0123456789abcdef");
    request.mutable_webhook()->set_max_attempts(max_attempts);
    request.mutable_webhook()->set_payload_format(format);
    return (through != nullptr ? through : events_.get())->CreateWebhook(ops_, request);
  }

  absl::StatusOr<v1::Sop> CreateSop(const std::string& id) {
    v1::CreateSopRequest create;
    create.set_parent("orgs/default");
    create.set_sop_id(id);
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(kSop, create.mutable_sop()));
    return registry_->CreateSop(ops_, create);
  }

  std::vector<v1::WebhookDelivery> Deliveries(const std::string& webhook, bool dead = false) {
    v1::ListWebhookDeliveriesRequest request;
    request.set_parent(absl::StrCat("orgs/default/webhooks/", webhook));
    request.set_dead_only(dead);
    auto response = events_->ListWebhookDeliveries(ops_, request);
    EXPECT_TRUE(response.ok()) << response.status();
    return {response->deliveries().begin(), response->deliveries().end()};
  }

  // Moves the fake clock on until nothing is due (each retry's backoff is at
  // most the 4 s cap).
  void RunRetries() {
    for (int i = 0; i < 30; ++i) {
      ASSERT_TRUE(events_->WaitIdleForTesting(absl::Seconds(10)));
      clock_.Advance(absl::Seconds(5));
    }
    ASSERT_TRUE(events_->WaitIdleForTesting(absl::Seconds(10)));
  }

  FakeClock clock_;
  InMemorySopStore sops_;
  InMemoryWebhookStore webhooks_;
  ScriptedPoster poster_;
  std::unique_ptr<SopRegistry> registry_;
  std::unique_ptr<ChangeEvents> events_;
  Caller ops_ = Person("ops@example.com", {v1::SALES_OPS});
  Caller sdr_ = Person("sdr@example.com", {v1::SDR});
};

TEST_F(ChangeEventsTest, ASuccessfulPostIsDeliveredSignedOnce) {
  ASSERT_TRUE(AddWebhook("crm", 3).ok());
  ASSERT_TRUE(CreateSop("mql").ok());
  ASSERT_TRUE(events_->WaitIdleForTesting(absl::Seconds(10)));
  std::vector<v1::WebhookDelivery> d = Deliveries("crm");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].state(), v1::WebhookDelivery::DELIVERED);
  EXPECT_EQ(d[0].attempts(), 1);
  EXPECT_EQ(d[0].last_http_status(), 200);
  EXPECT_EQ(d[0].event().type(), v1::ChangeEvent::SOP_CHANGED);
  EXPECT_EQ(d[0].event().sop(), "orgs/default/sops/mql");
  EXPECT_EQ(d[0].event().actor(), "ops@example.com");
  std::vector<HttpPostRequest> sent = poster_.requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].host, "127.0.0.1");
  EXPECT_EQ(sent[0].port, "9");
  EXPECT_EQ(sent[0].target, "/hook");
  bool signature = false;
  for (const auto& [name, value] : sent[0].headers) {
    if (name == "X-SopSidebar-Signature") {
      signature = true;
      EXPECT_THAT(value, testing::StartsWith(
                             absl::StrCat("t=", absl::ToUnixSeconds(clock_.Now()), ",v1=")));
    }
    if (name == "X-SopSidebar-Event-Id") EXPECT_EQ(value, d[0].event().event_id());
    if (name == "X-SopSidebar-Delivery") EXPECT_EQ(value, d[0].name());
  }
  EXPECT_TRUE(signature);
}

TEST_F(ChangeEventsTest, AFailedAttemptIsRetriedAfterABackoffThenDelivered) {
  poster_.Script({500, 200});
  ASSERT_TRUE(AddWebhook("crm", 3).ok());
  ASSERT_TRUE(CreateSop("mql").ok());
  ASSERT_TRUE(events_->WaitIdleForTesting(absl::Seconds(10)));
  std::vector<v1::WebhookDelivery> d = Deliveries("crm");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].state(), v1::WebhookDelivery::PENDING);
  EXPECT_EQ(d[0].attempts(), 1);
  EXPECT_EQ(d[0].last_http_status(), 500);
  EXPECT_THAT(d[0].last_error(), HasSubstr("HTTP 500"));
  // Full jitter within [0, base]: due no later than 1 s after the attempt.
  EXPECT_LE(FromProtoTimestamp(d[0].next_attempt_time()), clock_.Now() + absl::Seconds(1));
  RunRetries();
  d = Deliveries("crm");
  EXPECT_EQ(d[0].state(), v1::WebhookDelivery::DELIVERED);
  EXPECT_EQ(d[0].attempts(), 2);
}

TEST_F(ChangeEventsTest, DeadAfterTheRetryBudgetThenReplayedWithAFreshBudget) {
  poster_.Script({500});
  ASSERT_TRUE(AddWebhook("crm", 3).ok());
  ASSERT_TRUE(CreateSop("mql").ok());
  RunRetries();
  std::vector<v1::WebhookDelivery> dead = Deliveries("crm", /*dead=*/true);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].state(), v1::WebhookDelivery::DEAD);
  EXPECT_EQ(dead[0].attempts(), 3);
  EXPECT_EQ(poster_.requests().size(), 3u);

  poster_.Script({0, 200});  // refused once more, then answered
  v1::ReplayWebhookDeliveryRequest replay;
  replay.set_name(dead[0].name());
  absl::StatusOr<v1::WebhookDelivery> replayed = events_->ReplayWebhookDelivery(ops_, replay);
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  EXPECT_EQ(replayed->state(), v1::WebhookDelivery::PENDING);
  EXPECT_EQ(replayed->attempts(), 0);
  EXPECT_EQ(replayed->replay_count(), 1);
  RunRetries();
  std::vector<v1::WebhookDelivery> d = Deliveries("crm");
  EXPECT_EQ(d[0].state(), v1::WebhookDelivery::DELIVERED);
  EXPECT_EQ(d[0].attempts(), 2);
  EXPECT_EQ(d[0].replay_count(), 1);
  EXPECT_TRUE(Deliveries("crm", /*dead=*/true).empty());

  // Only a dead delivery is replayed.
  absl::StatusOr<v1::WebhookDelivery> again = events_->ReplayWebhookDelivery(ops_, replay);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(error::ReasonOf(again.status()), "DELIVERY_NOT_DEAD");
}

TEST_F(ChangeEventsTest, PendingDeliveriesGoOnAfterARestart) {
  poster_.Script({0});
  ASSERT_TRUE(AddWebhook("crm", 10).ok());
  ASSERT_TRUE(CreateSop("mql").ok());
  ASSERT_TRUE(events_->WaitIdleForTesting(absl::Seconds(10)));
  ASSERT_EQ(Deliveries("crm")[0].state(), v1::WebhookDelivery::PENDING);
  EXPECT_THAT(Deliveries("crm")[0].last_error(), HasSubstr("unreachable"));
  poster_.Script({200});
  StartEvents();  // a new feed reads the store
  RunRetries();
  std::vector<v1::WebhookDelivery> d = Deliveries("crm");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].state(), v1::WebhookDelivery::DELIVERED);
  EXPECT_EQ(d[0].attempts(), 2);
}

// Two nodes that share the store (--store=etcd): node-a is the registry's
// feed, node-b a second feed on the same store, as on another sopd.
TEST_F(ChangeEventsTest, NodesSharingAStoreFireEachOthersWebhooksAndKeepTheirOwnDeliveries) {
  poster_.Script({0});  // every attempt fails: the deliveries stay PENDING
  StartEvents("node-a");
  std::unique_ptr<ChangeEvents> b = Feed("node-b");
  ASSERT_NE(b, nullptr);
  // A webhook made through node-b fires for a write through node-a.
  ASSERT_TRUE(AddWebhook("crm", 10, v1::Webhook::JSON, b.get()).ok());
  auto sop = CreateSop("mql");
  ASSERT_TRUE(sop.ok()) << sop.status();
  b->SopWritten("sop.update", ops_, *sop);
  ASSERT_TRUE(events_->WaitIdleForTesting(absl::Seconds(10)));
  ASSERT_TRUE(b->WaitIdleForTesting(absl::Seconds(10)));
  // One delivery each, neither written over the other.
  std::vector<std::string> stored;
  ASSERT_TRUE(webhooks_
                  .ForEachDelivery([&](const v1::WebhookDelivery& d) {
                    EXPECT_EQ(d.state(), v1::WebhookDelivery::PENDING);
                    stored.push_back(d.name());
                    return absl::OkStatus();
                  })
                  .ok());
  ASSERT_EQ(stored.size(), 2u);
  std::sort(stored.begin(), stored.end());
  EXPECT_THAT(stored[0], ::testing::EndsWith("-node-a"));
  EXPECT_THAT(stored[1], ::testing::EndsWith("-node-b"));
  // node-b leaves; node-a, started again, sends its own delivery only.
  b.reset();
  poster_.Script({200});
  StartEvents("node-a");
  RunRetries();
  int delivered = 0;
  ASSERT_TRUE(webhooks_
                  .ForEachDelivery([&](const v1::WebhookDelivery& d) {
                    const bool own = absl::EndsWith(d.name(), "-node-a");
                    EXPECT_EQ(d.state(),
                              own ? v1::WebhookDelivery::DELIVERED : v1::WebhookDelivery::PENDING)
                        << d.name();
                    delivered += d.state() == v1::WebhookDelivery::DELIVERED;
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(delivered, 1);
}

TEST_F(ChangeEventsTest, WebhooksAreValidatedAndTheirSecretNeverReturned) {
  v1::CreateWebhookRequest request;
  request.set_parent("orgs/default");
  request.mutable_webhook()->set_url("https://hooks.example.com/x");
  request.mutable_webhook()->set_secret("0123456789abcdef");
  absl::Status https = events_->CreateWebhook(ops_, request).status();
  EXPECT_EQ(https.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(https.message(), HasSubstr("webhook.url"));
  EXPECT_THAT(https.message(), HasSubstr("TLS"));

  request.mutable_webhook()->set_url("http://127.0.0.1:8080/x");
  request.mutable_webhook()->set_secret("short");
  EXPECT_THAT(events_->CreateWebhook(ops_, request).status().message(),
              HasSubstr("webhook.secret"));
  request.mutable_webhook()->set_secret("0123456789abcdef");
  request.mutable_webhook()->set_max_attempts(21);
  EXPECT_THAT(events_->CreateWebhook(ops_, request).status().message(),
              HasSubstr("webhook.max_attempts"));
  request.mutable_webhook()->set_max_attempts(0);
  request.set_webhook_id("Bad_Id");
  EXPECT_THAT(events_->CreateWebhook(ops_, request).status().message(), HasSubstr("webhook_id"));
  request.set_webhook_id("");

  EXPECT_EQ(events_->CreateWebhook(sdr_, request).status().code(),
            absl::StatusCode::kPermissionDenied);

  absl::StatusOr<v1::Webhook> created = events_->CreateWebhook(ops_, request);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(created->secret().empty());
  EXPECT_EQ(created->max_attempts(), 5);
  EXPECT_EQ(created->payload_format(), v1::Webhook::JSON);
  v1::GetWebhookRequest get;
  get.set_name(created->name());
  absl::StatusOr<v1::Webhook> got = events_->GetWebhook(ops_, get);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->secret().empty());
  // Stored with its secret, which signs.
  bool stored = false;
  ASSERT_TRUE(webhooks_
                  .ForEachWebhook([&](const v1::Webhook& w) {
                    stored = w.secret() == "0123456789abcdef";
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_TRUE(stored);
  // Nothing half-saved: the refused requests left one webhook.
  v1::ListWebhooksRequest list;
  list.set_parent("orgs/default");
  EXPECT_EQ(events_->ListWebhooks(ops_, list)->webhooks_size(), 1);
}

TEST_F(ChangeEventsTest, WritesNeverWaitForAHangingReceiver) {
  absl::Notification release;
  events_.reset();
  registry_->SetChangeSink(nullptr);
  ChangeEvents::Options options;
  auto events = ChangeEvents::Create(&webhooks_, registry_.get(), &clock_, options,
                                     [&](const HttpPostRequest&) -> absl::StatusOr<HttpResponse> {
                                       release.WaitForNotification();
                                       return HttpResponse{200, ""};
                                     });
  ASSERT_TRUE(events.ok());
  events_ = std::move(events).value();
  registry_->SetChangeSink(events_.get());
  ASSERT_TRUE(AddWebhook("slow", 3).ok());
  const absl::Time start = absl::Now();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(CreateSop(absl::StrCat("sop-", i)).ok());
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  release.Notify();
  ASSERT_TRUE(events_->WaitIdleForTesting(absl::Seconds(10)));
  std::vector<v1::WebhookDelivery> d = Deliveries("slow");
  ASSERT_EQ(d.size(), 5u);
  // Newest first; delivered in event order, one at a time.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(d[4 - i].event().sop(), absl::StrCat("orgs/default/sops/sop-", i));
    EXPECT_EQ(d[4 - i].state(), v1::WebhookDelivery::DELIVERED);
  }
}

TEST_F(ChangeEventsTest, WatchersSeeOnlySopsTheyMayReadTheDraftOf) {
  auto ops_sink = std::make_shared<CollectingSink>();
  auto sdr_sink = std::make_shared<CollectingSink>();
  v1::WatchChangesRequest request;
  request.set_parent("orgs/default");
  auto ops_watch = events_->WatchChanges(ops_, request, ops_sink);
  ASSERT_TRUE(ops_watch.ok()) << ops_watch.status();
  auto sdr_watch = events_->WatchChanges(sdr_, request, sdr_sink);
  ASSERT_TRUE(sdr_watch.ok()) << sdr_watch.status();
  request.add_types(v1::ChangeEvent::SOP_PUBLISHED);
  auto published_sink = std::make_shared<CollectingSink>();
  auto published_watch = events_->WatchChanges(ops_, request, published_sink);
  ASSERT_TRUE(published_watch.ok());

  ASSERT_TRUE(CreateSop("mql").ok());
  v1::PublishSopRequest publish;
  publish.set_name("orgs/default/sops/mql");
  ASSERT_TRUE(registry_->PublishSop(ops_, publish).ok());
  ASSERT_TRUE(events_->WaitIdleForTesting(absl::Seconds(10)));
  for (int i = 0; i < 200 && ops_sink->events().size() < 2; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  std::vector<v1::ChangeEvent> seen = ops_sink->events();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].type(), v1::ChangeEvent::SOP_CHANGED);
  EXPECT_EQ(seen[1].type(), v1::ChangeEvent::SOP_PUBLISHED);
  for (int i = 0; i < 100 && published_sink->events().empty(); ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(published_sink->events().size(), 1u);
  EXPECT_EQ(published_sink->events()[0].type(), v1::ChangeEvent::SOP_PUBLISHED);
  // An SDR has no draft access.
  EXPECT_TRUE(sdr_sink->events().empty());

  v1::WatchChangesRequest other;
  other.set_parent("orgs/other");
  EXPECT_EQ(events_->WatchChanges(ops_, other, std::make_shared<CollectingSink>()).status().code(),
            absl::StatusCode::kNotFound);
}

// A sink whose reader reads nothing until released.
class StuckSink : public CollectingSink {
 public:
  bool AwaitRoom(size_t) override {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&released_));
    return true;
  }
  void Close(absl::Status status) override { CollectingSink::Close(status); }
  void Release() {
    absl::MutexLock lock(&mu_);
    released_ = true;
  }

 private:
  absl::Mutex mu_;
  bool released_ = false;
};

TEST_F(ChangeEventsTest, AWatcherTooFarBehindIsEndedWithResourceExhausted) {
  events_.reset();
  registry_->SetChangeSink(nullptr);
  ChangeEvents::Options options;
  options.watch_backlog = 3;
  auto events = ChangeEvents::Create(&webhooks_, registry_.get(), &clock_, options,
                                     [this](const HttpPostRequest& r) { return poster_.Post(r); });
  ASSERT_TRUE(events.ok());
  events_ = std::move(events).value();
  registry_->SetChangeSink(events_.get());

  // A reader that reads: its AwaitRoom returns at once.
  auto sink = std::make_shared<CollectingSink>();
  v1::WatchChangesRequest request;
  request.set_parent("orgs/default");
  auto watch = events_->WatchChanges(ops_, request, sink);
  ASSERT_TRUE(watch.ok());
  // One that does not: the first event waits in AwaitRoom, three more fill
  // the backlog, the fifth ends the stream.
  auto stuck = std::make_shared<StuckSink>();
  auto stuck_watch = events_->WatchChanges(ops_, request, stuck);
  ASSERT_TRUE(stuck_watch.ok());
  // Paced, so that the reading watcher keeps up with a backlog of 3.
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(CreateSop(absl::StrCat("sop-", i)).ok());
    ASSERT_TRUE(events_->WaitIdleForTesting(absl::Seconds(10)));
    absl::SleepFor(absl::Milliseconds(50));
  }
  stuck->Release();
  for (int i = 0; i < 200 && !stuck->closed(); ++i) absl::SleepFor(absl::Milliseconds(10));
  ASSERT_TRUE(stuck->closed().has_value());
  EXPECT_EQ(stuck->closed()->code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(error::ReasonOf(*stuck->closed()), "WATCH_FELL_BEHIND");
  // The one it held when it fell behind; the backlog was dropped.
  EXPECT_EQ(stuck->events().size(), 1u);
  for (int i = 0; i < 200 && sink->events().size() < 6; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(sink->events().size(), 6u);
  EXPECT_FALSE(sink->closed().has_value());
}

TEST_F(ChangeEventsTest, ReviewDueIsEmittedOncePerDueTimeAcrossRestarts) {
  ASSERT_TRUE(AddWebhook("reviews", 3).ok());
  ASSERT_TRUE(CreateSop("mql").ok());
  v1::PublishSopRequest publish;
  publish.set_name("orgs/default/sops/mql");
  ASSERT_TRUE(registry_->PublishSop(ops_, publish).ok());
  EXPECT_EQ(events_->ScanReviewDue(), 0);  // a quarter away
  clock_.Advance(absl::Hours(24 * 100));
  EXPECT_EQ(events_->ScanReviewDue(), 1);
  EXPECT_EQ(events_->ScanReviewDue(), 0);
  StartEvents();
  EXPECT_EQ(events_->ScanReviewDue(), 0);  // remembered in the store
  ASSERT_TRUE(events_->WaitIdleForTesting(absl::Seconds(10)));
  std::vector<v1::WebhookDelivery> d = Deliveries("reviews");
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].event().type(), v1::ChangeEvent::REVIEW_DUE);
  EXPECT_EQ(d[0].event().title(), "MQL handoff");
  EXPECT_TRUE(d[0].event().actor().empty());
  // A review moves the due time on; the next one is due afresh.
  v1::MarkSopReviewedRequest reviewed;
  reviewed.set_name("orgs/default/sops/mql");
  ASSERT_TRUE(registry_->MarkSopReviewed(ops_, reviewed).ok());
  EXPECT_EQ(events_->ScanReviewDue(), 0);
  clock_.Advance(absl::Hours(24 * 100));
  EXPECT_EQ(events_->ScanReviewDue(), 1);
}

TEST_F(ChangeEventsTest, EachWebhookKeepsItsNewestDeliveries) {
  events_.reset();
  registry_->SetChangeSink(nullptr);
  ChangeEvents::Options options;
  options.max_deliveries_per_webhook = 3;
  auto events = ChangeEvents::Create(&webhooks_, registry_.get(), &clock_, options,
                                     [this](const HttpPostRequest& r) { return poster_.Post(r); });
  ASSERT_TRUE(events.ok());
  events_ = std::move(events).value();
  registry_->SetChangeSink(events_.get());
  ASSERT_TRUE(AddWebhook("crm", 3).ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(CreateSop(absl::StrCat("sop-", i)).ok());
  ASSERT_TRUE(events_->WaitIdleForTesting(absl::Seconds(10)));
  std::vector<v1::WebhookDelivery> d = Deliveries("crm");
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].event().sop(), "orgs/default/sops/sop-4");
  EXPECT_EQ(d[2].event().sop(), "orgs/default/sops/sop-2");
  int stored = 0;
  ASSERT_TRUE(webhooks_
                  .ForEachDelivery([&](const v1::WebhookDelivery&) {
                    ++stored;
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(stored, 3);
}

}  // namespace
}  // namespace sopsidebar
