// How sopd serves a unary call. Every method of SopService, ContextService
// and AdminService is registered raw (bytes in, bytes out) on gRPC's callback
// API and goes through CallRunner::Serve, which
//   1. parses the request itself: bytes that do not parse (invalid UTF-8 in a
//      string, nesting past protobuf's depth limit, broken wire data) get
//      INVALID_ARGUMENT naming the message, and the field for invalid UTF-8,
//      instead of gRPC's empty INTERNAL or UNIMPLEMENTED, and no log line;
//   2. authenticates the caller (bearer token -> Caller);
//   3. runs the handler where its Work says: in-memory work on gRPC's
//      callback thread; work that may block (storage reads, writes waiting
//      for an fsync) on a bounded WorkQueue, so that a burst of calls waits
//      its turn instead of being refused, and only a full queue answers
//      UNAVAILABLE, at once and with nothing done;
//   4. writes the response, or logs the rejection (rate-limited) and
//      converts the error in the one conversion function.
#ifndef SOPSIDEBAR_SERVER_SERVICE_CALL_RUNNER_H_
#define SOPSIDEBAR_SERVER_SERVICE_CALL_RUNNER_H_

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/auth/caller.h"
#include "common/errors.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/message_lite.h"
#include "grpcpp/grpcpp.h"
#include "server/common/log.h"
#include "server/common/work_queue.h"
#include "server/domain/auth/access_registry.h"

namespace sopsidebar {

// Turns call metadata into a Caller. Thread-safe.
class CallAuthenticator {
 public:
  // `access` must outlive the authenticator; `max_call_duration` caps the
  // deadline the domain sees.
  CallAuthenticator(const AccessRegistry* access, absl::Duration max_call_duration)
      : access_(access), max_call_duration_(max_call_duration) {}

  // The caller behind `authorization: Bearer <token>`, or UNAUTHENTICATED.
  absl::StatusOr<Caller> Authenticate(const grpc::ServerContextBase& ctx) const;

 private:
  const AccessRegistry* const access_;
  const absl::Duration max_call_duration_;
};

// Where a method's handler runs.
enum class Work {
  kInline,  // in memory and never blocks: on gRPC's callback thread
  kReads,   // may read storage: on the read queue
  kWrites,  // writes storage and waits for its fsync: on the write queue
};

// Thread-safe. Destroying it runs the calls already queued, so the server
// must be shut down first (no new calls) and the registries it serves must
// outlive it.
class CallRunner {
 public:
  struct Options {
    // Threads and waiting calls for Work::kReads.
    int read_threads = 8;
    size_t read_queue = 1024;
    // Threads and waiting calls for Work::kWrites. Writes are serialised in
    // the domain (one fsync each), so a few threads keep the disk busy.
    int write_threads = 4;
    size_t write_queue = 256;
    // Rejected calls (UNAUTHENTICATED, PERMISSION_DENIED, UNAVAILABLE,
    // RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED) are logged at most this often.
    LogLimiter::Options rejection_log;
  };

  // `auth` must outlive the runner.
  CallRunner(const CallAuthenticator* auth, Options options);

  // Serves one call of `method` whose request message is `Request`:
  // `handler(const Caller&, const Request&)` returns absl::StatusOr of the
  // response message, or of its serialised bytes (std::string). Returns
  // the reactor to hand back to gRPC.
  template <typename Request, typename Handler>
  grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* ctx,
                                  const grpc::ByteBuffer* request_bytes,
                                  grpc::ByteBuffer* response_bytes, absl::string_view method,
                                  Work work, Handler handler);

 private:
  // The stack block an inline call's request is parsed into: a CRM context
  // of a few dozen fields fits; a larger one spills into the arena's heap.
  static constexpr size_t kInlineArenaBlock = 8192;

  // Parses `bytes` into `request` and authenticates the caller.
  absl::StatusOr<Caller> Admit(const grpc::CallbackServerContext& ctx,
                               const grpc::ByteBuffer& bytes,
                               google::protobuf::MessageLite* request) const;
  // OK unless the call was cancelled or its deadline passed while it waited.
  static absl::Status StillWanted(const grpc::CallbackServerContext& ctx, const Caller& caller);
  static absl::Status Respond(absl::StatusOr<std::string> wire, grpc::ByteBuffer* out);
  template <typename Response>
  static absl::Status Respond(absl::StatusOr<Response> result, grpc::ByteBuffer* out) {
    if (!result.ok()) return result.status();
    return WriteMessage(*result, out);
  }
  static absl::Status WriteMessage(const google::protobuf::MessageLite& message,
                                   grpc::ByteBuffer* out);
  // Logs `status` if it is a rejection, and finishes the call with it.
  void Finish(const grpc::CallbackServerContext& ctx, grpc::ServerUnaryReactor* reactor,
              absl::string_view method, const absl::Status& status);

  const CallAuthenticator* const auth_;
  LogLimiter rejection_log_;
  // Declared last: destroyed first, while everything its tasks use exists.
  WorkQueue reads_;
  WorkQueue writes_;
};

template <typename Request, typename Handler>
grpc::ServerUnaryReactor* CallRunner::Serve(grpc::CallbackServerContext* ctx,
                                            const grpc::ByteBuffer* request_bytes,
                                            grpc::ByteBuffer* response_bytes,
                                            absl::string_view method, Work work,
                                            Handler handler) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (work == Work::kInline) {
    // Parsing a lookup's field map into the heap (a node, a key and a Value
    // per field) and freeing it again costs more than the lookup itself.
    alignas(std::max_align_t) char block[kInlineArenaBlock];
    google::protobuf::ArenaOptions arena_options;
    arena_options.initial_block = block;
    arena_options.initial_block_size = sizeof(block);
    google::protobuf::Arena arena(arena_options);
    auto* request = google::protobuf::Arena::CreateMessage<Request>(&arena);
    absl::StatusOr<Caller> caller = Admit(*ctx, *request_bytes, request);
    Finish(*ctx, reactor, method,
           caller.ok() ? Respond(handler(*caller, *request), response_bytes) : caller.status());
    return reactor;
  }
  auto request = std::make_unique<Request>();
  absl::StatusOr<Caller> caller = Admit(*ctx, *request_bytes, request.get());
  if (!caller.ok()) {
    Finish(*ctx, reactor, method, caller.status());
    return reactor;
  }
  WorkQueue& queue = work == Work::kReads ? reads_ : writes_;
  const bool queued = queue.TrySchedule(
      [this, ctx, reactor, response_bytes, method, caller = *std::move(caller),
       request = std::move(request), handler = std::move(handler)]() mutable {
        absl::Status wanted = StillWanted(*ctx, caller);
        Finish(*ctx, reactor, method,
               wanted.ok() ? Respond(handler(caller, *request), response_bytes) : wanted);
      });
  if (!queued) {
    Finish(*ctx, reactor, method, error::ServerBusy(queue.options().name, queue.queued()));
  }
  return reactor;
}

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_SERVICE_CALL_RUNNER_H_
