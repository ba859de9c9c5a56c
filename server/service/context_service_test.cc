// ContextService.LookupSops over a real gRPC server: it answers exactly what
// SopRegistry::LookupSops answers, with the same errors, although the
// service writes the response as bytes; and what it answers is right, checked
// against values worked out by hand from the SOPs, the record and a fake
// clock.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "server/api/served_api.h"
#include "server/common/clock.h"
#include "server/domain/auth/access_registry.h"
#include "server/domain/matching/indexed_sop_matcher.h"
#include "server/domain/matching/test_sops.h"
#include "server/domain/registry/sop_registry.h"
#include "server/domain/store/in_memory_auth_store.h"
#include "server/domain/store/in_memory_sop_store.h"
#include "server/service/grpc_server.h"
#include "sopsidebar/v1/context_service.grpc.pb.h"

namespace sopsidebar {
namespace {

constexpr char kMqlSop[] = R"pb(
  title: "MQL Acceptance & Handoff"
  owner: "Sales Operations Manager"
  anchor_field: "status_changed_at"
  targeting_rules {
    record_types: "Lead" priority: 100 description: "MQL handoff"
    conditions { field: "lead_status" equals { string_value: "MQL – New Handoff" } }
    conditions { field: "lead_score" range { min: 75 } }
  }
  steps {
    ordinal: 1 title: "Open within 5 minutes"
    time_limit { duration { seconds: 300 } }
  }
)pb";

constexpr char kAnyLeadSop[] = R"pb(
  title: "Content guide"
  owner: "Marketing"
  targeting_rules { record_types: "Lead" priority: 10 }
  steps { ordinal: 1 title: "Introduce, don't pitch" }
)pb";

constexpr char kLead[] = R"pb(
  org: "orgs/default" record_type: "Lead"
  fields { key: "lead_status" value { string_value: "MQL – New Handoff" } }
  fields { key: "lead_score" value { number_value: 82 } }
  fields { key: "status_changed_at" value { string_value: "2026-11-26T10:00:00Z" } }
)pb";

// The lookups' "now": 1 day and 23.5 hours after the lead's
// status_changed_at (2026-11-26T10:00:00Z), so cadence day 2.
absl::Time LookupTime() {
  return absl::FromCivil(absl::CivilSecond(2026, 11, 28, 9, 30, 0), absl::UTCTimeZone());
}

class ContextServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto access = AccessRegistry::Create(&auth_store_, &clock_);
    ASSERT_TRUE(access.ok()) << access.status();
    access_ = std::move(access).value();
    auto secret = access_->BootstrapAdminToken();
    ASSERT_TRUE(secret.ok() && secret->has_value());
    admin_secret_ = **secret;
    auto admin = access_->Authenticate(admin_secret_);
    ASSERT_TRUE(admin.ok()) << admin.status();
    admin_ = *admin;

    auto registry = SopRegistry::Create(&sop_store_, &clock_, IndexedSopMatcher::Build);
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = std::move(registry).value();
    for (const auto& [id, body] : {std::pair{"mql", kMqlSop}, std::pair{"any", kAnyLeadSop}}) {
      v1::CreateSopRequest create;
      create.set_parent("orgs/default");
      create.set_sop_id(id);
      *create.mutable_sop() = test::ParseText<v1::Sop>(body);
      auto sop = registry_->CreateSop(admin_, create);
      ASSERT_TRUE(sop.ok()) << sop.status();
      v1::PublishSopRequest publish;
      publish.set_name(sop->name());
      ASSERT_TRUE(registry_->PublishSop(admin_, publish).ok());
    }

    ServedApi::Options api_options;
    api_options.watches.max_watches_per_token = 3;
    auto api = ServedApi::Create(registry_.get(), access_.get(), crm_.get(), api_options);
    ASSERT_TRUE(api.ok()) << api.status();
    api_ = std::move(api).value();
    GrpcServerOptions options;
    options.listen_address = "127.0.0.1:0";
    auto server = GrpcServer::Start(options, api_->methods(), api_->dispatcher());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(server).value();
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::ContextService::NewStub(channel_);
  }

  grpc::Status Lookup(const v1::LookupSopsRequest& request, v1::LookupSopsResponse* response,
                      bool with_token = true) {
    grpc::ClientContext ctx;
    if (with_token) ctx.AddMetadata("authorization", "Bearer " + admin_secret_);
    return stub_->LookupSops(&ctx, request, response);
  }

  // The call over gRPC against the registry's own answer.
  void ExpectServedAsTheRegistryAnswers(const v1::LookupSopsRequest& request) {
    v1::LookupSopsResponse served;
    const grpc::Status status = Lookup(request, &served);
    auto expected = registry_->LookupSops(admin_, request);
    ASSERT_EQ(status.ok(), expected.ok()) << status.error_message();
    if (!expected.ok()) {
      EXPECT_EQ(static_cast<int>(status.error_code()),
                static_cast<int>(expected.status().code()));
      EXPECT_EQ(status.error_message(), expected.status().message());
      return;
    }
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(served, *expected))
        << served.DebugString() << "\nvs\n"
        << expected->DebugString();
  }

  FakeClock clock_{LookupTime()};
  InMemoryAuthStore auth_store_;
  InMemorySopStore sop_store_;
  std::unique_ptr<AccessRegistry> access_;
  std::unique_ptr<CrmMaps> crm_ = CrmMaps::Create(&auth_store_, &clock_).value();
  std::string admin_secret_;
  Caller admin_;
  std::unique_ptr<SopRegistry> registry_;
  std::unique_ptr<ServedApi> api_;
  std::unique_ptr<GrpcServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ContextService::Stub> stub_;
};

