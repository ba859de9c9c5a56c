// ApiService<S>: the gRPC service S (a generated sopsidebar.v1 service) with
// every method registered raw on the callback API and served by CallRunner
// from its binding in ApiMethods: no method is written out per transport.
#ifndef SOPSIDEBAR_SERVER_SERVICE_API_SERVICE_H_
#define SOPSIDEBAR_SERVER_SERVICE_API_SERVICE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/grpcpp.h"
// CallbackUnaryHandler and CallbackServerStreamingHandler, which grpcpp.h
// only declares.
#include "grpcpp/impl/codegen/server_callback_handlers.h"
#include "server/api/api_methods.h"
#include "server/service/call_runner.h"

namespace sopsidebar {

// Thread-safe once constructed. `methods` and `runner` must outlive it.
template <typename GeneratedService>
class ApiService final : public GeneratedService::Service {
 public:
  ApiService(const ApiMethods& methods, CallRunner* runner) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            GeneratedService::service_full_name());
    // The generated base adds the methods in the proto's order, which the
    // indexes below follow, as the generated WithRawCallbackMethod_ mixins
    // do.
    for (int i = 0; service != nullptr && i < service->method_count(); ++i) {
      const std::string path = MethodPath(*service->method(i));
      if (const UnaryMethod* unary = methods.FindUnary(path)) {
        this->MarkMethodRawCallback(
            i, new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
                   [runner, unary](grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* in,
                                   grpc::ByteBuffer* out) {
                     return runner->Serve(ctx, in, out, *unary);
                   }));
      } else if (const StreamMethod* stream = methods.FindStream(path)) {
        this->MarkMethodRawCallback(
            i,
            new grpc::internal::CallbackServerStreamingHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
                [runner, stream](grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* in) {
                  return runner->Open(ctx, in, *stream);
                }));
      } else {
        unbound_ = absl::InternalError(absl::StrCat(path, " has no binding"));
      }
    }
    if (service == nullptr) {
      unbound_ = absl::InternalError(
          absl::StrCat("no descriptor for ", GeneratedService::service_full_name()));
    }
  }

  // OK when every method is served (ApiMethods::Create guarantees it).
  const absl::Status& status() const { return unbound_; }

 private:
  absl::Status unbound_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_SERVICE_API_SERVICE_H_
