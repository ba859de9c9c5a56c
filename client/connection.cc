#include "client/connection.h"

#include <arpa/inet.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "client/grpc_status.h"
#include "client/retry.h"
#include "common/percent_encoding.h"
#include "common/status_macros.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "grpcpp/support/sync_stream.h"
#include "sopsidebar/v1/admin_service.grpc.pb.h"
#include "sopsidebar/v1/context_service.grpc.pb.h"
#include "sopsidebar/v1/events_service.grpc.pb.h"

namespace sopsidebar::client {
namespace {

// gRPC rejects header values outside printable ASCII.
bool IsValidMetadataValue(absl::string_view value) {
  for (char c : value) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// Catches a file name or a truncated paste where PEM text belongs, which
// gRPC would only report as a failed handshake. An empty field is not set.
absl::Status CheckPem(absl::string_view field, absl::string_view pem, absl::string_view begin,
                      absl::string_view end) {
  if (pem.empty() || (absl::StrContains(pem, begin) && absl::StrContains(pem, end))) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("tls.", field, " is not PEM (no \"", begin, "\" ... \"", end, "\")"));
}

// The port of an address, "1" to "65535", or nullopt.
std::optional<int> ParsePort(absl::string_view text) {
  int port = 0;
  if (text.empty() || text.size() > 5 || !absl::c_all_of(text, absl::ascii_isdigit) ||
      !absl::SimpleAtoi(text, &port) || port < 1 || port > 65535) {
    return std::nullopt;
  }
  return port;
}

// "NAME:PORT" split at its last colon, the port checked; an empty name is
// left to the caller.
absl::StatusOr<std::pair<absl::string_view, int>> SplitHostPort(absl::string_view address,
                                                                absl::string_view what) {
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": \"", address, "\" has no port (HOST:PORT, e.g. 10.0.0.1:50051)"));
  }
  const std::optional<int> port = ParsePort(address.substr(colon + 1));
  if (!port) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": \"", address,
                                                   "\" has no valid port (1 to 65535 after the "
                                                   "last colon)"));
  }
  return std::make_pair(address.substr(0, colon), *port);
}

enum class Family { kIpv4, kIpv6 };

struct IpAddress {
  Family family;
  // "10.0.0.1:50051" or "[::1]:50051", as gRPC's ipv4: and ipv6: targets
  // list them.
  std::string host_port;
};

// One element of a list of nodes: an IP literal with a port.
absl::StatusOr<IpAddress> ParseIpAddress(absl::string_view element, absl::string_view what) {
  if (absl::StartsWith(element, "dns:")) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": \"", element,
                     "\" in a list: dns:///NAME:PORT names every node with one name and "
                     "stands alone, it cannot be mixed with a list of addresses"));
  }
  SOP_ASSIGN_OR_RETURN(const auto host_port, SplitHostPort(element, what));
  absl::string_view host = host_port.first;
  const bool bracketed = absl::ConsumePrefix(&host, "[") && absl::ConsumeSuffix(&host, "]");
  const std::string host_text(host);
  unsigned char address[16];
  if (bracketed && ::inet_pton(AF_INET6, host_text.c_str(), address) == 1) {
    return IpAddress{Family::kIpv6, absl::StrCat("[", host, "]:", host_port.second)};
  }
  if (!bracketed && ::inet_pton(AF_INET, host_text.c_str(), address) == 1) {
    return IpAddress{Family::kIpv4, absl::StrCat(host, ":", host_port.second)};
  }
  if (!bracketed && ::inet_pton(AF_INET6, host_text.c_str(), address) == 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": \"", element, "\": an IPv6 address goes in brackets, [", host, "]:PORT"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat(what, ": \"", element,
                   "\" is not an IP address; several nodes are listed by IP address "
                   "(10.0.0.1:50051,10.0.0.2:50051), or named all by one DNS name as "
                   "dns:///NAME:PORT"));
}