TEST_F(ContextServiceTest, LookupServesWhatTheRegistryAnswers) {
  v1::LookupSopsRequest request;
  *request.mutable_context() = test::ParseText<v1::CrmContext>(kLead);
  ExpectServedAsTheRegistryAnswers(request);
  v1::LookupSopsResponse served;
  ASSERT_TRUE(Lookup(request, &served).ok());
  ASSERT_EQ(served.matches_size(), 2);
  EXPECT_EQ(served.matches(0).sop_body().title(), "MQL Acceptance & Handoff");

  request.set_max_results(1);
  ExpectServedAsTheRegistryAnswers(request);
  request.set_include_near_misses(true);
  (*request.mutable_context()->mutable_fields())["lead_score"].set_number_value(10);
  ExpectServedAsTheRegistryAnswers(request);
  request.mutable_context()->set_record_type("Opportunity");
  ExpectServedAsTheRegistryAnswers(request);
}

TEST_F(ContextServiceTest, LookupRanksByPriorityAndDatesTheCurrentStep) {
  v1::LookupSopsRequest request;
  *request.mutable_context() = test::ParseText<v1::CrmContext>(kLead);
  v1::LookupSopsResponse served;
  const grpc::Status status = Lookup(request, &served);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(served.matches_size(), 2);

  const v1::SopMatch& mql = served.matches(0);
  EXPECT_EQ(mql.sop(), "orgs/default/sops/mql");
  EXPECT_EQ(mql.explanation().priority(), 100);
  EXPECT_EQ(mql.explanation().specificity(), 3);  // record type and two conditions
  EXPECT_EQ(mql.explanation().matched_record_type(), "Lead");
  EXPECT_EQ(mql.current_step_index(), 0);
  // status_changed_at 10:00:00 plus the step's 300 s.
  EXPECT_EQ(mql.current_step_due_time().seconds(),
            absl::ToUnixSeconds(absl::FromCivil(absl::CivilSecond(2026, 11, 26, 10, 5, 0),
                                                absl::UTCTimeZone())));
  EXPECT_EQ(mql.cadence_day(), 2);

  const v1::SopMatch& any = served.matches(1);
  EXPECT_EQ(any.sop(), "orgs/default/sops/any");
  EXPECT_EQ(any.explanation().priority(), 10);
  EXPECT_EQ(any.explanation().specificity(), 1);
  EXPECT_EQ(any.current_step_index(), 0);
  EXPECT_FALSE(any.has_current_step_due_time());
  EXPECT_EQ(any.cadence_day(), 0);  // no anchor field
}

TEST_F(ContextServiceTest, LookupCountsCadenceDaysToTheClock) {
  v1::LookupSopsRequest request;
  *request.mutable_context() = test::ParseText<v1::CrmContext>(kLead);
  v1::LookupSopsResponse served;
  clock_.Advance(absl::Minutes(29));  // 09:59 on the second day after: still day 2
  ASSERT_TRUE(Lookup(request, &served).ok());
  ASSERT_EQ(served.matches_size(), 2);
  EXPECT_EQ(served.matches(0).cadence_day(), 2);
  clock_.Advance(absl::Minutes(1));  // 10:00: day 3 begins
  ASSERT_TRUE(Lookup(request, &served).ok());
  ASSERT_EQ(served.matches_size(), 2);
  EXPECT_EQ(served.matches(0).cadence_day(), 3);
}

