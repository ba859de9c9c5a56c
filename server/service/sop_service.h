// gRPC handlers for SopService and ContextService. Each method only
// dispatches: caller from metadata -> registry -> status conversion.
#ifndef SOPSIDEBAR_SERVER_SERVICE_SOP_SERVICE_H_
#define SOPSIDEBAR_SERVER_SERVICE_SOP_SERVICE_H_

#include "server/domain/registry/sop_registry.h"
#include "sopsidebar/v1/context_service.grpc.pb.h"
#include "sopsidebar/v1/sop_service.grpc.pb.h"

namespace sopsidebar {

// The gRPC metadata key naming the author recorded on revisions.
inline constexpr char kAuthorMetadataKey[] = "x-sop-author";

// Writes block on an fsync, so SopService uses the synchronous API, whose
// threads may block. Thread-safe.
class SopServiceImpl final : public v1::SopService::Service {
 public:
  // `registry` must outlive the service.
  explicit SopServiceImpl(SopRegistry* registry) : registry_(registry) {}

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
                          v1::Sop* response) override;

 private:
  SopRegistry* const registry_;
};

// Lookups are in-memory and never block, so ContextService uses the
// callback API and answers on the completion thread. Thread-safe.
class ContextServiceImpl final : public v1::ContextService::CallbackService {
 public:
  explicit ContextServiceImpl(const SopRegistry* registry) : registry_(registry) {}

  grpc::ServerUnaryReactor* LookupSops(grpc::CallbackServerContext* ctx,
                                       const v1::LookupSopsRequest* request,
                                       v1::LookupSopsResponse* response) override;

 private:
  const SopRegistry* const registry_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_SERVICE_SOP_SERVICE_H_
