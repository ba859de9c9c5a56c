// Graceful shutdown of a real sopd (SopdServer, as main runs it on SIGTERM)
// on loopback ports, with RocksDB in a temp dir: a call in flight finishes
// during the drain, open watches (gRPC and the Connect gateway) get the
// `reconnect` message and then UNAVAILABLE, calls arriving after the drain
// started are refused with UNAVAILABLE, and shutdown ends within the grace
// period; a call longer than the grace is cancelled. A queued call is made
// slow through the dispatcher's fault-injection hook (a slow disk).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/sopd_fixture.h"

namespace sopsidebar {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;

// What one gRPC watch saw, filled in by its own thread.
struct WatchRecord {
  absl::Mutex mu;
  std::vector<v1::WatchSopsResponse> messages ABSL_GUARDED_BY(mu);
  std::optional<absl::Status> ended ABSL_GUARDED_BY(mu);

  bool WaitForMessages(size_t n) {
    absl::MutexLock lock(&mu);
    auto arrived = [this, n] {
      mu.AssertHeld();
      return messages.size() >= n;
    };
    return mu.AwaitWithTimeout(absl::Condition(&arrived), absl::Seconds(10));
  }
};

// A Connect (HTTP/1.1) WatchSops stream on the gateway, read on its own
// thread until the server closes the connection.
class ConnectWatch {
 public:
  ConnectWatch(int port, const std::string& token) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    const std::string json = R"({"context":{"recordType":"Lead"}})";
    std::string body(5, '\0');  // flags 0, then the size, big-endian
    for (int i = 0; i < 4; ++i)
      body[1 + i] = static_cast<char>((json.size() >> (24 - 8 * i)) & 0xff);
    body += json;
    const std::string request = absl::StrCat(
        "POST /sopsidebar.v1.ContextService/WatchSops HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/connect+json\r\nConnect-Protocol-Version: 1\r\n"
        "Authorization: Bearer ",
        token, "\r\nContent-Length: ", body.size(), "\r\n\r\n", body);
    if (connected_)
      connected_ =
          ::send(fd_, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size());
    reader_ = std::thread([this] {
      char buffer[4096];
      for (;;) {
        const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
        absl::MutexLock lock(&mu_);
        if (n <= 0) {
          closed_ = true;
          return;
        }
        received_.append(buffer, static_cast<size_t>(n));
      }
    });
  }
  ~ConnectWatch() {
    ::shutdown(fd_, SHUT_RDWR);
    reader_.join();
    ::close(fd_);
  }
  bool connected() const { return connected_; }

  // Whether `text` arrived within 10 s.
  bool WaitFor(const std::string& text) {
    absl::MutexLock lock(&mu_);
    auto seen = [this, &text] {
      mu_.AssertHeld();
      return received_.find(text) != std::string::npos || closed_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&seen), absl::Seconds(10));
    return received_.find(text) != std::string::npos;
  }
  // Everything received, once the server closed the connection (or 10 s).
  std::string AllUntilClosed() {
    absl::MutexLock lock(&mu_);
    auto closed = [this] {
      mu_.AssertHeld();
      return closed_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&closed), absl::Seconds(10));
    return received_;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::thread reader_;
  absl::Mutex mu_;
  std::string received_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

class DrainIntegrationTest : public test::SopdFixture {
 protected:
  DrainIntegrationTest() {
    options_.http.listen_address = "127.0.0.1:0";
    // A queued CreateSop takes slow_call_ while slow_ is set: a slow disk.
    options_.dispatcher.before_run = [this](const UnaryMethod& method) {
      if (method.descriptor->name() != "CreateSop" || !slow_.load()) return;
      slow_call_started_.Notify();
      absl::SleepFor(slow_call_);
    };
  }

  client::Client ClientWithoutRetries(const std::string& token) const {
    client::ConnectionOptions options = ConnectionTo(token);
    options.retry.max_attempts = 1;  // a refusal must show, not be retried away
    return client::Client(client::MakeGrpcConnection(options));
  }

