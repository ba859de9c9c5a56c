// The gateway's one Beast/Asio translation unit. Every connection lives on
// its own strand: the socket's handlers, its timers and the messages its
// stream's sink posts all run there, one at a time, on any of the
// io_context's `threads` threads. Nothing here blocks: queued methods run on
// the dispatcher's threads and post their result back to the strand.
#include "server/http/http_gateway.h"

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <deque>
#include <fstream>
#include <iterator>
#include <thread>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_map.h"
#include "absl/memory/memory.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "common/errors.h"
#include "google/protobuf/arena.h"
#include "server/common/clock.h"
#include "server/common/crypto.h"
#include "server/common/log.h"
#include "server/common/metrics.h"
#include "server/http/connect_protocol.h"
#include "server/http/hubspot_signature.h"
#include "server/http/static_files.h"

namespace sopsidebar {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

constexpr char kAllowHeaders[] =
    "authorization, content-type, connect-protocol-version, connect-timeout-ms, sop-viewer-id, "
    "sop-viewer-name, sop-viewer-crm-roles";
constexpr char kAllowMethods[] = "POST, GET, HEAD, OPTIONS";
constexpr char kPreflightMaxAge[] = "7200";
// How long a closing connection drains what the client still sends, so that
// closing does not reset the connection before the client read the answer.
constexpr absl::Duration kLingerTime = absl::Seconds(2);

std::chrono::nanoseconds ToChrono(absl::Duration d) { return absl::ToChronoNanoseconds(d); }

// "host:port" split; false when malformed.
bool SplitHostPort(absl::string_view address, std::string* host, uint16_t* port) {
  absl::string_view host_part, port_part;
  if (!address.empty() && address[0] == '[') {
    size_t close = address.find(']');
    if (close == absl::string_view::npos || close + 1 >= address.size() ||
        address[close + 1] != ':') {
      return false;
    }
    host_part = address.substr(1, close - 1);
    port_part = address.substr(close + 2);
  } else {
    size_t colon = address.rfind(':');
    if (colon == absl::string_view::npos) return false;
    host_part = address.substr(0, colon);
    port_part = address.substr(colon + 1);
  }
  uint32_t value = 0;
  if (host_part.empty() || !absl::SimpleAtoi(port_part, &value) || value > 65535) return false;
  *host = std::string(host_part);
  *port = static_cast<uint16_t>(value);
  return true;
}

// The address to bind for `host`, or nullopt.
std::optional<net::ip::address> HostAddress(const std::string& host) {
  if (absl::AsciiStrToLower(host) == "localhost") return net::ip::make_address("127.0.0.1");
  boost::system::error_code ec;
  net::ip::address address = net::ip::make_address(host, ec);
  if (ec) return std::nullopt;
  return address;
}

absl::string_view Sv(beast::string_view s) { return absl::string_view(s.data(), s.size()); }

constexpr char kHubSpotSignatureHeader[] = "X-HubSpot-Signature-v3";
constexpr char kHubSpotTimestampHeader[] = "X-HubSpot-Request-Timestamp";

// The viewer an integration states, from the request's headers (views into
// `request`).
Dispatcher::ViewerHeaders ViewerHeadersOf(const Request& request) {
  return {Sv(request[kViewerIdHeader]), Sv(request[kViewerNameHeader]),
          Sv(request[kViewerRolesHeader])};
}

// True for a Host header naming a loopback address, with or without a port
// ("localhost:8080", "127.0.0.1", "[::1]:8080").
bool HostIsLoopback(absl::string_view host) {
  // A Host header has a port only after its last ':' outside brackets.
  const bool has_port = !absl::EndsWith(host, "]") && host.find(':') != absl::string_view::npos;
  return IsLoopbackAddress(has_port ? std::string(host) : absl::StrCat(host, ":0"));
}

std::string ChunkOf(absl::string_view data) {
  return absl::StrCat(absl::Hex(data.size()), "\r\n", data, "\r\n");
}

class Connection;

}  // namespace

class HttpGateway::Impl : public std::enable_shared_from_this<HttpGateway::Impl> {
 public:
  Impl(const HttpGatewayOptions& options, const MethodLookup* methods, Dispatcher* dispatcher)
      : options_(options),
        methods_(methods),
        dispatcher_(dispatcher),
        ioc_(options.threads),
        acceptor_(net::make_strand(ioc_)),
        accept_retry_(acceptor_.get_executor()) {
    absl::c_sort(options_.cors_origins);
    csp_ = absl::StrCat(
        "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors ",
        options_.frame_ancestors);
    if (!options_.static_dir.empty()) static_files_.emplace(options_.static_dir);
  }

  absl::Status Listen();
  void Accept();
  void StartDrain();
  void Shutdown(absl::Time deadline);

  // The origin of `fields` when it may call the API cross-origin, else "".
  std::string AllowedOrigin(const http::fields& fields) const {
    auto origin = fields.find(http::field::origin);
    if (origin == fields.end()) return "";
    std::string value(origin->value().data(), origin->value().size());
    return absl::c_binary_search(options_.cors_origins, value) ? value : "";
  }

  // False (the connection must not start) once Shutdown has begun.
  bool Register(const std::shared_ptr<Connection>& connection);
  void Unregister(Connection* connection);

  // The caller of a request HubSpot signed (X-HubSpot-Signature-v3): the
  // viewer it names, acting through the HubSpot integration token of the
  // portal it names, once its signature verifies with that app's secret.
  // Every refusal is the verifier's one UNAUTHENTICATED message.
  absl::StatusOr<Caller> AuthenticateHubSpot(const Request& request, absl::Time deadline);
  // The caller of an API request: HubSpot-signed, or by bearer token (and
  // the viewer an integration states).
  // The caller of `request` from `peer`, with Caller::client set.
  absl::StatusOr<Caller> Authenticate(const Request& request, absl::Time deadline,
                                      absl::string_view peer);

