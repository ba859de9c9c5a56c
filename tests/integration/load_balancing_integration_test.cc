// One client over two real sopd processes (issue 18, "Clients spread
// load"): given both addresses, the client library balances its calls
// round-robin over the nodes; when one node is killed (SIGKILL) its closed
// connection takes it out, and when one hangs (SIGSTOP: its connections stay
// open, nothing answers) the client's keepalive pings do, so calls go on
// through the other.
//
// The two nodes do not share a store: each runs RocksDB in its own
// --data-dir (the clustered etcd store is separate work). Node B's data dir
// starts as a copy of node A's, taken while A was stopped, as a restore of a
// backup would make it: the bootstrap admin token and the SOP written before
// the copy are the same on both, so the calls below (ListSops with that
// token) work on each node independently. Which node served a call is read
// from each node's own /metrics (sopd_rpc_requests_total), not guessed.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/client.h"
#include "client/connection.h"
#include "gtest/gtest.h"
#include "tests/integration/loopback_http.h"
#include "tests/reliability/sopd_process.h"

namespace sopsidebar {
namespace {

using test::SopdProcess;

constexpr char kListSopsOk[] =
    R"(sopd_rpc_requests_total{method="/sopsidebar.v1.SopService/ListSops",code="OK",transport="grpc"})";

// The ListSops calls a node has answered OK over gRPC, from its /metrics.
double ListSopsServed(const SopdProcess& node) {
  const test::HttpReply reply = test::Http(node.http_port(), "GET", "/metrics");
  EXPECT_EQ(reply.status, 200) << reply.body;
  const std::map<std::string, double> samples = test::Samples(reply.body);
  auto it = samples.find(kListSopsOk);
  return it == samples.end() ? 0 : it->second;
}

class LoadBalancingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("sopd-load-balancing-", ::getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    nodes_[0].reset();
    nodes_[1].reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<SopdProcess> Start(const std::string& data_dir) {
    absl::StatusOr<std::unique_ptr<SopdProcess>> node = SopdProcess::Start(SOPD_BINARY, data_dir);
    EXPECT_TRUE(node.ok()) << node.status();
    return node.ok() ? std::move(node).value() : nullptr;
  }

  // Starts both nodes sharing one admin token (token_) and one SOP: node
  // A's first start writes the token, a client writes the SOP, A stops
  // cleanly and its data dir is copied for B.
  void StartTwoNodes() {
    const std::string dir_a = (dir_ / "a").string();
    const std::string dir_b = (dir_ / "b").string();
    nodes_[0] = Start(dir_a);
    ASSERT_NE(nodes_[0], nullptr);
    token_ = nodes_[0]->AdminToken();
    ASSERT_FALSE(token_.empty());
    client::ConnectionOptions options;
    options.target = nodes_[0]->address();
    options.token = token_;
    v1::CreateSopRequest create;
    create.set_parent("orgs/default");
    create.set_sop_id("spread-me");
    create.mutable_sop()->set_title("Served by every node");
    create.mutable_sop()->set_owner("Sales Ops");
    create.mutable_sop()->add_targeting_rules()->add_record_types("Lead");
    absl::StatusOr<v1::Sop> created =
        client::Client(client::MakeGrpcConnection(options)).CreateSop(create);
    ASSERT_TRUE(created.ok()) << created.status();
    ASSERT_EQ(nodes_[0]->Stop(SIGTERM), 0) << nodes_[0]->log();
    std::filesystem::copy(dir_a, dir_b, std::filesystem::copy_options::recursive);
    nodes_[0] = Start(dir_a);
    nodes_[1] = Start(dir_b);
    ASSERT_NE(nodes_[0], nullptr);
    ASSERT_NE(nodes_[1], nullptr);
    ASSERT_NE(nodes_[0]->http_port(), 0);
    ASSERT_NE(nodes_[1]->http_port(), 0);
    ASSERT_EQ(nodes_[1]->AdminToken(), token_);
  }

  // Options for a client of both nodes. No retries: a call that reached a
  // dead node fails here instead of being hidden by a retry, so the failover
  // windows below are the balancer's.
  client::ConnectionOptions BothNodes() const {
    client::ConnectionOptions options;
    options.target = absl::StrCat(nodes_[0]->address(), ",", nodes_[1]->address());
    options.token = token_;
    options.retry.max_attempts = 1;
    return options;
  }

  std::filesystem::path dir_;
  std::unique_ptr<SopdProcess> nodes_[2];
  std::string token_;
};

v1::ListSopsRequest ListDefault() {
  v1::ListSopsRequest list;
  list.set_parent("orgs/default");
  return list;
}

TEST_F(LoadBalancingTest, CallsSpreadOverBothNodesAndGoOnThroughOneWhenTheOtherIsKilled) {
  ASSERT_NO_FATAL_FAILURE(StartTwoNodes());
  client::Client client(client::MakeGrpcConnection(BothNodes()));
  const v1::ListSopsRequest list = ListDefault();

  // 200 calls, each answered with the SOP by whichever node took it.
  constexpr int kSpreadCalls = 200;
  const double before[2] = {ListSopsServed(*nodes_[0]), ListSopsServed(*nodes_[1])};
  for (int i = 0; i < kSpreadCalls; ++i) {
    absl::StatusOr<v1::ListSopsResponse> listed = client.ListSops(list);
    ASSERT_TRUE(listed.ok()) << "call " << i << ": " << listed.status();
    ASSERT_EQ(listed->sops_size(), 1);
    ASSERT_EQ(listed->sops(0).name(), "orgs/default/sops/spread-me");
  }
  const double served[2] = {ListSopsServed(*nodes_[0]) - before[0],
                            ListSopsServed(*nodes_[1]) - before[1]};
  std::cout << "spread: of " << kSpreadCalls << " ListSops calls node A served " << served[0]
            << ", node B " << served[1] << "\n";
  EXPECT_EQ(served[0] + served[1], kSpreadCalls);  // each call served once
  // Round robin alternates; a quarter each leaves room for the first calls,
  // which go to whichever node was ready first.
  EXPECT_GE(served[0], kSpreadCalls / 4);
  EXPECT_GE(served[1], kSpreadCalls / 4);

  // Kill A without a drain: its connection dies and its health stream with it.
  const double b_before_kill = ListSopsServed(*nodes_[1]);
  const absl::Time killed = absl::Now();
  nodes_[0]->Stop(SIGKILL);
  // The failover window: from the kill to the first call that succeeds,
  // bounded by 10 s and 200 calls.
  int failed = 0;
  int succeeded = 0;
  absl::Duration failover = absl::InfiniteDuration();
  for (int i = 0; i < 200 && absl::Now() - killed < absl::Seconds(10); ++i) {
    absl::StatusOr<v1::ListSopsResponse> listed = client.ListSops(list);
    if (listed.ok()) {
      failover = absl::Now() - killed;
      ++succeeded;
      break;
    }
    ++failed;
    std::cout << "failover: call " << i << " failed: " << listed.status() << "\n";
  }
  std::cout << "failover: first call through node B succeeded " << absl::FormatDuration(failover)
            << " after the SIGKILL of node A; " << failed << " call(s) failed before it\n";
  ASSERT_LT(failover, absl::Seconds(10));
  // After the window, every call succeeds, and node B serves them all.
  constexpr int kAfterCalls = 200;
  for (int i = 0; i < kAfterCalls; ++i) {
    absl::StatusOr<v1::ListSopsResponse> listed = client.ListSops(list);
    ASSERT_TRUE(listed.ok()) << "call " << i << " after the failover: " << listed.status();
    ASSERT_EQ(listed->sops_size(), 1);
    ++succeeded;
  }
  EXPECT_EQ(ListSopsServed(*nodes_[1]) - b_before_kill, succeeded);
}

TEST_F(LoadBalancingTest, CallsGoOnThroughOneNodeWhenTheOtherHangs) {
  ASSERT_NO_FATAL_FAILURE(StartTwoNodes());
  client::ConnectionOptions options = BothNodes();
  options.timeout = absl::Seconds(2);
  client::Client client(client::MakeGrpcConnection(options));
  const v1::ListSopsRequest list = ListDefault();
  for (int i = 0; i < 200 && (ListSopsServed(*nodes_[0]) == 0 || ListSopsServed(*nodes_[1]) == 0);
       ++i) {
    absl::StatusOr<v1::ListSopsResponse> listed = client.ListSops(list);
    ASSERT_TRUE(listed.ok()) << "call " << i << ": " << listed.status();
  }
  ASSERT_GT(ListSopsServed(*nodes_[0]), 0);
  ASSERT_GT(ListSopsServed(*nodes_[1]), 0);

  // A stopped process keeps its sockets: the kernel still accepts and
  // acknowledges, nothing answers. Calls that go to A wait for their
  // deadline until the keepalive (a ping every 20 s, 10 s to answer)
  // closes the connection to it. The window ends with the last failed call;
  // it is over once 100 calls in a row have succeeded (bounded by 60 s).
  const absl::Time stopped = absl::Now();
  ASSERT_EQ(::kill(nodes_[0]->pid(), SIGSTOP), 0);
  int failed = 0;
  int in_a_row = 0;
  absl::Time last_failure = stopped;
  while (in_a_row < 100 && absl::Now() - stopped < absl::Seconds(60)) {
    absl::StatusOr<v1::ListSopsResponse> listed = client.ListSops(list);
    if (listed.ok()) {
      ++in_a_row;
      continue;
    }
    ++failed;
    in_a_row = 0;
    last_failure = absl::Now();
    EXPECT_TRUE(listed.status().code() == absl::StatusCode::kDeadlineExceeded ||
                listed.status().code() == absl::StatusCode::kUnavailable)
        << listed.status();
  }
  std::cout << "hang: " << failed << " call(s) failed (2 s deadline), the last "
            << absl::FormatDuration(last_failure - stopped)
            << " after node A stopped answering; then " << in_a_row
            << " calls in a row succeeded through node B\n";
  EXPECT_EQ(in_a_row, 100);
  EXPECT_LT(last_failure - stopped, absl::Seconds(40));
}

}  // namespace
}  // namespace sopsidebar
