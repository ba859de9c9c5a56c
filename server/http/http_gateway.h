// sopd's Connect/HTTP gateway: the Connect protocol (unary and server
// streaming, JSON and binary protobuf) over HTTP/1.1, plaintext or TLS, for
// browsers and CRM sandboxes that cannot speak gRPC; and the demo's static
// files. It calls the same methods (server/api) through the same
// authorization and dispatcher as the gRPC server; docs/HTTP.md describes
// the protocol support, the limits and their defaults.
//
// The header is free of Boost types: Beast and Asio stay in the .cc.
#ifndef SOPSIDEBAR_SERVER_HTTP_HTTP_GATEWAY_H_
#define SOPSIDEBAR_SERVER_HTTP_HTTP_GATEWAY_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/api/api_method.h"
#include "server/api/dispatcher.h"
#include "server/common/listen_address.h"

namespace sopsidebar {

struct HttpGatewayOptions {
  // host:port (an IP address, "localhost", or [v6]:port); port 0 picks a
  // free port (see HttpGateway::port()).
  std::string listen_address = "127.0.0.1:8080";
  // Unset: plaintext, refused on non-loopback addresses unless
  // insecure_listen_any is set.
  std::optional<TlsServerOptions> tls;
  bool insecure_listen_any = false;
  // Origins (exact, "https://crm.example.com") whose browsers may call the
  // API cross-origin. Empty: none. A request from another origin gets no
  // CORS headers, and its preflight 403.
  std::vector<std::string> cors_origins;
  // A request body larger than this is refused with resource_exhausted
  // (HTTP 413), and the connection closed.
  size_t max_body_bytes = 4 * 1024 * 1024;
  // Request line and headers larger than this: HTTP 431, connection closed.
  size_t max_header_bytes = 16 * 1024;
  // A keep-alive connection with no request for this long is closed.
  absl::Duration idle_timeout = absl::Seconds(60);
  // A request's headers and body must all arrive within this from its first
  // byte (and a TLS handshake within it), or the connection is closed.
  absl::Duration request_read_timeout = absl::Seconds(10);
  // A response write (or a stream's message) that the client does not take
  // within this closes the connection.
  absl::Duration write_timeout = absl::Seconds(30);
  // Threads running every connection; queued methods run on the
  // dispatcher's threads, not these.
  int threads = 2;
  // Connections beyond this are closed as soon as they are accepted.
  int max_connections = 10000;
  // How often an open stream gets its method's heartbeat message.
  absl::Duration heartbeat_interval = absl::Seconds(15);
  // A stream's messages waiting for a slow client; beyond this the newest
  // replaces the last one waiting.
  size_t max_queued_stream_messages = 16;
  // Serves the files under this directory on GET and HEAD when set; "/"
  // redirects to "/demo/".
  std::string static_dir;
  // The CSP frame-ancestors of static files: who may embed the demo.
  std::string frame_ancestors = "'self'";
  // Served as GET /demo/tokens.json (Cache-Control: no-store) when set; only
  // on a loopback listen address (Start fails otherwise).
  std::string demo_tokens_file;
  // The scheme and host HubSpot calls this gateway at
  // ("https://sopd.example.com"), which its request signatures cover. Empty:
  // the listener's scheme and the request's Host header (right unless a
  // proxy in front changes them).
  std::string public_url;
  // GET /metrics answers with this text (Prometheus text format 0.0.4,
  // MetricsRegistry::Render) when set, 404 otherwise.
  std::function<std::string()> metrics;
  // /metrics is answered to loopback peers only (403 for others) unless
  // this is set: a Prometheus on another host, behind a firewall that keeps
  // everyone else out (docs/OPERATIONS.md, Monitoring).
  bool metrics_from_any_peer = false;
  // GET /readyz: 200 "ready" when this returns OK, 503 "not ready: <its
  // message>" otherwise; unset: always ready. GET /healthz: 200 "ok"
  // whenever the gateway answers at all. Both to any peer.
  std::function<absl::Status()> readiness;
  // When ready and this returns a non-empty note, GET /readyz answers 200
  // "ready; degraded: <note>" (reads served, writes refused). Unset: never.
  std::function<std::string()> degraded;
  // When set and ready, GET /readyz adds what it returns after "ready; ":
  // with the etcd store, the store revision the node's lookups reflect and
  // how long since it heard from etcd.
  std::function<std::string()> store_state;
};

// Thread-safe, except that Shutdown (and the destructor) must not run on a
// gateway thread (a MethodLookup's method or a sink's caller on one).
//
// Threads: `threads` threads run every connection; Work::kInline methods and
// StreamMethod::open run on them (they must not block), other unary methods
// on the dispatcher's queues, whose results are posted back. A stream's sink may
// be called from any thread.
class HttpGateway {
 public:
  // Starts serving `methods` through `dispatcher`; both must outlive the
  // gateway. FAILED_PRECONDITION for plaintext on a non-loopback address
  // without insecure_listen_any, and for demo_tokens_file on a non-loopback
  // address; INVALID_ARGUMENT for a bad address, TLS key or certificate, or
  // option; UNAVAILABLE when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<HttpGateway>> Start(const HttpGatewayOptions& options,
                                                            const MethodLookup* methods,
                                                            Dispatcher* dispatcher);

  // Shuts down.
  ~HttpGateway();

  // The bound port.
  int port() const;

  // The connections open now (for tests and metrics).
  int open_connections() const;

  // Starts draining: stops accepting connections, closes the idle ones,
  // and refuses every API call (POST) from now on with unavailable (HTTP
  // 503); calls in flight still get their answers, each closing its
  // connection, and GET requests are still answered on open connections.
  // Open streams are left to their producers to end (the watch hub sends
  // them `reconnect`). Returns at once. Idempotent.
  void StartDrain();

  // Drains (StartDrain) until every connection has closed or `deadline`
  // passes, then closes the rest (open streams end without an end-of-stream
  // message; their subscriptions are destroyed) and joins the threads.
  // Queued calls still in the dispatcher complete into closed connections.
  // Idempotent.
  void Shutdown(absl::Time deadline);

  class Impl;

 private:
  explicit HttpGateway(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_HTTP_HTTP_GATEWAY_H_
