#include "server/api/dispatcher.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"
#include "server/domain/store/in_memory_auth_store.h"
#include "sopsidebar/v1/admin_service.pb.h"
#include "sopsidebar/v1/context_service.pb.h"

namespace sopsidebar {
namespace {

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto access = AccessRegistry::Create(&store_, &Clock::Real());
    ASSERT_TRUE(access.ok()) << access.status();
    access_ = std::move(access).value();
    auto secret = access_->BootstrapAdminToken();
    ASSERT_TRUE(secret.ok() && secret->has_value());
    secret_ = **secret;
    auto crm = CrmMaps::Create(&store_, &Clock::Real());
    ASSERT_TRUE(crm.ok()) << crm.status();
    crm_ = std::move(crm).value();
  }

  // A token of orgs/default: an INTEGRATION one when `crm` is set.
  std::string Issue(v1::Role role, const std::string& crm = "") {
    v1::CreateTokenRequest request;
    request.set_parent("orgs/default");
    request.mutable_token()->set_user_id(absl::StrCat("user-", v1::Role_Name(role)));
    request.mutable_token()->add_roles(role);
    if (!crm.empty()) {
      request.mutable_token()->set_crm(crm);
      request.mutable_token()->add_delegable_roles(v1::SDR);
    }
    auto admin = access_->Authenticate(secret_);
    auto issued = access_->CreateToken(*admin, request);
    EXPECT_TRUE(issued.ok()) << issued.status();
    return issued.ok() ? "Bearer " + issued->secret() : "";
  }

  // A kReads method that echoes Ping's payload after `gate` (when set) opens.
  UnaryMethod EchoMethod(absl::Notification* gate = nullptr) {
    UnaryMethod method;
    method.work = Work::kReads;
    method.request_prototype = &v1::PingRequest::default_instance();
    method.run = [gate, this](
                     const Caller&,
                     const google::protobuf::Message& request) -> absl::StatusOr<std::string> {
      if (gate != nullptr) gate->WaitForNotification();
      ++runs_;
      return static_cast<const v1::PingRequest&>(request).payload();
    };
    return method;
  }

  static std::unique_ptr<google::protobuf::Message> Ping(const std::string& payload) {
    auto request = std::make_unique<v1::PingRequest>();
    request->set_payload(payload);
    return request;
  }

  InMemoryAuthStore store_;
  std::unique_ptr<AccessRegistry> access_;
  std::unique_ptr<CrmMaps> crm_;
  std::string secret_;
  std::atomic<int> runs_{0};
};

TEST_F(DispatcherTest, BearerTokenInAnyCaseAuthenticatesAndTheDeadlineIsCapped) {
  Dispatcher::Options options;
  options.max_call_duration = absl::Seconds(5);
  Dispatcher dispatcher(access_.get(), crm_.get(), options);
  const absl::Time before = absl::Now();
  auto caller = dispatcher.Authenticate("bEaReR " + secret_, {}, absl::InfiniteFuture());
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_TRUE(caller->server_admin);
  EXPECT_GE(caller->deadline, before + absl::Seconds(5));
  EXPECT_LE(caller->deadline, absl::Now() + absl::Seconds(5));

  const absl::Time soon = absl::Now() + absl::Milliseconds(100);
  auto hurried = dispatcher.Authenticate("Bearer " + secret_, {}, soon);
  ASSERT_TRUE(hurried.ok());
  EXPECT_EQ(hurried->deadline, soon);
}

TEST_F(DispatcherTest, MissingOrWrongCredentialsAreUnauthenticated) {
  Dispatcher dispatcher(access_.get(), crm_.get(), Dispatcher::Options());
  for (const std::string& value : {std::string(""), std::string("Basic abc"), std::string("Bearer"),
                                   std::string("Bearer nope"), secret_}) {
    EXPECT_EQ(dispatcher.Authenticate(value, {}, absl::InfiniteFuture()).status().code(),
              absl::StatusCode::kUnauthenticated)
        << value;
  }
}

TEST_F(DispatcherTest, AnIntegrationTokenActsForTheViewerItStates) {
  Dispatcher dispatcher(access_.get(), crm_.get(), Dispatcher::Options());
  v1::UpdateRoleMapRequest map;
  map.mutable_role_map()->set_name("orgs/default/roleMaps/salesforce");
  map.mutable_role_map()->add_entries()->set_crm_role("Inside Sales");
  map.mutable_role_map()->mutable_entries(0)->add_roles(v1::SDR);
  ASSERT_TRUE(crm_->UpdateRoleMap(*access_->Authenticate(secret_), map).ok());
  const std::string integration = Issue(v1::INTEGRATION, "salesforce");
  auto viewer = dispatcher.Authenticate(integration, {"005A", "Ana+Rep", "Inside+Sales"},
                                        absl::InfiniteFuture());
  ASSERT_TRUE(viewer.ok()) << viewer.status();
  EXPECT_EQ(viewer->user_id, "salesforce:005A");
  EXPECT_EQ(viewer->display_name, "Ana Rep");
  EXPECT_EQ(viewer->roles, RoleBit(v1::SDR));
  EXPECT_EQ(viewer->via, "user-INTEGRATION");
  // Without a viewer it is itself: INTEGRATION, nothing else.
  auto itself = dispatcher.Authenticate(integration, {}, absl::InfiniteFuture());
  ASSERT_TRUE(itself.ok());
  EXPECT_EQ(itself->roles, RoleBit(v1::INTEGRATION));
}

