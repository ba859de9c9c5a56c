// The gRPC server sopd runs: SopService, ContextService, AdminService, health
// checking and reflection on one port, plaintext or TLS/mTLS, with
// keepalive enforcement, bounded queues for blocking work, and request
// compression refused (docs/SECURITY.md lists every limit). The header is
// free of gRPC types so the app layer can own a server without seeing grpc::.
#ifndef SOPSIDEBAR_SERVER_SERVICE_GRPC_SERVER_H_
#define SOPSIDEBAR_SERVER_SERVICE_GRPC_SERVER_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/domain/auth/access_registry.h"
#include "server/domain/registry/sop_registry.h"

namespace sopsidebar {

// PEM contents (not paths) for TLS.
struct TlsServerOptions {
  std::string cert_chain_pem;
  std::string private_key_pem;
  // When set, clients must present a certificate signed by this CA (mTLS).
  std::string client_ca_pem;
};

struct GrpcServerOptions {
  // host:port; port 0 picks a free port (see GrpcServer::port()).
  std::string listen_address = "127.0.0.1:50051";
  // Unset: plaintext, which is refused on non-loopback addresses unless
  // insecure_listen_any is set.
  std::optional<TlsServerOptions> tls;
  bool insecure_listen_any = false;
  // The server's cap on a call's deadline: work (a queued write) not started
  // within it is not done.
  absl::Duration max_call_duration = absl::Seconds(30);
  // Largest request accepted; larger ones fail with RESOURCE_EXHAUSTED.
  int max_receive_message_bytes = 4 * 1024 * 1024;
  // Calls that read storage (GetSop, ListSops, revisions, CheckTargeting)
  // run on `read_threads` threads; up to `read_queue` more wait their turn,
  // and beyond that a call fails at once with UNAVAILABLE.
  int read_threads = 8;
  int read_queue = 1024;
  // The same for calls that write (each waits for an fsync).
  int write_threads = 4;
  int write_queue = 256;
  // Threads for what still uses gRPC's synchronous API (reflection);
  // lookups, reads and writes do not count against it.
  int max_sync_threads = 4;
};

// Thread-safe.
class GrpcServer {
 public:
  // Starts serving `registry` and `access`, which must outlive the server.
  // FAILED_PRECONDITION for plaintext on a non-loopback address without
  // insecure_listen_any; UNAVAILABLE when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(const GrpcServerOptions& options,
                                                           SopRegistry* registry,
                                                           AccessRegistry* access);

  // True for 127.0.0.0/8, ::1 and localhost addresses ("host:port").
  static bool IsLoopback(absl::string_view listen_address);
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