// A list of nodes, "IP:PORT,IP:PORT,...".
absl::StatusOr<ChannelTarget> AddressListTarget(absl::string_view target, absl::string_view what) {
  std::vector<IpAddress> addresses;
  for (absl::string_view element : absl::StrSplit(target, ',')) {
    element = absl::StripAsciiWhitespace(element);
    if (element.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": \"", target, "\" has an empty address (two commas, or one at an end)"));
    }
    SOP_ASSIGN_OR_RETURN(IpAddress address, ParseIpAddress(element, what));
    for (const IpAddress& earlier : addresses) {
      if (earlier.host_port == address.host_port) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, ": ", address.host_port, " is listed twice"));
      }
      if (earlier.family != address.family) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, ": \"", target,
                         "\" mixes IPv4 and IPv6 addresses, which gRPC cannot balance over in "
                         "one list; list one family, or name the nodes as dns:///NAME:PORT"));
      }
    }
    addresses.push_back(std::move(address));
  }
  ChannelTarget channel;
  channel.uri = absl::StrCat(
      addresses.front().family == Family::kIpv4 ? "ipv4:" : "ipv6:",
      absl::StrJoin(addresses, ",",
                    [](std::string* out, const IpAddress& a) { out->append(a.host_port); }));
  channel.service_config_json = kLoadBalancedServiceConfig;
  channel.address_list = true;
  return channel;
}

std::shared_ptr<grpc::Channel> MakeChannel(const ConnectionOptions& options,
                                           const ChannelTarget& target) {
  grpc::ChannelArguments args;
  if (!target.service_config_json.empty()) {
    args.SetServiceConfigJSON(target.service_config_json);
    // A node that vanishes without closing its connection (host off, network
    // cut) would keep its share of the calls until TCP gives up, minutes
    // later: a ping every 20 s on each node's connection, unanswered for
    // 10 s, closes it and takes the node out of the rotation. Every 20 s
    // stays clear of sopd's limit (no pings closer than 10 s without data,
    // server/service/grpc_server.cc); the health watch keeps a call open on
    // each connection, and the pings go on while it sends nothing.
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 20 * 1000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10 * 1000);
    args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  }
  if (!options.tls.enabled) {
    // One address: the channel gRPC always made for it.
    if (target.service_config_json.empty()) {
      return grpc::CreateChannel(target.uri, grpc::InsecureChannelCredentials());
    }
    return grpc::CreateCustomChannel(target.uri, grpc::InsecureChannelCredentials(), args);
  }
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = options.tls.root_ca_pem;
  ssl.pem_cert_chain = options.tls.client_cert_pem;
  ssl.pem_private_key = options.tls.client_key_pem;
  if (!options.tls.server_name_override.empty()) {
    // GRPC_SSL_TARGET_NAME_OVERRIDE_ARG: checked against every node's
    // certificate, whichever subchannel a call takes.
    args.SetSslTargetNameOverride(options.tls.server_name_override);
  }
  return grpc::CreateCustomChannel(target.uri, grpc::SslCredentials(ssl), args);
}

// The viewer metadata an integration sends (sop-viewer-*), or none.
std::vector<std::pair<std::string, std::string>> ViewerMetadata(
    const ConnectionOptions::Viewer& viewer) {
  if (viewer.id.empty()) return {};
  std::vector<std::string> roles;
  for (const std::string& role : viewer.crm_roles) roles.push_back(PercentEncode(role));
  return {{"sop-viewer-id", PercentEncode(viewer.id)},
          {"sop-viewer-name", PercentEncode(viewer.name)},
          {"sop-viewer-crm-roles", absl::StrJoin(roles, ",")}};
}

// Serialises protobuf messages of any type: the generic stub of CallUnary.
using GenericStub =
    grpc::TemplatedGenericStub<google::protobuf::Message, google::protobuf::Message>;

// Hands each message of a server stream to `on_message` until the stream
// ends (its status) or on_message returns false: the call is then cancelled
// and `stopped` returned (Finish would say CANCELLED; the caller asked for it).
template <typename Message>
absl::Status ReadStream(grpc::ClientContext& context, grpc::ClientReader<Message>& reader,
                        const std::function<bool(const Message&)>& on_message,
                        absl::Status stopped) {
  Message message;
  while (reader.Read(&message)) {
    if (!on_message(message)) {
      context.TryCancel();
      reader.Finish();
      return stopped;
    }
    message.Clear();
  }
  const grpc::Status status = reader.Finish();
  if (!status.ok()) return FromGrpcStatus(status);
  return absl::OkStatus();
}

