#include "server/service/sop_service.h"

#include <string>

#include "server/common/status_macros.h"
#include "server/domain/auth/permissions.h"

namespace sopsidebar {

// SopService: every method reads or writes storage.

grpc::ServerUnaryReactor* SopServiceImpl::CreateSop(Context* ctx, const Bytes* in, Bytes* out) {
  return runner_->Serve<v1::CreateSopRequest>(
      ctx, in, out, "CreateSop", Work::kWrites,
      [this](const Caller& c, const v1::CreateSopRequest& r) { return registry_->CreateSop(c, r); });
}

grpc::ServerUnaryReactor* SopServiceImpl::GetSop(Context* ctx, const Bytes* in, Bytes* out) {
  return runner_->Serve<v1::GetSopRequest>(
      ctx, in, out, "GetSop", Work::kReads,
      [this](const Caller& c, const v1::GetSopRequest& r) { return registry_->GetSop(c, r); });
}

grpc::ServerUnaryReactor* SopServiceImpl::ListSops(Context* ctx, const Bytes* in, Bytes* out) {
  return runner_->Serve<v1::ListSopsRequest>(
      ctx, in, out, "ListSops", Work::kReads,
      [this](const Caller& c, const v1::ListSopsRequest& r) { return registry_->ListSops(c, r); });
}

grpc::ServerUnaryReactor* SopServiceImpl::UpdateSop(Context* ctx, const Bytes* in, Bytes* out) {
  return runner_->Serve<v1::UpdateSopRequest>(
      ctx, in, out, "UpdateSop", Work::kWrites,
      [this](const Caller& c, const v1::UpdateSopRequest& r) { return registry_->UpdateSop(c, r); });
}

grpc::ServerUnaryReactor* SopServiceImpl::DeleteSop(Context* ctx, const Bytes* in, Bytes* out) {
  return runner_->Serve<v1::DeleteSopRequest>(
      ctx, in, out, "DeleteSop", Work::kWrites,
      [this](const Caller& c, const v1::DeleteSopRequest& r) { return registry_->DeleteSop(c, r); });
}

grpc::ServerUnaryReactor* SopServiceImpl::UndeleteSop(Context* ctx, const Bytes* in,
                                                      Bytes* out) {
  return runner_->Serve<v1::UndeleteSopRequest>(
      ctx, in, out, "UndeleteSop", Work::kWrites,
      [this](const Caller& c, const v1::UndeleteSopRequest& r) {
        return registry_->UndeleteSop(c, r);
      });
}

grpc::ServerUnaryReactor* SopServiceImpl::ListSopRevisions(Context* ctx, const Bytes* in,
                                                           Bytes* out) {
  return runner_->Serve<v1::ListSopRevisionsRequest>(
      ctx, in, out, "ListSopRevisions", Work::kReads,
      [this](const Caller& c, const v1::ListSopRevisionsRequest& r) {
        return registry_->ListSopRevisions(c, r);
      });
}

grpc::ServerUnaryReactor* SopServiceImpl::GetSopRevision(Context* ctx, const Bytes* in,
                                                         Bytes* out) {
  return runner_->Serve<v1::GetSopRevisionRequest>(
      ctx, in, out, "GetSopRevision", Work::kReads,
      [this](const Caller& c, const v1::GetSopRevisionRequest& r) {
        return registry_->GetSopRevision(c, r);
      });
}

grpc::ServerUnaryReactor* SopServiceImpl::PublishSop(Context* ctx, const Bytes* in, Bytes* out) {
  return runner_->Serve<v1::PublishSopRequest>(
      ctx, in, out, "PublishSop", Work::kWrites,
      [this](const Caller& c, const v1::PublishSopRequest& r) {
        return registry_->PublishSop(c, r);
      });
}

grpc::ServerUnaryReactor* SopServiceImpl::CheckTargeting(Context* ctx, const Bytes* in,
                                                         Bytes* out) {
  return runner_->Serve<v1::CheckTargetingRequest>(
      ctx, in, out, "CheckTargeting", Work::kReads,
      [this](const Caller& c, const v1::CheckTargetingRequest& r) {
        return registry_->CheckTargeting(c, r);
      });
}

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

// AdminService: tokens and orgs are kept in memory; changing them writes.

grpc::ServerUnaryReactor* AdminServiceImpl::WhoAmI(Context* ctx, const Bytes* in, Bytes* out) {
  return runner_->Serve<v1::WhoAmIRequest>(
      ctx, in, out, "WhoAmI", Work::kInline,
      [this](const Caller& c, const v1::WhoAmIRequest&) -> absl::StatusOr<v1::WhoAmIResponse> {
        SOP_RETURN_IF_ERROR(Authorize(c, Operation::kPing));
        return access_->WhoAmI(c);
      });
}

grpc::ServerUnaryReactor* AdminServiceImpl::CreateToken(Context* ctx, const Bytes* in,
                                                        Bytes* out) {
  return runner_->Serve<v1::CreateTokenRequest>(
      ctx, in, out, "CreateToken", Work::kWrites,
      [this](const Caller& c, const v1::CreateTokenRequest& r) {
        return access_->CreateToken(c, r);
      });
}

grpc::ServerUnaryReactor* AdminServiceImpl::ListTokens(Context* ctx, const Bytes* in,
                                                       Bytes* out) {
  return runner_->Serve<v1::ListTokensRequest>(
      ctx, in, out, "ListTokens", Work::kInline,
      [this](const Caller& c, const v1::ListTokensRequest& r) {
        return access_->ListTokens(c, r);
      });
}

grpc::ServerUnaryReactor* AdminServiceImpl::RevokeToken(Context* ctx, const Bytes* in,
                                                        Bytes* out) {
  return runner_->Serve<v1::RevokeTokenRequest>(
      ctx, in, out, "RevokeToken", Work::kWrites,
      [this](const Caller& c, const v1::RevokeTokenRequest& r) {
        return access_->RevokeToken(c, r);
      });
}

grpc::ServerUnaryReactor* AdminServiceImpl::CreateOrg(Context* ctx, const Bytes* in,
                                                      Bytes* out) {
  return runner_->Serve<v1::CreateOrgRequest>(
      ctx, in, out, "CreateOrg", Work::kWrites,
      [this](const Caller& c, const v1::CreateOrgRequest& r) { return access_->CreateOrg(c, r); });
}

grpc::ServerUnaryReactor* AdminServiceImpl::ListOrgs(Context* ctx, const Bytes* in, Bytes* out) {
  return runner_->Serve<v1::ListOrgsRequest>(
      ctx, in, out, "ListOrgs", Work::kInline,
      [this](const Caller& c, const v1::ListOrgsRequest&) { return access_->ListOrgs(c); });
}

grpc::ServerUnaryReactor* AdminServiceImpl::Ping(Context* ctx, const Bytes* in, Bytes* out) {
  return runner_->Serve<v1::PingRequest>(
      ctx, in, out, "Ping", Work::kInline,
      [](const Caller& c, const v1::PingRequest& r) -> absl::StatusOr<v1::PingResponse> {
        SOP_RETURN_IF_ERROR(Authorize(c, Operation::kPing));
        v1::PingResponse pong;
        pong.set_payload(r.payload());
        return pong;
      });
}

}  // namespace sopsidebar
