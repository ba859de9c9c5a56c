// The transport seam of the client library (google-cloud-cpp shape): Client
// is a cheap value over a Connection, and the Connection is the one place
// that talks gRPC. Tests substitute a fake Connection.
#ifndef SOPSIDEBAR_CLIENT_CONNECTION_H_
#define SOPSIDEBAR_CLIENT_CONNECTION_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "sopsidebar/v1/admin_service.pb.h"
#include "sopsidebar/v1/context_service.pb.h"
#include "sopsidebar/v1/events_service.pb.h"
#include "sopsidebar/v1/sop.pb.h"
#include "sopsidebar/v1/sop_service.pb.h"

namespace sopsidebar::client {

// When a failed call is tried again. Only UNAVAILABLE is retried, and only
// for calls that are safe to repeat: reads (Get*, List*, LookupSops,
// CheckTargeting, DiffSopRevisions, VerifyAuditLog, WhoAmI, Ping), CreateSop
// with a request_id, and WatchSops while no message of the stream has been
// delivered yet; a watch whose stream sopd ended with `reconnect` is opened
// again, its attempts counted afresh (unless max_attempts is 1).
struct RetryOptions {
  // Attempts per call, the first included; 1 disables retries.
  int max_attempts = 3;
  // The wait before the second attempt; it doubles before each later one.
  absl::Duration initial_backoff = absl::Milliseconds(100);
};

// Transport security of the channel. The PEM fields hold PEM text, not file
// names (sopctl reads the files).
struct TlsOptions {
  // Off (the default): plaintext, and every other field must be empty.
  bool enabled = false;
  // The CA certificates that verify sopd's certificate; empty (the default):
  // gRPC's default roots, i.e. the system's trust store.
  std::string root_ca_pem;
  // Mutual TLS: the client's certificate chain and its private key, both or
  // neither; empty (the default): no client certificate.
  std::string client_cert_pem;
  std::string client_key_pem;
  // Checked against sopd's certificate instead of the host of `target`, for
  // a certificate issued to another name (tests, tunnels); empty (the
  // default): the host of `target`.
  std::string server_name_override;
};

struct ConnectionOptions {
  // Where sopd is (ChannelTargetFor): one gRPC address, host:port, or
  // several nodes, as IP literals "10.0.0.1:50051,10.0.0.2:50051" ("[::1]:1"
  // for IPv6) or one DNS name for all of them, "dns:///sopd.example:50051".
  // Several nodes: each call goes to the next healthy one (round robin).
  std::string target = "127.0.0.1:50051";
  // The deadline of each attempt of each unary call. Streams (WatchSops) do
  // not use it: see stream_timeout.
  absl::Duration timeout = absl::Seconds(10);
  // The deadline of each attempt of a streaming call (WatchSops), counted
  // from its start; the stream ends with DEADLINE_EXCEEDED when it passes.
  // Infinite (the default): a stream stays open until it ends or its caller
  // stops it.
  absl::Duration stream_timeout = absl::InfiniteDuration();
  // The access token, sent as `authorization: Bearer <token>` metadata on
  // every call; not sent when empty (the default; sopd then answers
  // UNAUTHENTICATED where it requires a token). Must be printable ASCII. It
  // never appears in a status message or a log of this library.
  std::string token;
  // For a CRM integration's INTEGRATION token: the viewer it acts for, sent
  // as sop-viewer-id, sop-viewer-name and sop-viewer-crm-roles metadata
  // (percent-encoded) on every call; nothing is sent while id is empty.
  struct Viewer {
    std::string id;
    std::string name;
    std::vector<std::string> crm_roles;
  };
  Viewer viewer;
  // Default: plaintext.
  TlsOptions tls;
  RetryOptions retry;
};

// The service config of a channel to several sopd nodes: gRPC's
// round_robin policy, and client-side health checking of the server-wide
// status ("" is the service name sopd sets SERVING while it serves and
// NOT_SERVING as it drains; server/service/grpc_server.cc).
inline constexpr char kLoadBalancedServiceConfig[] =
    R"({"loadBalancingConfig":[{"round_robin":{}}],"healthCheckConfig":{"serviceName":""}})";

// What a gRPC channel is created with for a ConnectionOptions::target.
struct ChannelTarget {
  // The gRPC target URI.
  std::string uri;
  // kLoadBalancedServiceConfig for several nodes; empty for one address
  // (gRPC's defaults: pick_first, no health checking).
  std::string service_config_json;
  // Several IP literals: the channel's default authority is the list
  // itself, which no certificate carries, so TLS needs
  // TlsOptions::server_name_override.
  bool address_list = false;
};

// The channel target of `target`. `what` names where the target came from
// in error messages ("target", "--server").
//   - one address without a comma ("127.0.0.1:50051", "sopd.example:443",
//     "unix:/run/sopd.sock", ...): passed to gRPC unchanged, as it always
//     was; no service config.
//   - several IP literals, "IP:PORT,IP:PORT,..." (IPv6 in brackets,
//     "[::1]:50051"; whitespace around an element is ignored):
//     "ipv4:IP:PORT,..." or "ipv6:[IP]:PORT,...", with
//     kLoadBalancedServiceConfig.
//   - "dns:///NAME:PORT": unchanged, with kLoadBalancedServiceConfig; every
//     address NAME resolves to is a node.
// INVALID_ARGUMENT naming `what` and the element: an empty target or
// element, an element without a port or with a port outside 1-65535, an
// element of a list that is not an IP literal (a host name: use the
// dns:/// form), IPv4 and IPv6 literals mixed in one list (gRPC's ipv4: and
// ipv6: targets take one family each), an address listed twice, a dns:///
// target with a comma, without a name or without a port. Thread-safe (pure).
absl::StatusOr<ChannelTarget> ChannelTargetFor(absl::string_view target, absl::string_view what);

// OK, or INVALID_ARGUMENT saying which option is wrong (without quoting the
// token or a key): a target ChannelTargetFor refuses, token not printable
// ASCII, TLS fields set while TLS is off, a client certificate without its
// key or a key without its certificate, PEM fields that are not PEM, TLS to
// a list of IP addresses without tls.server_name_override. Thread-safe
// (pure).
absl::Status ValidateConnectionOptions(const ConnectionOptions& options);

// The unary method `full_name` ("sopsidebar.v1.SopService.SubmitSop") of the
// generated descriptor pool, or null when there is none or it streams.
// Thread-safe (the pool is immutable).
const google::protobuf::MethodDescriptor* FindUnaryMethod(absl::string_view full_name);

// OK when `request` is of `method`'s input type and `response` of its output
// type and the method is unary; INVALID_ARGUMENT naming what differs
// otherwise. What every Connection::CallUnary checks before it sends
// anything. Thread-safe (pure).
absl::Status CheckUnaryCall(const google::protobuf::MethodDescriptor& method,
                            const google::protobuf::Message& request,
                            const google::protobuf::Message* response);

// One typed method per RPC that predates CallUnary, plus CallUnary for any
// unary RPC of sopsidebar.v1.SopService, ContextService and AdminService
// (the newer RPCs are reached only through it: Client wraps them; an
// implementation may derive from GenericUnaryConnection to write CallUnary
// alone). Each returns the response, or the call's status with its code and
// message as the server sent them (UNAVAILABLE when sopd cannot be reached
// or the TLS handshake fails, DEADLINE_EXCEEDED when the timeout passed,
// UNAUTHENTICATED for a missing or bad token, PERMISSION_DENIED when the
// token's roles do not allow the call). Implementations must be thread-safe.
class Connection {
 public:
  virtual ~Connection() = default;

