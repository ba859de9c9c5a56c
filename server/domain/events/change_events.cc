#include "server/domain/events/change_events.h"

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/permissions.h"
#include "common/errors.h"
#include "common/ids.h"
#include "common/model/names.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "server/common/log.h"
#include "server/common/page_token.h"
#include "server/domain/events/webhook_payload.h"

namespace sopsidebar {
namespace {

constexpr size_t kMinSecret = 16;
constexpr size_t kMaxSecret = 256;
constexpr int kDefaultMaxAttempts = 5;
constexpr int kMaxMaxAttempts = 20;
constexpr size_t kMaxUrl = 2048;
constexpr size_t kMaxDescription = 1024;
constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 1000;
// Delivery ids: "d" and a zero-padded sequence, so that they sort in order.
constexpr int kDeliverySeqDigits = 12;

// An event and the SOP it is about, whose access rules decide which
// watchers see it.
struct Pending {
  v1::ChangeEvent event;
  v1::Sop sop;
};

struct ParsedUrl {
  std::string host;
  std::string port;
  std::string target;
};

// http://host[:port][/path]; INVALID_ARGUMENT naming webhook.url otherwise.
absl::StatusOr<ParsedUrl> ParseHttpUrl(absl::string_view url) {
  constexpr absl::string_view kField = "webhook.url";
  if (url.empty()) return error::RequiredField(kField);
  if (url.size() > kMaxUrl) return error::FieldTooLong(kField, kMaxUrl);
  const std::string lower = absl::AsciiStrToLower(url.substr(0, 8));
  if (absl::StartsWith(lower, "https://")) {
    return error::InvalidField(kField,
                               "https:// is not supported yet: sopd delivers webhooks over plain "
                               "http:// only (no TLS); use an http:// URL, or put a "
                               "TLS-terminating proxy on the receiver's network");
  }
  if (!absl::StartsWith(lower, "http://")) {
    return error::InvalidField(kField, "must be an http:// URL, like http://host:8080/hook");
  }
  absl::string_view rest = url.substr(7);
  for (char c : rest) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) || absl::ascii_iscntrl(c)) {
      return error::InvalidField(kField, "must not contain spaces or control characters");
    }
  }
  const size_t slash = rest.find('/');
  absl::string_view authority = rest.substr(0, slash);
  ParsedUrl parsed;
  parsed.target = slash == absl::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (absl::StrContains(authority, '@')) {
    return error::InvalidField(kField, "must not carry a user name or password");
  }
  const size_t colon = authority.rfind(':');
  if (colon == absl::string_view::npos) {
    parsed.host = std::string(authority);
    parsed.port = "80";
  } else {
    parsed.host = std::string(authority.substr(0, colon));
    parsed.port = std::string(authority.substr(colon + 1));
    int port = 0;
    if (!absl::SimpleAtoi(parsed.port, &port) || port < 1 || port > 65535) {
      return error::InvalidField(kField, "has a port that is not a number from 1 to 65535");
    }
  }
  if (parsed.host.empty()) return error::InvalidField(kField, "has no host");
  return parsed;
}

std::string OrgOfSop(absl::string_view sop) {
  absl::StatusOr<SopName> name = ParseSopName("sop", sop);
  return name.ok() ? name->org : std::string();
}

std::string WebhookPrefix(absl::string_view org) {
  return absl::StrCat("orgs/", org, "/webhooks/");
}

bool WantsType(const google::protobuf::RepeatedField<int>& types, int type) {
  return types.empty() || std::find(types.begin(), types.end(), type) != types.end();
}

v1::Webhook WithoutSecret(v1::Webhook webhook) {
  webhook.clear_secret();
  return webhook;
}

