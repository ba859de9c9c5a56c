#include "server/service/sop_service.h"

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

}  // namespace sopsidebar