  virtual absl::StatusOr<v1::Sop> CreateSop(const v1::CreateSopRequest& request) = 0;
  virtual absl::StatusOr<v1::Sop> GetSop(const v1::GetSopRequest& request) = 0;
  virtual absl::StatusOr<v1::ListSopsResponse> ListSops(const v1::ListSopsRequest& request) = 0;
  virtual absl::StatusOr<v1::Sop> UpdateSop(const v1::UpdateSopRequest& request) = 0;
  virtual absl::StatusOr<v1::Sop> DeleteSop(const v1::DeleteSopRequest& request) = 0;
  virtual absl::StatusOr<v1::Sop> UndeleteSop(const v1::UndeleteSopRequest& request) = 0;
  virtual absl::StatusOr<v1::ListSopRevisionsResponse> ListSopRevisions(
      const v1::ListSopRevisionsRequest& request) = 0;
  virtual absl::StatusOr<v1::SopRevision> GetSopRevision(
      const v1::GetSopRevisionRequest& request) = 0;
  virtual absl::StatusOr<v1::PublishSopResponse> PublishSop(
      const v1::PublishSopRequest& request) = 0;
  virtual absl::StatusOr<v1::CheckTargetingResponse> CheckTargeting(
      const v1::CheckTargetingRequest& request) = 0;
  virtual absl::StatusOr<v1::LookupSopsResponse> LookupSops(
      const v1::LookupSopsRequest& request) = 0;
  // ContextService.WatchSops, a server stream. Blocks: calls `on_message`
  // with each message of the stream, in order, on the calling thread (the
  // first carries the lookup's result, each later one a changed result; a
  // heartbeat may come between them; `reconnect` is the last message of a
  // stream sopd ends as it shuts down), until
  //   - `on_message` returns false: the call is cancelled and WatchSops
  //     returns OK (whatever the stream would have gone on to say), or
  //   - the stream ends: WatchSops returns its status (OK when the server
  //     ended it normally).
  // The call has no deadline unless ConnectionOptions::stream_timeout gives
  // one (ConnectionOptions::timeout does not apply). Errors as the RPC's:
  // those of LookupSops for the request, before any message;
  // RESOURCE_EXHAUSTED when the token already holds the most open watches
  // sopd allows; UNAUTHENTICATED ending a stream whose token was revoked or
  // expired; UNAVAILABLE when sopd cannot be reached or shuts down.
  // `on_message` must not call back into this watch; other calls on the
  // Connection, from it or from other threads, are fine.
  virtual absl::Status WatchSops(
      const v1::WatchSopsRequest& request,
      const std::function<bool(const v1::WatchSopsResponse&)>& on_message) = 0;

