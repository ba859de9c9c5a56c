// What the Connect/HTTP gateway needs of server/api, as two small
// interfaces, so that the gateway can be tested with a hand-built table of
// methods (api_adapters.h binds them to ApiMethods and Dispatcher). The
// gateway never implements a method itself: it looks it up here and runs it
// through the same dispatcher as gRPC.
#ifndef SOPSIDEBAR_SERVER_HTTP_API_BACKEND_H_
#define SOPSIDEBAR_SERVER_HTTP_API_BACKEND_H_

#include <functional>
#include <memory>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/auth/caller.h"
#include "google/protobuf/message.h"
#include "server/api/api_method.h"
#include "server/api/dispatcher.h"

namespace sopsidebar {

// The methods by path ("/sopsidebar.v1.ContextService/LookupSops"), or null.
// Implementations are immutable and thread-safe.
class MethodLookup {
 public:
  virtual ~MethodLookup() = default;
  virtual const UnaryMethod* FindUnary(absl::string_view path) const = 0;
  virtual const StreamMethod* FindStream(absl::string_view path) const = 0;
};

// What every transport does around a method (server/api/dispatcher.h has the
// contract of each). Implementations are thread-safe.
class CallRunner {
 public:
  virtual ~CallRunner() = default;
  virtual absl::StatusOr<Caller> Authenticate(absl::string_view authorization,
                                              absl::Time transport_deadline) const = 0;
  virtual absl::Status ParseRequest(absl::string_view bytes,
                                    google::protobuf::Message* request) const = 0;
  virtual void Schedule(const UnaryMethod& method, Caller caller,
                        std::unique_ptr<google::protobuf::Message> request,
                        std::function<bool()> cancelled, Dispatcher::Done done) = 0;
  virtual void LogIfRejected(absl::string_view method, absl::string_view peer,
                             const absl::Status& status) = 0;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_HTTP_API_BACKEND_H_
