// A load client for sopd's Connect gateway: `connections` HTTP/1.1
// keep-alive connections on loopback, one request in flight on each, driven
// by one epoll thread. Requests are sent as given; responses are kept as
// bytes (not parsed), so that the client's work does not bound the server's
// figures. For benchmarks only: no TLS, no chunked responses, loopback only.
#ifndef SOPSIDEBAR_CLIENT_BENCH_HTTP_LOAD_H_
#define SOPSIDEBAR_CLIENT_BENCH_HTTP_LOAD_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace sopsidebar::bench {

// Thread-safe: Send may be called from any thread, one request per
// connection at a time; `done` runs on the client's thread and may call Send
// for the next request.
class HttpLoad {
 public:
  using Done = std::function<void(absl::Status status)>;

  // Connects `connections` sockets to `address` (127.0.0.1:PORT).
  // UNAVAILABLE when a connection fails.
  static absl::StatusOr<std::unique_ptr<HttpLoad>> Connect(const std::string& address,
                                                           int connections);
  ~HttpLoad();

  // Sends `request` (a whole HTTP/1.1 request, headers and body) on
  // connection `connection`; `done` gets OK for a 200 response, an error
  // naming the status line otherwise, or the connection's failure.
  void Send(int connection, const std::string* request, Done done);

  // The last response body received on `connection`.
  std::string last_body(int connection);

 private:
  struct Connection;
  HttpLoad() = default;
  void Loop();
  // Parses what `c` has read; true when a whole response is in.
  static bool Complete(Connection& c, absl::Status* status);

  int epoll_ = -1;
  int wake_ = -1;  // an eventfd that stops the loop
  std::vector<std::unique_ptr<Connection>> connections_;
  std::thread thread_;
};

// "POST {path} HTTP/1.1" with the headers a Connect unary call carries and
// `body`.
std::string ConnectRequest(const std::string& host, const std::string& path,
                           const std::string& content_type, const std::string& authorization,
                           const std::string& body);

}  // namespace sopsidebar::bench

#endif  // SOPSIDEBAR_CLIENT_BENCH_HTTP_LOAD_H_
