#include "client/client.h"

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client/grpc_status.h"
#include "client/retry.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"

namespace sopsidebar::client {
namespace {

using ::testing::ElementsAre;

// One scripted WatchSops stream: `messages` results (the i-th matching
// orgs/default/sops/m<i>), then a `reconnect` message when `reconnect` is
// set, then the end with `status`.
struct WatchAttempt {
  int messages = 0;
  absl::Status status;
  bool reconnect = false;
};

// Answers every call with the next scripted status (OK once the script runs
// out) and records which methods were called; ListSops pages come from
// `pages` keyed by page token; WatchSops streams from `watch_attempts` (one
// message and OK once those run out).
class ScriptedConnection : public Connection {
 public:
  std::deque<absl::Status> script;
  std::vector<std::string> calls;
  std::map<std::string, v1::ListSopsResponse> pages;
  std::deque<WatchAttempt> watch_attempts;

  absl::StatusOr<v1::Sop> CreateSop(const v1::CreateSopRequest&) override {
    return Next<v1::Sop>("CreateSop");
  }
  absl::StatusOr<v1::Sop> GetSop(const v1::GetSopRequest& request) override {
    absl::StatusOr<v1::Sop> sop = Next<v1::Sop>("GetSop");
    if (sop.ok()) sop->set_name(request.name());
    return sop;
  }
  absl::StatusOr<v1::ListSopsResponse> ListSops(const v1::ListSopsRequest& request) override {
    absl::StatusOr<v1::ListSopsResponse> page = Next<v1::ListSopsResponse>("ListSops");
    if (!page.ok()) return page;
    return pages[request.page_token()];
  }
  absl::StatusOr<v1::Sop> UpdateSop(const v1::UpdateSopRequest&) override {
    return Next<v1::Sop>("UpdateSop");
  }
  absl::StatusOr<v1::Sop> DeleteSop(const v1::DeleteSopRequest&) override {
    return Next<v1::Sop>("DeleteSop");
  }
  absl::StatusOr<v1::Sop> UndeleteSop(const v1::UndeleteSopRequest&) override {
    return Next<v1::Sop>("UndeleteSop");
  }
  absl::StatusOr<v1::ListSopRevisionsResponse> ListSopRevisions(
      const v1::ListSopRevisionsRequest&) override {
    return Next<v1::ListSopRevisionsResponse>("ListSopRevisions");
  }
  absl::StatusOr<v1::SopRevision> GetSopRevision(const v1::GetSopRevisionRequest&) override {
    return Next<v1::SopRevision>("GetSopRevision");
  }
  absl::StatusOr<v1::PublishSopResponse> PublishSop(const v1::PublishSopRequest& request) override {
    absl::StatusOr<v1::PublishSopResponse> response = Next<v1::PublishSopResponse>("PublishSop");
    if (response.ok()) response->mutable_sop()->set_name(request.name());
    return response;
  }
  // Answers with one tie against the SOP named in the request, so a test can
  // see the request arrived.
  absl::StatusOr<v1::CheckTargetingResponse> CheckTargeting(
      const v1::CheckTargetingRequest& request) override {
    absl::StatusOr<v1::CheckTargetingResponse> response =
        Next<v1::CheckTargetingResponse>("CheckTargeting");
    if (response.ok()) response->add_ties()->set_sop(request.name());
    return response;
  }
  absl::StatusOr<v1::LookupSopsResponse> LookupSops(const v1::LookupSopsRequest&) override {
    return Next<v1::LookupSopsResponse>("LookupSops");
  }
  absl::Status WatchSops(
      const v1::WatchSopsRequest&,
      const std::function<bool(const v1::WatchSopsResponse&)>& on_message) override {
    calls.push_back("WatchSops");
    WatchAttempt attempt{.messages = 1, .status = absl::OkStatus()};
    if (!watch_attempts.empty()) {
      attempt = watch_attempts.front();
      watch_attempts.pop_front();
    }
    for (int i = 0; i < attempt.messages; ++i) {
      v1::WatchSopsResponse message;
      message.mutable_result()->add_matches()->set_sop(absl::StrCat("orgs/default/sops/m", i));
      if (!on_message(message)) return absl::OkStatus();
    }
    if (attempt.reconnect) {
      v1::WatchSopsResponse message;
      message.mutable_reconnect()->set_reason("sopd is shutting down");
      if (!on_message(message)) return absl::OkStatus();
    }
    return attempt.status;
  }
  absl::StatusOr<v1::WhoAmIResponse> WhoAmI(const v1::WhoAmIRequest&) override {
    return Next<v1::WhoAmIResponse>("WhoAmI");
  }
  absl::StatusOr<v1::CreateTokenResponse> CreateToken(const v1::CreateTokenRequest&) override {
    return Next<v1::CreateTokenResponse>("CreateToken");
  }
  absl::StatusOr<v1::ListTokensResponse> ListTokens(const v1::ListTokensRequest&) override {
    return Next<v1::ListTokensResponse>("ListTokens");
  }
  absl::StatusOr<v1::Token> GetToken(const v1::GetTokenRequest&) override {
    return Next<v1::Token>("GetToken");
  }
  absl::StatusOr<v1::Token> RevokeToken(const v1::RevokeTokenRequest& request) override {
    absl::StatusOr<v1::Token> token = Next<v1::Token>("RevokeToken");
    if (token.ok()) token->set_name(request.name());
    return token;
  }
  absl::StatusOr<v1::Org> CreateOrg(const v1::CreateOrgRequest&) override {
    return Next<v1::Org>("CreateOrg");
  }
  absl::StatusOr<v1::ListOrgsResponse> ListOrgs(const v1::ListOrgsRequest&) override {
    return Next<v1::ListOrgsResponse>("ListOrgs");
  }
  absl::StatusOr<v1::Org> GetOrg(const v1::GetOrgRequest&) override {
    return Next<v1::Org>("GetOrg");
  }
  absl::StatusOr<v1::RoleMap> GetRoleMap(const v1::GetRoleMapRequest&) override { return Next<v1::RoleMap>("GetRoleMap"); }
  absl::StatusOr<v1::RoleMap> UpdateRoleMap(const v1::UpdateRoleMapRequest&) override { return Next<v1::RoleMap>("UpdateRoleMap"); }
  absl::StatusOr<v1::FieldMap> GetFieldMap(const v1::GetFieldMapRequest&) override { return Next<v1::FieldMap>("GetFieldMap"); }
  absl::StatusOr<v1::FieldMap> UpdateFieldMap(const v1::UpdateFieldMapRequest&) override { return Next<v1::FieldMap>("UpdateFieldMap"); }
  absl::StatusOr<v1::PingResponse> Ping(const v1::PingRequest&) override {
    return Next<v1::PingResponse>("Ping");
  }
  // Records the method's name; on success answers with an empty response.
  absl::Status CallUnary(const google::protobuf::MethodDescriptor& method,
                         const google::protobuf::Message& request,
                         google::protobuf::Message* response) override {
    if (absl::Status types = CheckUnaryCall(method, request, response); !types.ok()) return types;
    calls.push_back(method.name());
    response->Clear();
    if (script.empty()) return absl::OkStatus();
    absl::Status status = script.front();
    script.pop_front();
    return status;
  }

