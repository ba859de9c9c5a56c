// The methods of sopsidebar.v1 as every transport sees them: what to parse
// the request into, where the work runs, and the domain call behind it. sopd
// serves each method once, here; the gRPC server (server/service) and the
// Connect/HTTP gateway (server/http) only move bytes and map errors.
#ifndef SOPSIDEBAR_SERVER_API_API_METHOD_H_
#define SOPSIDEBAR_SERVER_API_API_METHOD_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/caller.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "server/common/message_stream.h"

namespace sopsidebar {

// Where a unary method's work runs.
enum class Work {
  kInline,  // in memory and never blocks: on the transport's own thread
  kReads,   // may read storage: on the read queue
  kWrites,  // writes storage and waits for its fsync: on the write queue
  kSlow,    // waits on an outside server (a drafting model) for up to its
            // timeout: on a small queue of its own, so that it holds neither
            // the read nor the write queue
};

// A unary method bound to the domain. Immutable; thread-safe.
struct UnaryMethod {
  // The proto method; its full path "/sopsidebar.v1.SopService/CreateSop"
  // is both the gRPC method and the Connect URL path.
  const google::protobuf::MethodDescriptor* descriptor = nullptr;
  Work work = Work::kInline;
  // The request's and response's default instances (New() makes one).
  const google::protobuf::Message* request_prototype = nullptr;
  const google::protobuf::Message* response_prototype = nullptr;
  // The method for `caller`: the serialised response, or an error of
  // common/errors.h. Called where `work` says (Dispatcher decides).
  std::function<absl::StatusOr<std::string>(const Caller&, const google::protobuf::Message&)> run;
};

// What a server stream's messages are to its transport.
enum class Delivery {
  // States: a newer message supersedes one not yet written, so a slow
  // client holds one message (WatchSops).
  kNewest,
  // Parts of one whole (CreateBackup's chunks): every message is written,
  // in order; the producer paces itself with MessageSink::AwaitRoom. A
  // transport that cannot promise this answers UNIMPLEMENTED.
  kEveryMessage,
};

// A server-streaming method bound to the domain. Immutable; thread-safe.
struct StreamMethod {
  const google::protobuf::MethodDescriptor* descriptor = nullptr;
  Delivery delivery = Delivery::kNewest;
  const google::protobuf::Message* request_prototype = nullptr;
  const google::protobuf::Message* response_prototype = nullptr;
  // Opens the stream for `caller`: an error before any message, or the
  // subscription whose lifetime bounds the stream. Messages (serialised
  // responses) go to `sink`, the first possibly before open returns. In
  // memory; never blocks (a producer that reads storage runs on a thread
  // its subscription owns).
  std::function<absl::StatusOr<std::unique_ptr<MessageSubscription>>(
      const Caller&, const google::protobuf::Message&, std::shared_ptr<MessageSink>)>
      open;
  // A keepalive message for transports whose streams need one (Connect over
  // HTTP/1.1): a serialised response carrying no data. Null when the method
  // has none.
  std::function<std::string()> heartbeat;
};

// The methods by path ("/sopsidebar.v1.ContextService/LookupSops"), as a
// transport finds them: ApiMethods in sopd, a hand-built table in a
// transport's tests. Implementations are immutable and thread-safe.
class MethodLookup {
 public:
  virtual ~MethodLookup() = default;
  // The method at `path`, or null.
  virtual const UnaryMethod* FindUnary(absl::string_view path) const = 0;
  virtual const StreamMethod* FindStream(absl::string_view path) const = 0;
};

// "/package.Service/Method", the path of `method` on both transports.
std::string MethodPath(const google::protobuf::MethodDescriptor& method);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_API_API_METHOD_H_
