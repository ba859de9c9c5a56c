// gRPC handlers of AdminService. Every method is raw on the callback API and
// only dispatches through CallRunner (server/service/call_runner.h): parse ->
// authenticate -> domain -> status conversion, with its Work saying where it
// runs: Ping and the in-memory token and org reads inline, token and org
// writes (an fsync each) on the write queue.
#ifndef SOPSIDEBAR_SERVER_SERVICE_ADMIN_SERVICE_H_
#define SOPSIDEBAR_SERVER_SERVICE_ADMIN_SERVICE_H_

#include "server/domain/auth/access_registry.h"
#include "server/service/call_runner.h"
#include "server/service/raw_callback_service.h"
#include "sopsidebar/v1/admin_service.grpc.pb.h"

namespace sopsidebar {

// Every AdminService method raw on the callback API.
using RawAdminServiceBase = internal_service::Chain<
    v1::AdminService::WithRawCallbackMethod_WhoAmI,
    v1::AdminService::WithRawCallbackMethod_CreateToken,
    v1::AdminService::WithRawCallbackMethod_ListTokens,
    v1::AdminService::WithRawCallbackMethod_GetToken,
    v1::AdminService::WithRawCallbackMethod_RevokeToken,
    v1::AdminService::WithRawCallbackMethod_CreateOrg,
    v1::AdminService::WithRawCallbackMethod_ListOrgs,
    v1::AdminService::WithRawCallbackMethod_GetOrg,
    v1::AdminService::WithRawCallbackMethod_Ping>::On<v1::AdminService::Service>;

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
  grpc::ServerUnaryReactor* GetToken(Context* ctx, const Bytes* in, Bytes* out) override;
  grpc::ServerUnaryReactor* RevokeToken(Context* ctx, const Bytes* in, Bytes* out) override;
  grpc::ServerUnaryReactor* CreateOrg(Context* ctx, const Bytes* in, Bytes* out) override;
  grpc::ServerUnaryReactor* ListOrgs(Context* ctx, const Bytes* in, Bytes* out) override;
  grpc::ServerUnaryReactor* GetOrg(Context* ctx, const Bytes* in, Bytes* out) override;
  grpc::ServerUnaryReactor* Ping(Context* ctx, const Bytes* in, Bytes* out) override;

 private:
  AccessRegistry* const access_;
  CallRunner* const runner_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_SERVICE_ADMIN_SERVICE_H_