  HttpGatewayOptions options_;
  const MethodLookup* const methods_;
  Dispatcher* const dispatcher_;
  HubSpotVerifier hubspot_{&Clock::Real()};
  // Verifies requests naming a portal no token has, so that they take as
  // long and fail the same way as a wrong signature.
  const std::string unknown_portal_secret_ = RandomHexSecret(32);
  std::string csp_;
  std::optional<StaticFiles> static_files_;
  std::atomic<int> connections_{0};
  // Set by StartDrain: API calls are refused, answers close their
  // connection.
  std::atomic<bool> draining_{false};
  int port_ = 0;

  absl::Mutex mu_;
  absl::flat_hash_map<Connection*, std::weak_ptr<Connection>> live_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;

  // Declared after what handlers use, so destroyed (with any handler still
  // queued) first.
  std::optional<ssl::context> ssl_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  net::steady_timer accept_retry_;
  std::vector<std::thread> threads_;
};

absl::StatusOr<Caller> HttpGateway::Impl::AuthenticateHubSpot(const Request& request,
                                                              absl::Time deadline) {
  HubSpotRequest signed_request;
  signed_request.method = std::string(Sv(request.method_string()));
  const std::string base =
      !options_.public_url.empty()
          ? options_.public_url
          : absl::StrCat(ssl_ ? "https://" : "http://", Sv(request[http::field::host]));
  signed_request.uri = absl::StrCat(absl::StripSuffix(base, "/"), Sv(request.target()));
  signed_request.body = request.body();
  signed_request.signature_v3 = std::string(Sv(request[kHubSpotSignatureHeader]));
  signed_request.timestamp = std::string(Sv(request[kHubSpotTimestampHeader]));
  absl::StatusOr<AccessRegistry::HubSpotIntegration> integration =
      dispatcher_->FindHubSpotIntegration(HubSpotPortalNamed(signed_request.uri));
  HubSpotVerdict verdict = hubspot_.Check(
      signed_request, integration.ok() ? integration->client_secret : unknown_portal_secret_);
  if (!integration.ok() && verdict.caller.ok()) {
    return absl::InternalError("a signature verified with no secret");  // cannot happen
  }
  if (!verdict.caller.ok()) {
    LogLine(absl::StrCat("sopd: refused a HubSpot-signed request: ",
                         HubSpotRefusalName(verdict.refusal)));
    return verdict.caller.status();
  }
  ViewerClaim viewer;
  viewer.id = verdict.caller->user_id;
  viewer.email = verdict.caller->user_email;
  viewer.display_name = verdict.caller->user_email;
  return dispatcher_->ActFor(integration->caller, viewer, deadline);
}

absl::StatusOr<Caller> HttpGateway::Impl::Authenticate(const Request& request, absl::Time deadline,
                                                       absl::string_view peer) {
  absl::StatusOr<Caller> caller =
      request.find(kHubSpotSignatureHeader) != request.end()
          ? AuthenticateHubSpot(request, deadline)
          : dispatcher_->Authenticate(Sv(request[http::field::authorization]),
                                      ViewerHeadersOf(request), deadline);
  if (caller.ok()) caller->client = ClientOf("http", peer, Sv(request[http::field::user_agent]));
  return caller;
}

namespace {

// One HTTP/1.1 connection: reads requests one at a time, answers each
// (keep-alive), or turns into one server stream until it ends.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(HttpGateway::Impl* gateway, tcp::socket socket)
      : gateway_(gateway),
        socket_(std::move(socket)),
        deadline_(socket_.get_executor()),
        heartbeat_(socket_.get_executor()),
        stream_deadline_(socket_.get_executor()) {
    ++gateway_->connections_;
    boost::system::error_code ec;
    tcp::endpoint remote = socket_.remote_endpoint(ec);
    if (!ec) {
      peer_ = absl::StrCat(remote.address().to_string(), ":", remote.port());
      peer_loopback_ = remote.address().is_loopback();
    }
  }

  ~Connection() {
    gateway_->Unregister(this);
    --gateway_->connections_;
  }

  net::any_io_executor executor() { return socket_.get_executor(); }

  void Start() {
    if (gateway_->ssl_) {
      tls_ = std::make_unique<ssl::stream<tcp::socket&>>(socket_, *gateway_->ssl_);
      Arm(gateway_->options_.request_read_timeout);
      tls_->async_handshake(ssl::stream_base::server,
                            [self = shared_from_this()](beast::error_code ec) {
                              if (ec || self->closed_) return self->Close();
                              self->WaitForRequest();
                            });
      return;
    }
    WaitForRequest();
  }

  // Ends the connection at once: the subscription (if any) is destroyed,
  // timers cancelled, the socket closed. On the strand; idempotent.
  void Close() {
    if (closed_) return;
    closed_ = true;
    cancelled_->store(true);
    subscription_.reset();
    queued_call_.reset();
    ++deadline_generation_;
    deadline_.cancel();
    heartbeat_.cancel();
    stream_deadline_.cancel();
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    gateway_->Unregister(this);
  }

  // The gateway started draining; on the strand. A connection waiting for
  // its next request closes now; one busy with a request closes after its
  // answer (Respond), and a stream once the watch hub has ended it.
  void OnDrain() {
    // resume_after_read_: answered, and the next request is awaited on the
    // read a queued call left pending.
    if (waiting_for_request_ || resume_after_read_) Close();
  }

