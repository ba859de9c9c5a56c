#include "server/domain/registry/lookup_watch.h"

#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"

namespace sopsidebar {
namespace {

// Whose allowance of open watches a watch counts against: its token's, or,
// for the viewers an integration's token acts for, each viewer's own (one
// integration token serves every rep of a CRM org).
std::string WatchAllowance(const Caller& caller) {
  return caller.via.empty() ? caller.token_name
                            : absl::StrCat(caller.token_name, "\n", caller.user_id);
}

// The WatchSopsResponse with `result` set to the lookup whose wire form is
// `lookup`, without parsing it back: the field's tag, its size, the bytes.
std::string WrapResult(const std::string& lookup) {
  std::string message;
  message.reserve(lookup.size() + 6);
  {
    // Their destructors give back what the stream reserved past the end.
    google::protobuf::io::StringOutputStream stream(&message);
    google::protobuf::io::CodedOutputStream out(&stream);
    google::protobuf::internal::WireFormatLite::WriteBytes(
        v1::WatchSopsResponse::kResultFieldNumber, lookup, &out);
  }
  return message;
}

// The last message of a watch ended by Shutdown: a WatchSopsResponse with
// `reconnect` set.
std::string ReconnectMessage() {
  v1::WatchSopsResponse message;
  message.mutable_reconnect()->set_reason(
      "sopd is shutting down; open the watch again to reach a server that is up");
  return message.SerializeAsString();
}

}  // namespace

namespace lookup_watch_internal {

// One open watch. Its sink is called only under `mu` and only while `ended`
// is false; whoever sets `ended` (the subscription, a failed re-run,
// Shutdown) does so under `mu`, so once it is set nothing reaches the sink.
struct OpenWatch {
  OpenWatch(Caller caller, v1::LookupSopsRequest request, std::shared_ptr<MessageSink> sink)
      : caller(std::move(caller)), request(std::move(request)), sink(std::move(sink)) {}

  const Caller caller;
  const v1::LookupSopsRequest request;
  const std::shared_ptr<MessageSink> sink;
  absl::Mutex mu;
  bool ended ABSL_GUARDED_BY(mu) = false;
  // The lookup bytes of the last message sent.
  std::string last_sent ABSL_GUARDED_BY(mu);
};

}  // namespace lookup_watch_internal

using lookup_watch_internal::OpenWatch;

class LookupWatchHub::Impl {
 public:
  Impl(const SopRegistry* registry, TokenCheck token_check, Options options)
      : registry_(registry), token_check_(std::move(token_check)), options_(options) {}

  void Start() {
    notifier_ = std::thread([this] { NotifierLoop(); });
  }
  void Join() {
    if (notifier_.joinable()) notifier_.join();
  }

  // Ends its watch when destroyed.
  class Subscription : public MessageSubscription {
   public:
    Subscription(std::weak_ptr<Impl> hub, std::shared_ptr<OpenWatch> watch)
        : hub_(std::move(hub)), watch_(std::move(watch)) {}
    ~Subscription() override {
      {
        absl::MutexLock lock(&watch_->mu);
        watch_->ended = true;
      }
      if (std::shared_ptr<Impl> hub = hub_.lock()) hub->Unregister(watch_.get());
    }

   private:
    const std::weak_ptr<Impl> hub_;
    const std::shared_ptr<OpenWatch> watch_;
  };

  absl::StatusOr<std::shared_ptr<OpenWatch>> Open(const Caller& caller,
                                                  const v1::WatchSopsRequest& request,
                                                  std::shared_ptr<MessageSink> sink);
  // Forgets `watch` (a no-op when it is not open) and frees its slot.
  void Unregister(OpenWatch* watch) ABSL_LOCKS_EXCLUDED(mu_);
  void CatalogChanged() ABSL_LOCKS_EXCLUDED(mu_);
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);
  size_t open_watches() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return watches_.size();
  }

 private:
  void NotifierLoop();
  // Re-runs `watch`; false when it ended it (closed its sink).
  bool Rerun(OpenWatch& watch, std::string* buffer);

  const SopRegistry* const registry_;
  const TokenCheck token_check_;
  const Options options_;
  std::thread notifier_;

  mutable absl::Mutex mu_;
  absl::CondVar wake_;
  bool changed_ ABSL_GUARDED_BY(mu_) = false;
  // Counts CatalogChanged calls: Open re-runs its first lookup when a change
  // came between that lookup and the watch's registration.
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<OpenWatch*, std::shared_ptr<OpenWatch>> watches_ ABSL_GUARDED_BY(mu_);
  // Open watches by WatchAllowance; no entry for zero.
  absl::flat_hash_map<std::string, size_t> per_token_ ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<std::shared_ptr<OpenWatch>> LookupWatchHub::Impl::Open(
    const Caller& caller, const v1::WatchSopsRequest& request, std::shared_ptr<MessageSink> sink) {
  v1::LookupSopsRequest lookup;
  if (request.has_context()) *lookup.mutable_context() = request.context();
  lookup.set_max_results(request.max_results());
  Caller watcher = caller;
  watcher.deadline = absl::InfiniteFuture();  // the call's deadline is for opening

  uint64_t looked_up_at;
  {
    absl::MutexLock lock(&mu_);
    looked_up_at = generation_;
  }
  std::string result;
  // The request's own errors come first, as LookupSops reports them.
  SOP_RETURN_IF_ERROR(registry_->LookupSopsWire(caller, lookup, &result));

  auto watch = std::make_shared<OpenWatch>(std::move(watcher), std::move(lookup), std::move(sink));
  // Held until the first message is sent: a re-run that starts meanwhile
  // waits for it, and compares with what it sent.
  absl::MutexLock watch_lock(&watch->mu);
  bool changed_since;
  {
    absl::MutexLock lock(&mu_);
    if (shutting_down_) return error::ShuttingDown();
    auto count = per_token_.find(WatchAllowance(caller));
    if (count != per_token_.end() && count->second >= options_.max_watches_per_token) {
      return error::TooManyWatches("this token", options_.max_watches_per_token);
    }
    if (watches_.size() >= options_.max_watches) {
      return error::TooManyWatches("the server", options_.max_watches);
    }
    watches_.emplace(watch.get(), watch);
    ++per_token_[WatchAllowance(caller)];
    changed_since = generation_ != looked_up_at;
  }
  // A change published after the lookup's snapshot but announced before the
  // watch was registered would have no pass re-run it: re-run it here. (One
  // announced later finds the watch registered.)
  if (changed_since) {
    result.clear();
    absl::Status status = registry_->LookupSopsWire(watch->caller, watch->request, &result);
    if (!status.ok()) {
      watch->ended = true;
      Unregister(watch.get());
      return status;
    }
  }
  watch->sink->Send(WrapResult(result));
  watch->last_sent = std::move(result);
  return watch;
}

