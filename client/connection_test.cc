#include "client/connection.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/server_context.h"
#include "gtest/gtest.h"
#include "sopsidebar/v1/admin_service.grpc.pb.h"
#include "sopsidebar/v1/context_service.grpc.pb.h"
#include "sopsidebar/v1/sop_service.grpc.pb.h"

namespace sopsidebar::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// Records what the client sent and fails the first `unavailable` calls.
class RecordingSopService final : public v1::SopService::Service,
                                  public v1::ContextService::Service,
                                  public v1::AdminService::Service {
 public:
  grpc::Status GetSop(grpc::ServerContext* context, const v1::GetSopRequest* request,
                      v1::Sop* response) override {
    if (FailsWithUnavailable(context)) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "warming up");
    }
    if (request->name() == "orgs/default/sops/missing") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "SOP orgs/default/sops/missing not found");
    }
    response->set_name(request->name());
    return grpc::Status::OK;
  }
  grpc::Status CheckTargeting(grpc::ServerContext* context,
                              const v1::CheckTargetingRequest* request,
                              v1::CheckTargetingResponse* response) override {
    if (FailsWithUnavailable(context)) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "warming up");
    }
    v1::TargetingTie& tie = *response->add_ties();
    tie.set_sop("orgs/default/sops/other");
    tie.set_rule_index(request->name() == "orgs/default/sops/a" ? 1 : 0);
    tie.mutable_example_context()->set_record_type("Lead");
    return grpc::Status::OK;
  }
  grpc::Status LookupSops(grpc::ServerContext* context, const v1::LookupSopsRequest* request,
                          v1::LookupSopsResponse* response) override {
    Record(context);
    response->add_matches()->set_sop("orgs/default/sops/a");
    return grpc::Status::OK;
  }
  // Sends three results (the i-th matching orgs/default/sops/w<i>), then
  // ends the stream with UNAUTHENTICATED, or with HoldWatchesOpen waits for
  // the client to cancel.
  grpc::Status WatchSops(grpc::ServerContext* context, const v1::WatchSopsRequest*,
                         grpc::ServerWriter<v1::WatchSopsResponse>* writer) override {
    Record(context);
    for (int i = 0; i < 3; ++i) {
      v1::WatchSopsResponse message;
      message.mutable_result()->add_matches()->set_sop(absl::StrCat("orgs/default/sops/w", i));
      if (!writer->Write(message)) break;
    }
    bool hold;
    {
      absl::MutexLock lock(&mu_);
      hold = hold_watches_open_;
    }
    if (!hold) return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "token revoked");
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    while (!context->IsCancelled() && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(5));
    absl::MutexLock lock(&mu_);
    watch_cancelled_ = context->IsCancelled();
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "never cancelled");
  }
  // Answers with the SOP the request names, submitted by the bearer.
  grpc::Status SubmitSop(grpc::ServerContext* context, const v1::SubmitSopRequest* request,
                         v1::Sop* response) override {
    if (FailsWithUnavailable(context)) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "warming up");
    }
    response->set_name(request->name());
    response->mutable_review()->set_state(v1::DraftReview::IN_REVIEW);
    response->mutable_review()->set_submitted_by(authorization());
    return grpc::Status::OK;
  }
  grpc::Status WhoAmI(grpc::ServerContext* context, const v1::WhoAmIRequest*,
                      v1::WhoAmIResponse* response) override {
    Record(context);
    if (authorization() != "Bearer sops_good") {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "missing or invalid token");
    }
    response->set_user_id("dana");
    return grpc::Status::OK;
  }

  void HoldWatchesOpen() {
    absl::MutexLock lock(&mu_);
    hold_watches_open_ = true;
  }
  // Whether a held watch saw the client cancel it; waits up to 10 s for the
  // server to notice.
  bool WaitForWatchCancelled() {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&watch_cancelled_), absl::Seconds(10));
    return watch_cancelled_;
  }
  void FailNextCallsWithUnavailable(int n) {
    absl::MutexLock lock(&mu_);
    unavailable_ = n;
  }
  std::chrono::system_clock::duration time_left() {
    absl::MutexLock lock(&mu_);
    return time_left_;
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  // The authorization metadata of the last call, "(none)" without.
  std::string authorization() {
    absl::MutexLock lock(&mu_);
    return authorization_;
  }

 private:
  // Records the call; true when it is one of those to fail.
  bool FailsWithUnavailable(grpc::ServerContext* context) {
    Record(context);
    absl::MutexLock lock(&mu_);
    if (unavailable_ == 0) return false;
    --unavailable_;
    return true;
  }
  void Record(grpc::ServerContext* context) {
    absl::MutexLock lock(&mu_);
    ++calls_;
    const auto value = [context](const char* key) {
      auto it = context->client_metadata().find(key);
      return it == context->client_metadata().end()
                 ? std::string("(none)")
                 : std::string(it->second.data(), it->second.size());
    };
    authorization_ = value("authorization");
    time_left_ = context->deadline() - std::chrono::system_clock::now();
  }

  absl::Mutex mu_;
  int unavailable_ ABSL_GUARDED_BY(mu_) = 0;
  bool hold_watches_open_ ABSL_GUARDED_BY(mu_) = false;
  bool watch_cancelled_ ABSL_GUARDED_BY(mu_) = false;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::string authorization_ ABSL_GUARDED_BY(mu_);
  std::chrono::system_clock::duration time_left_ ABSL_GUARDED_BY(mu_){};
};

class GrpcConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(static_cast<v1::SopService::Service*>(&service_));
    builder.RegisterService(static_cast<v1::ContextService::Service*>(&service_));
    builder.RegisterService(static_cast<v1::AdminService::Service*>(&service_));
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override { server_->Shutdown(); }

  ConnectionOptions Options() {
    ConnectionOptions options;
    options.target = "127.0.0.1:" + std::to_string(port_);
    options.retry.initial_backoff = absl::ZeroDuration();
    return options;
  }

  RecordingSopService service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(GrpcConnectionTest, ReturnsTheServersResponse) {
  v1::GetSopRequest request;
  request.set_name("orgs/default/sops/a");
  absl::StatusOr<v1::Sop> sop = MakeGrpcConnection(Options())->GetSop(request);
  ASSERT_TRUE(sop.ok()) << sop.status();
  EXPECT_EQ(sop->name(), "orgs/default/sops/a");
}

TEST_F(GrpcConnectionTest, EveryCallCarriesTheDeadline) {
  ConnectionOptions options = Options();
  options.timeout = absl::Seconds(7);
  ASSERT_TRUE(MakeGrpcConnection(options)->LookupSops(v1::LookupSopsRequest()).ok());
  // Without a deadline the server would see an infinite one; the lower bound
  // only says it had not expired (a loaded machine may take seconds to connect).
  // The upper bound tells 7s from the 10s default; it is not 7s itself because
  // the server derives the deadline from a cached clock that can lag by
  // milliseconds (time_left was seen at 7.008s).
  EXPECT_GT(service_.time_left(), std::chrono::seconds(0));
  EXPECT_LT(service_.time_left(), std::chrono::seconds(8));
}

// The SOP of each result WatchSops delivered, in order; stops after
// `stop_after`.
std::vector<std::string> Watch(Connection& connection, size_t stop_after, absl::Status* status) {
  std::vector<std::string> seen;
  *status = connection.WatchSops(v1::WatchSopsRequest(), [&](const v1::WatchSopsResponse& message) {
    seen.push_back(message.result().matches(0).sop());
    return seen.size() < stop_after;
  });
  return seen;
}

TEST_F(GrpcConnectionTest, WatchDeliversEachMessageInOrderThenReturnsTheStreamsStatus) {
  ConnectionOptions options = Options();
  options.token = "sops_good";
  absl::Status status;
  EXPECT_THAT(Watch(*MakeGrpcConnection(options), 10, &status),
              ElementsAre("orgs/default/sops/w0", "orgs/default/sops/w1", "orgs/default/sops/w2"));
  EXPECT_EQ(status, absl::UnauthenticatedError("token revoked"));
  EXPECT_EQ(service_.authorization(), "Bearer sops_good");
  EXPECT_EQ(service_.calls(), 1);
}

TEST_F(GrpcConnectionTest, WatchHasNoDeadlineWhateverTheUnaryTimeout) {
  ConnectionOptions options = Options();
  options.timeout = absl::Seconds(1);
  absl::Status status;
  Watch(*MakeGrpcConnection(options), 10, &status);
  // An infinite deadline shows as system_clock's largest time point.
  EXPECT_GT(service_.time_left(), std::chrono::hours(24 * 365));
}