  // AdminService.CreateBackup, a server stream: calls `on_message` with each
  // chunk and then the manifest, in order, on the calling thread, until it
  // returns false (the call is cancelled; CreateBackup returns CANCELLED) or
  // the stream ends (its status). No deadline unless
  // ConnectionOptions::stream_timeout gives one; never retried. Errors:
  // PERMISSION_DENIED unless the token is a server admin's; UNAVAILABLE
  // while another backup runs; those of the checkpoint (RESOURCE_EXHAUSTED
  // on a full disk ...). UNIMPLEMENTED here, for connections that do not
  // stream backups (sopctl's in-process sopd).
  virtual absl::Status CreateBackup(
      const v1::CreateBackupRequest& request,
      const std::function<bool(const v1::CreateBackupResponse&)>& on_message);

  // EventService.WatchChanges, a server stream: calls `on_message` with each
  // event, in order, on the calling thread, until it returns false (the call
  // is cancelled; WatchChanges returns OK) or the stream ends (its status:
  // RESOURCE_EXHAUSTED when the reader fell 256 events behind). No deadline
  // unless ConnectionOptions::stream_timeout gives one; never retried.
  // UNIMPLEMENTED here, for connections that do not stream events.
  virtual absl::Status WatchChanges(const v1::WatchChangesRequest& request,
                                    const std::function<bool(const v1::ChangeEvent&)>& on_message);

  virtual absl::StatusOr<v1::WhoAmIResponse> WhoAmI(const v1::WhoAmIRequest& request) = 0;
  virtual absl::StatusOr<v1::CreateTokenResponse> CreateToken(
      const v1::CreateTokenRequest& request) = 0;
  virtual absl::StatusOr<v1::ListTokensResponse> ListTokens(
      const v1::ListTokensRequest& request) = 0;
  virtual absl::StatusOr<v1::Token> GetToken(const v1::GetTokenRequest& request) = 0;
  virtual absl::StatusOr<v1::Token> RevokeToken(const v1::RevokeTokenRequest& request) = 0;
  virtual absl::StatusOr<v1::Org> CreateOrg(const v1::CreateOrgRequest& request) = 0;
  virtual absl::StatusOr<v1::ListOrgsResponse> ListOrgs(const v1::ListOrgsRequest& request) = 0;
  virtual absl::StatusOr<v1::Org> GetOrg(const v1::GetOrgRequest& request) = 0;
  virtual absl::StatusOr<v1::PingResponse> Ping(const v1::PingRequest& request) = 0;
  virtual absl::StatusOr<v1::RoleMap> GetRoleMap(const v1::GetRoleMapRequest& request) = 0;
  virtual absl::StatusOr<v1::RoleMap> UpdateRoleMap(const v1::UpdateRoleMapRequest& request) = 0;
  virtual absl::StatusOr<v1::FieldMap> GetFieldMap(const v1::GetFieldMapRequest& request) = 0;
  virtual absl::StatusOr<v1::FieldMap> UpdateFieldMap(const v1::UpdateFieldMapRequest& request) = 0;