// Every unary RPC goes through the generic stub (CallUnary); the streams
// (WatchSops, CreateBackup, WatchChanges) through their services' stubs.
class GrpcConnection : public GenericUnaryConnection {
 public:
  // With invalid options there is no channel and no stubs: every call returns
  // `options_status_` before it would use them.
  explicit GrpcConnection(const ConnectionOptions& options)
      : options_(options),
        options_status_(ValidateConnectionOptions(options)),
        channel_(options_status_.ok()
                     ? MakeChannel(options, *ChannelTargetFor(options.target, "target"))
                     : nullptr),
        context_(channel_ ? v1::ContextService::NewStub(channel_) : nullptr),
        admin_(channel_ ? v1::AdminService::NewStub(channel_) : nullptr),
        events_(channel_ ? v1::EventService::NewStub(channel_) : nullptr),
        generic_(channel_ ? std::make_unique<GenericStub>(channel_) : nullptr),
        authorization_(options.token.empty() ? "" : absl::StrCat("Bearer ", options.token)),
        viewer_(ViewerMetadata(options.viewer)) {}

  absl::Status WatchSops(
      const v1::WatchSopsRequest& request,
      const std::function<bool(const v1::WatchSopsResponse&)>& on_message) override {
    if (!options_status_.ok()) return options_status_;
    grpc::ClientContext context;
    // A watch stays open as long as its caller wants: the unary timeout would
    // end every watch after seconds.
    Prepare(&context, options_.stream_timeout);
    return ReadStream(context, *context_->WatchSops(&context, request), on_message,
                      absl::OkStatus());
  }

  absl::Status CreateBackup(
      const v1::CreateBackupRequest& request,
      const std::function<bool(const v1::CreateBackupResponse&)>& on_message) override {
    if (!options_status_.ok()) return options_status_;
    grpc::ClientContext context;
    Prepare(&context, options_.stream_timeout);
    return ReadStream(context, *admin_->CreateBackup(&context, request), on_message,
                      absl::CancelledError("the backup was cancelled"));
  }

  absl::Status WatchChanges(
      const v1::WatchChangesRequest& request,
      const std::function<bool(const v1::ChangeEvent&)>& on_message) override {
    if (!options_status_.ok()) return options_status_;
    grpc::ClientContext context;
    Prepare(&context, options_.stream_timeout);
    return ReadStream(context, *events_->WatchChanges(&context, request), on_message,
                      absl::OkStatus());
  }

  absl::Status CallUnary(const google::protobuf::MethodDescriptor& method,
                         const google::protobuf::Message& request,
                         google::protobuf::Message* response) override {
    if (absl::Status types = CheckUnaryCall(method, request, response); !types.ok()) return types;
    if (!options_status_.ok()) return options_status_;
    grpc::ClientContext context;
    Prepare(&context, options_.timeout);
    // "/sopsidebar.v1.SopService/SubmitSop", as the generated stubs send it.
    const std::string path = absl::StrCat("/", method.service()->full_name(), "/", method.name());
    grpc::Status status;
    absl::Notification done;
    generic_->UnaryCall(&context, path, grpc::StubOptions(), &request, response,
                        [&status, &done](grpc::Status s) {
                          status = std::move(s);
                          done.Notify();
                        });
    done.WaitForNotification();
    if (!status.ok()) return FromGrpcStatus(status);
    return absl::OkStatus();
  }

 private:
  // Gives a call's fresh context its deadline, `timeout` from now (none
  // when infinite), and the token.
  void Prepare(grpc::ClientContext* context, absl::Duration timeout) const {
    if (timeout != absl::InfiniteDuration()) {
      context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    }
    if (!authorization_.empty()) context->AddMetadata("authorization", authorization_);
    for (const auto& [key, value] : viewer_) context->AddMetadata(key, value);
  }

  const ConnectionOptions options_;
  const absl::Status options_status_;
  const std::shared_ptr<grpc::Channel> channel_;
  const std::unique_ptr<v1::ContextService::Stub> context_;
  const std::unique_ptr<v1::AdminService::Stub> admin_;
  const std::unique_ptr<v1::EventService::Stub> events_;
  const std::unique_ptr<GenericStub> generic_;
  const std::string authorization_;
  const std::vector<std::pair<std::string, std::string>> viewer_;
};

}  // namespace

const google::protobuf::MethodDescriptor* FindUnaryMethod(absl::string_view full_name) {
  const google::protobuf::MethodDescriptor* method =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(std::string(full_name));
  if (method == nullptr || method->client_streaming() || method->server_streaming()) return nullptr;
  return method;
}

absl::Status Connection::WatchChanges(
    const v1::WatchChangesRequest& /*request*/,
    const std::function<bool(const v1::ChangeEvent&)>& /*on_message*/) {
  return absl::UnimplementedError("this connection does not stream change events");
}