  // A stream message from the method's sink; on the strand.
  void OnSinkMessage(std::string message) {
    if (closed_ || stream_ended_) return;
    absl::StatusOr<std::string> encoded = connect::EncodeMessage(
        stream_type_.codec, *stream_method_->response_prototype, std::move(message));
    if (!encoded.ok()) return EndStream(encoded.status());
    std::string chunk = ChunkOf(connect::Envelope(0, *encoded));
    // Coalesce: when the client reads slowly, the newest message replaces
    // the last one still waiting.
    size_t waiting = 0;
    for (size_t i = writing_ ? 1 : 0; i < out_.size(); ++i) waiting += out_[i].data ? 1 : 0;
    if (waiting >= gateway_->options_.max_queued_stream_messages && out_.back().data &&
        (!writing_ || out_.size() > 1)) {
      out_.back().bytes = std::move(chunk);
      return;
    }
    Queue(std::move(chunk), /*data=*/true);
  }

  // The sink's Close; on the strand.
  void OnSinkClose(absl::Status status) {
    if (closed_ || stream_ended_) return;
    EndStream(std::move(status));
  }

 private:
  // --- I/O on either a plain or a TLS socket ----------------------------

  template <class Handler>
  void ReadSome(net::mutable_buffer buffer, Handler&& handler) {
    if (tls_) {
      tls_->async_read_some(buffer, std::forward<Handler>(handler));
    } else {
      socket_.async_read_some(buffer, std::forward<Handler>(handler));
    }
  }

  template <class Buffers, class Handler>
  void WriteAll(const Buffers& buffers, Handler&& handler) {
    if (tls_) {
      net::async_write(*tls_, buffers, std::forward<Handler>(handler));
    } else {
      net::async_write(socket_, buffers, std::forward<Handler>(handler));
    }
  }

  // Closes the connection unless the deadline is re-armed or disarmed
  // within `timeout`.
  void Arm(absl::Duration timeout) {
    uint64_t generation = ++deadline_generation_;
    deadline_.expires_after(ToChrono(timeout));
    deadline_.async_wait([self = shared_from_this(), generation](beast::error_code ec) {
      if (ec || generation != self->deadline_generation_) return;
      self->Close();
    });
  }

  void Disarm() {
    ++deadline_generation_;
    deadline_.cancel();
  }

  // --- Requests ---------------------------------------------------------

