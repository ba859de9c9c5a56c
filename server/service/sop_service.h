// gRPC handlers for SopService, ContextService and AdminService. Every
// method is raw on the callback API and only dispatches through CallRunner
// (server/service/call_runner.h): parse -> authenticate -> domain -> status
// conversion, with its Work saying where it runs: lookups, Ping and the
// in-memory admin reads inline; storage reads on the read queue; writes (an
// fsync each) on the write queue.
#ifndef SOPSIDEBAR_SERVER_SERVICE_SOP_SERVICE_H_
#define SOPSIDEBAR_SERVER_SERVICE_SOP_SERVICE_H_

#include "server/domain/auth/access_registry.h"
#include "server/domain/registry/sop_registry.h"
#include "server/service/call_runner.h"
#include "sopsidebar/v1/admin_service.grpc.pb.h"
#include "sopsidebar/v1/context_service.grpc.pb.h"
#include "sopsidebar/v1/sop_service.grpc.pb.h"

namespace sopsidebar {

namespace internal_service {
template <template <class> class... Methods>
struct Chain;
template <template <class> class First, template <class> class... Rest>
struct Chain<First, Rest...> {
  template <class Base>
  using On = First<typename Chain<Rest...>::template On<Base>>;
};
template <>
struct Chain<> {
  template <class Base>
  using On = Base;
};
}  // namespace internal_service

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

// Every AdminService method raw on the callback API.
using RawAdminServiceBase = internal_service::Chain<
    v1::AdminService::WithRawCallbackMethod_WhoAmI,
    v1::AdminService::WithRawCallbackMethod_CreateToken,
    v1::AdminService::WithRawCallbackMethod_ListTokens,
    v1::AdminService::WithRawCallbackMethod_RevokeToken,
    v1::AdminService::WithRawCallbackMethod_CreateOrg,
    v1::AdminService::WithRawCallbackMethod_ListOrgs,
    v1::AdminService::WithRawCallbackMethod_Ping>::On<v1::AdminService::Service>;

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

// Token and org writes wait for an fsync (write queue); the token and org
// reads are in memory (inline), and so is Ping, a fair floor for
// LookupSops. Thread-safe.
class AdminServiceImpl final : public RawAdminServiceBase {
 public:
  AdminServiceImpl(AccessRegistry* access, CallRunner* runner)
      : access_(access), runner_(runner) {}

  using Bytes = grpc::ByteBuffer;
  using Context = grpc::CallbackServerContext;
  grpc::ServerUnaryReactor* WhoAmI(Context* ctx, const Bytes* in, Bytes* out) override;
  grpc::ServerUnaryReactor* CreateToken(Context* ctx, const Bytes* in, Bytes* out) override;
  grpc::ServerUnaryReactor* ListTokens(Context* ctx, const Bytes* in, Bytes* out) override;
  grpc::ServerUnaryReactor* RevokeToken(Context* ctx, const Bytes* in, Bytes* out) override;
  grpc::ServerUnaryReactor* CreateOrg(Context* ctx, const Bytes* in, Bytes* out) override;
  grpc::ServerUnaryReactor* ListOrgs(Context* ctx, const Bytes* in, Bytes* out) override;
  grpc::ServerUnaryReactor* Ping(Context* ctx, const Bytes* in, Bytes* out) override;

 private:
  AccessRegistry* const access_;
  CallRunner* const runner_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_SERVICE_SOP_SERVICE_H_
