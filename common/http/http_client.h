// A small synchronous HTTP/1.1 client, shared by the model drafter
// (plugins/drafting/openai) and sopd's webhook deliveries
// (server/domain/events): one POST on a fresh plain-TCP connection, under one deadline for the
// whole exchange (resolving, connecting, sending and receiving). Boost.Beast does the work in
// http_client.cc alone; this header is free of Boost types.
//
// Plain http:// only: model servers for drafting (llama.cpp, Ollama, vLLM)
// and webhook receivers run on the same host or network; put a
// TLS-terminating proxy in front of a remote one.
#ifndef SOPSIDEBAR_COMMON_HTTP_HTTP_CLIENT_H_
#define SOPSIDEBAR_COMMON_HTTP_HTTP_CLIENT_H_

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sopsidebar {

struct HttpPostRequest {
  std::string host;    // a name or an IP address
  std::string port;    // "8080"
  std::string target;  // "/v1/chat/completions"
  // Sent besides Host, Content-Type (application/json), Content-Length
  // and User-Agent.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // JSON
  // The whole exchange's deadline.
  absl::Duration timeout = absl::Seconds(30);
  // The largest response body accepted.
  size_t max_response_bytes = 1 << 20;
};

struct HttpResponse {
  int status = 0;
  std::string body;
};

// Sends `request` and reads the response, whatever its status. Errors:
//   UNAVAILABLE        the host does not resolve, the connection is refused
//                      or reset, or closed before a complete response;
//   DEADLINE_EXCEEDED  no complete response within request.timeout;
//   RESOURCE_EXHAUSTED a body larger than max_response_bytes (or headers
//                      over 8 KiB);
//   DATA_LOSS          the answer is not an HTTP/1.x response.
// Messages say which step failed ("connect: Connection refused").
// Thread-safe: each call has its own connection and I/O context.
absl::StatusOr<HttpResponse> HttpPost(const HttpPostRequest& request);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_COMMON_HTTP_HTTP_CLIENT_H_
