#include "server/service/grpc_server.h"

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "server/service/sop_service.h"

namespace sopsidebar {

class GrpcServer::Impl {
 public:
  explicit Impl(SopRegistry* registry) : sop_service_(registry), context_service_(registry) {}

  absl::Status Start(const GrpcServerOptions& options) {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    builder.AddListeningPort(options.listen_address, grpc::InsecureServerCredentials(), &port_);
    builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
    grpc::ResourceQuota quota("sopd");
    quota.SetMaxThreads(options.max_sync_threads);
    builder.SetResourceQuota(quota);
    builder.RegisterService(&sop_service_);
    builder.RegisterService(&context_service_);
    server_ = builder.BuildAndStart();
    if (server_ == nullptr || port_ == 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", options.listen_address,
                       " (address in use or not local?)"));
    }
    SetServing(true);
    return absl::OkStatus();
  }

  int port() const { return port_; }

  void Shutdown(absl::Duration grace) {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return;
    shut_down_ = true;
    SetServing(false);
    server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoSeconds(grace));
  }

  void Wait() { server_->Wait(); }

 private:
  void SetServing(bool serving) {
    grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
    health->SetServingStatus(serving);
    for (const char* service : {v1::SopService::service_full_name(),
                                v1::ContextService::service_full_name()}) {
      health->SetServingStatus(service, serving);
    }
  }

  SopServiceImpl sop_service_;
  ContextServiceImpl context_service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  absl::Mutex mu_;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

GrpcServer::GrpcServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

GrpcServer::~GrpcServer() {
  impl_->Shutdown(absl::ZeroDuration());
  impl_->Wait();
}

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(const GrpcServerOptions& options,
                                                              SopRegistry* registry) {
  auto impl = std::make_unique<Impl>(registry);
  absl::Status started = impl->Start(options);
  if (!started.ok()) return started;
  return std::unique_ptr<GrpcServer>(new GrpcServer(std::move(impl)));
}

int GrpcServer::port() const { return impl_->port(); }

void GrpcServer::Shutdown(absl::Duration grace) { impl_->Shutdown(grace); }

void GrpcServer::Wait() { impl_->Wait(); }

}  // namespace sopsidebar