// One WatchChanges stream: a queue of serialised events and a thread that
// writes them to the sink, pacing itself by the transport (AwaitRoom), so
// the feed's thread never waits for a reader.
class WatchState {
 public:
  WatchState(Caller caller, absl::flat_hash_set<int> types, std::shared_ptr<MessageSink> sink,
             size_t backlog)
      : caller_(std::move(caller)),
        types_(std::move(types)),
        sink_(std::move(sink)),
        backlog_(backlog) {}

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }

  // Whether the watcher may see `pending`.
  bool Accepts(const Pending& pending, absl::string_view org) const {
    if (org != caller_.org) return false;
    if (!types_.empty() && !types_.contains(pending.event.type())) return false;
    return IsAllowed(caller_, Operation::kReadDrafts, &pending.sop);
  }

  // Queues a message; past the backlog the stream is ended.
  void Push(std::string message) {
    absl::MutexLock lock(&mu_);
    if (stop_ || overflow_) return;
    if (queue_.size() >= backlog_) {
      overflow_ = true;
      queue_.clear();
      return;
    }
    queue_.push_back(std::move(message));
  }

  // Stops the thread; with `close`, the sink is closed with UNAVAILABLE
  // first. `join`: waits for the thread.
  void Stop(bool close, bool join) {
    {
      absl::MutexLock lock(&mu_);
      if (!stop_) close_on_stop_ = close;
      stop_ = true;
    }
    if (!join) return;
    absl::MutexLock lock(&join_mu_);
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run() {
    while (true) {
      std::string message;
      absl::Status close;
      bool end = false;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](WatchState* w) { return w->stop_ || w->overflow_ || !w->queue_.empty(); }, this));
        if (stop_) {
          if (!close_on_stop_) return;
          close = error::ShuttingDown();
          end = true;
        } else if (overflow_) {
          close = error::WatchFellBehind(backlog_);
          end = true;
        } else {
          message = std::move(queue_.front());
          queue_.pop_front();
        }
      }
      if (end) {
        sink_->Close(close);
        absl::MutexLock lock(&mu_);
        stop_ = true;
        return;
      }
      // At most two messages wait in the transport: the rest wait here,
      // where they count towards the backlog.
      if (!sink_->AwaitRoom(2)) {
        absl::MutexLock lock(&mu_);
        stop_ = true;
        return;
      }
      sink_->Send(std::move(message));
    }
  }

  const Caller caller_;
  const absl::flat_hash_set<int> types_;
  const std::shared_ptr<MessageSink> sink_;
  const size_t backlog_;
  absl::Mutex mu_;
  std::deque<std::string> queue_ ABSL_GUARDED_BY(mu_);
  bool overflow_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool close_on_stop_ ABSL_GUARDED_BY(mu_) = false;
  absl::Mutex join_mu_;
  std::thread thread_;
};

// The open watches, shared with their subscriptions (which may outlive the
// feed).
struct WatchList {
  absl::Mutex mu;
  std::vector<std::shared_ptr<WatchState>> watches ABSL_GUARDED_BY(mu);
  bool closed ABSL_GUARDED_BY(mu) = false;
};

class WatchSubscription final : public MessageSubscription {
 public:
  WatchSubscription(std::shared_ptr<WatchList> list, std::shared_ptr<WatchState> state)
      : list_(std::move(list)), state_(std::move(state)) {}
  ~WatchSubscription() override {
    state_->Stop(/*close=*/false, /*join=*/true);
    absl::MutexLock lock(&list_->mu);
    auto& w = list_->watches;
    w.erase(std::remove(w.begin(), w.end(), state_), w.end());
  }

 private:
  const std::shared_ptr<WatchList> list_;
  const std::shared_ptr<WatchState> state_;
};

}  // namespace

class ChangeEvents::Impl {
 public:
  Impl(WebhookStore* store, const SopRegistry* registry, const Clock* clock, Options options,
       Poster poster)
      : store_(store),
        registry_(registry),
        clock_(clock),
        options_(std::move(options)),
        poster_(std::move(poster)),
        watches_(std::make_shared<WatchList>()) {}

  ~Impl() {
    Shutdown();
    std::vector<std::shared_ptr<WatchState>> left;
    {
      absl::MutexLock lock(&watches_->mu);
      left = watches_->watches;
    }
    for (auto& w : left) w->Stop(/*close=*/true, /*join=*/true);
  }

  absl::Status Load() {
    absl::MutexLock lock(&mu_);
    SOP_RETURN_IF_ERROR(store_->ForEachWebhook([&](const v1::Webhook& w) {
      webhooks_[w.name()] = w;
      return absl::OkStatus();
    }));
    SOP_RETURN_IF_ERROR(store_->ForEachDelivery([&](const v1::WebhookDelivery& d) {
      WebhookKeyParts parts;
      SOP_RETURN_IF_ERROR(SplitWebhookName("delivery.name", d.name(), &parts));
      const std::string webhook = absl::StrCat("orgs/", parts.org, "/webhooks/", parts.webhook);
      deliveries_[webhook][parts.delivery] = d;
      if (!OwnDelivery(parts.delivery)) return absl::OkStatus();
      int64_t seq = 0;
      if (parts.delivery.size() > 1 &&
          absl::SimpleAtoi(parts.delivery.substr(1, kDeliverySeqDigits), &seq)) {
        next_seq_ = std::max(next_seq_, seq + 1);
      }
      if (d.state() == v1::WebhookDelivery::PENDING) {
        due_.emplace(FromProtoTimestamp(d.next_attempt_time()), d.name());
      }
      return absl::OkStatus();
    }));
    return store_->ForEachReviewDueMark([&](absl::string_view sop, absl::Time due) {
      review_marks_[std::string(sop)] = due;
      return absl::OkStatus();
    });
  }

  void StartThreads() {
    events_thread_ = std::thread([this] { RunEvents(); });
    for (int i = 0; i < std::max(1, options_.delivery_threads); ++i) {
      workers_.emplace_back([this] { RunDeliveries(); });
    }
  }

