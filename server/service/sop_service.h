// gRPC handlers for SopService, ContextService and AdminService. Each method
// only dispatches: authenticate (bearer token -> Caller) -> domain -> status
// conversion. Rejections (UNAUTHENTICATED, PERMISSION_DENIED, ...) are
// logged with method and peer, never with credentials.
#ifndef SOPSIDEBAR_SERVER_SERVICE_SOP_SERVICE_H_
#define SOPSIDEBAR_SERVER_SERVICE_SOP_SERVICE_H_

#include "absl/time/time.h"
#include "server/domain/auth/access_registry.h"
#include "server/domain/registry/sop_registry.h"
#include "sopsidebar/v1/admin_service.grpc.pb.h"
#include "sopsidebar/v1/context_service.grpc.pb.h"
#include "sopsidebar/v1/sop_service.grpc.pb.h"

namespace sopsidebar {

// Turns call metadata into a Caller. Thread-safe.
class CallAuthenticator {
 public:
  // `access` must outlive the authenticator; `max_call_duration` caps the
  // deadline the domain sees.
  CallAuthenticator(const AccessRegistry* access, absl::Duration max_call_duration)
      : access_(access), max_call_duration_(max_call_duration) {}

  // The caller behind `authorization: Bearer <token>`, or UNAUTHENTICATED.
  absl::StatusOr<Caller> Authenticate(const grpc::ServerContextBase& ctx) const;

 private:
  const AccessRegistry* const access_;
  const absl::Duration max_call_duration_;
};

// Writes block on an fsync, so SopService uses the synchronous API, whose
// threads may block. Thread-safe.
class SopServiceImpl final : public v1::SopService::Service {
 public:
  // `registry` and `auth` must outlive the service.
  SopServiceImpl(SopRegistry* registry, const CallAuthenticator* auth)
      : registry_(registry), auth_(auth) {}

  grpc::Status CreateSop(grpc::ServerContext* ctx, const v1::CreateSopRequest* request,
                         v1::Sop* response) override;
  grpc::Status GetSop(grpc::ServerContext* ctx, const v1::GetSopRequest* request,
                      v1::Sop* response) override;
  grpc::Status ListSops(grpc::ServerContext* ctx, const v1::ListSopsRequest* request,
                        v1::ListSopsResponse* response) override;
  grpc::Status UpdateSop(grpc::ServerContext* ctx, const v1::UpdateSopRequest* request,
                         v1::Sop* response) override;
  grpc::Status DeleteSop(grpc::ServerContext* ctx, const v1::DeleteSopRequest* request,
                         v1::Sop* response) override;
  grpc::Status UndeleteSop(grpc::ServerContext* ctx, const v1::UndeleteSopRequest* request,
                           v1::Sop* response) override;
  grpc::Status ListSopRevisions(grpc::ServerContext* ctx,
                                const v1::ListSopRevisionsRequest* request,
                                v1::ListSopRevisionsResponse* response) override;
  grpc::Status GetSopRevision(grpc::ServerContext* ctx, const v1::GetSopRevisionRequest* request,
                              v1::SopRevision* response) override;
  grpc::Status PublishSop(grpc::ServerContext* ctx, const v1::PublishSopRequest* request,
                          v1::PublishSopResponse* response) override;
  grpc::Status CheckTargeting(grpc::ServerContext* ctx,
                              const v1::CheckTargetingRequest* request,
                              v1::CheckTargetingResponse* response) override;

 private:
  SopRegistry* const registry_;
  const CallAuthenticator* const auth_;
};

// Lookups are in-memory and never block, so ContextService uses the
// callback API and answers on the completion thread. LookupSops is served
// raw: the request is parsed into an arena and the response is written as
// bytes (SopRegistry::LookupSopsWire) rather than built as a message and
// serialised; on the wire it is the same method. Thread-safe.
class ContextServiceImpl final
    : public v1::ContextService::WithRawCallbackMethod_LookupSops<v1::ContextService::Service> {
 public:
  ContextServiceImpl(const SopRegistry* registry, const CallAuthenticator* auth)
      : registry_(registry), auth_(auth) {}

  // `request` holds a LookupSopsRequest; `response` gets a
  // LookupSopsResponse. A request that does not parse is answered like a
  // generated handler answers it (UNIMPLEMENTED, before authentication).
  grpc::ServerUnaryReactor* LookupSops(grpc::CallbackServerContext* ctx,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;

 private:
  const SopRegistry* const registry_;
  const CallAuthenticator* const auth_;
};

// Token and org writes block on an fsync (synchronous API); Ping takes the
// callback path of LookupSops so that it is a fair floor for it.
// Thread-safe.
class AdminServiceImpl final
    : public v1::AdminService::WithCallbackMethod_Ping<v1::AdminService::Service> {
 public:
  AdminServiceImpl(AccessRegistry* access, const CallAuthenticator* auth)
      : access_(access), auth_(auth) {}

  grpc::Status WhoAmI(grpc::ServerContext* ctx, const v1::WhoAmIRequest* request,
                      v1::WhoAmIResponse* response) override;
  grpc::Status CreateToken(grpc::ServerContext* ctx, const v1::CreateTokenRequest* request,
                           v1::CreateTokenResponse* response) override;
  grpc::Status ListTokens(grpc::ServerContext* ctx, const v1::ListTokensRequest* request,
                          v1::ListTokensResponse* response) override;
  grpc::Status RevokeToken(grpc::ServerContext* ctx, const v1::RevokeTokenRequest* request,
                           v1::Token* response) override;
  grpc::Status CreateOrg(grpc::ServerContext* ctx, const v1::CreateOrgRequest* request,
                         v1::Org* response) override;
  grpc::Status ListOrgs(grpc::ServerContext* ctx, const v1::ListOrgsRequest* request,
                        v1::ListOrgsResponse* response) override;
  grpc::ServerUnaryReactor* Ping(grpc::CallbackServerContext* ctx,
                                 const v1::PingRequest* request,
                                 v1::PingResponse* response) override;

 private:
  AccessRegistry* const access_;
  const CallAuthenticator* const auth_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_SERVICE_SOP_SERVICE_H_
