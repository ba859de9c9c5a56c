#include "client/connection.h"

#include <chrono>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/grpc_status.h"
#include "client/retry.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "sopsidebar/v1/context_service.grpc.pb.h"
#include "sopsidebar/v1/sop_service.grpc.pb.h"

namespace sopsidebar::client {
namespace {

// gRPC rejects header values outside printable ASCII.
bool IsValidMetadataValue(absl::string_view value) {
  for (char c : value) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

class GrpcConnection : public Connection {
 public:
  explicit GrpcConnection(const ConnectionOptions& options)
      : options_(options),
        channel_(grpc::CreateChannel(options.target, grpc::InsecureChannelCredentials())),
        sops_(v1::SopService::NewStub(channel_)),
        context_(v1::ContextService::NewStub(channel_)) {}

  absl::StatusOr<v1::Sop> CreateSop(const v1::CreateSopRequest& request) override {
    return Call<v1::Sop>([&](grpc::ClientContext* context, v1::Sop* response) {
      return sops_->CreateSop(context, request, response);
    });
  }
  absl::StatusOr<v1::Sop> GetSop(const v1::GetSopRequest& request) override {
    return Call<v1::Sop>([&](grpc::ClientContext* context, v1::Sop* response) {
      return sops_->GetSop(context, request, response);
    });
  }
  absl::StatusOr<v1::ListSopsResponse> ListSops(const v1::ListSopsRequest& request) override {
    return Call<v1::ListSopsResponse>(
        [&](grpc::ClientContext* context, v1::ListSopsResponse* response) {
          return sops_->ListSops(context, request, response);
        });
  }
  absl::StatusOr<v1::Sop> UpdateSop(const v1::UpdateSopRequest& request) override {
    return Call<v1::Sop>([&](grpc::ClientContext* context, v1::Sop* response) {
      return sops_->UpdateSop(context, request, response);
    });
  }
  absl::StatusOr<v1::Sop> DeleteSop(const v1::DeleteSopRequest& request) override {
    return Call<v1::Sop>([&](grpc::ClientContext* context, v1::Sop* response) {
      return sops_->DeleteSop(context, request, response);
    });
  }
  absl::StatusOr<v1::Sop> UndeleteSop(const v1::UndeleteSopRequest& request) override {
    return Call<v1::Sop>([&](grpc::ClientContext* context, v1::Sop* response) {
      return sops_->UndeleteSop(context, request, response);
    });
  }
  absl::StatusOr<v1::ListSopRevisionsResponse> ListSopRevisions(
      const v1::ListSopRevisionsRequest& request) override {
    return Call<v1::ListSopRevisionsResponse>(
        [&](grpc::ClientContext* context, v1::ListSopRevisionsResponse* response) {
          return sops_->ListSopRevisions(context, request, response);
        });
  }
  absl::StatusOr<v1::SopRevision> GetSopRevision(
      const v1::GetSopRevisionRequest& request) override {
    return Call<v1::SopRevision>([&](grpc::ClientContext* context, v1::SopRevision* response) {
      return sops_->GetSopRevision(context, request, response);
    });
  }
  absl::StatusOr<v1::Sop> PublishSop(const v1::PublishSopRequest& request) override {
    return Call<v1::Sop>([&](grpc::ClientContext* context, v1::Sop* response) {
      return sops_->PublishSop(context, request, response);
    });
  }
  absl::StatusOr<v1::LookupSopsResponse> LookupSops(const v1::LookupSopsRequest& request) override {
    return Call<v1::LookupSopsResponse>(
        [&](grpc::ClientContext* context, v1::LookupSopsResponse* response) {
          return context_->LookupSops(context, request, response);
        });
  }

 private:
  // Every call gets a fresh context with its own deadline and the author.
  template <typename Response, typename Rpc>
  absl::StatusOr<Response> Call(Rpc rpc) {
    if (!IsValidMetadataValue(options_.author)) {
      return absl::InvalidArgumentError(
          absl::StrCat("author \"", options_.author, "\" must be printable ASCII"));
    }
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
    if (!options_.author.empty()) context.AddMetadata("x-sop-author", options_.author);
    Response response;
    const grpc::Status status = rpc(&context, &response);
    if (!status.ok()) return FromGrpcStatus(status);
    return response;
  }

  const ConnectionOptions options_;
  const std::shared_ptr<grpc::Channel> channel_;
  const std::unique_ptr<v1::SopService::Stub> sops_;
  const std::unique_ptr<v1::ContextService::Stub> context_;
};

}  // namespace

std::shared_ptr<Connection> MakeGrpcConnection(const ConnectionOptions& options) {
  return MakeRetryingConnection(std::make_shared<GrpcConnection>(options), options.retry);
}

}  // namespace sopsidebar::client