  v1::CreateSopRequest NewSop(const std::string& id) const {
    v1::CreateSopRequest request;
    request.set_parent("orgs/default");
    request.set_sop_id(id);
    request.mutable_sop()->set_title("Written during the drain");
    request.mutable_sop()->set_owner("Sales Ops");
    request.mutable_sop()->add_targeting_rules()->add_record_types("Lead");
    return request;
  }

  // Opens a gRPC watch on its own thread, recording into `record`.
  std::thread StartWatch(const std::string& token, WatchRecord* record) {
    return std::thread([this, token, record] {
      v1::WatchSopsRequest request;
      request.mutable_context()->set_record_type("Lead");
      absl::Status ended =
          ClientWithoutRetries(token).WatchSops(request, [record](const v1::WatchSopsResponse& m) {
            absl::MutexLock lock(&record->mu);
            record->messages.push_back(m);
            return true;
          });
      absl::MutexLock lock(&record->mu);
      record->ended = ended;
    });
  }

  void WaitUntilDraining() {
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    while (!server_->draining() && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(1));
    ASSERT_TRUE(server_->draining());
  }

  std::atomic<bool> slow_{false};
  absl::Duration slow_call_ = absl::Seconds(1);
  absl::Notification slow_call_started_;
};

TEST_F(DrainIntegrationTest,
       ShutdownFinishesTheCallInFlightTellsWatchersToReconnectAndRefusesNewCalls) {
  const absl::Duration grace = absl::Seconds(5);
  slow_call_ = absl::Milliseconds(1500);
  StartServer();
  const std::string token = IssueToken(admin_token_, "ops@example.com", {v1::SALES_OPS});
  client::Client connected = ClientWithoutRetries(token);  // its channel is up before the drain
  ASSERT_TRUE(connected.GetSop(v1::GetSopRequest()).status().code() !=
              absl::StatusCode::kUnavailable);

  WatchRecord grpc_watch;
  std::thread watcher = StartWatch(token, &grpc_watch);
  ASSERT_TRUE(grpc_watch.WaitForMessages(1));
  ConnectWatch connect_watch(server_->http_port(), token);
  ASSERT_TRUE(connect_watch.connected());
  ASSERT_TRUE(connect_watch.WaitFor("\"result\""));

  slow_.store(true);
  absl::Time call_start = absl::Now();
  absl::StatusOr<v1::Sop> slow_result;
  absl::Time call_end;
  std::thread slow_call([&] {
    slow_result = ClientWithoutRetries(token).CreateSop(NewSop("drained"));
    call_end = absl::Now();
  });
  ASSERT_TRUE(slow_call_started_.WaitForNotificationWithTimeout(absl::Seconds(10)));

  const absl::Time drain_start = absl::Now();
  absl::Time drain_end;
  std::thread shutdown([&] {
    server_->Shutdown(grace);
    server_->Wait();
    drain_end = absl::Now();
  });
  WaitUntilDraining();
  // Calls arriving now: on a channel that was up, and on a new one.
  const absl::Status on_open_channel = connected.GetSop(v1::GetSopRequest()).status();
  const absl::Status on_new_channel =
      ClientWithoutRetries(token).GetSop(v1::GetSopRequest()).status();
  slow_call.join();
  shutdown.join();
  watcher.join();
  const std::string connect_bytes = connect_watch.AllUntilClosed();

  const absl::Duration slow_call_took = call_end - call_start;
  const absl::Duration shutdown_took = drain_end - drain_start;
  std::cout << "drain: slow call " << absl::ToInt64Milliseconds(slow_call_took) << " ms ("
            << slow_result.status().code() << "), shutdown "
            << absl::ToInt64Milliseconds(shutdown_took) << " ms of a "
            << absl::ToInt64Milliseconds(grace)
            << " ms grace; new calls: " << on_open_channel.code() << ", " << on_new_channel.code()
            << std::endl;

  EXPECT_TRUE(slow_result.ok()) << slow_result.status();
  EXPECT_GE(slow_call_took, slow_call_);
  EXPECT_EQ(on_open_channel.code(), absl::StatusCode::kUnavailable) << on_open_channel;
  EXPECT_EQ(on_new_channel.code(), absl::StatusCode::kUnavailable) << on_new_channel;
  // It waited for the slow call, and no longer than the grace (plus slack
  // for a loaded machine).
  EXPECT_GE(drain_end, call_end);
  EXPECT_LE(shutdown_took, grace + absl::Seconds(1));
  {
    absl::MutexLock lock(&grpc_watch.mu);
    ASSERT_GE(grpc_watch.messages.size(), 2u);
    EXPECT_EQ(grpc_watch.messages.front().event_case(), v1::WatchSopsResponse::kResult);
    EXPECT_EQ(grpc_watch.messages.back().event_case(), v1::WatchSopsResponse::kReconnect);
    EXPECT_THAT(grpc_watch.messages.back().reconnect().reason(), HasSubstr("shutting down"));
    ASSERT_TRUE(grpc_watch.ended.has_value());
    EXPECT_EQ(grpc_watch.ended->code(), absl::StatusCode::kUnavailable) << *grpc_watch.ended;
  }
  // The Connect stream: the reconnect message, then the end-of-stream
  // message with the error.
  const size_t reconnect = connect_bytes.find("\"reconnect\"");
  const size_t unavailable = connect_bytes.find("\"unavailable\"");
  EXPECT_NE(reconnect, std::string::npos) << connect_bytes;
  EXPECT_NE(unavailable, std::string::npos) << connect_bytes;
  EXPECT_LT(reconnect, unavailable);

  // The write acknowledged during the drain is there after a restart.
  slow_.store(false);
  server_.reset();
  StartServer();
  v1::GetSopRequest get;
  get.set_name("orgs/default/sops/drained");
  EXPECT_TRUE(ClientFor(token).GetSop(get).ok());
}