TEST_F(DispatcherTest, AnyOtherTokenStatingAViewerIsDenied) {
  Dispatcher dispatcher(access_.get(), crm_.get(), Dispatcher::Options());
  for (v1::Role role : {v1::SDR, v1::SALES_OPS, v1::ADMIN}) {
    const std::string token = Issue(role);
    for (const Dispatcher::ViewerHeaders& viewer :
         {Dispatcher::ViewerHeaders{"005A", "", ""}, Dispatcher::ViewerHeaders{"", "Ana", ""},
          Dispatcher::ViewerHeaders{"", "", "Inside Sales"}}) {
      absl::Status denied =
          dispatcher.Authenticate(token, viewer, absl::InfiniteFuture()).status();
      EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied) << role;
    }
  }
  // The bootstrap server-admin token too.
  EXPECT_EQ(dispatcher.Authenticate("Bearer " + secret_, {"005A", "", ""}, absl::InfiniteFuture())
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(DispatcherTest, ScheduledCallRunsOnTheQueueAndAnswersOnce) {
  Dispatcher dispatcher(access_.get(), crm_.get(), Dispatcher::Options());
  const UnaryMethod method = EchoMethod();
  auto caller = dispatcher.Authenticate("Bearer " + secret_, {}, absl::InfiniteFuture());
  ASSERT_TRUE(caller.ok());
  absl::Notification done;
  absl::StatusOr<std::string> result;
  dispatcher.Schedule(method, *caller, Ping("hello"), nullptr, [&](absl::StatusOr<std::string> r) {
    result = std::move(r);
    done.Notify();
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, "hello");
}

TEST_F(DispatcherTest, FullQueueAnswersUnavailableAtOnceWithoutRunningTheCall) {
  Dispatcher::Options options;
  options.read_threads = 1;
  options.read_queue = 1;
  absl::Notification gate;
  auto dispatcher = std::make_unique<Dispatcher>(access_.get(), crm_.get(), options);
  const UnaryMethod method = EchoMethod(&gate);
  auto caller = dispatcher->Authenticate("Bearer " + secret_, {}, absl::InfiniteFuture());
  ASSERT_TRUE(caller.ok());
  absl::BlockingCounter answered(3);
  std::vector<absl::StatusCode> codes(3, absl::StatusCode::kUnknown);
  // One runs (and waits at the gate), one waits in the queue, the third is
  // refused before Schedule returns.
  for (int i = 0; i < 3; ++i) {
    dispatcher->Schedule(method, *caller, Ping("x"), nullptr,
                         [&, i](absl::StatusOr<std::string> r) {
                           codes[i] = r.status().code();
                           answered.DecrementCount();
                         });
    if (i == 0) {
      for (int spin = 0; spin < 1000 && runs_ == 0; ++spin) absl::SleepFor(absl::Milliseconds(1));
    }
  }
  EXPECT_EQ(codes[2], absl::StatusCode::kUnavailable);
  gate.Notify();
  answered.Wait();
  EXPECT_EQ(codes[0], absl::StatusCode::kOk);
  EXPECT_EQ(codes[1], absl::StatusCode::kOk);
  EXPECT_EQ(runs_, 2);
}

TEST_F(DispatcherTest, CancelledOrExpiredCallIsAnsweredWithoutRunning) {
  Dispatcher dispatcher(access_.get(), crm_.get(), Dispatcher::Options());
  const UnaryMethod method = EchoMethod();
  auto caller = dispatcher.Authenticate("Bearer " + secret_, {}, absl::InfiniteFuture());
  ASSERT_TRUE(caller.ok());
  absl::Notification cancelled_done, expired_done;
  absl::Status cancelled, expired;
  dispatcher.Schedule(
      method, *caller, Ping("x"), [] { return true; },
      [&](absl::StatusOr<std::string> r) {
        cancelled = r.status();
        cancelled_done.Notify();
      });
  Caller late = *caller;
  late.deadline = absl::Now() - absl::Seconds(1);
  dispatcher.Schedule(method, late, Ping("x"), nullptr, [&](absl::StatusOr<std::string> r) {
    expired = r.status();
    expired_done.Notify();
  });
  ASSERT_TRUE(cancelled_done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(expired_done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(cancelled.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(expired.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(runs_, 0);
}

TEST(ParseRequestTest, InvalidUtf8IsAnInvalidArgumentNamingTheField) {
  v1::LookupSopsRequest lookup;
  // context (1) { record_type (2): two bytes that are not UTF-8 }
  const std::string bytes("\x0a\x04\x12\x02\xc3\x28", 6);
  absl::Status parsed = ParseRequest(bytes, &lookup);
  EXPECT_EQ(parsed.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(parsed.message().find("sopsidebar.v1.CrmContext.record_type is not valid UTF-8"),
            std::string::npos)
      << parsed.message();
}

TEST(ParseRequestTest, BrokenWireDataIsAnInvalidArgumentNamingTheMessage) {
  v1::PingRequest ping;
  absl::Status parsed = ParseRequest(absl::string_view("\x0a\xff\xff\xff", 4), &ping);
  EXPECT_EQ(parsed.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(parsed.message().find("not a valid sopsidebar.v1.PingRequest"), std::string::npos)
      << parsed.message();
}

}  // namespace
}  // namespace sopsidebar
