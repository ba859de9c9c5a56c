#include "common/http/http_client.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace sopsidebar {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

absl::Status ReadError(const beast::error_code& ec, size_t max_body) {
  if (ec == http::error::body_limit) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "receive: the response body is larger than the limit of ", max_body, " bytes"));
  }
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    return absl::ResourceExhaustedError("receive: the response headers are too large");
  }
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) {
    return absl::UnavailableError(
        "receive: the server closed the connection before a complete response");
  }
  if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
    return absl::DataLossError(
        absl::StrCat("receive: not an HTTP/1.x response (", ec.message(), ")"));
  }
  return absl::UnavailableError(absl::StrCat("receive: ", ec.message()));
}

}  // namespace

absl::StatusOr<HttpResponse> HttpPost(const HttpPostRequest& request) {
  asio::io_context io;
  tcp::resolver resolver(io);
  beast::tcp_stream stream(io);

  http::request<http::string_body> message(http::verb::post, request.target, 11);
  message.set(http::field::host,
              request.port == "80" ? request.host : absl::StrCat(request.host, ":", request.port));
  message.set(http::field::user_agent, "sopsidebar-drafter");
  message.set(http::field::content_type, "application/json");
  message.set(http::field::accept, "application/json");
  for (const auto& [name, value] : request.headers) message.set(name, value);
  message.body() = request.body;
  message.prepare_payload();

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(request.max_response_bytes);

  // Each step starts the next from its completion handler; the first error
  // ends the exchange. The handlers run inside io.run_for below, so the
  // locals they refer to outlive them.
  bool finished = false;
  absl::Status status;
  auto finish = [&](absl::Status s) {
    if (finished) return;
    finished = true;
    status = std::move(s);
  };
  resolver.async_resolve(
      request.host, request.port,
      [&](const beast::error_code& ec, const tcp::resolver::results_type& results) {
        if (ec) return finish(absl::UnavailableError(absl::StrCat("resolve: ", ec.message())));
        stream.async_connect(results, [&](const beast::error_code& ec, const tcp::endpoint&) {
          if (ec) return finish(absl::UnavailableError(absl::StrCat("connect: ", ec.message())));
          http::async_write(stream, message, [&](const beast::error_code& ec, size_t) {
            if (ec) return finish(absl::UnavailableError(absl::StrCat("send: ", ec.message())));
            http::async_read(stream, buffer, parser, [&](const beast::error_code& ec, size_t) {
              finish(ec ? ReadError(ec, request.max_response_bytes) : absl::OkStatus());
            });
          });
        });
      });

  io.run_for(std::chrono::nanoseconds(absl::ToInt64Nanoseconds(request.timeout)));
  if (!finished) {
    // Out of time: cancel what is pending and let its handlers run (they
    // see operation_aborted) before the locals go away.
    finished = true;
    resolver.cancel();
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.socket().close(ignored);
    io.restart();
    io.run();
    return absl::DeadlineExceededError(
        absl::StrCat("no complete response within ", absl::FormatDuration(request.timeout)));
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  if (!status.ok()) return status;
  HttpResponse response;
  response.status = static_cast<int>(parser.get().result_int());
  response.body = std::move(parser.get().body());
  return response;
}

}  // namespace sopsidebar