  // Waits (up to the idle timeout) for a request's first byte.
  void WaitForRequest() {
    if (closed_) return;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(gateway_->options_.max_header_bytes));
    parser_->body_limit(gateway_->options_.max_body_bytes);
    if (buffer_.size() > 0) return ReadRequest();
    if (gateway_->draining_.load()) return Close();
    Arm(gateway_->options_.idle_timeout);
    waiting_for_request_ = true;
    ReadSome(buffer_.prepare(4096),
             [self = shared_from_this()](beast::error_code ec, size_t bytes) {
               self->waiting_for_request_ = false;
               if (ec || self->closed_) return self->Close();
               self->buffer_.commit(bytes);
               self->ReadRequest();
             });
  }

  // Reads the whole request (headers and body) within the read timeout.
  void ReadRequest() {
    Arm(gateway_->options_.request_read_timeout);
    auto done = [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); };
    if (tls_) {
      http::async_read_header(*tls_, buffer_, *parser_, std::move(done));
    } else {
      http::async_read_header(socket_, buffer_, *parser_, std::move(done));
    }
  }

  // Answers "Expect: 100-continue" (curl sends it before large bodies), then
  // reads the body, still within the read timeout.
  void OnHeader(beast::error_code ec) {
    if (closed_) return;
    if (ec || parser_->is_done()) return OnRequest(ec);
    if (beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
      static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      return WriteAll(net::buffer(kContinue, sizeof kContinue - 1),
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec || self->closed_) return self->Close();
                        self->ReadBody();
                      });
    }
    ReadBody();
  }

  void ReadBody() {
    auto done = [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRequest(ec); };
    if (tls_) {
      http::async_read(*tls_, buffer_, *parser_, std::move(done));
    } else {
      http::async_read(socket_, buffer_, *parser_, std::move(done));
    }
  }

  void OnRequest(beast::error_code ec) {
    if (closed_) return;
    if (ec == http::error::body_limit) {
      origin_ = gateway_->AllowedOrigin(parser_->get());
      return RespondError(error::RequestTooLarge(gateway_->options_.max_body_bytes),
                          /*keep_alive=*/false, /*http_status=*/413);
    }
    if (ec == http::error::header_limit) {
      origin_.clear();
      return Respond(PlainResponse(http::status::request_header_fields_too_large,
                                   "request headers too large\n"),
                     /*keep_alive=*/false);
    }
    if (ec) return Close();
    Disarm();
    Handle(parser_->release());
  }

  void Handle(Request request) {
    origin_ = gateway_->AllowedOrigin(request);
    keep_alive_ = request.keep_alive();
    absl::string_view target(request.target().data(), request.target().size());
    path_ = std::string(target.substr(0, target.find('?')));
    const http::verb verb = request.method();

    if (verb == http::verb::options) return HandlePreflight(request);
    if (verb == http::verb::post && gateway_->draining_.load()) {
      // Before the method is looked up: a stream opened now would end at
      // once, and a unary call may not start.
      return FailUnary(error::ShuttingDown());
    }
    if (verb == http::verb::post) {
      if (const UnaryMethod* method = gateway_->methods_->FindUnary(path_)) {
        return HandleUnary(std::move(request), *method);
      }
      if (const StreamMethod* method = gateway_->methods_->FindStream(path_)) {
        return HandleStream(std::move(request), *method);
      }
      BeginCall(nullptr);
      absl::Status status = error::NoSuchMethod(path_);
      gateway_->dispatcher_->LogIfRejected(path_, peer_, status);
      EndCall(status);
      return RespondError(status, keep_alive_, /*http_status=*/404);
    }
    if (verb == http::verb::get || verb == http::verb::head) {
      return HandleGet(request, verb == http::verb::head);
    }
    Response response = PlainResponse(http::status::method_not_allowed, "method not allowed\n");
    response.set(http::field::allow, kAllowMethods);
    Respond(std::move(response), keep_alive_);
  }

  void HandlePreflight(const Request& request) {
    if (origin_.empty()) {
      return Respond(PlainResponse(http::status::forbidden, "origin not allowed\n"), keep_alive_);
    }
    Response response{http::status::no_content, 11};
    response.set(http::field::access_control_allow_methods, kAllowMethods);
    response.set(http::field::access_control_allow_headers, kAllowHeaders);
    response.set(http::field::access_control_max_age, kPreflightMaxAge);
    Respond(std::move(response), keep_alive_);
  }

  void HandleGet(const Request& request, bool head) {
    const HttpGatewayOptions& options = gateway_->options_;
    if (path_ == "/") return Redirect("/demo/", head);
    if (path_ == "/healthz" || path_ == "/readyz" || path_ == "/metrics") {
      return HandleOperations(head);
    }
    Response response{http::status::ok, 11};
    if (path_ == "/demo/tokens.json" && !options.demo_tokens_file.empty()) {
      // Against DNS rebinding: a page of another site whose name now
      // resolves to 127.0.0.1 is same-origin with us, but its Host is not
      // a loopback name.
      if (!HostIsLoopback(Sv(request[http::field::host]))) {
        return Respond(PlainResponse(http::status::forbidden, "loopback host names only\n"),
                       keep_alive_);
      }
      std::ifstream in(options.demo_tokens_file, std::ios::binary);
      if (!in) {
        return Respond(PlainResponse(http::status::not_found, "not found\n"), keep_alive_);
      }
      response.body().assign(std::istreambuf_iterator<char>(in), {});
      response.set(http::field::content_type, "application/json");
      response.set(http::field::cache_control, "no-store");
    } else {
      if (!gateway_->static_files_) {
        return Respond(PlainResponse(http::status::not_found, "not found\n"), keep_alive_);
      }
      absl::StatusOr<StaticFile> file = gateway_->static_files_->Get(path_);
      if (!file.ok()) {
        bool refused = file.status().code() == absl::StatusCode::kInvalidArgument;
        return Respond(PlainResponse(refused ? http::status::bad_request : http::status::not_found,
                                     refused ? "bad path\n" : "not found\n"),
                       keep_alive_);
      }
      if (!file->redirect.empty()) return Redirect(file->redirect, head);
      response.body() = std::move(file->body);
      response.set(http::field::content_type, file->content_type);
      response.set(http::field::cache_control, file->cache_control);
    }
    response.set("Content-Security-Policy", gateway_->csp_);
    response.set("X-Content-Type-Options", "nosniff");
    response.set("Referrer-Policy", "no-referrer");
    RespondGetOrHead(std::move(response), head);
  }

  // Sends `response`, its headers set; to a HEAD request with the length
  // of the body a GET would get, and no body.
  void RespondGetOrHead(Response response, bool head) {
    response.prepare_payload();
    if (head) {
      std::string length = std::to_string(response.body().size());
      response.body().clear();
      response.set(http::field::content_length, length);
      return Respond(std::move(response), keep_alive_, /*prepared=*/true);
    }
    Respond(std::move(response), keep_alive_);
  }

  // /healthz: 200 while the gateway serves. /readyz: 200 when the
  // readiness check passes, 503 with its reason otherwise. /metrics: the
  // metrics text, to loopback peers unless any peer may scrape.
  void HandleOperations(bool head) {
    const HttpGatewayOptions& options = gateway_->options_;
    Response response = PlainResponse(http::status::ok, "ok\n");
    if (path_ == "/readyz") {
      absl::Status ready = options.readiness ? options.readiness() : absl::OkStatus();
      const std::string note = ready.ok() && options.degraded ? options.degraded() : "";
      if (ready.ok()) {
        std::string body = "ready";
        if (options.store_state) absl::StrAppend(&body, "; ", options.store_state());
        if (!note.empty()) absl::StrAppend(&body, "; degraded: ", note);
        response.body() = absl::StrCat(body, "\n");
      } else {
        response = PlainResponse(http::status::service_unavailable,
                                 absl::StrCat("not ready: ", ready.message(), "\n"));
      }
    } else if (path_ == "/metrics") {
      if (!options.metrics) {
        response = PlainResponse(http::status::not_found, "not found\n");
      } else if (!peer_loopback_ && !options.metrics_from_any_peer) {
        response = PlainResponse(http::status::forbidden, "metrics are served to loopback only\n");
      } else {
        response.body() = options.metrics();
        response.set(http::field::content_type, std::string(MetricsRegistry::kContentType));
      }
    }
    response.set(http::field::cache_control, "no-store");
    RespondGetOrHead(std::move(response), head);
  }

  void Redirect(absl::string_view location, bool head) {
    Response response = PlainResponse(http::status::found, head ? "" : "redirecting\n");
    response.set(http::field::location, std::string(location));
    Respond(std::move(response), keep_alive_);
  }

  // --- Calls (for Dispatcher::CallEnded) -------------------------------

  void BeginCall(const google::protobuf::MethodDescriptor* method) {
    call_open_ = true;
    call_method_ = method;
    call_start_ = absl::Now();
    call_token_.clear();
    call_user_.clear();
  }

  void NoteCaller(const Caller& caller) {
    if (!gateway_->dispatcher_->access_log()) return;
    call_token_ = caller.token_name;
    call_user_ = caller.user_id;
  }

  // Once per call, whatever ends it first.
  void EndCall(const absl::Status& status) {
    if (!call_open_) return;
    call_open_ = false;
    gateway_->dispatcher_->CallEnded(
        {Transport::kConnect, call_method_, path_, peer_, call_token_, call_user_, call_start_},
        status);
  }

  // --- Unary ------------------------------------------------------------

  void HandleUnary(Request request, const UnaryMethod& method) {
    BeginCall(method.descriptor);
    std::optional<connect::ContentType> type =
        connect::ParseContentType(Sv(request[http::field::content_type]));
    if (!type || type->streaming) {
      return RespondUnsupportedMediaType(Sv(request[http::field::content_type]),
                                         "application/json, application/proto");
    }
    unary_codec_ = type->codec;
    absl::Status status = CheckCommonHeaders(request);
    absl::Time deadline = absl::InfiniteFuture();
    if (status.ok()) status = DeadlineOf(request, &deadline);
    if (!status.ok()) return FailUnary(status);
    absl::StatusOr<Caller> caller = gateway_->Authenticate(request, deadline, peer_);
    if (!caller.ok()) return FailUnary(caller.status());
    NoteCaller(*caller);
    if (method.work == Work::kInline) {
      // In an arena: a lookup's context is a map of a few dozen Values.
      google::protobuf::Arena arena;
      google::protobuf::Message* message = method.request_prototype->New(&arena);
      status = connect::ParseMessage(type->codec, request.body(), message);
      if (!status.ok()) return FailUnary(status);
      return FinishUnary(method, Dispatcher::RunInline(method, *caller, *message));
    }
    std::unique_ptr<google::protobuf::Message> message(method.request_prototype->New());
    status = connect::ParseMessage(type->codec, request.body(), message.get());
    if (!status.ok()) return FailUnary(status);
    // The queue holds the connection only weakly: a connection (and its
    // io_context) must never be destroyed on a dispatcher thread. The
    // connection keeps itself alive until the answer or Close.
    queued_call_ = shared_from_this();
    std::weak_ptr<HttpGateway::Impl> gateway = gateway_->weak_from_this();
    std::weak_ptr<Connection> weak = weak_from_this();
    gateway_->dispatcher_->Schedule(
        method, *std::move(caller), std::move(message),
        [cancelled = cancelled_] { return cancelled->load(); },
        [gateway, weak, &method](absl::StatusOr<std::string> result) mutable {
          // Holding the gateway keeps its io_context alive while posting.
          std::shared_ptr<HttpGateway::Impl> alive = gateway.lock();
          if (alive == nullptr) return;
          std::shared_ptr<Connection> self = weak.lock();
          if (self == nullptr) return;
          net::any_io_executor executor = self->executor();
          net::post(executor, [self = std::move(self), &method, result = std::move(result)]() {
            self->FinishUnary(method, std::move(result));
          });
        });
    // Watch for the client leaving, unless it already sent more (a pipelined
    // request): then it is still there, and its bytes wait in buffer_.
    if (buffer_.size() == 0) StartBackgroundRead();
  }

  void FinishUnary(const UnaryMethod& method, absl::StatusOr<std::string> result) {
    std::shared_ptr<Connection> keep = std::move(queued_call_);
    if (closed_) return EndCall(absl::CancelledError("the client went away"));
    if (!result.ok()) return FailUnary(result.status());
    absl::StatusOr<std::string> body =
        connect::EncodeMessage(unary_codec_, *method.response_prototype, *std::move(result));
    if (!body.ok()) return FailUnary(body.status());
    EndCall(absl::OkStatus());
    Response response{http::status::ok, 11};
    response.set(http::field::content_type,
                 std::string(connect::ContentTypeName(connect::ContentType{unary_codec_, false})));
    response.body() = *std::move(body);
    Respond(std::move(response), keep_alive_);
  }

  void FailUnary(const absl::Status& status) {
    gateway_->dispatcher_->LogIfRejected(path_, peer_, status);
    EndCall(status);
    RespondError(status, keep_alive_);
  }

  // --- Server streaming -------------------------------------------------

  void HandleStream(Request request, const StreamMethod& method) {
    BeginCall(method.descriptor);
    std::optional<connect::ContentType> type =
        connect::ParseContentType(Sv(request[http::field::content_type]));
    if (!type || !type->streaming) {
      return RespondUnsupportedMediaType(Sv(request[http::field::content_type]),
                                         "application/connect+json, application/connect+proto");
    }
    stream_method_ = &method;
    stream_type_ = *type;
    // From here on, errors travel in the end-of-stream message of a 200.
    std::string head =
        absl::StrCat("HTTP/1.1 200 OK\r\nContent-Type: ", connect::ContentTypeName(*type),
                     "\r\nTransfer-Encoding: chunked\r\nCache-Control: no-store\r\n"
                     "X-Content-Type-Options: nosniff\r\nConnection: close\r\n",
                     CorsHeaderLines(), "\r\n");
    Queue(std::move(head), /*data=*/false);

    absl::Status status = CheckCommonHeaders(request);
    absl::Time deadline = absl::InfiniteFuture();
    if (status.ok()) status = DeadlineOf(request, &deadline);
    if (!status.ok()) return FailStream(status);
    // This gateway keeps only the newest message of a slow stream; a method
    // that needs every message is served on gRPC only.
    if (method.delivery != Delivery::kNewest) {
      return FailStream(error::NotServed(
          absl::StrCat(method.descriptor->full_name(), " on the Connect gateway (use gRPC)")));
    }
    absl::StatusOr<absl::string_view> payload = connect::SingleEnvelopePayload(request.body());
    if (!payload.ok()) return FailStream(payload.status());
    absl::StatusOr<Caller> caller = gateway_->Authenticate(request, deadline, peer_);
    if (!caller.ok()) return FailStream(caller.status());
    NoteCaller(*caller);
    std::unique_ptr<google::protobuf::Message> message(method.request_prototype->New());
    status = connect::ParseMessage(type->codec, *payload, message.get());
    if (!status.ok()) return FailStream(status);

    auto sink = std::make_shared<Sink>(weak_from_this(), executor());
    absl::StatusOr<std::unique_ptr<MessageSubscription>> subscription =
        method.open(*caller, *message, std::move(sink));
    if (!subscription.ok()) return FailStream(subscription.status());
    EndCall(absl::OkStatus());
    if (stream_ended_ || closed_) return;  // cannot happen: the sink posts
    subscription_ = *std::move(subscription);
    StartBackgroundRead();
    if (method.heartbeat) ScheduleHeartbeat();
    if (deadline < absl::InfiniteFuture()) {
      stream_deadline_.expires_after(ToChrono(deadline - absl::Now()));
      stream_deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (ec || self->closed_) return;
        self->EndStream(absl::DeadlineExceededError("the stream reached its Connect-Timeout-Ms"));
      });
    }
  }

  void FailStream(const absl::Status& status) {
    gateway_->dispatcher_->LogIfRejected(path_, peer_, status);
    EndCall(status);
    EndStream(status);
  }

  // Queues the end-of-stream message and the last chunk; the connection
  // closes once they are written. The subscription goes at once.
  void EndStream(absl::Status status) {
    if (stream_ended_) return;
    stream_ended_ = true;
    subscription_.reset();
    heartbeat_.cancel();
    stream_deadline_.cancel();
    Queue(absl::StrCat(
              ChunkOf(connect::Envelope(connect::kEndStreamFlag, connect::EndStreamJson(status))),
              "0\r\n\r\n"),
          /*data=*/false);
  }

  // Keeps one read pending while no request is being read: during a
  // stream (the client sends nothing more, so a completed read is its
  // disconnect), during a queued unary call (a disconnect cancels it; bytes
  // of a pipelined next request are kept for it) and while lingering.
  void StartBackgroundRead() {
    if (background_read_ || closed_) return;
    background_read_ = true;
    ReadSome(net::buffer(monitor_buffer_),
             [self = shared_from_this()](beast::error_code ec, size_t bytes) {
               self->background_read_ = false;
               self->OnBackgroundRead(ec, bytes);
             });
  }

  void OnBackgroundRead(beast::error_code ec, size_t bytes) {
    if (closed_) return;
    if (ec) return Close();
    if (lingering_ || stream_method_ != nullptr) return StartBackgroundRead();  // discard
    net::buffer_copy(buffer_.prepare(bytes), net::buffer(monitor_buffer_.data(), bytes));
    buffer_.commit(bytes);
    if (resume_after_read_) {
      resume_after_read_ = false;
      WaitForRequest();
    }
  }

  void ScheduleHeartbeat() {
    heartbeat_.expires_after(ToChrono(gateway_->options_.heartbeat_interval));
    heartbeat_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->closed_ || self->stream_ended_) return;
      // Only on an idle stream: a heartbeat must never coalesce away a
      // message still waiting.
      if (self->out_.empty()) self->OnSinkMessage(self->stream_method_->heartbeat());
      self->ScheduleHeartbeat();
    });
  }

  void Queue(std::string bytes, bool data) {
    out_.push_back(Outgoing{std::move(bytes), data});
    WriteNext();
  }

  void WriteNext() {
    if (writing_ || closed_) return;
    if (out_.empty()) {
      if (stream_ended_) return LingerClose();
      Disarm();
      return;
    }
    writing_ = true;
    Arm(gateway_->options_.write_timeout);
    WriteAll(net::buffer(out_.front().bytes),
             [self = shared_from_this()](beast::error_code ec, size_t) {
               self->writing_ = false;
               if (self->closed_) return;
               if (ec) return self->Close();
               self->out_.pop_front();
               self->WriteNext();
             });
  }

  // --- Responses --------------------------------------------------------

  Response PlainResponse(http::status status, absl::string_view body) {
    Response response{status, 11};
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    response.body() = std::string(body);
    return response;
  }

  void RespondUnsupportedMediaType(absl::string_view got, absl::string_view supported) {
    absl::Status status = error::InvalidField(
        "content-type",
        absl::StrCat(error::QuoteInput(got), " is not supported; send one of ", supported));
    gateway_->dispatcher_->LogIfRejected(path_, peer_, status);
    EndCall(status);
    Response response = ErrorResponse(status, 415);
    response.set("Accept-Post", std::string(supported));
    Respond(std::move(response), keep_alive_);
  }

  Response ErrorResponse(const absl::Status& status, int http_status) {
    Response response{static_cast<http::status>(
                          http_status != 0 ? http_status : connect::HttpStatusOf(status.code())),
                      11};
    response.set(http::field::content_type, "application/json");
    response.body() = connect::ErrorJson(status);
    return response;
  }

  void RespondError(const absl::Status& status, bool keep_alive, int http_status = 0) {
    Respond(ErrorResponse(status, http_status), keep_alive);
  }

  std::string CorsHeaderLines() const {
    if (origin_.empty()) return "";
    return absl::StrCat("Access-Control-Allow-Origin: ", origin_, "\r\nVary: Origin\r\n");
  }

  void Respond(Response response, bool keep_alive, bool prepared = false) {
    if (closed_) return;
    if (gateway_->draining_.load()) keep_alive = false;
    if (!origin_.empty()) {
      response.set(http::field::access_control_allow_origin, origin_);
      response.set(http::field::vary, "Origin");
    }
    response.keep_alive(keep_alive);
    if (!prepared) response.prepare_payload();
    response_ = std::make_unique<Response>(std::move(response));
    Arm(gateway_->options_.write_timeout);
    auto done = [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
      if (self->closed_) return;
      self->response_.reset();
      if (ec) return self->Close();
      if (!keep_alive) return self->LingerClose();
      if (self->background_read_) {
        // A queued call's read is still pending: it is the wait for the
        // next request.
        self->resume_after_read_ = true;
        return self->Arm(self->gateway_->options_.idle_timeout);
      }
      self->WaitForRequest();
    };
    if (tls_) {
      http::async_write(*tls_, *response_, std::move(done));
    } else {
      http::async_write(socket_, *response_, std::move(done));
    }
  }

  // Stops sending and drains what the client still sends for a short
  // while, then closes: closing with unread bytes would reset the
  // connection and could lose the answer.
  void LingerClose() {
    if (closed_ || lingering_) return;
    lingering_ = true;
    subscription_.reset();
    heartbeat_.cancel();
    stream_deadline_.cancel();
    if (tls_) return Close();  // no clean TLS shutdown: the answer is framed
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    Arm(kLingerTime);
    StartBackgroundRead();
  }

  // --- Headers and bodies -----------------------------------------------

  absl::Status CheckCommonHeaders(const Request& request) {
    absl::Status status = connect::CheckProtocolVersion(Sv(request["connect-protocol-version"]));
    if (!status.ok()) return status;
    absl::string_view encoding = Sv(request[http::field::content_encoding]);
    absl::string_view stream_encoding = Sv(request["connect-content-encoding"]);
    if ((!encoding.empty() && encoding != "identity") ||
        (!stream_encoding.empty() && stream_encoding != "identity")) {
      return absl::UnimplementedError(absl::StrCat(
          "content encoding ", error::QuoteInput(encoding.empty() ? stream_encoding : encoding),
          " is not supported; send identity"));
    }
    return absl::OkStatus();
  }

  absl::Status DeadlineOf(const Request& request, absl::Time* deadline) {
    absl::StatusOr<std::optional<absl::Duration>> timeout =
        connect::ParseTimeout(Sv(request["connect-timeout-ms"]));
    if (!timeout.ok()) return timeout.status();
    if (timeout->has_value()) *deadline = absl::Now() + **timeout;
    return absl::OkStatus();
  }

  // A stream's sink: posts onto the connection's strand, where the
  // connection (if still there) queues or ends.
  class Sink final : public MessageSink {
   public:
    Sink(std::weak_ptr<Connection> connection, net::any_io_executor executor)
        : connection_(std::move(connection)), executor_(std::move(executor)) {}
    void Send(std::string message) override {
      net::post(executor_, [connection = connection_, message = std::move(message)]() mutable {
        if (auto self = connection.lock()) self->OnSinkMessage(std::move(message));
      });
    }
    void Close(absl::Status status) override {
      net::post(executor_, [connection = connection_, status = std::move(status)]() mutable {
        if (auto self = connection.lock()) self->OnSinkClose(std::move(status));
      });
    }

   private:
    const std::weak_ptr<Connection> connection_;
    const net::any_io_executor executor_;
  };

  struct Outgoing {
    std::string bytes;
    bool data;  // a stream message (may be coalesced), not framing
  };

  HttpGateway::Impl* const gateway_;
  tcp::socket socket_;
  std::unique_ptr<ssl::stream<tcp::socket&>> tls_;
  net::steady_timer deadline_;
  net::steady_timer heartbeat_;
  net::steady_timer stream_deadline_;
  uint64_t deadline_generation_ = 0;
  std::string peer_;
  bool peer_loopback_ = false;
  bool closed_ = false;
  bool background_read_ = false;
  bool resume_after_read_ = false;
  bool lingering_ = false;
  // Between requests of a keep-alive connection, with no byte of the next.
  bool waiting_for_request_ = false;
  // Read by queued calls on the dispatcher's threads.
  std::shared_ptr<std::atomic<bool>> cancelled_ = std::make_shared<std::atomic<bool>>(false);

  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::unique_ptr<Response> response_;
  std::string path_;
  std::string origin_;
  bool keep_alive_ = true;
  connect::Codec unary_codec_ = connect::Codec::kJson;

  // The API call being answered, until Dispatcher::CallEnded has it.
  bool call_open_ = false;
  const google::protobuf::MethodDescriptor* call_method_ = nullptr;
  absl::Time call_start_;
  std::string call_token_;
  std::string call_user_;

  const StreamMethod* stream_method_ = nullptr;
  connect::ContentType stream_type_;
  std::unique_ptr<MessageSubscription> subscription_;
  // Set while a call waits in the dispatcher's queue.
  std::shared_ptr<Connection> queued_call_;
  std::deque<Outgoing> out_;
  bool writing_ = false;
  bool stream_ended_ = false;
  std::array<char, 1024> monitor_buffer_;
};

}  // namespace