TEST_F(DrainIntegrationTest, ACallLongerThanTheGraceIsCancelledWhenTheGraceEnds) {
  const absl::Duration grace = absl::Milliseconds(500);
  slow_call_ = absl::Seconds(3);
  StartServer();
  const std::string token = IssueToken(admin_token_, "ops@example.com", {v1::SALES_OPS});
  slow_.store(true);
  absl::StatusOr<v1::Sop> slow_result;
  absl::Time call_end;
  std::thread slow_call([&] {
    slow_result = ClientWithoutRetries(token).CreateSop(NewSop("too-slow"));
    call_end = absl::Now();
  });
  ASSERT_TRUE(slow_call_started_.WaitForNotificationWithTimeout(absl::Seconds(10)));
  const absl::Time drain_start = absl::Now();
  server_->Shutdown(grace);
  const absl::Time shutdown_returned = absl::Now();
  server_->Wait();
  slow_call.join();

  const absl::Duration answered_after = call_end - drain_start;
  std::cout << "drain: call longer than the grace ended with " << slow_result.status().code()
            << " after " << absl::ToInt64Milliseconds(answered_after) << " ms of a "
            << absl::ToInt64Milliseconds(grace) << " ms grace; Shutdown returned after "
            << absl::ToInt64Milliseconds(shutdown_returned - drain_start) << " ms" << std::endl;
  EXPECT_THAT(slow_result.status().code(),
              AnyOf(absl::StatusCode::kCancelled, absl::StatusCode::kUnavailable))
      << slow_result.status();
  EXPECT_GE(answered_after, grace);
  EXPECT_LT(answered_after, grace + absl::Seconds(1));
}

}  // namespace
}  // namespace sopsidebar
