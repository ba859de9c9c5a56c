// The gRPC server sopd runs: SopService, ContextService, health checking and
// reflection on one port. The header is free of gRPC types so the app layer
// can own a server without seeing grpc::.
#ifndef SOPSIDEBAR_SERVER_SERVICE_GRPC_SERVER_H_
#define SOPSIDEBAR_SERVER_SERVICE_GRPC_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/domain/registry/sop_registry.h"

namespace sopsidebar {

struct GrpcServerOptions {
  // host:port; port 0 picks a free port (see GrpcServer::port()).
  std::string listen_address = "127.0.0.1:50051";
  // Largest request accepted; larger ones fail with RESOURCE_EXHAUSTED.
  int max_receive_message_bytes = 4 * 1024 * 1024;
  // Threads serving the blocking SopService; bounds memory under load.
  int max_sync_threads = 16;
};

// Thread-safe.
class GrpcServer {
 public:
  // Starts serving `registry`, which must outlive the server. UNAVAILABLE
  // when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(const GrpcServerOptions& options,
                                                           SopRegistry* registry);
  ~GrpcServer();

  // The bound port.
  int port() const;

  // Marks the services NOT_SERVING, stops accepting calls, and waits up to
  // `grace` for calls in flight before cancelling them. Idempotent.
  void Shutdown(absl::Duration grace = absl::Seconds(5));

  // Blocks until Shutdown has finished.
  void Wait();

 private:
  class Impl;
  explicit GrpcServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_SERVICE_GRPC_SERVER_H_