absl::Status HttpGateway::Impl::Listen() {
  std::string host;
  uint16_t port = 0;
  if (!SplitHostPort(options_.listen_address, &host, &port)) {
    return error::InvalidField(
        "listen_address",
        absl::StrCat(error::QuoteInput(options_.listen_address), " is not host:port"));
  }
  std::optional<net::ip::address> address = HostAddress(host);
  if (!address) {
    return error::InvalidField(
        "listen_address",
        absl::StrCat(error::QuoteInput(host), " is not an IP address or localhost"));
  }
  if (options_.threads < 1 || options_.max_connections < 1) {
    return error::InvalidField("threads", "threads and max_connections must be at least 1");
  }
  if (options_.tls) {
    ssl_.emplace(ssl::context::tls_server);
    boost::system::error_code ec;
    ssl_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                          ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                          ssl::context::no_tlsv1_1,
                      ec);
    ssl_->use_certificate_chain(net::buffer(options_.tls->cert_chain_pem), ec);
    if (ec) return error::InvalidField("tls.cert_chain_pem", ec.message());
    ssl_->use_private_key(net::buffer(options_.tls->private_key_pem), ssl::context::pem, ec);
    if (ec) return error::InvalidField("tls.private_key_pem", ec.message());
    if (!options_.tls->client_ca_pem.empty()) {
      ssl_->add_certificate_authority(net::buffer(options_.tls->client_ca_pem), ec);
      if (ec) return error::InvalidField("tls.client_ca_pem", ec.message());
      ssl_->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, ec);
      if (ec) return error::InvalidField("tls.client_ca_pem", ec.message());
    }
  }
  tcp::endpoint endpoint(*address, port);
  boost::system::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.listen_address, ": ", ec.message()));
  }
  port_ = acceptor_.local_endpoint().port();
  return absl::OkStatus();
}

