// MethodLookup and CallRunner (api_backend.h) bound to server/api's
// ApiMethods and Dispatcher: what sopd hands HttpGateway::Start. Kept apart
// from api_backend.h so that the gateway's tests, which bring their own
// table, do not link the real one.
#ifndef SOPSIDEBAR_SERVER_HTTP_API_ADAPTERS_H_
#define SOPSIDEBAR_SERVER_HTTP_API_ADAPTERS_H_

#include <functional>
#include <memory>
#include <utility>

#include "server/api/api_methods.h"
#include "server/api/dispatcher.h"
#include "server/http/api_backend.h"

namespace sopsidebar {

// ApiMethods as a MethodLookup. `methods` must outlive it.
class ApiMethodsLookup final : public MethodLookup {
 public:
  explicit ApiMethodsLookup(const ApiMethods* methods) : methods_(methods) {}
  const UnaryMethod* FindUnary(absl::string_view path) const override {
    return methods_->FindUnary(path);
  }
  const StreamMethod* FindStream(absl::string_view path) const override {
    return methods_->FindStream(path);
  }

 private:
  const ApiMethods* const methods_;
};

// Dispatcher as a CallRunner. `dispatcher` must outlive it.
class DispatcherRunner final : public CallRunner {
 public:
  explicit DispatcherRunner(Dispatcher* dispatcher) : dispatcher_(dispatcher) {}
  absl::StatusOr<Caller> Authenticate(absl::string_view authorization,
                                      absl::Time transport_deadline) const override {
    return dispatcher_->Authenticate(authorization, transport_deadline);
  }
  absl::Status ParseRequest(absl::string_view bytes,
                            google::protobuf::Message* request) const override {
    return sopsidebar::ParseRequest(bytes, request);
  }
  void Schedule(const UnaryMethod& method, Caller caller,
                std::unique_ptr<google::protobuf::Message> request, std::function<bool()> cancelled,
                Dispatcher::Done done) override {
    dispatcher_->Schedule(method, std::move(caller), std::move(request), std::move(cancelled),
                          std::move(done));
  }
  void LogIfRejected(absl::string_view method, absl::string_view peer,
                     const absl::Status& status) override {
    dispatcher_->LogIfRejected(method, peer, status);
  }

 private:
  Dispatcher* const dispatcher_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_HTTP_API_ADAPTERS_H_
