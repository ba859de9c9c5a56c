#include "server/service/sop_service.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "server/common/errors.h"
#include "server/service/grpc_status.h"

namespace sopsidebar {
namespace {

constexpr size_t kMaxAuthor = 256;

absl::StatusOr<Caller> CallerFrom(const grpc::ServerContextBase& ctx) {
  Caller caller;
  auto it = ctx.client_metadata().find(kAuthorMetadataKey);
  if (it != ctx.client_metadata().end() && !it->second.empty()) {
    if (it->second.size() > kMaxAuthor) {
      return error::FieldTooLong(absl::StrCat("metadata ", kAuthorMetadataKey), kMaxAuthor);
    }
    caller.author = std::string(it->second.data(), it->second.size());
  }
  return caller;
}

// Copies `result` into `response` or returns its error.
template <typename T>
grpc::Status Reply(absl::StatusOr<T> result, T* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = std::move(result).value();
  return grpc::Status::OK;
}

// Runs `write(caller)` for the caller the metadata names.
template <typename T, typename Write>
grpc::Status ReplyAsCaller(const grpc::ServerContextBase& ctx, Write write, T* response) {
  absl::StatusOr<Caller> caller = CallerFrom(ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  return Reply(write(*caller), response);
}

}  // namespace

grpc::Status SopServiceImpl::CreateSop(grpc::ServerContext* ctx,
                                       const v1::CreateSopRequest* request, v1::Sop* response) {
  return ReplyAsCaller(
      *ctx, [&](const Caller& c) { return registry_->CreateSop(c, *request); }, response);
}

grpc::Status SopServiceImpl::GetSop(grpc::ServerContext*, const v1::GetSopRequest* request,
                                    v1::Sop* response) {
  return Reply(registry_->GetSop(*request), response);
}

grpc::Status SopServiceImpl::ListSops(grpc::ServerContext*, const v1::ListSopsRequest* request,
                                      v1::ListSopsResponse* response) {
  return Reply(registry_->ListSops(*request), response);
}

grpc::Status SopServiceImpl::UpdateSop(grpc::ServerContext* ctx,
                                       const v1::UpdateSopRequest* request, v1::Sop* response) {
  return ReplyAsCaller(
      *ctx, [&](const Caller& c) { return registry_->UpdateSop(c, *request); }, response);
}

grpc::Status SopServiceImpl::DeleteSop(grpc::ServerContext* ctx,
                                       const v1::DeleteSopRequest* request, v1::Sop* response) {
  return ReplyAsCaller(
      *ctx, [&](const Caller& c) { return registry_->DeleteSop(c, *request); }, response);
}

grpc::Status SopServiceImpl::UndeleteSop(grpc::ServerContext* ctx,
                                         const v1::UndeleteSopRequest* request,
                                         v1::Sop* response) {
  return ReplyAsCaller(
      *ctx, [&](const Caller& c) { return registry_->UndeleteSop(c, *request); }, response);
}

grpc::Status SopServiceImpl::ListSopRevisions(grpc::ServerContext*,
                                              const v1::ListSopRevisionsRequest* request,
                                              v1::ListSopRevisionsResponse* response) {
  return Reply(registry_->ListSopRevisions(*request), response);
}

grpc::Status SopServiceImpl::GetSopRevision(grpc::ServerContext*,
                                            const v1::GetSopRevisionRequest* request,
                                            v1::SopRevision* response) {
  return Reply(registry_->GetSopRevision(*request), response);
}

grpc::Status SopServiceImpl::PublishSop(grpc::ServerContext* ctx,
                                        const v1::PublishSopRequest* request, v1::Sop* response) {
  return ReplyAsCaller(
      *ctx, [&](const Caller& c) { return registry_->PublishSop(c, *request); }, response);
}

grpc::ServerUnaryReactor* ContextServiceImpl::LookupSops(grpc::CallbackServerContext* ctx,
                                                         const v1::LookupSopsRequest* request,
                                                         v1::LookupSopsResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(Reply(registry_->LookupSops(*request), response));
  return reactor;
}

}  // namespace sopsidebar