void HttpGateway::Impl::Accept() {
  acceptor_.async_accept(net::make_strand(ioc_), [self = shared_from_this()](beast::error_code ec,
                                                                             tcp::socket socket) {
    if (!self->acceptor_.is_open()) return;
    if (ec) {
      // Out of descriptors or a connection reset before accept: retry
      // shortly rather than spin.
      self->accept_retry_.expires_after(std::chrono::milliseconds(50));
      self->accept_retry_.async_wait([self](beast::error_code wait_error) {
        if (!wait_error) self->Accept();
      });
      return;
    }
    if (self->connections_.load() >= self->options_.max_connections) {
      boost::system::error_code ignored;
      socket.close(ignored);
    } else {
      auto connection = std::make_shared<Connection>(self.get(), std::move(socket));
      if (!self->Register(connection)) return;  // shutting down: dropped
      net::post(connection->executor(), [connection] { connection->Start(); });
    }
    self->Accept();
  });
}

bool HttpGateway::Impl::Register(const std::shared_ptr<Connection>& connection) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return false;
  live_[connection.get()] = connection;
  return true;
}

void HttpGateway::Impl::Unregister(Connection* connection) {
  absl::MutexLock lock(&mu_);
  live_.erase(connection);
}

void HttpGateway::Impl::StartDrain() {
  if (draining_.exchange(true)) return;
  std::vector<std::weak_ptr<Connection>> live;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [unused, connection] : live_) live.push_back(connection);
  }
  // `this` outlives the threads: Shutdown joins them.
  net::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    accept_retry_.cancel();
  });
  for (const std::weak_ptr<Connection>& weak : live) {
    if (std::shared_ptr<Connection> connection = weak.lock()) {
      net::post(connection->executor(), [connection] { connection->OnDrain(); });
    }
  }
}

