#include "server/service/sop_service.h"

#include <cstddef>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/arena.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "server/common/errors.h"
#include "server/common/log.h"
#include "server/common/status_macros.h"
#include "server/domain/auth/permissions.h"
#include "server/service/grpc_status.h"

namespace sopsidebar {
namespace {

constexpr absl::string_view kBearer = "bearer ";

// The stack block a LookupSops request is parsed into: a CRM context of a
// few dozen fields fits, a larger one spills into the arena's heap blocks.
constexpr size_t kLookupArenaBlock = 8192;

// Refusals an operator wants to see: who was turned away, never with what.
void LogRejection(absl::string_view method, const grpc::ServerContextBase& ctx,
                  const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kDeadlineExceeded:
      LogLine(absl::StrCat("rejected ", method, " from ", ctx.peer(), ": ",
                           absl::StatusCodeToString(status.code()), ": ", status.message()));
      break;
    default:
      break;
  }
}

// Authenticates the call, runs `fn(caller)` and fills `response` with its
// result, or returns its error.
template <typename Response, typename Fn>
grpc::Status Serve(const CallAuthenticator& auth, const grpc::ServerContextBase& ctx,
                   absl::string_view method, Fn fn, Response* response) {
  absl::StatusOr<Caller> caller = auth.Authenticate(ctx);
  absl::StatusOr<Response> result =
      caller.ok() ? absl::StatusOr<Response>(fn(*caller)) : caller.status();
  if (!result.ok()) {
    LogRejection(method, ctx, result.status());
    return ToGrpcStatus(result.status());
  }
  *response = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace

absl::StatusOr<Caller> CallAuthenticator::Authenticate(const grpc::ServerContextBase& ctx) const {
  auto it = ctx.client_metadata().find("authorization");
  if (it == ctx.client_metadata().end()) return error::Unauthenticated();
  absl::string_view value(it->second.data(), it->second.size());
  if (!absl::StartsWithIgnoreCase(value, kBearer)) return error::Unauthenticated();
  absl::StatusOr<Caller> caller = access_->Authenticate(value.substr(kBearer.size()));
  if (!caller.ok()) return caller.status();
  caller->deadline =
      std::min(absl::FromChrono(ctx.deadline()), absl::Now() + max_call_duration_);
  return caller;
}

grpc::Status SopServiceImpl::CreateSop(grpc::ServerContext* ctx,
                                       const v1::CreateSopRequest* request, v1::Sop* response) {
  return Serve(
      *auth_, *ctx, "CreateSop",
      [&](const Caller& c) { return registry_->CreateSop(c, *request); }, response);
}

grpc::Status SopServiceImpl::GetSop(grpc::ServerContext* ctx, const v1::GetSopRequest* request,
                                    v1::Sop* response) {
  return Serve(
      *auth_, *ctx, "GetSop", [&](const Caller& c) { return registry_->GetSop(c, *request); },
      response);
}

grpc::Status SopServiceImpl::ListSops(grpc::ServerContext* ctx,
                                      const v1::ListSopsRequest* request,
                                      v1::ListSopsResponse* response) {
  return Serve(
      *auth_, *ctx, "ListSops", [&](const Caller& c) { return registry_->ListSops(c, *request); },
      response);
}

grpc::Status SopServiceImpl::UpdateSop(grpc::ServerContext* ctx,
                                       const v1::UpdateSopRequest* request, v1::Sop* response) {
  return Serve(
      *auth_, *ctx, "UpdateSop",
      [&](const Caller& c) { return registry_->UpdateSop(c, *request); }, response);
}

grpc::Status SopServiceImpl::DeleteSop(grpc::ServerContext* ctx,
                                       const v1::DeleteSopRequest* request, v1::Sop* response) {
  return Serve(
      *auth_, *ctx, "DeleteSop",
      [&](const Caller& c) { return registry_->DeleteSop(c, *request); }, response);
}

grpc::Status SopServiceImpl::UndeleteSop(grpc::ServerContext* ctx,
                                         const v1::UndeleteSopRequest* request,
                                         v1::Sop* response) {
  return Serve(
      *auth_, *ctx, "UndeleteSop",
      [&](const Caller& c) { return registry_->UndeleteSop(c, *request); }, response);
}

grpc::Status SopServiceImpl::ListSopRevisions(grpc::ServerContext* ctx,
                                              const v1::ListSopRevisionsRequest* request,
                                              v1::ListSopRevisionsResponse* response) {
  return Serve(
      *auth_, *ctx, "ListSopRevisions",
      [&](const Caller& c) { return registry_->ListSopRevisions(c, *request); }, response);
}

grpc::Status SopServiceImpl::GetSopRevision(grpc::ServerContext* ctx,
                                            const v1::GetSopRevisionRequest* request,
                                            v1::SopRevision* response) {
  return Serve(
      *auth_, *ctx, "GetSopRevision",
      [&](const Caller& c) { return registry_->GetSopRevision(c, *request); }, response);
}

grpc::Status SopServiceImpl::PublishSop(grpc::ServerContext* ctx,
                                        const v1::PublishSopRequest* request,
                                        v1::PublishSopResponse* response) {
  return Serve(
      *auth_, *ctx, "PublishSop",
      [&](const Caller& c) { return registry_->PublishSop(c, *request); }, response);
}

grpc::Status SopServiceImpl::CheckTargeting(grpc::ServerContext* ctx,
                                            const v1::CheckTargetingRequest* request,
                                            v1::CheckTargetingResponse* response) {
  return Serve(
      *auth_, *ctx, "CheckTargeting",
      [&](const Caller& c) { return registry_->CheckTargeting(c, *request); }, response);
}

grpc::ServerUnaryReactor* ContextServiceImpl::LookupSops(grpc::CallbackServerContext* ctx,
                                                         const grpc::ByteBuffer* request_bytes,
                                                         grpc::ByteBuffer* response_bytes) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  // Parsing the context's field map into the heap (a node, a key and a
  // Value per field) and freeing it again cost more than the lookup itself.
  alignas(std::max_align_t) char block[kLookupArenaBlock];
  google::protobuf::ArenaOptions arena_options;
  arena_options.initial_block = block;
  arena_options.initial_block_size = sizeof(block);
  google::protobuf::Arena arena(arena_options);
  auto* request = google::protobuf::Arena::CreateMessage<v1::LookupSopsRequest>(&arena);
  // The reader only reads the buffer; it takes it non-const.
  grpc::ProtoBufferReader reader(const_cast<grpc::ByteBuffer*>(request_bytes));
  if (!reader.status().ok() || !request->ParseFromZeroCopyStream(&reader)) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, ""));
    return reactor;
  }
  absl::StatusOr<Caller> caller = auth_->Authenticate(*ctx);
  std::string wire;
  const absl::Status status =
      caller.ok() ? registry_->LookupSopsWire(*caller, *request, &wire) : caller.status();
  if (!status.ok()) {
    LogRejection("LookupSops", *ctx, status);
    reactor->Finish(ToGrpcStatus(status));
    return reactor;
  }
  grpc::Slice slice(wire.data(), wire.size());
  grpc::ByteBuffer response(&slice, 1);
  response_bytes->Swap(&response);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::Status AdminServiceImpl::WhoAmI(grpc::ServerContext* ctx, const v1::WhoAmIRequest*,
                                      v1::WhoAmIResponse* response) {
  return Serve(
      *auth_, *ctx, "WhoAmI",
      [&](const Caller& c) -> absl::StatusOr<v1::WhoAmIResponse> {
        SOP_RETURN_IF_ERROR(Authorize(c, Operation::kPing));
        return access_->WhoAmI(c);
      },
      response);
}