absl::Status Connection::CreateBackup(
    const v1::CreateBackupRequest& /*request*/,
    const std::function<bool(const v1::CreateBackupResponse&)>& /*on_message*/) {
  return absl::UnimplementedError("this connection does not stream backups");
}

const google::protobuf::MethodDescriptor* UnaryMethodTaking(
    const google::protobuf::Descriptor* request) {
  static const auto* const kServices = new std::vector<std::string>{
      "sopsidebar.v1.SopService",       "sopsidebar.v1.ContextService",
      "sopsidebar.v1.AdminService",     "sopsidebar.v1.AnalyticsService",
      "sopsidebar.v1.AuthoringService", "sopsidebar.v1.EventService",
      "sopsidebar.v1.TemplateService"};
  for (const std::string& name : *kServices) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    for (int i = 0; service != nullptr && i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* method = service->method(i);
      if (method->input_type() == request && !method->client_streaming() &&
          !method->server_streaming()) {
        return method;
      }
    }
  }
  return nullptr;
}

template <typename Response>
absl::StatusOr<Response> GenericUnaryConnection::Send(const google::protobuf::Message& request) {
  const google::protobuf::MethodDescriptor* method = UnaryMethodTaking(request.GetDescriptor());
  if (method == nullptr) {
    return absl::InternalError(
        absl::StrCat("no unary method takes ", request.GetDescriptor()->full_name()));
  }
  Response response;
  absl::Status status = CallUnary(*method, request, &response);
  if (!status.ok()) return status;
  return response;
}

// One line per typed method: its response type and request.
#define SOP_GENERIC_UNARY(Method, Response, Request)                                \
  absl::StatusOr<Response> GenericUnaryConnection::Method(const Request& request) { \
    return Send<Response>(request);                                                 \
  }
SOP_GENERIC_UNARY(CreateSop, v1::Sop, v1::CreateSopRequest)
SOP_GENERIC_UNARY(GetSop, v1::Sop, v1::GetSopRequest)
SOP_GENERIC_UNARY(ListSops, v1::ListSopsResponse, v1::ListSopsRequest)
SOP_GENERIC_UNARY(UpdateSop, v1::Sop, v1::UpdateSopRequest)
SOP_GENERIC_UNARY(DeleteSop, v1::Sop, v1::DeleteSopRequest)
SOP_GENERIC_UNARY(UndeleteSop, v1::Sop, v1::UndeleteSopRequest)
SOP_GENERIC_UNARY(ListSopRevisions, v1::ListSopRevisionsResponse, v1::ListSopRevisionsRequest)
SOP_GENERIC_UNARY(GetSopRevision, v1::SopRevision, v1::GetSopRevisionRequest)
SOP_GENERIC_UNARY(PublishSop, v1::PublishSopResponse, v1::PublishSopRequest)
SOP_GENERIC_UNARY(CheckTargeting, v1::CheckTargetingResponse, v1::CheckTargetingRequest)
SOP_GENERIC_UNARY(LookupSops, v1::LookupSopsResponse, v1::LookupSopsRequest)
SOP_GENERIC_UNARY(WhoAmI, v1::WhoAmIResponse, v1::WhoAmIRequest)
SOP_GENERIC_UNARY(CreateToken, v1::CreateTokenResponse, v1::CreateTokenRequest)
SOP_GENERIC_UNARY(ListTokens, v1::ListTokensResponse, v1::ListTokensRequest)
SOP_GENERIC_UNARY(GetToken, v1::Token, v1::GetTokenRequest)
SOP_GENERIC_UNARY(RevokeToken, v1::Token, v1::RevokeTokenRequest)
SOP_GENERIC_UNARY(CreateOrg, v1::Org, v1::CreateOrgRequest)
SOP_GENERIC_UNARY(ListOrgs, v1::ListOrgsResponse, v1::ListOrgsRequest)
SOP_GENERIC_UNARY(GetOrg, v1::Org, v1::GetOrgRequest)
SOP_GENERIC_UNARY(Ping, v1::PingResponse, v1::PingRequest)
SOP_GENERIC_UNARY(GetRoleMap, v1::RoleMap, v1::GetRoleMapRequest)
SOP_GENERIC_UNARY(UpdateRoleMap, v1::RoleMap, v1::UpdateRoleMapRequest)
SOP_GENERIC_UNARY(GetFieldMap, v1::FieldMap, v1::GetFieldMapRequest)
SOP_GENERIC_UNARY(UpdateFieldMap, v1::FieldMap, v1::UpdateFieldMapRequest)
#undef SOP_GENERIC_UNARY