  void Shutdown() {
    {
      absl::MutexLock lock(&watches_->mu);
      watches_->closed = true;
      for (auto& w : watches_->watches) w->Stop(/*close=*/true, /*join=*/false);
    }
    {
      absl::MutexLock lock(&queue_mu_);
      if (queue_stop_) return;
      queue_stop_ = true;
    }
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
      work_cv_.SignalAll();
    }
    if (events_thread_.joinable()) events_thread_.join();
    for (std::thread& t : workers_) t.join();
    workers_.clear();
  }

  // SopChangeSink.
  void SopWritten(absl::string_view action, const Caller& caller, const v1::Sop& head) {
    std::vector<v1::ChangeEvent::Type> types;
    if (action == "sop.create" || action == "sop.update" || action == "sop.restore" ||
        action == "sop.undelete") {
      types.push_back(v1::ChangeEvent::SOP_CHANGED);
    } else if (action == "sop.publish" || action == "sop.emergency_publish") {
      types.push_back(v1::ChangeEvent::SOP_PUBLISHED);
    } else if (action == "sop.delete") {
      types.push_back(v1::ChangeEvent::SOP_DELETED);
    } else if ((action == "sop.submit" || action == "sop.approve") &&
               head.review().awaiting_roles_size() > 0) {
      types.push_back(v1::ChangeEvent::SIGN_OFF_REQUESTED);
    }
    for (v1::ChangeEvent::Type type : types) {
      Pending pending;
      v1::ChangeEvent& e = pending.event;
      e.set_type(type);
      e.set_sop(head.name());
      e.set_title(head.title());
      e.set_revision_id(head.revision_id());
      e.set_actor(caller.user_id);
      if (type == v1::ChangeEvent::SIGN_OFF_REQUESTED) {
        *e.mutable_awaiting_roles() = head.review().awaiting_roles();
      }
      pending.sop = head;
      Enqueue(std::move(pending));
    }
  }

  void Enqueue(Pending pending) {
    pending.event.set_event_id(RandomId("evt-", 20));
    *pending.event.mutable_time() = ToProtoTimestamp(clock_->Now());
    absl::MutexLock lock(&queue_mu_);
    if (queue_stop_) return;
    queue_.push_back(std::move(pending));
  }

  int ScanReviewDue() {
    const absl::Time now = clock_->Now();
    int queued = 0;
    if (shared()) {
      std::map<std::string, absl::Time> marks;
      const absl::Status read =
          store_->ForEachReviewDueMark([&](absl::string_view sop, absl::Time due) {
            marks[std::string(sop)] = due;
            return absl::OkStatus();
          });
      // Unreadable: no scan this time (it could repeat another node's).
      if (!read.ok()) return 0;
      absl::MutexLock lock(&mu_);
      review_marks_ = std::move(marks);
    }
    for (const PublishedSopPtr& sop : registry_->PublishedSops()) {
      if (sop->next_review_time == absl::InfiniteFuture() || sop->next_review_time > now) {
        continue;
      }
      const std::string name = sop->name.Full();
      {
        absl::MutexLock lock(&mu_);
        auto it = review_marks_.find(name);
        if (it != review_marks_.end() && it->second == sop->next_review_time) continue;
        absl::Status marked = store_->PutReviewDueMark(name, sop->next_review_time);
        if (!marked.ok()) {
          LogLine(
              absl::StrCat("events: REVIEW_DUE of ", name, " not recorded: ", marked.ToString()));
          continue;
        }
        review_marks_[name] = sop->next_review_time;
      }
      Pending pending;
      pending.event.set_type(v1::ChangeEvent::REVIEW_DUE);
      pending.event.set_sop(name);
      pending.event.set_title(sop->body.title());
      pending.event.set_revision_id(sop->body.revision_id());
      pending.sop = sop->body;
      Enqueue(std::move(pending));
      ++queued;
    }
    return queued;
  }

  absl::StatusOr<std::unique_ptr<MessageSubscription>> WatchChanges(
      const Caller& caller, const v1::WatchChangesRequest& request,
      std::shared_ptr<MessageSink> sink) {
    SOP_ASSIGN_OR_RETURN(std::string org, ParseOrgName("parent", request.parent()));
    if (org != caller.org) return error::OrgNotFound(request.parent());
    SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kReadPublished));
    absl::flat_hash_set<int> types;
    for (int type : request.types()) {
      if (type <= v1::ChangeEvent::TYPE_UNSPECIFIED || !v1::ChangeEvent::Type_IsValid(type)) {
        return error::InvalidField("types", "holds an unknown event type");
      }
      types.insert(type);
    }
    auto state = std::make_shared<WatchState>(caller, std::move(types), std::move(sink),
                                              options_.watch_backlog);
    {
      absl::MutexLock lock(&watches_->mu);
      if (watches_->closed) return error::ShuttingDown();
      if (watches_->watches.size() >= options_.max_watches) {
        return error::TooManyWatches("the server", options_.max_watches);
      }
      watches_->watches.push_back(state);
    }
    state->Start();
    return std::make_unique<WatchSubscription>(watches_, std::move(state));
  }

  absl::StatusOr<v1::Webhook> CreateWebhook(const Caller& caller,
                                            const v1::CreateWebhookRequest& request) {
    SOP_ASSIGN_OR_RETURN(std::string org, ParseOrgName("parent", request.parent()));
    if (org != caller.org) return error::OrgNotFound(request.parent());
    SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kManageWebhooks));
    v1::Webhook webhook = request.webhook();
    SOP_RETURN_IF_ERROR(ParseHttpUrl(webhook.url()).status());
    if (webhook.secret().empty()) return error::RequiredField("webhook.secret");
    if (webhook.secret().size() < kMinSecret || webhook.secret().size() > kMaxSecret) {
      return error::InvalidField("webhook.secret",
                                 absl::StrCat("must be ", kMinSecret, " to ", kMaxSecret,
                                              " characters; it is ", webhook.secret().size()));
    }
    if (webhook.max_attempts() < 0 || webhook.max_attempts() > kMaxMaxAttempts) {
      return error::InvalidField(
          "webhook.max_attempts",
          absl::StrCat("must be 1 to ", kMaxMaxAttempts, " (0 means ", kDefaultMaxAttempts, ")"));
    }
    if (webhook.max_attempts() == 0) webhook.set_max_attempts(kDefaultMaxAttempts);
    if (!v1::Webhook::PayloadFormat_IsValid(webhook.payload_format())) {
      return error::InvalidField("webhook.payload_format", "is not JSON or SLACK");
    }
    if (webhook.payload_format() == v1::Webhook::PAYLOAD_FORMAT_UNSPECIFIED) {
      webhook.set_payload_format(v1::Webhook::JSON);
    }
    for (int type : webhook.event_types()) {
      if (type <= v1::ChangeEvent::TYPE_UNSPECIFIED || !v1::ChangeEvent::Type_IsValid(type)) {
        return error::InvalidField("webhook.event_types", "holds an unknown event type");
      }
    }
    if (webhook.description().size() > kMaxDescription) {
      return error::FieldTooLong("webhook.description", kMaxDescription);
    }
    std::string id = request.webhook_id();
    if (id.empty()) {
      id = RandomId("wh-", 10);
    } else if (!IsValidResourceId(id)) {
      return error::InvalidField("webhook_id",
                                 "must be 1-63 of [a-z0-9-], starting with a letter and not "
                                 "ending with '-'");
    }
    webhook.set_name(absl::StrCat(WebhookPrefix(org), id));
    *webhook.mutable_create_time() = ToProtoTimestamp(clock_->Now());
    RefreshWebhooks();
    absl::MutexLock lock(&mu_);
    if (webhooks_.count(webhook.name()) > 0) return error::WebhookAlreadyExists(webhook.name());
    size_t in_org = 0;
    for (const auto& [name, w] : webhooks_) in_org += absl::StartsWith(name, WebhookPrefix(org));
    if (in_org >= options_.max_webhooks_per_org) {
      return absl::ResourceExhaustedError(
          absl::StrCat("the org already has ", in_org, " webhooks, the limit; delete one first"));
    }
    SOP_RETURN_IF_ERROR(store_->PutWebhook(webhook));
    webhooks_[webhook.name()] = webhook;
    return WithoutSecret(std::move(webhook));
  }

  // The webhook `name` of the caller's org (with its secret), for a caller
  // who may manage webhooks.
  absl::StatusOr<v1::Webhook> FindWebhookLocked(const Caller& caller, absl::string_view field,
                                                absl::string_view name) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    WebhookKeyParts parts;
    SOP_RETURN_IF_ERROR(SplitWebhookName(field, name, &parts));
    if (!parts.delivery.empty()) {
      return error::InvalidResourceName(field, name, "orgs/{org}/webhooks/{webhook}");
    }
    if (parts.org != caller.org) return error::WebhookNotFound(name);
    SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kManageWebhooks));
    auto it = webhooks_.find(std::string(name));
    if (it == webhooks_.end()) return error::WebhookNotFound(name);
    return it->second;
  }

  absl::StatusOr<v1::Webhook> GetWebhook(const Caller& caller,
                                         const v1::GetWebhookRequest& request) const {
    RefreshWebhooks();
    absl::MutexLock lock(&mu_);
    SOP_ASSIGN_OR_RETURN(v1::Webhook webhook, FindWebhookLocked(caller, "name", request.name()));
    return WithoutSecret(std::move(webhook));
  }

  int PageSize(int requested) const {
    if (requested <= 0) return kDefaultPageSize;
    return std::min(requested, kMaxPageSize);
  }

  absl::StatusOr<v1::ListWebhooksResponse> ListWebhooks(
      const Caller& caller, const v1::ListWebhooksRequest& request) const {
    SOP_ASSIGN_OR_RETURN(std::string org, ParseOrgName("parent", request.parent()));
    if (org != caller.org) return error::OrgNotFound(request.parent());
    SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kManageWebhooks));
    if (request.page_size() < 0) return error::InvalidField("page_size", "must not be negative");
    const std::string request_key = absl::StrCat("ListWebhooks|", request.parent());
    SOP_ASSIGN_OR_RETURN(std::string after, page_tokens_.Read(request.page_token(), request_key));
    const int size = PageSize(request.page_size());
    v1::ListWebhooksResponse response;
    RefreshWebhooks();
    absl::MutexLock lock(&mu_);
    const std::string prefix = WebhookPrefix(org);
    for (auto it = webhooks_.upper_bound(after.empty() ? prefix : after);
         it != webhooks_.end() && absl::StartsWith(it->first, prefix); ++it) {
      if (response.webhooks_size() == size) {
        response.set_next_page_token(
            page_tokens_.Make(response.webhooks(size - 1).name(), request_key));
        break;
      }
      *response.add_webhooks() = WithoutSecret(it->second);
    }
    return response;
  }

  absl::StatusOr<v1::DeleteWebhookResponse> DeleteWebhook(const Caller& caller,
                                                          const v1::DeleteWebhookRequest& request) {
    RefreshWebhooks();
    absl::MutexLock lock(&mu_);
    SOP_ASSIGN_OR_RETURN(v1::Webhook webhook, FindWebhookLocked(caller, "name", request.name()));
    SOP_RETURN_IF_ERROR(store_->DeleteWebhook(webhook.name()));
    webhooks_.erase(webhook.name());
    auto it = deliveries_.find(webhook.name());
    if (it != deliveries_.end()) {
      for (const auto& [id, d] : it->second) {
        due_.erase({FromProtoTimestamp(d.next_attempt_time()), d.name()});
      }
      deliveries_.erase(it);
    }
    return v1::DeleteWebhookResponse();
  }

  absl::StatusOr<v1::ListWebhookDeliveriesResponse> ListWebhookDeliveries(
      const Caller& caller, const v1::ListWebhookDeliveriesRequest& request) const {
    if (request.page_size() < 0) return error::InvalidField("page_size", "must not be negative");
    const std::string request_key =
        absl::StrCat("ListWebhookDeliveries|", request.parent(), "|", request.dead_only());
    const int size = PageSize(request.page_size());
    v1::ListWebhookDeliveriesResponse response;
    RefreshWebhooks();
    absl::MutexLock lock(&mu_);
    SOP_ASSIGN_OR_RETURN(v1::Webhook webhook,
                         FindWebhookLocked(caller, "parent", request.parent()));
    SOP_ASSIGN_OR_RETURN(std::string before, page_tokens_.Read(request.page_token(), request_key));
    auto found = deliveries_.find(webhook.name());
    if (found == deliveries_.end()) return response;
    const auto& list = found->second;
    auto it = before.empty() ? list.rbegin() : std::make_reverse_iterator(list.lower_bound(before));
    for (; it != list.rend(); ++it) {
      const v1::WebhookDelivery& d = it->second;
      if (request.dead_only() && d.state() != v1::WebhookDelivery::DEAD) continue;
      if (response.deliveries_size() == size) {
        const v1::WebhookDelivery& last = response.deliveries(size - 1);
        response.set_next_page_token(
            page_tokens_.Make(last.name().substr(last.name().rfind('/') + 1), request_key));
        break;
      }
      *response.add_deliveries() = d;
    }
    return response;
  }

  absl::StatusOr<v1::WebhookDelivery> ReplayWebhookDelivery(
      const Caller& caller, const v1::ReplayWebhookDeliveryRequest& request) {
    WebhookKeyParts parts;
    SOP_RETURN_IF_ERROR(SplitWebhookName("name", request.name(), &parts));
    if (parts.delivery.empty()) {
      return error::InvalidResourceName("name", request.name(),
                                        "orgs/{org}/webhooks/{webhook}/deliveries/{delivery}");
    }
    if (parts.org != caller.org) return error::DeliveryNotFound(request.name());
    SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kManageWebhooks));
    const std::string webhook = absl::StrCat(WebhookPrefix(parts.org), parts.webhook);
    absl::MutexLock lock(&mu_);
    auto list = deliveries_.find(webhook);
    if (list == deliveries_.end() || !list->second.count(parts.delivery) > 0) {
      return error::DeliveryNotFound(request.name());
    }
    v1::WebhookDelivery replayed = list->second[parts.delivery];
    if (replayed.state() != v1::WebhookDelivery::DEAD) {
      return error::DeliveryNotDead(request.name(),
                                    v1::WebhookDelivery::State_Name(replayed.state()));
    }
    replayed.set_state(v1::WebhookDelivery::PENDING);
    replayed.set_attempts(0);
    replayed.set_replay_count(replayed.replay_count() + 1);
    *replayed.mutable_next_attempt_time() = ToProtoTimestamp(clock_->Now());
    SOP_RETURN_IF_ERROR(store_->WriteDeliveries({replayed}, {}));
    list->second[parts.delivery] = replayed;
    due_.emplace(FromProtoTimestamp(replayed.next_attempt_time()), replayed.name());
    work_cv_.SignalAll();
    return replayed;
  }

  bool WaitIdle(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      bool idle;
      {
        absl::MutexLock lock(&queue_mu_);
        idle = queue_.empty() && !processing_;
      }
      if (idle) {
        absl::MutexLock lock(&mu_);
        idle = in_flight_ == 0 && (due_.empty() || due_.begin()->first > clock_->Now());
      }
      if (idle) return true;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  }

 private:
  // The feed's thread: hands queued events out, and runs the REVIEW_DUE
  // scan on its interval.
  void RunEvents() {
    absl::Time next_scan = absl::Now() + options_.review_due_scan_interval;
    while (true) {
      Pending pending;
      {
        absl::MutexLock lock(&queue_mu_);
        queue_mu_.AwaitWithDeadline(
            absl::Condition(
                +[](Impl* impl) { return impl->queue_stop_ || !impl->queue_.empty(); }, this),
            next_scan);
        // At shutdown the queued events are still handed out (their
        // deliveries stored), then the thread ends.
        if (queue_.empty() && queue_stop_) return;
        if (queue_.empty()) {
          pending.event.clear_type();
        } else {
          pending = std::move(queue_.front());
          queue_.pop_front();
          processing_ = true;
        }
      }
      if (pending.event.type() != v1::ChangeEvent::TYPE_UNSPECIFIED) {
        HandOut(pending);
        absl::MutexLock lock(&queue_mu_);
        processing_ = false;
      }
      if (absl::Now() >= next_scan && !stopping()) {
        ScanReviewDue();
        next_scan = absl::Now() + options_.review_due_scan_interval;
      }
    }
  }

  bool stopping() {
    absl::MutexLock lock(&queue_mu_);
    return queue_stop_;
  }

  // Whether other nodes share the store (Options::node_id).
  bool shared() const { return !options_.node_id.empty(); }

  // Whether this node made delivery `id` (every delivery, on one node).
  bool OwnDelivery(absl::string_view id) const {
    return !shared() || absl::EndsWith(id, absl::StrCat("-", options_.node_id));
  }

  // With a shared store: re-reads the webhooks, written through any node.
  // The read (from etcd) runs outside mu_, which the delivery threads take;
  // when it fails, the ones read last stay.
  void RefreshWebhooks() const ABSL_LOCKS_EXCLUDED(mu_) {
    if (!shared()) return;
    std::map<std::string, v1::Webhook> stored;
    const absl::Status read = store_->ForEachWebhook([&](const v1::Webhook& w) {
      stored[w.name()] = w;
      return absl::OkStatus();
    });
    if (!read.ok()) {
      LogLine(absl::StrCat("events: webhooks not re-read: ", read.ToString()));
      return;
    }
    absl::MutexLock lock(&mu_);
    webhooks_ = std::move(stored);
  }

  void HandOut(const Pending& pending) {
    const std::string org = OrgOfSop(pending.event.sop());
    {
      const std::string message = pending.event.SerializeAsString();
      absl::MutexLock lock(&watches_->mu);
      for (auto& w : watches_->watches) {
        if (w->Accepts(pending, org)) w->Push(message);
      }
    }
    RefreshWebhooks();
    absl::MutexLock lock(&mu_);
    const std::string prefix = WebhookPrefix(org);
    std::vector<v1::WebhookDelivery> put;
    std::vector<std::string> erase;
    std::vector<std::pair<std::string, std::string>> added;  // webhook, id
    const google::protobuf::Timestamp now = ToProtoTimestamp(clock_->Now());
    for (auto it = webhooks_.lower_bound(prefix);
         it != webhooks_.end() && absl::StartsWith(it->first, prefix); ++it) {
      const v1::Webhook& webhook = it->second;
      if (!WantsType(webhook.event_types(), pending.event.type())) continue;
      std::string id = absl::StrFormat("d%0*d", kDeliverySeqDigits, next_seq_++);
      if (shared()) absl::StrAppend(&id, "-", options_.node_id);
      v1::WebhookDelivery d;
      d.set_name(absl::StrCat(webhook.name(), "/deliveries/", id));
      *d.mutable_event() = pending.event;
      d.set_state(v1::WebhookDelivery::PENDING);
      *d.mutable_create_time() = now;
      *d.mutable_next_attempt_time() = now;
      put.push_back(d);
      added.emplace_back(webhook.name(), id);
      // The oldest beyond the limit go in the same write.
      const auto& list = deliveries_[webhook.name()];
      size_t excess = list.size() + 1 > options_.max_deliveries_per_webhook
                          ? list.size() + 1 - options_.max_deliveries_per_webhook
                          : 0;
      for (auto old = list.begin(); excess > 0 && old != list.end(); ++old, --excess) {
        erase.push_back(old->second.name());
      }
    }
    if (put.empty()) return;
    absl::Status written = store_->WriteDeliveries(put, erase);
    if (!written.ok()) {
      LogLine(absl::StrCat("events: deliveries of ", pending.event.event_id(), " (",
                           pending.event.sop(), ") not recorded: ", written.ToString()));
      return;
    }
    for (const std::string& name : erase) {
      WebhookKeyParts parts;
      if (!SplitWebhookName("name", name, &parts).ok()) continue;
      auto& list = deliveries_[absl::StrCat(WebhookPrefix(parts.org), parts.webhook)];
      auto old = list.find(parts.delivery);
      if (old == list.end()) continue;
      due_.erase({FromProtoTimestamp(old->second.next_attempt_time()), name});
      list.erase(old);
    }
    for (size_t i = 0; i < put.size(); ++i) {
      deliveries_[added[i].first][added[i].second] = put[i];
      due_.emplace(FromProtoTimestamp(put[i].next_attempt_time()), put[i].name());
    }
    work_cv_.SignalAll();
  }

  // One attempt's inputs, copied out of the lock.
  struct Attempt {
    std::string webhook;
    std::string id;
    v1::WebhookDelivery delivery;
    v1::Webhook hook;
  };

  void RunDeliveries() {
    mu_.Lock();
    while (!stop_) {
      std::optional<Attempt> attempt;
      absl::Duration wait = absl::Milliseconds(100);
      const absl::Time now = clock_->Now();
      for (auto it = due_.begin(); it != due_.end(); ++it) {
        WebhookKeyParts parts;
        if (!SplitWebhookName("name", it->second, &parts).ok()) continue;
        const std::string webhook = absl::StrCat(WebhookPrefix(parts.org), parts.webhook);
        if (busy_.contains(webhook)) continue;
        if (it->first > now) {
          wait = std::min(wait, it->first - now);
          break;
        }
        auto hook = webhooks_.find(webhook);
        auto list = deliveries_.find(webhook);
        if (hook == webhooks_.end() || list == deliveries_.end() ||
            !list->second.count(parts.delivery) > 0) {
          due_.erase(it);
          break;  // the iterator is gone: look again
        }
        attempt = Attempt{webhook, parts.delivery, list->second[parts.delivery], hook->second};
        due_.erase(it);
        break;
      }
      if (!attempt) {
        work_cv_.WaitWithTimeout(&mu_, std::max(wait, absl::Milliseconds(1)));
        continue;
      }
      busy_.insert(attempt->webhook);
      ++in_flight_;
      mu_.Unlock();
      v1::WebhookDelivery done = Send(*attempt);
      mu_.Lock();
      busy_.erase(attempt->webhook);
      --in_flight_;
      Record(*attempt, std::move(done));
      work_cv_.SignalAll();
    }
    mu_.Unlock();
  }

  // Makes one attempt; returns the delivery as it stands after it.
  v1::WebhookDelivery Send(const Attempt& attempt) {
    v1::WebhookDelivery d = attempt.delivery;
    const v1::Webhook& hook = attempt.hook;
    const std::string body = WebhookBody(hook.payload_format(), d.event());
    absl::StatusOr<ParsedUrl> url = ParseHttpUrl(hook.url());
    absl::StatusOr<HttpResponse> response;
    if (!url.ok()) {
      response = url.status();
    } else {
      HttpPostRequest request;
      request.host = url->host;
      request.port = url->port;
      request.target = url->target;
      request.body = body;
      request.timeout = options_.attempt_timeout;
      request.max_response_bytes = 64 << 10;
      request.headers = {
          {"X-SopSidebar-Signature",
           WebhookSignature(hook.secret(), absl::ToUnixSeconds(clock_->Now()), body)},
          {"X-SopSidebar-Event-Id", d.event().event_id()},
          {"X-SopSidebar-Delivery", d.name()},
      };
      response = poster_(request);
    }
    const absl::Time now = clock_->Now();
    d.set_attempts(d.attempts() + 1);
    *d.mutable_last_attempt_time() = ToProtoTimestamp(now);
    if (response.ok() && response->status >= 200 && response->status < 300) {
      d.set_state(v1::WebhookDelivery::DELIVERED);
      d.set_last_http_status(response->status);
      d.clear_last_error();
      d.clear_next_attempt_time();
      *d.mutable_latency() = ToProtoDuration(now - FromProtoTimestamp(d.event().time()));
      return d;
    }
    if (response.ok()) {
      d.set_last_http_status(response->status);
      std::string excerpt = response->body.substr(0, 200);
      d.set_last_error(absl::StrCat("the receiver answered HTTP ", response->status,
                                    excerpt.empty() ? "" : ": ", excerpt));
    } else {
      d.set_last_http_status(0);
      d.set_last_error(std::string(
          error::WebhookUnreachable(hook.url(), response.status().message()).message()));
    }
    if (d.attempts() >= std::max(1, hook.max_attempts())) {
      d.set_state(v1::WebhookDelivery::DEAD);
      d.clear_next_attempt_time();
    } else {
      absl::Duration backoff;
      {
        absl::MutexLock lock(&rng_mu_);
        backoff = FullJitterBackoff(d.attempts(), options_.backoff_base, options_.backoff_cap,
                                    absl::Uniform(rng_, 0.0, 1.0));
      }
      d.set_state(v1::WebhookDelivery::PENDING);
      *d.mutable_next_attempt_time() = ToProtoTimestamp(now + backoff);
    }
    return d;
  }

  void Record(const Attempt& attempt, v1::WebhookDelivery done) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto list = deliveries_.find(attempt.webhook);
    // Deleted (with its webhook, or trimmed) meanwhile: nothing to record.
    if (list == deliveries_.end() || !list->second.count(attempt.id) > 0) return;
    absl::Status written = store_->WriteDeliveries({done}, {});
    if (!written.ok()) {
      LogLine(
          absl::StrCat("events: delivery ", done.name(), " not recorded: ", written.ToString()));
    }
    if (done.state() == v1::WebhookDelivery::PENDING) {
      due_.emplace(FromProtoTimestamp(done.next_attempt_time()), done.name());
    }
    list->second[attempt.id] = std::move(done);
  }

  WebhookStore* const store_;
  const SopRegistry* const registry_;
  const Clock* const clock_;
  const Options options_;
  const Poster poster_;
  const PageTokenCodec page_tokens_;
  const std::shared_ptr<WatchList> watches_;

  absl::Mutex queue_mu_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool processing_ ABSL_GUARDED_BY(queue_mu_) = false;
  bool queue_stop_ ABSL_GUARDED_BY(queue_mu_) = false;

  mutable absl::Mutex mu_;
  absl::CondVar work_cv_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  // Kept as stored (re-read from a shared store: RefreshWebhooks).
  mutable std::map<std::string, v1::Webhook> webhooks_ ABSL_GUARDED_BY(mu_);
  // By webhook name, then delivery id (oldest first).
  std::map<std::string, std::map<std::string, v1::WebhookDelivery>> deliveries_
      ABSL_GUARDED_BY(mu_);
  // PENDING deliveries not in flight, by next attempt time.
  std::set<std::pair<absl::Time, std::string>> due_ ABSL_GUARDED_BY(mu_);
  // Webhooks with an attempt in flight.
  absl::flat_hash_set<std::string> busy_ ABSL_GUARDED_BY(mu_);
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<std::string, absl::Time> review_marks_ ABSL_GUARDED_BY(mu_);

  absl::Mutex rng_mu_;
  absl::BitGen rng_ ABSL_GUARDED_BY(rng_mu_);

  std::thread events_thread_;
  std::vector<std::thread> workers_;
};

