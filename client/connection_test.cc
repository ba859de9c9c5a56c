#include "client/connection.h"

#include <chrono>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/server_context.h"
#include "gtest/gtest.h"
#include "sopsidebar/v1/context_service.grpc.pb.h"
#include "sopsidebar/v1/sop_service.grpc.pb.h"

namespace sopsidebar::client {
namespace {

// Records what the client sent and fails the first `unavailable` calls.
class RecordingSopService final : public v1::SopService::Service,
                                  public v1::ContextService::Service {
 public:
  grpc::Status GetSop(grpc::ServerContext* context, const v1::GetSopRequest* request,
                      v1::Sop* response) override {
    Record(context);
    absl::MutexLock lock(&mu_);
    if (unavailable_ > 0) {
      --unavailable_;
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "warming up");
    }
    if (request->name() == "orgs/default/sops/missing") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "SOP orgs/default/sops/missing not found");
    }
    response->set_name(request->name());
    return grpc::Status::OK;
  }
  grpc::Status LookupSops(grpc::ServerContext* context, const v1::LookupSopsRequest* request,
                          v1::LookupSopsResponse* response) override {
    Record(context);
    response->add_matches()->set_sop("orgs/default/sops/a");
    return grpc::Status::OK;
  }

  void FailNextCallsWithUnavailable(int n) {
    absl::MutexLock lock(&mu_);
    unavailable_ = n;
  }
  std::string author() {
    absl::MutexLock lock(&mu_);
    return author_;
  }
  std::chrono::system_clock::duration time_left() {
    absl::MutexLock lock(&mu_);
    return time_left_;
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

 private:
  void Record(grpc::ServerContext* context) {
    absl::MutexLock lock(&mu_);
    ++calls_;
    auto it = context->client_metadata().find("x-sop-author");
    author_ = it == context->client_metadata().end()
                  ? "(none)"
                  : std::string(it->second.data(), it->second.size());
    time_left_ = context->deadline() - std::chrono::system_clock::now();
  }

  absl::Mutex mu_;
  int unavailable_ ABSL_GUARDED_BY(mu_) = 0;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::string author_ ABSL_GUARDED_BY(mu_);
  std::chrono::system_clock::duration time_left_ ABSL_GUARDED_BY(mu_){};
};

class GrpcConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(static_cast<v1::SopService::Service*>(&service_));
    builder.RegisterService(static_cast<v1::ContextService::Service*>(&service_));
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

TEST_F(GrpcConnectionTest, SendsTheAuthorAsMetadata) {
  ConnectionOptions options = Options();
  options.author = "dana";
  v1::GetSopRequest request;
  request.set_name("orgs/default/sops/a");
  absl::StatusOr<v1::Sop> sop = MakeGrpcConnection(options)->GetSop(request);
  ASSERT_TRUE(sop.ok()) << sop.status();
  EXPECT_EQ(sop->name(), "orgs/default/sops/a");
  EXPECT_EQ(service_.author(), "dana");
}

TEST_F(GrpcConnectionTest, SendsNoAuthorWhenEmpty) {
  ASSERT_TRUE(MakeGrpcConnection(Options())->LookupSops(v1::LookupSopsRequest()).ok());
  EXPECT_EQ(service_.author(), "(none)");
}

TEST_F(GrpcConnectionTest, NonAsciiAuthorIsRejectedBeforeSending) {
  ConnectionOptions options = Options();
  options.author = "Zoë";
  EXPECT_EQ(MakeGrpcConnection(options)->GetSop(v1::GetSopRequest()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(service_.calls(), 0);
}

TEST_F(GrpcConnectionTest, EveryCallCarriesTheDeadline) {
  ConnectionOptions options = Options();
  options.timeout = absl::Seconds(7);
  ASSERT_TRUE(MakeGrpcConnection(options)->LookupSops(v1::LookupSopsRequest()).ok());
  // Without a deadline the server would see an infinite one; the lower bound
  // only says it had not expired (a loaded machine may take seconds to connect).
  EXPECT_GT(service_.time_left(), std::chrono::seconds(0));
  EXPECT_LE(service_.time_left(), std::chrono::seconds(7));
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

TEST(GrpcConnectionWithoutServerTest, UnreachableServerIsUnavailable) {
  ConnectionOptions options;
  options.target = "127.0.0.1:1";  // Nothing listens on port 1.
  options.retry.initial_backoff = absl::ZeroDuration();
  EXPECT_EQ(MakeGrpcConnection(options)->GetSop(v1::GetSopRequest()).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace sopsidebar::client
