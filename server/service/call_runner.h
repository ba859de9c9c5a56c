// How the gRPC server serves the API's methods (server/api): every method of
// SopService, ContextService and AdminService is registered raw (bytes in,
// bytes out) on gRPC's callback API (ApiService), and CallRunner
//   1. parses the request itself: bytes that do not parse (invalid UTF-8 in a
//      string, nesting past protobuf's depth limit, broken wire data) get
//      INVALID_ARGUMENT naming the message, and the field for invalid UTF-8,
//      instead of gRPC's empty INTERNAL or UNIMPLEMENTED, and no log line;
//   2. authenticates the caller from the `authorization` metadata;
//   3. hands the call to the Dispatcher, which runs it where the method's
//      Work says (in-memory work on gRPC's callback thread, work that may
//      block on a bounded queue);
//   4. writes the response, or logs the rejection (rate-limited) and
//      converts the error in the one conversion function (grpc_status.h).
// A server-streaming method's messages are written by a reactor that holds
// no thread while the stream is open: an open WatchSops costs memory only.
#ifndef SOPSIDEBAR_SERVER_SERVICE_CALL_RUNNER_H_
#define SOPSIDEBAR_SERVER_SERVICE_CALL_RUNNER_H_

#include <atomic>
#include <cstddef>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/auth/caller.h"
#include "google/protobuf/arena.h"
#include "grpcpp/grpcpp.h"
#include "server/api/api_method.h"
#include "server/api/dispatcher.h"

namespace sopsidebar {

// Thread-safe. The dispatcher must outlive it, and the gRPC server must be
// shut down before either is destroyed.
class CallRunner {
 public:
  explicit CallRunner(Dispatcher* dispatcher) : dispatcher_(dispatcher) {}

  // From now on every call (unary or stream) is refused with UNAVAILABLE
  // (error::ShuttingDown) before its request is read, while calls already
  // admitted run to their end: the server is draining. Not undone.
  void StopAdmitting() { admitting_.store(false, std::memory_order_relaxed); }

  // Waits until no unary call is in flight (every one admitted has handed
  // its answer to gRPC) or `deadline` passes; true when none is.
  bool WaitForCallsInFlight(absl::Time deadline) const;

  // Serves one call of a unary `method`. Returns the reactor to hand back
  // to gRPC.
  grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* ctx,
                                  const grpc::ByteBuffer* request_bytes,
                                  grpc::ByteBuffer* response_bytes, const UnaryMethod& method);

  // Opens one call of a server-streaming `method`.
  grpc::ServerWriteReactor<grpc::ByteBuffer>* Open(grpc::CallbackServerContext* ctx,
                                                   const grpc::ByteBuffer* request_bytes,
                                                   const StreamMethod& method);

 private:
  // The stack block an inline call's request is parsed into: a CRM context
  // of a few dozen fields fits; a larger one spills into the arena's heap.
  static constexpr size_t kInlineArenaBlock = 8192;

  // Parses `bytes` into `request` and authenticates the caller.
  absl::StatusOr<Caller> Admit(const grpc::CallbackServerContext& ctx,
                               const grpc::ByteBuffer& bytes,
                               google::protobuf::Message* request) const;
  // Logs `status` if it is a rejection, ends the call in the dispatcher
  // (metrics, access log) as `token_name`/`user_id` (empty when not
  // authenticated) arrived at `start`, and finishes it with the response or
  // the error.
  void Finish(const grpc::CallbackServerContext& ctx, grpc::ServerUnaryReactor* reactor,
              const UnaryMethod& method, absl::StatusOr<std::string> response,
              grpc::ByteBuffer* response_bytes, absl::Time start, absl::string_view token_name,
              absl::string_view user_id);

  Dispatcher* const dispatcher_;
  std::atomic<bool> admitting_{true};
  // Unary calls between Serve and their Finish.
  std::atomic<int> in_flight_{0};
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_SERVICE_CALL_RUNNER_H_