absl::StatusOr<std::unique_ptr<ChangeEvents>> ChangeEvents::Create(WebhookStore* store,
                                                                   const SopRegistry* registry,
                                                                   const Clock* clock,
                                                                   Options options, Poster poster) {
  auto impl = std::make_unique<Impl>(store, registry, clock, std::move(options), std::move(poster));
  SOP_RETURN_IF_ERROR(impl->Load());
  impl->StartThreads();
  return std::unique_ptr<ChangeEvents>(new ChangeEvents(std::move(impl)));
}

ChangeEvents::ChangeEvents(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ChangeEvents::~ChangeEvents() = default;

void ChangeEvents::SopWritten(absl::string_view action, const Caller& caller, const v1::Sop& head) {
  impl_->SopWritten(action, caller, head);
}

absl::StatusOr<std::unique_ptr<MessageSubscription>> ChangeEvents::WatchChanges(
    const Caller& caller, const v1::WatchChangesRequest& request,
    std::shared_ptr<MessageSink> sink) {
  return impl_->WatchChanges(caller, request, std::move(sink));
}

absl::StatusOr<v1::Webhook> ChangeEvents::CreateWebhook(const Caller& caller,
                                                        const v1::CreateWebhookRequest& request) {
  return impl_->CreateWebhook(caller, request);
}

absl::StatusOr<v1::Webhook> ChangeEvents::GetWebhook(const Caller& caller,
                                                     const v1::GetWebhookRequest& request) const {
  return impl_->GetWebhook(caller, request);
}

absl::StatusOr<v1::ListWebhooksResponse> ChangeEvents::ListWebhooks(
    const Caller& caller, const v1::ListWebhooksRequest& request) const {
  return impl_->ListWebhooks(caller, request);
}

absl::StatusOr<v1::DeleteWebhookResponse> ChangeEvents::DeleteWebhook(
    const Caller& caller, const v1::DeleteWebhookRequest& request) {
  return impl_->DeleteWebhook(caller, request);
}

absl::StatusOr<v1::ListWebhookDeliveriesResponse> ChangeEvents::ListWebhookDeliveries(
    const Caller& caller, const v1::ListWebhookDeliveriesRequest& request) const {
  return impl_->ListWebhookDeliveries(caller, request);
}

absl::StatusOr<v1::WebhookDelivery> ChangeEvents::ReplayWebhookDelivery(
    const Caller& caller, const v1::ReplayWebhookDeliveryRequest& request) {
  return impl_->ReplayWebhookDelivery(caller, request);
}

int ChangeEvents::ScanReviewDue() { return impl_->ScanReviewDue(); }

bool ChangeEvents::WaitIdleForTesting(absl::Duration timeout) { return impl_->WaitIdle(timeout); }

void ChangeEvents::Shutdown() { impl_->Shutdown(); }

}  // namespace sopsidebar
