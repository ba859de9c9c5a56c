#include "client/connection.h"

#include <chrono>
#include <functional>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "client/grpc_status.h"
#include "client/retry.h"
#include "common/percent_encoding.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "grpcpp/support/sync_stream.h"
#include "sopsidebar/v1/admin_service.grpc.pb.h"
#include "sopsidebar/v1/context_service.grpc.pb.h"
#include "sopsidebar/v1/sop_service.grpc.pb.h"

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

std::shared_ptr<grpc::Channel> MakeChannel(const ConnectionOptions& options) {
  if (!options.tls.enabled) {
    return grpc::CreateChannel(options.target, grpc::InsecureChannelCredentials());
  }
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = options.tls.root_ca_pem;
  ssl.pem_cert_chain = options.tls.client_cert_pem;
  ssl.pem_private_key = options.tls.client_key_pem;
  grpc::ChannelArguments args;
  if (!options.tls.server_name_override.empty()) {
    // GRPC_SSL_TARGET_NAME_OVERRIDE_ARG.
    args.SetSslTargetNameOverride(options.tls.server_name_override);
  }
  return grpc::CreateCustomChannel(options.target, grpc::SslCredentials(ssl), args);
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

class GrpcConnection : public Connection {
 public:
  // With invalid options there is no channel and no stubs: Call returns
  // `options_status_` before it would use them.
  explicit GrpcConnection(const ConnectionOptions& options)
      : options_(options),
        options_status_(ValidateConnectionOptions(options)),
        channel_(options_status_.ok() ? MakeChannel(options) : nullptr),
        sops_(channel_ ? v1::SopService::NewStub(channel_) : nullptr),
        context_(channel_ ? v1::ContextService::NewStub(channel_) : nullptr),
        admin_(channel_ ? v1::AdminService::NewStub(channel_) : nullptr),
        generic_(channel_ ? std::make_unique<GenericStub>(channel_) : nullptr),
        authorization_(options.token.empty() ? "" : absl::StrCat("Bearer ", options.token)),
        viewer_(ViewerMetadata(options.viewer)) {}

  absl::StatusOr<v1::Sop> CreateSop(const v1::CreateSopRequest& request) override {
    return Call<v1::Sop>([&](grpc::ClientContext* context, v1::Sop* response) {
      return sops_->CreateSop(context, request, response);
    });
  }
  absl::StatusOr<v1::Sop> GetSop(const v1::GetSopRequest& request) override {
    return Call<v1::Sop>([&](grpc::ClientContext* context, v1::Sop* response) {
      return sops_->GetSop(context, request, response);
    });
  }
  absl::StatusOr<v1::ListSopsResponse> ListSops(const v1::ListSopsRequest& request) override {
    return Call<v1::ListSopsResponse>(
        [&](grpc::ClientContext* context, v1::ListSopsResponse* response) {
          return sops_->ListSops(context, request, response);
        });
  }
  absl::StatusOr<v1::Sop> UpdateSop(const v1::UpdateSopRequest& request) override {
    return Call<v1::Sop>([&](grpc::ClientContext* context, v1::Sop* response) {
      return sops_->UpdateSop(context, request, response);
    });
  }
  absl::StatusOr<v1::Sop> DeleteSop(const v1::DeleteSopRequest& request) override {
    return Call<v1::Sop>([&](grpc::ClientContext* context, v1::Sop* response) {
      return sops_->DeleteSop(context, request, response);
    });
  }
  absl::StatusOr<v1::Sop> UndeleteSop(const v1::UndeleteSopRequest& request) override {
    return Call<v1::Sop>([&](grpc::ClientContext* context, v1::Sop* response) {
      return sops_->UndeleteSop(context, request, response);
    });
  }
  absl::StatusOr<v1::ListSopRevisionsResponse> ListSopRevisions(
      const v1::ListSopRevisionsRequest& request) override {
    return Call<v1::ListSopRevisionsResponse>(
        [&](grpc::ClientContext* context, v1::ListSopRevisionsResponse* response) {
          return sops_->ListSopRevisions(context, request, response);
        });
  }
  absl::StatusOr<v1::SopRevision> GetSopRevision(
      const v1::GetSopRevisionRequest& request) override {
    return Call<v1::SopRevision>([&](grpc::ClientContext* context, v1::SopRevision* response) {
      return sops_->GetSopRevision(context, request, response);
    });
  }
  absl::StatusOr<v1::PublishSopResponse> PublishSop(const v1::PublishSopRequest& request) override {
    return Call<v1::PublishSopResponse>(
        [&](grpc::ClientContext* context, v1::PublishSopResponse* response) {
          return sops_->PublishSop(context, request, response);
        });
  }
  absl::StatusOr<v1::CheckTargetingResponse> CheckTargeting(
      const v1::CheckTargetingRequest& request) override {
    return Call<v1::CheckTargetingResponse>(
        [&](grpc::ClientContext* context, v1::CheckTargetingResponse* response) {
          return sops_->CheckTargeting(context, request, response);
        });
  }
  absl::StatusOr<v1::LookupSopsResponse> LookupSops(const v1::LookupSopsRequest& request) override {
    return Call<v1::LookupSopsResponse>(
        [&](grpc::ClientContext* context, v1::LookupSopsResponse* response) {
          return context_->LookupSops(context, request, response);
        });
  }
  absl::Status WatchSops(
      const v1::WatchSopsRequest& request,
      const std::function<bool(const v1::WatchSopsResponse&)>& on_message) override {
    if (!options_status_.ok()) return options_status_;
    grpc::ClientContext context;
    // A watch stays open as long as its caller wants: the unary timeout would
    // end every watch after seconds.
    Prepare(&context, options_.stream_timeout);
    std::unique_ptr<grpc::ClientReader<v1::WatchSopsResponse>> reader =
        context_->WatchSops(&context, request);
    v1::WatchSopsResponse message;
    while (reader->Read(&message)) {
      if (!on_message(message)) {
        context.TryCancel();
        // Finish says CANCELLED now; the caller asked for that.
        reader->Finish();
        return absl::OkStatus();
      }
      message.Clear();
    }
    const grpc::Status status = reader->Finish();
    if (!status.ok()) return FromGrpcStatus(status);
    return absl::OkStatus();
  }

  absl::StatusOr<v1::WhoAmIResponse> WhoAmI(const v1::WhoAmIRequest& request) override {
    return Call<v1::WhoAmIResponse>(
        [&](grpc::ClientContext* context, v1::WhoAmIResponse* response) {
          return admin_->WhoAmI(context, request, response);
        });
  }
  absl::StatusOr<v1::CreateTokenResponse> CreateToken(
      const v1::CreateTokenRequest& request) override {
    return Call<v1::CreateTokenResponse>(
        [&](grpc::ClientContext* context, v1::CreateTokenResponse* response) {
          return admin_->CreateToken(context, request, response);
        });
  }
  absl::StatusOr<v1::ListTokensResponse> ListTokens(const v1::ListTokensRequest& request) override {
    return Call<v1::ListTokensResponse>(
        [&](grpc::ClientContext* context, v1::ListTokensResponse* response) {
          return admin_->ListTokens(context, request, response);
        });
  }
  absl::StatusOr<v1::Token> GetToken(const v1::GetTokenRequest& request) override {
    return Call<v1::Token>([&](grpc::ClientContext* context, v1::Token* response) {
      return admin_->GetToken(context, request, response);
    });
  }
  absl::StatusOr<v1::Token> RevokeToken(const v1::RevokeTokenRequest& request) override {
    return Call<v1::Token>([&](grpc::ClientContext* context, v1::Token* response) {
      return admin_->RevokeToken(context, request, response);
    });
  }
  absl::StatusOr<v1::Org> CreateOrg(const v1::CreateOrgRequest& request) override {
    return Call<v1::Org>([&](grpc::ClientContext* context, v1::Org* response) {
      return admin_->CreateOrg(context, request, response);
    });
  }
  absl::StatusOr<v1::ListOrgsResponse> ListOrgs(const v1::ListOrgsRequest& request) override {
    return Call<v1::ListOrgsResponse>(
        [&](grpc::ClientContext* context, v1::ListOrgsResponse* response) {
          return admin_->ListOrgs(context, request, response);
        });
  }
  absl::StatusOr<v1::Org> GetOrg(const v1::GetOrgRequest& request) override {
    return Call<v1::Org>([&](grpc::ClientContext* context, v1::Org* response) {
      return admin_->GetOrg(context, request, response);
    });
  }
  absl::StatusOr<v1::RoleMap> GetRoleMap(const v1::GetRoleMapRequest& request) override {
    return Call<v1::RoleMap>([&](grpc::ClientContext* context, v1::RoleMap* response) {
      return admin_->GetRoleMap(context, request, response);
    });
  }
  absl::StatusOr<v1::RoleMap> UpdateRoleMap(const v1::UpdateRoleMapRequest& request) override {
    return Call<v1::RoleMap>([&](grpc::ClientContext* context, v1::RoleMap* response) {
      return admin_->UpdateRoleMap(context, request, response);
    });
  }
  absl::StatusOr<v1::FieldMap> GetFieldMap(const v1::GetFieldMapRequest& request) override {
    return Call<v1::FieldMap>([&](grpc::ClientContext* context, v1::FieldMap* response) {
      return admin_->GetFieldMap(context, request, response);
    });
  }
  absl::StatusOr<v1::FieldMap> UpdateFieldMap(const v1::UpdateFieldMapRequest& request) override {
    return Call<v1::FieldMap>([&](grpc::ClientContext* context, v1::FieldMap* response) {
      return admin_->UpdateFieldMap(context, request, response);
    });
  }
  absl::StatusOr<v1::PingResponse> Ping(const v1::PingRequest& request) override {
    return Call<v1::PingResponse>([&](grpc::ClientContext* context, v1::PingResponse* response) {
      return admin_->Ping(context, request, response);
    });
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

  // Every call gets a fresh context with its own deadline and the token.
  template <typename Response, typename Rpc>
  absl::StatusOr<Response> Call(Rpc rpc) {
    if (!options_status_.ok()) return options_status_;
    grpc::ClientContext context;
    Prepare(&context, options_.timeout);
    Response response;
    const grpc::Status status = rpc(&context, &response);
    if (!status.ok()) return FromGrpcStatus(status);
    return response;
  }

  const ConnectionOptions options_;
  const absl::Status options_status_;
  const std::shared_ptr<grpc::Channel> channel_;
  const std::unique_ptr<v1::SopService::Stub> sops_;
  const std::unique_ptr<v1::ContextService::Stub> context_;
  const std::unique_ptr<v1::AdminService::Stub> admin_;
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

absl::Status ValidateConnectionOptions(const ConnectionOptions& options) {
  // The token itself stays out of the message: it is a secret.
  if (!IsValidMetadataValue(options.token)) {
    return absl::InvalidArgumentError("the token must be printable ASCII");
  }
  const TlsOptions& tls = options.tls;
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
