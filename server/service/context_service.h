// gRPC handlers of ContextService. Every method is raw on the callback API
// and only dispatches through CallRunner (server/service/call_runner.h): parse ->
// authenticate -> domain -> status conversion, with its Work saying where it
// runs: lookups inline.
#ifndef SOPSIDEBAR_SERVER_SERVICE_CONTEXT_SERVICE_H_
#define SOPSIDEBAR_SERVER_SERVICE_CONTEXT_SERVICE_H_

#include "server/domain/registry/sop_registry.h"
#include "server/service/call_runner.h"
#include "sopsidebar/v1/context_service.grpc.pb.h"

namespace sopsidebar {

// Lookups are in-memory and never block: LookupSops runs inline, its
// request parsed into an arena and its response written as bytes
// (SopRegistry::LookupSopsWire) rather than built as a message and
// serialised; on the wire it is the same method. Thread-safe.
class ContextServiceImpl final
    : public v1::ContextService::WithRawCallbackMethod_LookupSops<v1::ContextService::Service> {
 public:
  ContextServiceImpl(const SopRegistry* registry, CallRunner* runner)
      : registry_(registry), runner_(runner) {}

  grpc::ServerUnaryReactor* LookupSops(grpc::CallbackServerContext* ctx,
                                       const grpc::ByteBuffer* in,
                                       grpc::ByteBuffer* out) override;

 private:
  const SopRegistry* const registry_;
  CallRunner* const runner_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_SERVICE_CONTEXT_SERVICE_H_