void HttpGateway::Impl::Shutdown(absl::Time deadline) {
  StartDrain();
  std::vector<std::weak_ptr<Connection>> live;
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return;
    // Calls in flight answer and close their connections meanwhile.
    auto drained = [this] {
      mu_.AssertHeld();
      return live_.empty();
    };
    mu_.AwaitWithDeadline(absl::Condition(&drained), deadline);
    shut_down_ = true;
    for (auto& [unused, connection] : live_) live.push_back(connection);
  }
  for (const std::weak_ptr<Connection>& weak : live) {
    if (std::shared_ptr<Connection> connection = weak.lock()) {
      net::post(connection->executor(), [connection] { connection->Close(); });
    }
  }
  // With the acceptor and every socket closed, the threads run out of work.
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

absl::StatusOr<std::unique_ptr<HttpGateway>> HttpGateway::Start(const HttpGatewayOptions& options,
                                                                const MethodLookup* methods,
                                                                Dispatcher* dispatcher) {
  std::string host;
  uint16_t port = 0;
  if (!SplitHostPort(options.listen_address, &host, &port) || !HostAddress(host)) {
    return error::InvalidField("listen_address",
                               absl::StrCat(error::QuoteInput(options.listen_address),
                                            " is not host:port with an IP address or localhost"));
  }
  bool loopback = IsLoopbackAddress(options.listen_address);
  if (!options.tls && !loopback && !options.insecure_listen_any) {
    return absl::FailedPreconditionError(
        absl::StrCat("refusing plaintext HTTP on the non-loopback address ", options.listen_address,
                     ": configure TLS, or set insecure_listen_any behind a TLS-terminating proxy"));
  }
  if (!options.demo_tokens_file.empty() && !loopback) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to serve the demo tokens on the non-loopback address ", options.listen_address));
  }
  auto impl = std::make_shared<Impl>(options, methods, dispatcher);
  absl::Status status = impl->Listen();
  if (!status.ok()) return status;
  impl->Accept();
  for (int i = 0; i < options.threads; ++i) {
    impl->threads_.emplace_back([impl = impl.get()] { impl->ioc_.run(); });
  }
  return absl::WrapUnique(new HttpGateway(std::move(impl)));
}

HttpGateway::HttpGateway(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpGateway::~HttpGateway() { Shutdown(absl::Now()); }

int HttpGateway::port() const { return impl_->port_; }

int HttpGateway::open_connections() const { return impl_->connections_.load(); }

void HttpGateway::StartDrain() { impl_->StartDrain(); }

void HttpGateway::Shutdown(absl::Time deadline) { impl_->Shutdown(deadline); }

}  // namespace sopsidebar