TEST_F(GrpcConnectionTest, WatchCarriesTheStreamTimeoutWhenGiven) {
  ConnectionOptions options = Options();
  options.stream_timeout = absl::Seconds(7);
  absl::Status status;
  Watch(*MakeGrpcConnection(options), 10, &status);
  EXPECT_GT(service_.time_left(), std::chrono::seconds(0));
  EXPECT_LT(service_.time_left(), std::chrono::seconds(8));
}

TEST_F(GrpcConnectionTest, WatchStoppedByTheCallbackCancelsTheCallAndReturnsOk) {
  service_.HoldWatchesOpen();
  absl::Status status;
  EXPECT_THAT(Watch(*MakeGrpcConnection(Options()), 2, &status),
              ElementsAre("orgs/default/sops/w0", "orgs/default/sops/w1"));
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_TRUE(service_.WaitForWatchCancelled());
}

TEST_F(GrpcConnectionTest, CallUnarySendsTheRequestToTheMethodWithTheTokenAndDeadline) {
  ConnectionOptions options = Options();
  options.token = "sops_good";
  options.timeout = absl::Seconds(7);
  v1::SubmitSopRequest request;
  request.set_name("orgs/default/sops/a");
  v1::Sop sop;
  const absl::Status status = MakeGrpcConnection(options)->CallUnary(
      *FindUnaryMethod("sopsidebar.v1.SopService.SubmitSop"), request, &sop);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(sop.name(), "orgs/default/sops/a");
  EXPECT_EQ(sop.review().state(), v1::DraftReview::IN_REVIEW);
  EXPECT_EQ(sop.review().submitted_by(), "Bearer sops_good");
  // gRPC rounds the timeout it sends up to a few significant digits, so the
  // server may see a little over the 7 s asked for; never the 10 s default.
  EXPECT_LT(service_.time_left(), std::chrono::seconds(8));
  EXPECT_GT(service_.time_left(), std::chrono::seconds(0));
}

TEST_F(GrpcConnectionTest, CallUnaryOfAMethodTheServerDoesNotServeIsUnimplemented) {
  v1::Sop sop;
  EXPECT_EQ(MakeGrpcConnection(Options())
                ->CallUnary(*FindUnaryMethod("sopsidebar.v1.SopService.ApproveSop"),
                            v1::ApproveSopRequest(), &sop)
                .code(),
            absl::StatusCode::kUnimplemented);
}

TEST_F(GrpcConnectionTest, CallUnaryWithTheWrongMessageTypesSendsNothing) {
  v1::Sop sop;
  EXPECT_EQ(MakeGrpcConnection(Options())
                ->CallUnary(*FindUnaryMethod("sopsidebar.v1.SopService.SubmitSop"),
                            v1::GetSopRequest(), &sop)
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(service_.calls(), 0);
}

TEST_F(GrpcConnectionTest, CallUnaryIsNotRetriedForAWrite) {
  service_.FailNextCallsWithUnavailable(1);
  v1::Sop sop;
  EXPECT_EQ(MakeGrpcConnection(Options())
                ->CallUnary(*FindUnaryMethod("sopsidebar.v1.SopService.SubmitSop"),
                            v1::SubmitSopRequest(), &sop)
                .code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(service_.calls(), 1);
}

TEST_F(GrpcConnectionTest, ServerErrorKeepsCodeAndMessage) {
  v1::GetSopRequest request;
  request.set_name("orgs/default/sops/missing");
  EXPECT_EQ(MakeGrpcConnection(Options())->GetSop(request).status(),
            absl::NotFoundError("SOP orgs/default/sops/missing not found"));
}

TEST_F(GrpcConnectionTest, UnavailableReadIsRetried) {
  service_.FailNextCallsWithUnavailable(2);
  v1::GetSopRequest request;
  request.set_name("orgs/default/sops/a");
  EXPECT_TRUE(MakeGrpcConnection(Options())->GetSop(request).ok());
  EXPECT_EQ(service_.calls(), 3);
}

TEST_F(GrpcConnectionTest, UnavailableCheckTargetingIsRetried) {
  service_.FailNextCallsWithUnavailable(1);
  v1::CheckTargetingRequest request;
  request.set_name("orgs/default/sops/a");
  absl::StatusOr<v1::CheckTargetingResponse> response =
      MakeGrpcConnection(Options())->CheckTargeting(request);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->ties_size(), 1);
  EXPECT_EQ(response->ties(0).sop(), "orgs/default/sops/other");
  EXPECT_EQ(response->ties(0).rule_index(), 1);
  EXPECT_EQ(response->ties(0).example_context().record_type(), "Lead");
  EXPECT_EQ(service_.calls(), 2);
}

TEST_F(GrpcConnectionTest, SendsTheTokenAsBearerMetadataOnEveryCall) {
  ConnectionOptions options = Options();
  options.token = "sops_good";
  std::shared_ptr<Connection> connection = MakeGrpcConnection(options);
  absl::StatusOr<v1::WhoAmIResponse> who = connection->WhoAmI(v1::WhoAmIRequest());
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->user_id(), "dana");
  ASSERT_TRUE(connection->LookupSops(v1::LookupSopsRequest()).ok());
  EXPECT_EQ(service_.authorization(), "Bearer sops_good");
}

