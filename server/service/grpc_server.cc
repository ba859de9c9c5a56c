#include "server/service/grpc_server.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "server/service/api_service.h"
#include "server/service/call_runner.h"
#include "server/service/library_logs.h"
#include "server/service/peer_service_impl.h"
#include "sopsidebar/v1/admin_service.grpc.pb.h"
#include "sopsidebar/v1/analytics_service.grpc.pb.h"
#include "sopsidebar/v1/authoring_service.grpc.pb.h"
#include "sopsidebar/v1/context_service.grpc.pb.h"
#include "sopsidebar/v1/events_service.grpc.pb.h"
#include "sopsidebar/v1/sop_service.grpc.pb.h"
#include "sopsidebar/v1/template_service.grpc.pb.h"

namespace sopsidebar {

namespace {

std::shared_ptr<grpc::ServerCredentials> Credentials(const GrpcServerOptions& options) {
  if (!options.tls) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions ssl(
      options.tls->client_ca_pem.empty()
          ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
          : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = options.tls->client_ca_pem;
  ssl.pem_key_cert_pairs.push_back({options.tls->private_key_pem, options.tls->cert_chain_pem});
  return grpc::SslServerCredentials(ssl);
}

// Limits that keep one client from exhausting the server; each is cheap to
// enforce in the transport.
void AddTransportLimits(grpc::ServerBuilder& builder) {
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, 100);
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, 16 * 1024);
  // Keepalive enforcement: ping idle clients, drop dead ones, and refuse
  // clients that ping more often than every 10 s without data.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10 * 1000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, 10 * 60 * 1000);
  // gRPC inflates a compressed request in full before the message size
  // limit applies, and before any handler can authenticate: a 1 MB gzip
  // body inflating to 1 GiB cost a gigabyte of memory per call. No client
  // of sopd needs to compress requests, so only identity is accepted; a
  // compressed request is refused with UNIMPLEMENTED as soon as its headers
  // arrive, before its message is read.
  builder.SetCompressionAlgorithmSupportStatus(GRPC_COMPRESS_DEFLATE, false);
  builder.SetCompressionAlgorithmSupportStatus(GRPC_COMPRESS_GZIP, false);
}

}  // namespace

class GrpcServer::Impl {
 public:
  Impl(const ApiMethods& methods, Dispatcher* dispatcher)
      : runner_(dispatcher),
        sop_service_(methods, &runner_),
        context_service_(methods, &runner_),
        admin_service_(methods, &runner_),
        analytics_service_(methods, &runner_),
        authoring_service_(methods, &runner_),
        event_service_(methods, &runner_),
        template_service_(methods, &runner_) {}

  absl::Status Start(const GrpcServerOptions& options) {
    if (!options.tls && !options.insecure_listen_any && !IsLoopbackAddress(options.listen_address)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "refusing to serve plaintext on ", options.listen_address,
          ": give --tls-cert and --tls-key, listen on 127.0.0.1, or pass "
          "--insecure-listen-any"));
    }
    for (const absl::Status* bound :
         {&sop_service_.status(), &context_service_.status(), &admin_service_.status(),
          &analytics_service_.status(), &authoring_service_.status(), &event_service_.status(),
          &template_service_.status()}) {
      if (!bound->ok()) return *bound;
    }
    RouteLibraryLogs();
    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    builder.AddListeningPort(options.listen_address, Credentials(options), &port_);
    builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
    grpc::ResourceQuota quota("sopd");
    quota.SetMaxThreads(options.max_sync_threads);
    builder.SetResourceQuota(quota);
    AddTransportLimits(builder);
    builder.RegisterService(&sop_service_);
    builder.RegisterService(&context_service_);
    builder.RegisterService(&admin_service_);
    builder.RegisterService(&analytics_service_);
    builder.RegisterService(&authoring_service_);
    builder.RegisterService(&event_service_);
    builder.RegisterService(&template_service_);
    if (options.peer) {
      peer_service_ = MakePeerService(*options.peer);
      builder.RegisterService(peer_service_.get());
    }
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

  void StartDrain() {
    absl::MutexLock lock(&mu_);
    if (draining_) return;
    draining_ = true;
    SetServing(false);
    runner_.StopAdmitting();
  }

  void Shutdown(absl::Time deadline) {
    StartDrain();
    absl::MutexLock lock(&mu_);
    if (shut_down_) return;
    shut_down_ = true;
    // The calls in flight finish while the server still answers every new
    // one UNAVAILABLE. gRPC's own shutdown refuses calls that reach a
    // connection after it began with CANCELLED, which clients do not
    // retry: it comes once nothing is left to wait for.
    runner_.WaitForCallsInFlight(deadline);
    server_->Shutdown(absl::ToChronoTime(deadline));
  }

  void Wait() { server_->Wait(); }

 private:
  void SetServing(bool serving) {
    grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
    health->SetServingStatus(serving);
    for (const char* service :
         {v1::SopService::service_full_name(), v1::ContextService::service_full_name(),
          v1::AdminService::service_full_name(), v1::AnalyticsService::service_full_name(),
          v1::AuthoringService::service_full_name(), v1::EventService::service_full_name(),
          v1::TemplateService::service_full_name()}) {
      health->SetServingStatus(service, serving);
    }
  }

  // Outlive server_ (declared before it).
  CallRunner runner_;
  ApiService<v1::SopService> sop_service_;
  ApiService<v1::ContextService> context_service_;
  ApiService<v1::AdminService> admin_service_;
  ApiService<v1::AnalyticsService> analytics_service_;
  ApiService<v1::AuthoringService> authoring_service_;
  ApiService<v1::EventService> event_service_;
  ApiService<v1::TemplateService> template_service_;
  // Before server_: a registered service outlives the server.
  std::unique_ptr<grpc::Service> peer_service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  absl::Mutex mu_;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

GrpcServer::GrpcServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

GrpcServer::~GrpcServer() {
  impl_->Shutdown(absl::Now());
  impl_->Wait();
}

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(const GrpcServerOptions& options,
                                                              const ApiMethods* methods,
                                                              Dispatcher* dispatcher) {
  auto impl = std::make_unique<Impl>(*methods, dispatcher);
  absl::Status started = impl->Start(options);
  if (!started.ok()) return started;
  return std::unique_ptr<GrpcServer>(new GrpcServer(std::move(impl)));
}

int GrpcServer::port() const { return impl_->port(); }

void GrpcServer::StartDrain() { impl_->StartDrain(); }

void GrpcServer::Shutdown(absl::Time deadline) { impl_->Shutdown(deadline); }

void GrpcServer::Wait() { impl_->Wait(); }

}  // namespace sopsidebar