  // Any unary RPC, by its method (FindUnaryMethod): sends `request` and, on
  // success, replaces `*response` with the server's response. `request` and
  // `*response` must be of the method's input and output types
  // (CheckUnaryCall): INVALID_ARGUMENT and nothing sent otherwise. Errors
  // are those of the typed methods; UNIMPLEMENTED when the server does not
  // serve the method. On failure `*response` is unspecified. The typed
  // methods above and CallUnary of the same RPC behave the same.
  virtual absl::Status CallUnary(const google::protobuf::MethodDescriptor& method,
                                 const google::protobuf::Message& request,
                                 google::protobuf::Message* response) = 0;
};

// The unary method of the served services whose request type is `request`
// (every request message belongs to exactly one method: <Method>Request), or
// null. Thread-safe (the pool is immutable).
const google::protobuf::MethodDescriptor* UnaryMethodTaking(
    const google::protobuf::Descriptor* request);

// A Connection whose typed unary methods all send through CallUnary, with
// the method their request type belongs to: an implementation writes
// CallUnary and WatchSops only, and no RPC needs a line of its own. A typed
// method's response is CallUnary's, its errors CallUnary's (INTERNAL for a
// request type no method takes). Thread-safe when CallUnary is.
class GenericUnaryConnection : public Connection {
 public:
  absl::StatusOr<v1::Sop> CreateSop(const v1::CreateSopRequest& request) override;
  absl::StatusOr<v1::Sop> GetSop(const v1::GetSopRequest& request) override;
  absl::StatusOr<v1::ListSopsResponse> ListSops(const v1::ListSopsRequest& request) override;
  absl::StatusOr<v1::Sop> UpdateSop(const v1::UpdateSopRequest& request) override;
  absl::StatusOr<v1::Sop> DeleteSop(const v1::DeleteSopRequest& request) override;
  absl::StatusOr<v1::Sop> UndeleteSop(const v1::UndeleteSopRequest& request) override;
  absl::StatusOr<v1::ListSopRevisionsResponse> ListSopRevisions(
      const v1::ListSopRevisionsRequest& request) override;
  absl::StatusOr<v1::SopRevision> GetSopRevision(const v1::GetSopRevisionRequest& request) override;
  absl::StatusOr<v1::PublishSopResponse> PublishSop(const v1::PublishSopRequest& request) override;
  absl::StatusOr<v1::CheckTargetingResponse> CheckTargeting(
      const v1::CheckTargetingRequest& request) override;
  absl::StatusOr<v1::LookupSopsResponse> LookupSops(const v1::LookupSopsRequest& request) override;
  absl::StatusOr<v1::WhoAmIResponse> WhoAmI(const v1::WhoAmIRequest& request) override;
  absl::StatusOr<v1::CreateTokenResponse> CreateToken(
      const v1::CreateTokenRequest& request) override;
  absl::StatusOr<v1::ListTokensResponse> ListTokens(const v1::ListTokensRequest& request) override;
  absl::StatusOr<v1::Token> GetToken(const v1::GetTokenRequest& request) override;
  absl::StatusOr<v1::Token> RevokeToken(const v1::RevokeTokenRequest& request) override;
  absl::StatusOr<v1::Org> CreateOrg(const v1::CreateOrgRequest& request) override;
  absl::StatusOr<v1::ListOrgsResponse> ListOrgs(const v1::ListOrgsRequest& request) override;
  absl::StatusOr<v1::Org> GetOrg(const v1::GetOrgRequest& request) override;
  absl::StatusOr<v1::PingResponse> Ping(const v1::PingRequest& request) override;
  absl::StatusOr<v1::RoleMap> GetRoleMap(const v1::GetRoleMapRequest& request) override;
  absl::StatusOr<v1::RoleMap> UpdateRoleMap(const v1::UpdateRoleMapRequest& request) override;
  absl::StatusOr<v1::FieldMap> GetFieldMap(const v1::GetFieldMapRequest& request) override;
  absl::StatusOr<v1::FieldMap> UpdateFieldMap(const v1::UpdateFieldMapRequest& request) override;

 private:
  template <typename Response>
  absl::StatusOr<Response> Send(const google::protobuf::Message& request);
};

// A Connection to sopd over gRPC (TLS as `options.tls` says, else
// plaintext), with the retries of `options.retry`. The channel connects
// lazily: an unreachable server shows up as UNAVAILABLE on the first call.
// To several nodes (ChannelTargetFor) it keeps a connection to each and
// sends each call to the next one whose health service says SERVING; a
// node that is down, unreachable or draining gets no calls until it serves
// again (calls fail UNAVAILABLE only while no node does). Each connection
// is pinged every 20 s and closed when a ping goes unanswered for 10 s, so
// a node that stops answering without closing it leaves the rotation
// within about 30 s. A stream stays on the node it opened on.
// When ValidateConnectionOptions(options) fails, every call returns that
// status without sending anything.
std::shared_ptr<Connection> MakeGrpcConnection(const ConnectionOptions& options);

}  // namespace sopsidebar::client

#endif  // SOPSIDEBAR_CLIENT_CONNECTION_H_