TEST_F(ContextServiceTest, LookupFailsWithTheRegistrysErrorAfterAuthentication) {
  v1::LookupSopsRequest request;
  ExpectServedAsTheRegistryAnswers(request);  // context is required
  *request.mutable_context() = test::ParseText<v1::CrmContext>(kLead);
  (*request.mutable_context()->mutable_fields())["bad key"].set_bool_value(true);
  ExpectServedAsTheRegistryAnswers(request);
  request.mutable_context()->set_org("orgs/elsewhere");
  ExpectServedAsTheRegistryAnswers(request);

  v1::LookupSopsResponse served;
  EXPECT_EQ(Lookup(request, &served, /*with_token=*/false).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(ContextServiceTest, UnparsableLookupIsAnInvalidArgumentNamingTheMessage) {
  grpc::GenericStub generic(channel_);
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + admin_secret_);
  const char garbage[] = "\x0a\xff\xff\xff";  // a length running past the end
  grpc::Slice slice(garbage, sizeof(garbage) - 1);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::Status status;
  absl::Notification done;
  generic.UnaryCall(&ctx, "/sopsidebar.v1.ContextService/LookupSops", grpc::StubOptions(),
                    &request, &response, [&](grpc::Status s) {
                      status = std::move(s);
                      done.Notify();
                    });
  done.WaitForNotification();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "request: not a valid sopsidebar.v1.LookupSopsRequest: malformed protobuf, or "
            "nested more than 100 levels deep");
}

// A WatchSops call that reads on a thread of its own.
class WatchCall {
 public:
  WatchCall(v1::ContextService::Stub* stub, const std::string& secret,
            const v1::WatchSopsRequest& request) {
    if (!secret.empty()) ctx_.AddMetadata("authorization", "Bearer " + secret);
    reader_ = stub->WatchSops(&ctx_, request);
  }
  // The next message, or nullopt when the stream ended.
  std::optional<v1::WatchSopsResponse> Next() {
    v1::WatchSopsResponse response;
    if (!reader_->Read(&response)) return std::nullopt;
    return response;
  }
  grpc::Status Finish() { return reader_->Finish(); }
  void Cancel() { ctx_.TryCancel(); }

 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<v1::WatchSopsResponse>> reader_;
};

v1::WatchSopsRequest WatchLead() {
  v1::WatchSopsRequest request;
  *request.mutable_context() = test::ParseText<v1::CrmContext>(kLead);
  return request;
}

TEST_F(ContextServiceTest, WatchStartsWithTheLookupAndSendsWhatAPublishChanges) {
  WatchCall watch(stub_.get(), admin_secret_, WatchLead());
  std::optional<v1::WatchSopsResponse> first = watch.Next();
  ASSERT_TRUE(first.has_value());
  v1::LookupSopsRequest lookup;
  *lookup.mutable_context() = WatchLead().context();
  auto expected = registry_->LookupSops(admin_, lookup);
  ASSERT_TRUE(expected.ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(first->result(), *expected));
  ASSERT_EQ(first->result().matches_size(), 2);

  // Deleting the catch-all SOP takes it out of the record's result.
  v1::DeleteSopRequest remove;
  remove.set_name("orgs/default/sops/any");
  ASSERT_TRUE(registry_->DeleteSop(admin_, remove).ok());
  std::optional<v1::WatchSopsResponse> next = watch.Next();
  ASSERT_TRUE(next.has_value());
  ASSERT_EQ(next->result().matches_size(), 1);
  EXPECT_EQ(next->result().matches(0).sop(), "orgs/default/sops/mql");
  watch.Cancel();
  EXPECT_EQ(watch.Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(ContextServiceTest, WatchWithoutATokenIsUnauthenticated) {
  WatchCall watch(stub_.get(), "", WatchLead());
  EXPECT_FALSE(watch.Next().has_value());
  EXPECT_EQ(watch.Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(ContextServiceTest, WatchesPastTheTokensCapAreRefusedAndClosedOnesFreeTheirPlace) {
  std::vector<std::unique_ptr<WatchCall>> open;
  for (int i = 0; i < 3; ++i) {
    open.push_back(std::make_unique<WatchCall>(stub_.get(), admin_secret_, WatchLead()));
    ASSERT_TRUE(open.back()->Next().has_value());
  }
  {
    WatchCall refused(stub_.get(), admin_secret_, WatchLead());
    EXPECT_FALSE(refused.Next().has_value());
    EXPECT_EQ(refused.Finish().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  open.back()->Cancel();
  open.back()->Finish();
  open.pop_back();
  // The server ends the cancelled watch once gRPC reports the call done.
  for (int i = 0; i < 200 && api_->watches()->open_watches() > 2; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(api_->watches()->open_watches(), 2u);
  WatchCall again(stub_.get(), admin_secret_, WatchLead());
  EXPECT_TRUE(again.Next().has_value());
  again.Cancel();
  for (auto& call : open) call->Cancel();
}

}  // namespace
}  // namespace sopsidebar