TEST_F(GrpcConnectionTest, SendsNoAuthorizationWithoutToken) {
  EXPECT_EQ(MakeGrpcConnection(Options())->WhoAmI(v1::WhoAmIRequest()).status(),
            absl::UnauthenticatedError("missing or invalid token"));
  EXPECT_EQ(service_.authorization(), "(none)");
}

TEST_F(GrpcConnectionTest, AdminReadIsRetried) {
  service_.FailNextCallsWithUnavailable(1);
  v1::GetSopRequest request;
  request.set_name("orgs/default/sops/a");
  ConnectionOptions options = Options();
  options.token = "sops_good";
  EXPECT_TRUE(MakeGrpcConnection(options)->GetSop(request).ok());
  EXPECT_EQ(service_.calls(), 2);
}

TEST_F(GrpcConnectionTest, TokenNeverAppearsInErrors) {
  const std::string secret = "sops_SECRET_0123456789";
  ConnectionOptions bad_token = Options();
  bad_token.token = secret + "\n";
  ConnectionOptions bad_tls = Options();
  bad_tls.token = secret;
  bad_tls.tls.client_cert_pem = "x";
  ConnectionOptions wrong_token = Options();
  wrong_token.token = secret;
  for (const ConnectionOptions& options : {bad_token, bad_tls, wrong_token}) {
    const absl::Status status = MakeGrpcConnection(options)->WhoAmI(v1::WhoAmIRequest()).status();
    EXPECT_FALSE(status.ok());
    EXPECT_THAT(std::string(status.message()), Not(HasSubstr("SECRET")));
    EXPECT_THAT(status.ToString(), Not(HasSubstr("SECRET")));
  }
  EXPECT_EQ(service_.calls(), 1);  // Only the well-formed (but wrong) token was sent.
}

TEST_F(GrpcConnectionTest, InvalidTlsOptionsFailEveryCallWithoutSending) {
  ConnectionOptions options = Options();
  options.tls.enabled = true;
  options.tls.client_cert_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  std::shared_ptr<Connection> connection = MakeGrpcConnection(options);
  EXPECT_EQ(connection->GetSop(v1::GetSopRequest()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(connection->Ping(v1::PingRequest()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(service_.calls(), 0);
}

// Two in-process servers, each with gRPC's health service, and a client
// given both addresses.
class TwoNodeConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::EnableDefaultHealthCheckService(true);
    for (int i = 0; i < 2; ++i) {
      grpc::ServerBuilder builder;
      builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &ports_[i]);
      builder.RegisterService(static_cast<v1::ContextService::Service*>(&services_[i]));
      servers_[i] = builder.BuildAndStart();
      ASSERT_NE(servers_[i], nullptr);
    }
  }
  void TearDown() override {
    for (auto& server : servers_) server->Shutdown();
  }

  ConnectionOptions Options() {
    ConnectionOptions options;
    options.target = absl::StrCat("127.0.0.1:", ports_[0], ",127.0.0.1:", ports_[1]);
    return options;
  }

  RecordingSopService services_[2];
  int ports_[2] = {0, 0};
  std::unique_ptr<grpc::Server> servers_[2];
};

TEST_F(TwoNodeConnectionTest, CallsAlternateBetweenTheNodes) {
  std::shared_ptr<Connection> connection = MakeGrpcConnection(Options());
  // The first calls may all go to the node that connected first.
  for (int i = 0; i < 200 && (services_[0].calls() == 0 || services_[1].calls() == 0); ++i) {
    ASSERT_TRUE(connection->LookupSops(v1::LookupSopsRequest()).ok()) << i;
  }
  ASSERT_GT(services_[0].calls(), 0);
  ASSERT_GT(services_[1].calls(), 0);
  const int before[2] = {services_[0].calls(), services_[1].calls()};
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(connection->LookupSops(v1::LookupSopsRequest()).ok()) << i;
  }
  // Round robin over two ready nodes: every other call.
  EXPECT_EQ(services_[0].calls() - before[0], 10);
  EXPECT_EQ(services_[1].calls() - before[1], 10);
}

