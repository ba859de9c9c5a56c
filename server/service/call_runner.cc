#include "server/service/call_runner.h"

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/errors.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "server/service/grpc_status.h"

namespace sopsidebar {
namespace {

grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes.data(), bytes.size());
  return grpc::ByteBuffer(&slice, 1);
}

// One open server-streaming call: the MessageSink the method's producer
// writes to, and the reactor that writes to the client. A message sent while
// a write is in flight waits. For Delivery::kNewest a newer one replaces it
// (a stream's messages are states, the newest supersedes the rest), so a
// slow client holds at most one message; for kEveryMessage every message
// waits its turn and the producer paces itself with AwaitRoom. Deleted in
// OnDone, after its subscription: once that is destroyed, the producer sends
// nothing more.
class StreamReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  explicit StreamReactor(Delivery delivery) : delivery_(delivery) {}

  // The MessageSink the producer holds; it outlives the reactor when the
  // producer keeps it, and then does nothing.
  class Sink final : public MessageSink {
   public:
    explicit Sink(StreamReactor* reactor) : reactor_(reactor) {}
    void Send(std::string message) override {
      absl::MutexLock lock(&mu_);
      if (reactor_ != nullptr) reactor_->Enqueue(std::move(message));
    }
    void Close(absl::Status status) override {
      absl::MutexLock lock(&mu_);
      if (reactor_ != nullptr) reactor_->End(std::move(status));
    }
    // Holds mu_ while it waits, so the reactor stays (Detach waits); the
    // wait ends once the call has finished, which comes before Detach.
    bool AwaitRoom(size_t max_waiting) override {
      absl::MutexLock lock(&mu_);
      return reactor_ != nullptr && reactor_->AwaitRoom(max_waiting);
    }
    void Detach() {
      absl::MutexLock lock(&mu_);
      reactor_ = nullptr;
    }

   private:
    absl::Mutex mu_;
    StreamReactor* reactor_ ABSL_GUARDED_BY(mu_);
  };

  std::shared_ptr<Sink> sink() { return sink_; }

  // Called once the method has opened (or failed to open) the stream.
  void Opened(absl::StatusOr<std::unique_ptr<MessageSubscription>> subscription) {
    if (!subscription.ok()) {
      End(subscription.status());
    }
    bool done;
    {
      absl::MutexLock lock(&mu_);
      if (subscription.ok()) subscription_ = *std::move(subscription);
      opened_ = true;
      done = done_;
    }
    if (done) Release();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) {
      // The client is gone; OnCancel follows or the call already ended.
      FinishLocked(absl::CancelledError("the client went away"));
      return;
    }
    if (!waiting_.empty()) {
      std::string next = std::move(waiting_.front());
      waiting_.pop_front();
      WriteLocked(std::move(next));
    } else if (end_) {
      FinishLocked(*end_);
    }
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    FinishLocked(absl::CancelledError("the client cancelled the stream"));
  }

  void OnDone() override {
    bool opened;
    {
      absl::MutexLock lock(&mu_);
      done_ = true;
      opened = opened_;
    }
    // Before Opened, it releases the reactor.
    if (opened) Release();
  }

 private:
  void Enqueue(std::string message) {
    absl::MutexLock lock(&mu_);
    if (finished_ || end_) return;
    if (writing_) {
      if (delivery_ == Delivery::kNewest) waiting_.clear();
      waiting_.push_back(std::move(message));
    } else {
      WriteLocked(std::move(message));
    }
  }

  void End(absl::Status status) {
    absl::MutexLock lock(&mu_);
    if (finished_ || end_) return;
    if (writing_) {
      end_ = std::move(status);
    } else {
      FinishLocked(status);
    }
  }

  bool AwaitRoom(size_t max_waiting) {
    absl::MutexLock lock(&mu_);
    room_limit_ = max_waiting;
    mu_.Await(absl::Condition(this, &StreamReactor::HasRoomOrEnded));
    return !finished_ && !end_.has_value();
  }

  bool HasRoomOrEnded() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return finished_ || end_.has_value() || waiting_.size() < room_limit_;
  }

  void WriteLocked(std::string message) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    writing_ = true;
    buffer_ = ToByteBuffer(message);
    StartWrite(&buffer_);
  }

  void FinishLocked(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    Finish(ToGrpcStatus(status));
  }

  // Stops the producer (outside mu_: its subscription's destructor may wait
  // for a Send in progress, which takes mu_), then deletes the reactor.
  void Release() {
    sink_->Detach();
    std::unique_ptr<MessageSubscription> subscription;
    {
      absl::MutexLock lock(&mu_);
      subscription = std::move(subscription_);
    }
    subscription.reset();
    delete this;
  }

  const std::shared_ptr<Sink> sink_ = std::make_shared<Sink>(this);
  absl::Mutex mu_;
  std::unique_ptr<MessageSubscription> subscription_ ABSL_GUARDED_BY(mu_);
  grpc::ByteBuffer buffer_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  const Delivery delivery_;
  // Messages sent while a write was in flight, oldest first.
  std::deque<std::string> waiting_ ABSL_GUARDED_BY(mu_);
  // What AwaitRoom waits for: fewer waiting messages than this.
  size_t room_limit_ ABSL_GUARDED_BY(mu_) = 1;
  std::optional<absl::Status> end_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool opened_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

