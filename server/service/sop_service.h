// gRPC handlers of SopService. Every method is raw on the callback API and
// only dispatches through CallRunner (server/service/call_runner.h): parse ->
// authenticate -> domain -> status conversion, with its Work saying where it
// runs: storage reads on the read queue, writes (an fsync each) on the write
// queue.
#ifndef SOPSIDEBAR_SERVER_SERVICE_SOP_SERVICE_H_
#define SOPSIDEBAR_SERVER_SERVICE_SOP_SERVICE_H_

#include "server/domain/registry/sop_registry.h"
#include "server/service/call_runner.h"
#include "server/service/raw_callback_service.h"
#include "sopsidebar/v1/sop_service.grpc.pb.h"

namespace sopsidebar {

// Every SopService method raw on the callback API.
using RawSopServiceBase = internal_service::Chain<
    v1::SopService::WithRawCallbackMethod_CreateSop, v1::SopService::WithRawCallbackMethod_GetSop,
    v1::SopService::WithRawCallbackMethod_ListSops, v1::SopService::WithRawCallbackMethod_UpdateSop,
    v1::SopService::WithRawCallbackMethod_DeleteSop,
    v1::SopService::WithRawCallbackMethod_UndeleteSop,
    v1::SopService::WithRawCallbackMethod_ListSopRevisions,
    v1::SopService::WithRawCallbackMethod_GetSopRevision,
    v1::SopService::WithRawCallbackMethod_PublishSop,
    v1::SopService::WithRawCallbackMethod_CheckTargeting>::On<v1::SopService::Service>;

// Thread-safe. Reads and writes of SOPs may block on storage: they run on the
// runner's queues.
class SopServiceImpl final : public RawSopServiceBase {
 public:
  // `registry` and `runner` must outlive the service.
  SopServiceImpl(SopRegistry* registry, CallRunner* runner)
      : registry_(registry), runner_(runner) {}

  using Bytes = grpc::ByteBuffer;
  using Context = grpc::CallbackServerContext;
  grpc::ServerUnaryReactor* CreateSop(Context* ctx, const Bytes* in, Bytes* out) override;
  grpc::ServerUnaryReactor* GetSop(Context* ctx, const Bytes* in, Bytes* out) override;
  grpc::ServerUnaryReactor* ListSops(Context* ctx, const Bytes* in, Bytes* out) override;
  grpc::ServerUnaryReactor* UpdateSop(Context* ctx, const Bytes* in, Bytes* out) override;
  grpc::ServerUnaryReactor* DeleteSop(Context* ctx, const Bytes* in, Bytes* out) override;
  grpc::ServerUnaryReactor* UndeleteSop(Context* ctx, const Bytes* in, Bytes* out) override;
  grpc::ServerUnaryReactor* ListSopRevisions(Context* ctx, const Bytes* in, Bytes* out) override;
  grpc::ServerUnaryReactor* GetSopRevision(Context* ctx, const Bytes* in, Bytes* out) override;
  grpc::ServerUnaryReactor* PublishSop(Context* ctx, const Bytes* in, Bytes* out) override;
  grpc::ServerUnaryReactor* CheckTargeting(Context* ctx, const Bytes* in, Bytes* out) override;

 private:
  SopRegistry* const registry_;
  CallRunner* const runner_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_SERVICE_SOP_SERVICE_H_