void LookupWatchHub::Impl::Unregister(OpenWatch* watch) {
  absl::MutexLock lock(&mu_);
  auto it = watches_.find(watch);
  if (it == watches_.end()) return;
  auto count = per_token_.find(WatchAllowance(watch->caller));
  if (count != per_token_.end() && --count->second == 0) per_token_.erase(count);
  watches_.erase(it);
}

void LookupWatchHub::Impl::CatalogChanged() {
  absl::MutexLock lock(&mu_);
  ++generation_;
  changed_ = true;
  wake_.Signal();
}

void LookupWatchHub::Impl::Shutdown() {
  absl::flat_hash_map<OpenWatch*, std::shared_ptr<OpenWatch>> open;
  {
    absl::MutexLock lock(&mu_);
    shutting_down_ = true;
    open.swap(watches_);
    per_token_.clear();
    wake_.SignalAll();
  }
  const absl::Status closed = error::ShuttingDown();
  const std::string reconnect = ReconnectMessage();
  for (auto& [unused, watch] : open) {
    absl::MutexLock lock(&watch->mu);
    if (watch->ended) continue;
    watch->ended = true;
    watch->sink->Send(reconnect);
    watch->sink->Close(closed);
  }
}

bool LookupWatchHub::Impl::Rerun(OpenWatch& watch, std::string* buffer) {
  absl::MutexLock lock(&watch.mu);
  if (watch.ended) return true;  // its subscription is unregistering it
  absl::Status status = token_check_ ? token_check_(watch.caller) : absl::OkStatus();
  buffer->clear();
  if (status.ok()) status = registry_->LookupSopsWire(watch.caller, watch.request, buffer);
  if (!status.ok()) {
    watch.ended = true;
    watch.sink->Close(std::move(status));
    return false;
  }
  if (*buffer != watch.last_sent) {
    watch.sink->Send(WrapResult(*buffer));
    watch.last_sent.swap(*buffer);
  }
  return true;
}

void LookupWatchHub::Impl::NotifierLoop() {
  std::vector<std::shared_ptr<OpenWatch>> pass;
  std::vector<OpenWatch*> ended;
  std::string buffer;
  absl::Time next_recheck = absl::Now() + options_.recheck_interval;
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      while (!changed_ && !shutting_down_) {
        if (wake_.WaitWithDeadline(&mu_, next_recheck)) break;  // timed out
      }
      if (shutting_down_) return;
      // Cleared before the pass: a change announced during it makes another.
      changed_ = false;
      pass.clear();
      pass.reserve(watches_.size());
      for (const auto& [unused, watch] : watches_) pass.push_back(watch);
    }
    // Every pass re-runs every watch, so it also counts as the recheck.
    next_recheck = absl::Now() + options_.recheck_interval;
    for (const std::shared_ptr<OpenWatch>& watch : pass) {
      if (!Rerun(*watch, &buffer)) ended.push_back(watch.get());
    }
    for (OpenWatch* watch : ended) Unregister(watch);
    ended.clear();
    pass.clear();  // drops the references of watches that ended meanwhile
  }
}

LookupWatchHub::LookupWatchHub(const SopRegistry* registry, TokenCheck token_check, Options options)
    : impl_(std::make_shared<Impl>(registry, std::move(token_check), options)) {
  impl_->Start();
}

LookupWatchHub::~LookupWatchHub() {
  impl_->Shutdown();
  impl_->Join();
}

absl::StatusOr<std::unique_ptr<MessageSubscription>> LookupWatchHub::Watch(
    const Caller& caller, const v1::WatchSopsRequest& request, std::shared_ptr<MessageSink> sink) {
  SOP_ASSIGN_OR_RETURN(std::shared_ptr<OpenWatch> watch,
                       impl_->Open(caller, request, std::move(sink)));
  return std::make_unique<Impl::Subscription>(impl_, std::move(watch));
}

void LookupWatchHub::CatalogChanged() { impl_->CatalogChanged(); }

void LookupWatchHub::Shutdown() { impl_->Shutdown(); }

size_t LookupWatchHub::open_watches() const { return impl_->open_watches(); }

}  // namespace sopsidebar
