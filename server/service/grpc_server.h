// The gRPC server sopd runs: SopService, ContextService, AdminService (the
// API's methods, server/api), health checking and reflection on one port,
// plaintext or TLS/mTLS, with keepalive enforcement and request compression
// refused (docs/SECURITY.md lists every limit). The header is free of gRPC
// types so the app layer can own a server without seeing grpc::.
#ifndef SOPSIDEBAR_SERVER_SERVICE_GRPC_SERVER_H_
#define SOPSIDEBAR_SERVER_SERVICE_GRPC_SERVER_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/api/api_methods.h"
#include "server/api/dispatcher.h"
#include "server/common/listen_address.h"
#include "server/service/peer_service.h"

namespace sopsidebar {

struct GrpcServerOptions {
  // host:port; port 0 picks a free port (see GrpcServer::port()).
  std::string listen_address = "127.0.0.1:50051";
  // Unset: plaintext, which is refused on non-loopback addresses unless
  // insecure_listen_any is set.
  std::optional<TlsServerOptions> tls;
  bool insecure_listen_any = false;
  // Largest request accepted; larger ones fail with RESOURCE_EXHAUSTED.
  int max_receive_message_bytes = 4 * 1024 * 1024;
  // Threads for what still uses gRPC's synchronous API (reflection);
  // calls of the API's methods do not count against it.
  int max_sync_threads = 4;
  // The internal PeerService, when several nodes share an etcd store
  // (peer_service.h); unset: not served.
  std::optional<PeerServiceOptions> peer;
};

// Thread-safe.
class GrpcServer {
 public:
  // Starts serving `methods` through `dispatcher`, which must outlive the
  // server. FAILED_PRECONDITION for plaintext on a non-loopback address
  // without insecure_listen_any; UNAVAILABLE when the address cannot be
  // bound.
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(const GrpcServerOptions& options,
                                                           const ApiMethods* methods,
                                                           Dispatcher* dispatcher);

  ~GrpcServer();

  // The bound port.
  int port() const;

  // Starts draining: marks the services NOT_SERVING (health checks and
  // their watchers see it) and refuses every call that arrives from now on
  // with UNAVAILABLE, while calls in flight go on. Returns at once.
  // Idempotent.
  void StartDrain();

  // Drains (StartDrain), waits until `deadline` for the unary calls in
  // flight to be answered while new calls are refused, then stops accepting
  // connections and cancels what is left (those callers get CANCELLED or
  // UNAVAILABLE). Returns once the server has stopped; a method still
  // running when the deadline passes is waited for, as its result can no
  // longer be sent. Idempotent.
  void Shutdown(absl::Time deadline);

  // Blocks until Shutdown has finished.
  void Wait();

 private:
  class Impl;
  explicit GrpcServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_SERVICE_GRPC_SERVER_H_