grpc::Status AdminServiceImpl::CreateToken(grpc::ServerContext* ctx,
                                           const v1::CreateTokenRequest* request,
                                           v1::CreateTokenResponse* response) {
  return Serve(
      *auth_, *ctx, "CreateToken",
      [&](const Caller& c) { return access_->CreateToken(c, *request); }, response);
}

grpc::Status AdminServiceImpl::ListTokens(grpc::ServerContext* ctx,
                                          const v1::ListTokensRequest* request,
                                          v1::ListTokensResponse* response) {
  return Serve(
      *auth_, *ctx, "ListTokens",
      [&](const Caller& c) { return access_->ListTokens(c, *request); }, response);
}

grpc::Status AdminServiceImpl::RevokeToken(grpc::ServerContext* ctx,
                                           const v1::RevokeTokenRequest* request,
                                           v1::Token* response) {
  return Serve(
      *auth_, *ctx, "RevokeToken",
      [&](const Caller& c) { return access_->RevokeToken(c, *request); }, response);
}

grpc::Status AdminServiceImpl::CreateOrg(grpc::ServerContext* ctx,
                                         const v1::CreateOrgRequest* request, v1::Org* response) {
  return Serve(
      *auth_, *ctx, "CreateOrg",
      [&](const Caller& c) { return access_->CreateOrg(c, *request); }, response);
}

grpc::Status AdminServiceImpl::ListOrgs(grpc::ServerContext* ctx, const v1::ListOrgsRequest*,
                                        v1::ListOrgsResponse* response) {
  return Serve(
      *auth_, *ctx, "ListOrgs", [&](const Caller& c) { return access_->ListOrgs(c); },
      response);
}

grpc::ServerUnaryReactor* AdminServiceImpl::Ping(grpc::CallbackServerContext* ctx,
                                                 const v1::PingRequest* request,
                                                 v1::PingResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(Serve(
      *auth_, *ctx, "Ping",
      [&](const Caller& c) -> absl::StatusOr<v1::PingResponse> {
        SOP_RETURN_IF_ERROR(Authorize(c, Operation::kPing));
        v1::PingResponse pong;
        pong.set_payload(request->payload());
        return pong;
      },
      response));
  return reactor;
}

}  // namespace sopsidebar
