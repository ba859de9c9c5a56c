#include "server/service/context_service.h"

#include <string>

#include "common/status_macros.h"

namespace sopsidebar {

// ContextService: the lookup hot path, in memory.

grpc::ServerUnaryReactor* ContextServiceImpl::LookupSops(grpc::CallbackServerContext* ctx,
                                                         const grpc::ByteBuffer* in,
                                                         grpc::ByteBuffer* out) {
  return runner_->Serve<v1::LookupSopsRequest>(
      ctx, in, out, "LookupSops", Work::kInline,
      [this](const Caller& c, const v1::LookupSopsRequest& r) -> absl::StatusOr<std::string> {
        std::string wire;
        SOP_RETURN_IF_ERROR(registry_->LookupSopsWire(c, r, &wire));
        return wire;
      });
}

}  // namespace sopsidebar