TEST_F(TwoNodeConnectionTest, NodeWhoseHealthIsNotServingGetsNoCalls) {
  servers_[1]->GetHealthCheckService()->SetServingStatus(false);
  std::shared_ptr<Connection> connection = MakeGrpcConnection(Options());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(connection->LookupSops(v1::LookupSopsRequest()).ok()) << i;
  }
  EXPECT_EQ(services_[0].calls(), 20);
  EXPECT_EQ(services_[1].calls(), 0);
}

TEST_F(TwoNodeConnectionTest, InvalidListSendsNothing) {
  ConnectionOptions options = Options();
  options.target += ",";
  EXPECT_EQ(MakeGrpcConnection(options)->LookupSops(v1::LookupSopsRequest()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(services_[0].calls() + services_[1].calls(), 0);
}

constexpr char kCert[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
constexpr char kKey[] = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";

// The options with TLS on and the given PEM fields.
absl::Status ValidateTls(const std::string& root_ca, const std::string& cert,
                         const std::string& key, bool enabled = true) {
  ConnectionOptions options;
  options.tls.enabled = enabled;
  options.tls.root_ca_pem = root_ca;
  options.tls.client_cert_pem = cert;
  options.tls.client_key_pem = key;
  return ValidateConnectionOptions(options);
}

TEST(ValidateConnectionOptionsTest, DefaultsAreValid) {
  EXPECT_TRUE(ValidateConnectionOptions(ConnectionOptions()).ok());
  EXPECT_TRUE(ValidateTls("", "", "").ok());
  EXPECT_TRUE(ValidateTls(kCert, kCert, kKey).ok());
  ConnectionOptions options;
  options.tls.enabled = true;
  options.tls.server_name_override = "sopd.test";
  EXPECT_TRUE(ValidateConnectionOptions(options).ok());
}

TEST(ValidateConnectionOptionsTest, ClientCertificateAndKeyGoTogether) {
  EXPECT_EQ(ValidateTls("", kCert, ""),
            absl::InvalidArgumentError("tls.client_cert_pem and tls.client_key_pem must be "
                                       "given together (mutual TLS)"));
  EXPECT_EQ(ValidateTls("", "", kKey).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ValidateConnectionOptionsTest, TlsFieldsWithoutTlsAreRejected) {
  EXPECT_EQ(ValidateTls(kCert, "", "", /*enabled=*/false).code(),
            absl::StatusCode::kInvalidArgument);
  ConnectionOptions options;
  options.tls.server_name_override = "sopd.test";
  EXPECT_EQ(ValidateConnectionOptions(options).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ValidateConnectionOptionsTest, NonPemIsRejectedWithoutQuotingIt) {
  const absl::Status ca = ValidateTls("/etc/ssl/ca.pem", "", "");
  EXPECT_EQ(ca.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(ca.message()), HasSubstr("tls.root_ca_pem is not PEM"));
  const absl::Status key = ValidateTls("", kCert, "hunter2-key-material");
  EXPECT_EQ(key.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(key.message()), HasSubstr("tls.client_key_pem is not PEM"));
  EXPECT_THAT(std::string(key.message()), Not(HasSubstr("hunter2")));
}

TEST(ValidateConnectionOptionsTest, TokenMustBePrintableAscii) {
  ConnectionOptions options;
  options.token = "abc\r\n";
  EXPECT_EQ(ValidateConnectionOptions(options),
            absl::InvalidArgumentError("the token must be printable ASCII"));
}

// ChannelTargetFor's error for `target`, checked to be INVALID_ARGUMENT
// naming the flag.
std::string TargetError(const std::string& target) {
  absl::StatusOr<ChannelTarget> channel = ChannelTargetFor(target, "--server");
  EXPECT_EQ(channel.status().code(), absl::StatusCode::kInvalidArgument) << target;
  EXPECT_THAT(std::string(channel.status().message()), ::testing::StartsWith("--server")) << target;
  return std::string(channel.status().message());
}

TEST(ChannelTargetForTest, OneAddressGoesToGrpcUnchangedWithoutServiceConfig) {
  for (const char* target : {"127.0.0.1:50051", "sopd.example:443", "localhost:9", "[::1]:50051",
                             "unix:/run/sopd.sock"}) {
    absl::StatusOr<ChannelTarget> channel = ChannelTargetFor(target, "target");
    ASSERT_TRUE(channel.ok()) << channel.status();
    EXPECT_EQ(channel->uri, target);
    EXPECT_EQ(channel->service_config_json, "");
    EXPECT_FALSE(channel->address_list);
  }
}

TEST(ChannelTargetForTest, SeveralIpv4AddressesBecomeOneIpv4TargetBalancedRoundRobin) {
  absl::StatusOr<ChannelTarget> channel =
      ChannelTargetFor("127.0.0.1:50051, 10.0.0.2:7000 ,10.0.0.3:1", "target");
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ(channel->uri, "ipv4:127.0.0.1:50051,10.0.0.2:7000,10.0.0.3:1");
  EXPECT_EQ(
      channel->service_config_json,
      R"({"loadBalancingConfig":[{"round_robin":{}}],"healthCheckConfig":{"serviceName":""}})");
  EXPECT_TRUE(channel->address_list);
}

TEST(ChannelTargetForTest, SeveralIpv6AddressesBecomeOneIpv6Target) {
  absl::StatusOr<ChannelTarget> channel = ChannelTargetFor("[::1]:1,[fd00::2]:65535", "target");
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ(channel->uri, "ipv6:[::1]:1,[fd00::2]:65535");
  EXPECT_EQ(channel->service_config_json, kLoadBalancedServiceConfig);
  EXPECT_TRUE(channel->address_list);
}

TEST(ChannelTargetForTest, DnsNameIsBalancedOverEveryAddressItResolvesTo) {
  absl::StatusOr<ChannelTarget> channel = ChannelTargetFor("dns:///sopd.example:50051", "target");
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ(channel->uri, "dns:///sopd.example:50051");
  EXPECT_EQ(channel->service_config_json, kLoadBalancedServiceConfig);
  EXPECT_FALSE(channel->address_list);  // TLS checks the certificate against the name
}

TEST(ChannelTargetForTest, EmptyTargetOrElementIsInvalid) {
  EXPECT_THAT(TargetError(""), HasSubstr("is empty"));
  EXPECT_THAT(TargetError("  "), HasSubstr("is empty"));
  EXPECT_THAT(TargetError("127.0.0.1:1,,127.0.0.1:2"), HasSubstr("has an empty address"));
  EXPECT_THAT(TargetError("127.0.0.1:1,"), HasSubstr("has an empty address"));
  EXPECT_THAT(TargetError(",127.0.0.1:1"), HasSubstr("has an empty address"));
}

TEST(ChannelTargetForTest, AddressWithoutAValidPortIsInvalid) {
  EXPECT_EQ(TargetError("127.0.0.1,127.0.0.2:1"),
            "--server: \"127.0.0.1\" has no port (HOST:PORT, e.g. 10.0.0.1:50051)");
  EXPECT_THAT(TargetError("127.0.0.1:,127.0.0.2:1"), HasSubstr("\"127.0.0.1:\" has no valid port"));
  EXPECT_THAT(TargetError("127.0.0.1:0,127.0.0.2:1"), HasSubstr("no valid port"));
  EXPECT_THAT(TargetError("127.0.0.1:65536,127.0.0.2:1"), HasSubstr("no valid port"));
  EXPECT_THAT(TargetError("127.0.0.1:+80,127.0.0.2:1"), HasSubstr("no valid port"));
  EXPECT_THAT(TargetError("dns:///sopd.example"), HasSubstr("has no port"));
}

TEST(ChannelTargetForTest, HostNameInAListIsInvalidAndPointsToTheDnsForm) {
  EXPECT_EQ(TargetError("sopd-a:50051,sopd-b:50051"),
            "--server: \"sopd-a:50051\" is not an IP address; several nodes are listed by IP "
            "address (10.0.0.1:50051,10.0.0.2:50051), or named all by one DNS name as "
            "dns:///NAME:PORT");
  EXPECT_THAT(TargetError("127.0.0.1:1,localhost:2"), HasSubstr("\"localhost:2\" is not an IP"));
}

TEST(ChannelTargetForTest, DnsNameAndAListCannotBeMixed) {
  EXPECT_THAT(TargetError("dns:///sopd.example:1,127.0.0.1:2"),
              HasSubstr("cannot be mixed with a list of addresses"));
  EXPECT_THAT(TargetError("127.0.0.1:2,dns:///sopd.example:1"),
              HasSubstr("cannot be mixed with a list of addresses"));
  EXPECT_THAT(TargetError("dns:///:1"), HasSubstr("has no name"));
}

TEST(ChannelTargetForTest, Ipv4AndIpv6CannotBeMixedInOneList) {
  EXPECT_THAT(TargetError("127.0.0.1:1,[::1]:2"), HasSubstr("mixes IPv4 and IPv6"));
}

TEST(ChannelTargetForTest, Ipv6AddressNeedsBrackets) {
  EXPECT_EQ(TargetError("::1:5,[::1]:6"),
            "--server: \"::1:5\": an IPv6 address goes in brackets, [::1]:PORT");
  EXPECT_THAT(TargetError("[127.0.0.1]:5,127.0.0.1:6"), HasSubstr("is not an IP address"));
}

TEST(ChannelTargetForTest, AddressListedTwiceIsInvalid) {
  EXPECT_EQ(TargetError("127.0.0.1:1,127.0.0.1:2,127.0.0.1:1"),
            "--server: 127.0.0.1:1 is listed twice");
}

TEST(ValidateConnectionOptionsTest, TargetIsCheckedAndNamedAsTarget) {
  ConnectionOptions options;
  options.target = "127.0.0.1:1,";
  const absl::Status status = ValidateConnectionOptions(options);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), ::testing::StartsWith("target: "));
}

TEST(ValidateConnectionOptionsTest, TlsToSeveralIpAddressesNeedsTheServerNameOverride) {
  ConnectionOptions options;
  options.target = "127.0.0.1:1,127.0.0.1:2";
  options.tls.enabled = true;
  EXPECT_THAT(std::string(ValidateConnectionOptions(options).message()),
              HasSubstr("TLS to several IP addresses needs tls.server_name_override"));
  options.tls.server_name_override = "sopd.test";
  EXPECT_TRUE(ValidateConnectionOptions(options).ok());
  options.tls.server_name_override = "";
  options.target = "dns:///sopd.test:50051";
  EXPECT_TRUE(ValidateConnectionOptions(options).ok());
}

// A self-signed certificate for "sopd.test" made with openssl at test time,
// serving as sopd's certificate, the client's, and the CA of both.
class TlsConnectionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Per process: ctest runs each test in a process of its own, in
    // parallel, and a shared directory let one read another's half-written
    // key.
    const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                                      absl::StrCat("client_tls_test-", ::getpid());
    std::filesystem::create_directories(dir);
    const std::string command = absl::StrCat(
        "/usr/bin/openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=sopd.test "
        "-addext subjectAltName=DNS:sopd.test -keyout ",
        (dir / "key.pem").string(), " -out ", (dir / "cert.pem").string(), " 2>/dev/null");
    if (std::system(command.c_str()) != 0) return;
    cert_ = new std::string(ReadAll(dir / "cert.pem"));
    key_ = new std::string(ReadAll(dir / "key.pem"));
    std::filesystem::remove_all(dir);
  }

  void SetUp() override {
    if (cert_ == nullptr) GTEST_SKIP() << "openssl could not make a certificate";
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  static std::string ReadAll(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream contents;
    contents << in.rdbuf();
    return contents.str();
  }

  void StartServer(grpc_ssl_client_certificate_request_type client_certificate) {
    grpc::SslServerCredentialsOptions ssl(client_certificate);
    ssl.pem_root_certs = *cert_;
    ssl.pem_key_cert_pairs.push_back({*key_, *cert_});
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(ssl), &port_);
    builder.RegisterService(static_cast<v1::AdminService::Service*>(&service_));
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }

  ConnectionOptions Options() {
    ConnectionOptions options;
    options.target = "127.0.0.1:" + std::to_string(port_);
    options.token = "sops_good";
    options.retry.max_attempts = 1;
    options.tls.enabled = true;
    options.tls.root_ca_pem = *cert_;
    options.tls.server_name_override = "sopd.test";
    return options;
  }

  static std::string* cert_;
  static std::string* key_;
  RecordingSopService service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

std::string* TlsConnectionTest::cert_ = nullptr;
std::string* TlsConnectionTest::key_ = nullptr;

TEST_F(TlsConnectionTest, CallsOverTlsCarryTheToken) {
  StartServer(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  absl::StatusOr<v1::WhoAmIResponse> who = MakeGrpcConnection(Options())->WhoAmI({});
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->user_id(), "dana");
}

TEST_F(TlsConnectionTest, PlaintextClientCannotTalkToATlsServer) {
  StartServer(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  ConnectionOptions options = Options();
  options.tls = TlsOptions();
  EXPECT_EQ(MakeGrpcConnection(options)->WhoAmI({}).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(service_.calls(), 0);
}

TEST_F(TlsConnectionTest, CertificateForAnotherNameIsRefused) {
  StartServer(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  ConnectionOptions options = Options();
  options.tls.server_name_override = "evil.test";
  EXPECT_EQ(MakeGrpcConnection(options)->WhoAmI({}).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(service_.calls(), 0);
}

TEST_F(TlsConnectionTest, MutualTlsNeedsTheClientCertificate) {
  StartServer(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  EXPECT_EQ(MakeGrpcConnection(Options())->WhoAmI({}).status().code(),
            absl::StatusCode::kUnavailable);
  ConnectionOptions options = Options();
  options.tls.client_cert_pem = *cert_;
  options.tls.client_key_pem = *key_;
  absl::StatusOr<v1::WhoAmIResponse> who = MakeGrpcConnection(options)->WhoAmI({});
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(service_.calls(), 1);
}

TEST_F(TlsConnectionTest, ServerNameOverrideVerifiesEveryNodeOfAList) {
  StartServer(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  RecordingSopService other_service;
  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  ssl.pem_key_cert_pairs.push_back({*key_, *cert_});
  grpc::ServerBuilder builder;
  int other_port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(ssl), &other_port);
  builder.RegisterService(static_cast<v1::AdminService::Service*>(&other_service));
  std::unique_ptr<grpc::Server> other = builder.BuildAndStart();
  ASSERT_NE(other, nullptr);
  ConnectionOptions options = Options();
  options.target = absl::StrCat("127.0.0.1:", port_, ",127.0.0.1:", other_port);
  std::shared_ptr<Connection> connection = MakeGrpcConnection(options);
  for (int i = 0; i < 200 && (service_.calls() == 0 || other_service.calls() == 0); ++i) {
    absl::StatusOr<v1::WhoAmIResponse> who = connection->WhoAmI({});
    ASSERT_TRUE(who.ok()) << who.status();
  }
  EXPECT_GT(service_.calls(), 0);
  EXPECT_GT(other_service.calls(), 0);
  options.tls.server_name_override = "evil.test";
  EXPECT_EQ(MakeGrpcConnection(options)->WhoAmI({}).status().code(),
            absl::StatusCode::kUnavailable);
  other->Shutdown();
}

TEST(GrpcConnectionWithoutServerTest, UnreachableServerIsUnavailable) {
  ConnectionOptions options;
  options.target = "127.0.0.1:1";  // Nothing listens on port 1.
  options.retry.initial_backoff = absl::ZeroDuration();
  EXPECT_EQ(MakeGrpcConnection(options)->GetSop(v1::GetSopRequest()).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace sopsidebar::client