absl::StatusOr<Caller> CallRunner::Admit(const grpc::CallbackServerContext& ctx,
                                         const grpc::ByteBuffer& bytes,
                                         google::protobuf::Message* request) const {
  // The reader only reads the buffer; it takes it non-const.
  grpc::ProtoBufferReader reader(const_cast<grpc::ByteBuffer*>(&bytes));
  absl::Status parsed = reader.status().ok()
                            ? ParseRequest(&reader, request)
                            : error::MalformedRequest(request->GetTypeName(), "unreadable bytes");
  if (!parsed.ok()) return parsed;
  const auto& metadata = ctx.client_metadata();
  auto header = [&metadata](absl::string_view key) -> absl::string_view {
    auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
    return it == metadata.end() ? absl::string_view()
                                : absl::string_view(it->second.data(), it->second.size());
  };
  if (metadata.find("authorization") == metadata.end()) return error::Unauthenticated();
  absl::StatusOr<Caller> caller = dispatcher_->Authenticate(
      header("authorization"),
      {header(kViewerIdHeader), header(kViewerNameHeader), header(kViewerRolesHeader)},
      absl::FromChrono(ctx.deadline()));
  if (caller.ok()) caller->client = ClientOf("grpc", ctx.peer(), header("user-agent"));
  return caller;
}

void CallRunner::Finish(const grpc::CallbackServerContext& ctx, grpc::ServerUnaryReactor* reactor,
                        const UnaryMethod& method, absl::StatusOr<std::string> response,
                        grpc::ByteBuffer* response_bytes, absl::Time start,
                        absl::string_view token_name, absl::string_view user_id) {
  // Before Finish: the context may be gone after it.
  const std::string peer = dispatcher_->access_log() ? ctx.peer() : std::string();
  dispatcher_->CallEnded(
      {Transport::kGrpc, method.descriptor, {}, peer, token_name, user_id, start},
      response.ok() ? absl::OkStatus() : response.status());
  // reactor->Finish comes last: once it is called, the caller may have its
  // answer and the server, this runner included, may be destroyed.
  if (!response.ok()) {
    dispatcher_->LogIfRejected(method.descriptor->name(), ctx.peer(), response.status());
    in_flight_.fetch_sub(1, std::memory_order_acq_rel);
    reactor->Finish(ToGrpcStatus(response.status()));
    return;
  }
  grpc::ByteBuffer buffer = ToByteBuffer(*response);
  response_bytes->Swap(&buffer);
  in_flight_.fetch_sub(1, std::memory_order_acq_rel);
  reactor->Finish(grpc::Status::OK);
}

