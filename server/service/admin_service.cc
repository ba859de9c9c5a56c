#include "server/service/admin_service.h"

namespace sopsidebar {

// AdminService: tokens and orgs are kept in memory; changing them writes.

grpc::ServerUnaryReactor* AdminServiceImpl::WhoAmI(Context* ctx, const Bytes* in, Bytes* out) {
  return runner_->Serve<v1::WhoAmIRequest>(
      ctx, in, out, "WhoAmI", Work::kInline,
      [this](const Caller& c, const v1::WhoAmIRequest&) { return access_->WhoAmI(c); });
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

grpc::ServerUnaryReactor* AdminServiceImpl::GetToken(Context* ctx, const Bytes* in, Bytes* out) {
  return runner_->Serve<v1::GetTokenRequest>(
      ctx, in, out, "GetToken", Work::kInline,
      [this](const Caller& c, const v1::GetTokenRequest& r) { return access_->GetToken(c, r); });
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
      [this](const Caller& c, const v1::ListOrgsRequest& r) { return access_->ListOrgs(c, r); });
}

grpc::ServerUnaryReactor* AdminServiceImpl::GetOrg(Context* ctx, const Bytes* in, Bytes* out) {
  return runner_->Serve<v1::GetOrgRequest>(
      ctx, in, out, "GetOrg", Work::kInline,
      [this](const Caller& c, const v1::GetOrgRequest& r) { return access_->GetOrg(c, r); });
}

grpc::ServerUnaryReactor* AdminServiceImpl::Ping(Context* ctx, const Bytes* in, Bytes* out) {
  return runner_->Serve<v1::PingRequest>(
      ctx, in, out, "Ping", Work::kInline,
      [this](const Caller& c, const v1::PingRequest& r) { return access_->Ping(c, r); });
}

}  // namespace sopsidebar