 private:
  template <typename T>
  absl::StatusOr<T> Next(const std::string& method) {
    calls.push_back(method);
    if (script.empty()) return T();
    absl::Status status = script.front();
    script.pop_front();
    if (!status.ok()) return status;
    return T();
  }
};

class RetryTest : public ::testing::Test {
 protected:
  RetryTest()
      : fake_(std::make_shared<ScriptedConnection>()),
        client_(MakeRetryingConnection(
            fake_, {.max_attempts = 3, .initial_backoff = absl::ZeroDuration()})) {}

  std::shared_ptr<ScriptedConnection> fake_;
  Client client_;
};

TEST_F(RetryTest, ReadIsRetriedWhileUnavailable) {
  fake_->script = {absl::UnavailableError("down"), absl::UnavailableError("down"),
                   absl::OkStatus()};
  absl::StatusOr<v1::Sop> sop = client_.GetSop("orgs/default/sops/a");
  ASSERT_TRUE(sop.ok()) << sop.status();
  EXPECT_EQ(sop->name(), "orgs/default/sops/a");
  EXPECT_THAT(fake_->calls, ElementsAre("GetSop", "GetSop", "GetSop"));
}

TEST_F(RetryTest, ReadGivesUpAfterMaxAttempts) {
  fake_->script = {absl::UnavailableError("1"), absl::UnavailableError("2"),
                   absl::UnavailableError("3"), absl::OkStatus()};
  absl::StatusOr<v1::LookupSopsResponse> response = client_.LookupSops(v1::LookupSopsRequest());
  EXPECT_EQ(response.status(), absl::UnavailableError("3"));
  EXPECT_EQ(fake_->calls.size(), 3u);
}

TEST_F(RetryTest, CheckTargetingIsRetriedWhileUnavailable) {
  fake_->script = {absl::UnavailableError("down"), absl::OkStatus()};
  absl::StatusOr<v1::CheckTargetingResponse> response =
      client_.CheckTargeting("orgs/default/sops/a");
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->ties_size(), 1);
  EXPECT_EQ(response->ties(0).sop(), "orgs/default/sops/a");
  EXPECT_THAT(fake_->calls, ElementsAre("CheckTargeting", "CheckTargeting"));
}

TEST_F(RetryTest, ReadsSentWithCallUnaryAreRetriedWhileUnavailable) {
  fake_->script = {absl::UnavailableError("down"), absl::OkStatus(),
                   absl::UnavailableError("down"), absl::OkStatus(),
                   absl::UnavailableError("down"), absl::OkStatus()};
  EXPECT_TRUE(client_.DiffSopRevisions(v1::DiffSopRevisionsRequest()).ok());
  EXPECT_TRUE(client_.ListComments(v1::ListCommentsRequest()).ok());
  EXPECT_TRUE(client_.VerifyAuditLog(v1::VerifyAuditLogRequest()).ok());
  EXPECT_THAT(fake_->calls, ElementsAre("DiffSopRevisions", "DiffSopRevisions", "ListComments",
                                        "ListComments", "VerifyAuditLog", "VerifyAuditLog"));
}

TEST_F(RetryTest, WritesSentWithCallUnaryAreNotRetried) {
  fake_->script = {absl::UnavailableError("down"), absl::UnavailableError("down"),
                   absl::UnavailableError("down"), absl::UnavailableError("down"),
                   absl::UnavailableError("down"), absl::UnavailableError("down")};
  EXPECT_EQ(client_.SubmitSop(v1::SubmitSopRequest()).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(client_.ApproveSop(v1::ApproveSopRequest()).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(client_.AddComment(v1::AddCommentRequest()).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(client_.MarkSopReviewed(v1::MarkSopReviewedRequest()).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_THAT(fake_->calls,
              ElementsAre("SubmitSop", "ApproveSop", "AddComment", "MarkSopReviewed"));
}

TEST(CheckUnaryCallTest, RefusesMessagesThatAreNotTheMethodsTypes) {
  const google::protobuf::MethodDescriptor* submit =
      FindUnaryMethod("sopsidebar.v1.SopService.SubmitSop");
  ASSERT_NE(submit, nullptr);
  v1::Sop sop;
  EXPECT_TRUE(CheckUnaryCall(*submit, v1::SubmitSopRequest(), &sop).ok());
  EXPECT_EQ(CheckUnaryCall(*submit, v1::ApproveSopRequest(), &sop).code(),
            absl::StatusCode::kInvalidArgument);
  v1::Comment comment;
  EXPECT_EQ(CheckUnaryCall(*submit, v1::SubmitSopRequest(), &comment).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckUnaryCall(*submit, v1::SubmitSopRequest(), nullptr).code(),
            absl::StatusCode::kInvalidArgument);
}

// Answers CallUnary with a response naming the method it was sent to.
class RecordingGenericConnection : public GenericUnaryConnection {
 public:
  std::vector<std::string> methods;

  absl::Status CallUnary(const google::protobuf::MethodDescriptor& method,
                         const google::protobuf::Message& request,
                         google::protobuf::Message* response) override {
    if (absl::Status types = CheckUnaryCall(method, request, response); !types.ok()) return types;
    methods.push_back(method.full_name());
    if (auto* sop = dynamic_cast<v1::Sop*>(response)) sop->set_title(method.name());
    return absl::OkStatus();
  }
  absl::Status WatchSops(const v1::WatchSopsRequest&,
                         const std::function<bool(const v1::WatchSopsResponse&)>&) override {
    return absl::UnimplementedError("no watches");
  }
};

TEST(GenericUnaryConnectionTest, TypedMethodsSendThroughCallUnaryToTheirRpc) {
  RecordingGenericConnection connection;
  absl::StatusOr<v1::Sop> sop = connection.UndeleteSop(v1::UndeleteSopRequest());
  ASSERT_TRUE(sop.ok()) << sop.status();
  EXPECT_EQ(sop->title(), "UndeleteSop");
  EXPECT_TRUE(connection.LookupSops(v1::LookupSopsRequest()).ok());
  EXPECT_TRUE(connection.UpdateFieldMap(v1::UpdateFieldMapRequest()).ok());
  EXPECT_THAT(connection.methods, ElementsAre("sopsidebar.v1.SopService.UndeleteSop",
                                              "sopsidebar.v1.ContextService.LookupSops",
                                              "sopsidebar.v1.AdminService.UpdateFieldMap"));
}

TEST(UnaryMethodTakingTest, FindsTheMethodOfARequestTypeAndNoStream) {
  const google::protobuf::MethodDescriptor* method =
      UnaryMethodTaking(v1::ResolveCommentRequest::descriptor());
  ASSERT_NE(method, nullptr);
  EXPECT_EQ(method->full_name(), "sopsidebar.v1.SopService.ResolveComment");
  EXPECT_EQ(UnaryMethodTaking(v1::WatchSopsRequest::descriptor()), nullptr);
  EXPECT_EQ(UnaryMethodTaking(v1::Sop::descriptor()), nullptr);
}

TEST(FindUnaryMethodTest, FindsUnaryMethodsOnly) {
  EXPECT_NE(FindUnaryMethod("sopsidebar.v1.AdminService.GetAuditHead"), nullptr);
  EXPECT_EQ(FindUnaryMethod("sopsidebar.v1.ContextService.WatchSops"), nullptr);
  EXPECT_EQ(FindUnaryMethod("sopsidebar.v1.SopService.NoSuchMethod"), nullptr);
}

TEST_F(RetryTest, OtherErrorsAreNotRetried) {
  fake_->script = {absl::DeadlineExceededError("slow"), absl::OkStatus()};
  EXPECT_EQ(client_.GetSop("orgs/default/sops/a").status(), absl::DeadlineExceededError("slow"));
  EXPECT_THAT(fake_->calls, ElementsAre("GetSop"));
}

TEST_F(RetryTest, WritesAreNotRetried) {
  fake_->script = {absl::UnavailableError("down"), absl::UnavailableError("down"),
                   absl::UnavailableError("down"), absl::UnavailableError("down")};
  EXPECT_EQ(client_.UpdateSop(v1::UpdateSopRequest()).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(client_.PublishSop("orgs/default/sops/a").status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(client_.DeleteSop(v1::DeleteSopRequest()).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(client_.UndeleteSop(v1::UndeleteSopRequest()).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_THAT(fake_->calls, ElementsAre("UpdateSop", "PublishSop", "DeleteSop", "UndeleteSop"));
}

TEST_F(RetryTest, CreateIsRetriedOnlyWithRequestId) {
  fake_->script = {absl::UnavailableError("down"), absl::UnavailableError("down"),
                   absl::OkStatus()};
  EXPECT_EQ(client_.CreateSop(v1::CreateSopRequest()).status().code(),
            absl::StatusCode::kUnavailable);
  v1::CreateSopRequest with_id;
  with_id.set_request_id("apply-1");
  EXPECT_TRUE(client_.CreateSop(with_id).ok());
  EXPECT_THAT(fake_->calls, ElementsAre("CreateSop", "CreateSop", "CreateSop"));
}

TEST_F(RetryTest, AdminReadsAreRetriedWhileUnavailable) {
  const absl::Status down = absl::UnavailableError("down");
  fake_->script = {down, absl::OkStatus(), down, absl::OkStatus(), down, absl::OkStatus(),
                   down, absl::OkStatus(), down, absl::OkStatus(), down, absl::OkStatus()};
  EXPECT_TRUE(client_.WhoAmI(v1::WhoAmIRequest()).ok());
  EXPECT_TRUE(client_.ListTokens(v1::ListTokensRequest()).ok());
  EXPECT_TRUE(client_.GetToken("orgs/default/tokens/tk1").ok());
  EXPECT_TRUE(client_.ListOrgs(v1::ListOrgsRequest()).ok());
  EXPECT_TRUE(client_.GetOrg("orgs/default").ok());
  EXPECT_TRUE(client_.Ping(v1::PingRequest()).ok());
  EXPECT_THAT(fake_->calls,
              ElementsAre("WhoAmI", "WhoAmI", "ListTokens", "ListTokens", "GetToken", "GetToken",
                          "ListOrgs", "ListOrgs", "GetOrg", "GetOrg", "Ping", "Ping"));
}

TEST_F(RetryTest, AdminWritesAreNotRetried) {
  const absl::Status down = absl::UnavailableError("down");
  fake_->script = {down, down, down, down, down, down};
  EXPECT_EQ(client_.CreateToken(v1::CreateTokenRequest()).status(), down);
  EXPECT_EQ(client_.RevokeToken("orgs/acme/tokens/t1").status(), down);
  EXPECT_EQ(client_.CreateOrg(v1::CreateOrgRequest()).status(), down);
  EXPECT_THAT(fake_->calls, ElementsAre("CreateToken", "RevokeToken", "CreateOrg"));
}

// The SOP of each result a watch delivered, in order.
std::vector<std::string> Watch(Client& client, int stop_after, absl::Status* status) {
  std::vector<std::string> seen;
  *status = client.WatchSops(v1::WatchSopsRequest(), [&](const v1::WatchSopsResponse& message) {
    seen.push_back(message.result().matches(0).sop());
    return static_cast<int>(seen.size()) < stop_after;
  });
  return seen;
}

TEST_F(RetryTest, WatchIsRetriedWhileUnavailableBeforeItsFirstMessage) {
  fake_->watch_attempts = {{0, absl::UnavailableError("down")},
                           {2, absl::UnauthenticatedError("token revoked")}};
  absl::Status status;
  EXPECT_THAT(Watch(client_, 10, &status),
              ElementsAre("orgs/default/sops/m0", "orgs/default/sops/m1"));
  EXPECT_EQ(status, absl::UnauthenticatedError("token revoked"));
  EXPECT_THAT(fake_->calls, ElementsAre("WatchSops", "WatchSops"));
}

TEST_F(RetryTest, WatchIsNotRetriedOnceAMessageWasDelivered) {
  fake_->watch_attempts = {{1, absl::UnavailableError("sopd went away")}, {1, absl::OkStatus()}};
  absl::Status status;
  EXPECT_THAT(Watch(client_, 10, &status), ElementsAre("orgs/default/sops/m0"));
  EXPECT_EQ(status, absl::UnavailableError("sopd went away"));
  EXPECT_THAT(fake_->calls, ElementsAre("WatchSops"));
}

TEST_F(RetryTest, WatchToldToReconnectIsOpenedAgainWithItsAttemptsCountedAfresh) {
  fake_->watch_attempts = {{2, absl::UnavailableError("shutting down"), /*reconnect=*/true},
                           {0, absl::UnavailableError("1")},
                           {0, absl::UnavailableError("2")},
                           {1, absl::UnauthenticatedError("token revoked")}};
  absl::Status status;
  // The reconnect is not delivered; the new stream's result is.
  EXPECT_THAT(Watch(client_, 10, &status),
              ElementsAre("orgs/default/sops/m0", "orgs/default/sops/m1", "orgs/default/sops/m0"));
  EXPECT_EQ(status, absl::UnauthenticatedError("token revoked"));
  EXPECT_EQ(fake_->calls.size(), 4u);
}

TEST_F(RetryTest, WatchEndingUnavailableWithoutReconnectIsNotOpenedAgain) {
  fake_->watch_attempts = {{1, absl::UnavailableError("sopd crashed")}, {1, absl::OkStatus()}};
  absl::Status status;
  EXPECT_THAT(Watch(client_, 10, &status), ElementsAre("orgs/default/sops/m0"));
  EXPECT_EQ(status, absl::UnavailableError("sopd crashed"));
  EXPECT_THAT(fake_->calls, ElementsAre("WatchSops"));
}

TEST_F(RetryTest, WatchGivesUpAfterMaxAttempts) {
  fake_->watch_attempts = {{0, absl::UnavailableError("1")},
                           {0, absl::UnavailableError("2")},
                           {0, absl::UnavailableError("3")},
                           {1, absl::OkStatus()}};
  absl::Status status;
  EXPECT_THAT(Watch(client_, 10, &status), ::testing::IsEmpty());
  EXPECT_EQ(status, absl::UnavailableError("3"));
  EXPECT_EQ(fake_->calls.size(), 3u);
}

TEST_F(RetryTest, WatchIsNotRetriedOnOtherErrors) {
  fake_->watch_attempts = {{0, absl::ResourceExhaustedError("too many watches")},
                           {1, absl::OkStatus()}};
  absl::Status status;
  EXPECT_THAT(Watch(client_, 10, &status), ::testing::IsEmpty());
  EXPECT_EQ(status, absl::ResourceExhaustedError("too many watches"));
  EXPECT_THAT(fake_->calls, ElementsAre("WatchSops"));
}

TEST(ClientTest, WatchStopsWhenTheCallbackReturnsFalseAndReturnsOk) {
  auto fake = std::make_shared<ScriptedConnection>();
  fake->watch_attempts = {{5, absl::UnavailableError("never reached")}};
  Client client(fake);
  absl::Status status;
  EXPECT_THAT(Watch(client, 2, &status),
              ElementsAre("orgs/default/sops/m0", "orgs/default/sops/m1"));
  EXPECT_TRUE(status.ok()) << status;
}

TEST(ClientTest, RevokeTokenByNameSendsTheName) {
  auto fake = std::make_shared<ScriptedConnection>();
  Client client(fake);
  absl::StatusOr<v1::Token> token = client.RevokeToken("orgs/acme/tokens/t1");
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->name(), "orgs/acme/tokens/t1");
}

TEST(ClientTest, PublishSopByNameReturnsTheWholeResponse) {
  auto fake = std::make_shared<ScriptedConnection>();
  Client client(fake);
  absl::StatusOr<v1::PublishSopResponse> response = client.PublishSop("orgs/acme/sops/a");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->sop().name(), "orgs/acme/sops/a");
  EXPECT_THAT(fake->calls, ElementsAre("PublishSop"));
}

TEST(ClientTest, ListAllSopsFollowsPages) {
  auto fake = std::make_shared<ScriptedConnection>();
  fake->pages[""].add_sops()->set_name("orgs/default/sops/a");
  fake->pages[""].set_next_page_token("t1");
  fake->pages["t1"].add_sops()->set_name("orgs/default/sops/b");
  fake->pages["t1"].add_sops()->set_name("orgs/default/sops/c");
  Client client(fake);
  absl::StatusOr<std::vector<v1::Sop>> sops = client.ListAllSops(v1::ListSopsRequest());
  ASSERT_TRUE(sops.ok()) << sops.status();
  ASSERT_EQ(sops->size(), 3u);
  EXPECT_EQ((*sops)[2].name(), "orgs/default/sops/c");
  EXPECT_EQ(fake->calls.size(), 2u);
}

TEST(ClientTest, ListAllSopsStopsWhenThePageTokenRepeats) {
  auto fake = std::make_shared<ScriptedConnection>();
  fake->pages[""].set_next_page_token("t1");
  fake->pages["t1"].set_next_page_token("t1");
  Client client(fake);
  EXPECT_EQ(client.ListAllSops(v1::ListSopsRequest()).status().code(), absl::StatusCode::kInternal);
}

TEST(ClientTest, ListAllSopsReturnsTheFirstError) {
  auto fake = std::make_shared<ScriptedConnection>();
  fake->pages[""].set_next_page_token("t1");
  fake->script = {absl::OkStatus(), absl::InvalidArgumentError("page_token: stale")};
  Client client(fake);
  EXPECT_EQ(client.ListAllSops(v1::ListSopsRequest()).status(),
            absl::InvalidArgumentError("page_token: stale"));
}

TEST(GrpcStatusTest, KeepsCodeAndMessage) {
  for (int code = 1; code <= 16; ++code) {
    const absl::Status status =
        FromGrpcStatus(grpc::Status(static_cast<grpc::StatusCode>(code), "why"));
    EXPECT_EQ(status, absl::Status(static_cast<absl::StatusCode>(code), "why"));
  }
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

TEST(GrpcStatusTest, KeepsEachDetailAsAPayloadUnderItsTypeUrl) {
  google::rpc::BadRequest bad_request;
  bad_request.add_field_violations()->set_field("sop.title");
  bad_request.add_field_violations()->set_field("sop.owner");
  google::rpc::Status details;
  details.set_code(3);
  details.set_message("sop.title: is required; sop.owner: is required");
  details.add_details()->PackFrom(bad_request);
  const absl::Status status = FromGrpcStatus(grpc::Status(
      grpc::StatusCode::INVALID_ARGUMENT, details.message(), details.SerializeAsString()));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), details.message());
  const auto payload = status.GetPayload("type.googleapis.com/google.rpc.BadRequest");
  ASSERT_TRUE(payload.has_value());
  google::rpc::BadRequest received;
  ASSERT_TRUE(received.ParseFromString(std::string(*payload)));
  ASSERT_EQ(received.field_violations_size(), 2);
  EXPECT_EQ(received.field_violations(1).field(), "sop.owner");
}

}  // namespace
}  // namespace sopsidebar::client