bool CallRunner::WaitForCallsInFlight(absl::Time deadline) const {
  // Polled: counting calls must cost the hot path no lock.
  while (in_flight_.load(std::memory_order_acquire) > 0) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

grpc::ServerUnaryReactor* CallRunner::Serve(grpc::CallbackServerContext* ctx,
                                            const grpc::ByteBuffer* request_bytes,
                                            grpc::ByteBuffer* response_bytes,
                                            const UnaryMethod& method) {
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  in_flight_.fetch_add(1, std::memory_order_acq_rel);  // until Finish
  if (!admitting_.load(std::memory_order_relaxed)) {
    Finish(*ctx, reactor, method, error::ShuttingDown(), response_bytes, start, {}, {});
    return reactor;
  }
  if (method.work == Work::kInline) {
    // Parsing a lookup's field map into the heap (a node, a key and a Value
    // per field) and freeing it again costs more than the lookup itself.
    alignas(std::max_align_t) char block[kInlineArenaBlock];
    google::protobuf::ArenaOptions arena_options;
    arena_options.initial_block = block;
    arena_options.initial_block_size = sizeof(block);
    google::protobuf::Arena arena(arena_options);
    google::protobuf::Message* request = method.request_prototype->New(&arena);
    absl::StatusOr<Caller> caller = Admit(*ctx, *request_bytes, request);
    if (!caller.ok()) {
      Finish(*ctx, reactor, method, caller.status(), response_bytes, start, {}, {});
      return reactor;
    }
    Finish(*ctx, reactor, method, Dispatcher::RunInline(method, *caller, *request), response_bytes,
           start, caller->token_name, caller->user_id);
    return reactor;
  }
  std::unique_ptr<google::protobuf::Message> request(method.request_prototype->New());
  absl::StatusOr<Caller> caller = Admit(*ctx, *request_bytes, request.get());
  if (!caller.ok()) {
    Finish(*ctx, reactor, method, caller.status(), response_bytes, start, {}, {});
    return reactor;
  }
  // The caller moves into the queue: its ids are kept for the access line.
  std::string token_name;
  std::string user_id;
  if (dispatcher_->access_log()) {
    token_name = caller->token_name;
    user_id = caller->user_id;
  }
  dispatcher_->Schedule(
      method, *std::move(caller), std::move(request), [ctx] { return ctx->IsCancelled(); },
      [this, ctx, reactor, &method, response_bytes, start, token_name = std::move(token_name),
       user_id = std::move(user_id)](absl::StatusOr<std::string> response) {
        Finish(*ctx, reactor, method, std::move(response), response_bytes, start, token_name,
               user_id);
      });
  return reactor;
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* CallRunner::Open(grpc::CallbackServerContext* ctx,
                                                             const grpc::ByteBuffer* request_bytes,
                                                             const StreamMethod& method) {
  const absl::Time start = absl::Now();
  auto* reactor = new StreamReactor(method.delivery);
  std::unique_ptr<google::protobuf::Message> request(method.request_prototype->New());
  absl::StatusOr<Caller> caller = admitting_.load(std::memory_order_relaxed)
                                      ? Admit(*ctx, *request_bytes, request.get())
                                      : absl::StatusOr<Caller>(error::ShuttingDown());
  absl::StatusOr<std::unique_ptr<MessageSubscription>> subscription =
      caller.ok() ? method.open(*caller, *request, reactor->sink()) : caller.status();
  if (!subscription.ok()) {
    dispatcher_->LogIfRejected(method.descriptor->name(), ctx->peer(), subscription.status());
  }
  const std::string peer = dispatcher_->access_log() ? ctx->peer() : std::string();
  dispatcher_->CallEnded({Transport::kGrpc,
                          method.descriptor,
                          {},
                          peer,
                          caller.ok() ? absl::string_view(caller->token_name) : "",
                          caller.ok() ? absl::string_view(caller->user_id) : "",
                          start},
                         subscription.ok() ? absl::OkStatus() : subscription.status());
  reactor->Opened(std::move(subscription));
  return reactor;
}

}  // namespace sopsidebar