absl::Status CheckUnaryCall(const google::protobuf::MethodDescriptor& method,
                            const google::protobuf::Message& request,
                            const google::protobuf::Message* response) {
  if (method.client_streaming() || method.server_streaming()) {
    return absl::InvalidArgumentError(absl::StrCat(method.full_name(), " is not unary"));
  }
  if (request.GetDescriptor() != method.input_type()) {
    return absl::InvalidArgumentError(absl::StrCat(method.full_name(), " takes ",
                                                   method.input_type()->full_name(), ", not ",
                                                   request.GetDescriptor()->full_name()));
  }
  if (response == nullptr || response->GetDescriptor() != method.output_type()) {
    return absl::InvalidArgumentError(
        absl::StrCat(method.full_name(), " returns ", method.output_type()->full_name(), ", not ",
                     response == nullptr ? "nothing" : response->GetDescriptor()->full_name()));
  }
  return absl::OkStatus();
}

absl::StatusOr<ChannelTarget> ChannelTargetFor(absl::string_view target, absl::string_view what) {
  if (absl::StripAsciiWhitespace(target).empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is empty: give sopd's address, HOST:PORT"));
  }
  // A dns:/// in a list is refused there.
  if (absl::StrContains(target, ',')) return AddressListTarget(target, what);
  ChannelTarget channel;
  absl::string_view name = target;
  if (absl::ConsumePrefix(&name, "dns:///")) {
    SOP_ASSIGN_OR_RETURN(const auto host_port, SplitHostPort(name, what));
    if (host_port.first.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": \"", target, "\" has no name (dns:///NAME:PORT)"));
    }
    channel.uri = std::string(target);
    channel.service_config_json = kLoadBalancedServiceConfig;
    return channel;
  }
  channel.uri = std::string(target);
  return channel;
}

absl::Status ValidateConnectionOptions(const ConnectionOptions& options) {
  SOP_ASSIGN_OR_RETURN(const ChannelTarget target, ChannelTargetFor(options.target, "target"));
  // The token itself stays out of the message: it is a secret.
  if (!IsValidMetadataValue(options.token)) {
    return absl::InvalidArgumentError("the token must be printable ASCII");
  }
  const TlsOptions& tls = options.tls;
  if (tls.enabled && target.address_list && tls.server_name_override.empty()) {
    return absl::InvalidArgumentError(
        "TLS to several IP addresses needs tls.server_name_override, the name every node's "
        "certificate carries (or name the nodes as dns:///NAME:PORT, checked against NAME)");
  }
  if (!tls.enabled) {
    if (!tls.root_ca_pem.empty() || !tls.client_cert_pem.empty() || !tls.client_key_pem.empty() ||
        !tls.server_name_override.empty()) {
      return absl::InvalidArgumentError(
          "TLS options are set but tls.enabled is false (the connection would be plaintext)");
    }
    return absl::OkStatus();
  }
  if (tls.client_cert_pem.empty() != tls.client_key_pem.empty()) {
    return absl::InvalidArgumentError(
        "tls.client_cert_pem and tls.client_key_pem must be given together (mutual TLS)");
  }
  constexpr absl::string_view kBeginCertificate = "-----BEGIN CERTIFICATE-----";
  constexpr absl::string_view kEndCertificate = "-----END CERTIFICATE-----";
  absl::Status pem = CheckPem("root_ca_pem", tls.root_ca_pem, kBeginCertificate, kEndCertificate);
  if (pem.ok()) {
    pem = CheckPem("client_cert_pem", tls.client_cert_pem, kBeginCertificate, kEndCertificate);
  }
  // "PRIVATE KEY-----" ends PKCS#8, RSA and EC keys alike.
  if (pem.ok())
    pem = CheckPem("client_key_pem", tls.client_key_pem, "-----BEGIN ", "PRIVATE KEY-----");
  if (!pem.ok()) return pem;
  if (!IsValidMetadataValue(tls.server_name_override) ||
      absl::StrContains(tls.server_name_override, ' ')) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tls.server_name_override \"", tls.server_name_override, "\" is not a host name"));
  }
  return absl::OkStatus();
}

std::shared_ptr<Connection> MakeGrpcConnection(const ConnectionOptions& options) {
  return MakeRetryingConnection(std::make_shared<GrpcConnection>(options), options.retry);
}

}  // namespace sopsidebar::client
