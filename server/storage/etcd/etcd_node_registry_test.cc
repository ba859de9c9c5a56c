// The node registry against a real etcd member on loopback: every node sees
// the same peer secret, registered nodes are listed, and a node that stops
// (or whose lease expires) is listed as not live but not forgotten.
#include "server/storage/etcd/etcd_node_registry.h"

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/storage/etcd/etcd_test_cluster.h"

namespace sopsidebar {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;

class EtcdNodeRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = EtcdTestCluster::Start(
        (std::filesystem::path(::testing::TempDir()) / absl::StrCat("etcd-nodes-", ::getpid()))
            .string(),
        1);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
  }

  std::unique_ptr<EtcdNodeRegistry> Open(absl::Duration lease_ttl = absl::Seconds(10)) {
    EtcdNodeRegistry::Options options;
    options.etcd.endpoints = cluster_->endpoints();
    options.lease_ttl = lease_ttl;
    auto registry = EtcdNodeRegistry::Open(options);
    EXPECT_TRUE(registry.ok()) << registry.status();
    return registry.ok() ? *std::move(registry) : nullptr;
  }

  // The nodes as "id address live" strings, as `registry` lists them.
  std::vector<std::string> Listed(const EtcdNodeRegistry& registry) {
    auto nodes = registry.List();
    EXPECT_TRUE(nodes.ok()) << nodes.status();
    std::vector<std::string> listed;
    for (const ClusterNode& node : nodes.value_or(std::vector<ClusterNode>())) {
      listed.push_back(absl::StrCat(node.id, " ", node.address, node.live ? " live" : " down"));
    }
    return listed;
  }

  std::unique_ptr<EtcdTestCluster> cluster_;
};

TEST_F(EtcdNodeRegistryTest, EveryNodeGetsTheSameSecretMadeOnce) {
  auto a = Open();
  auto b = Open();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->peer_secret().size(), 64u);
  EXPECT_EQ(a->peer_secret(), b->peer_secret());
}

TEST_F(EtcdNodeRegistryTest, ANodeThatStopsIsListedAsDownNotForgotten) {
  auto a = Open();
  auto b = Open();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->Register({"node-a", "10.0.0.1:50051", true}).ok());
  ASSERT_TRUE(b->Register({"node-b", "10.0.0.2:50051", true}).ok());
  EXPECT_THAT(Listed(*a), ElementsAre("node-a 10.0.0.1:50051 live", "node-b 10.0.0.2:50051 live"));
  b.reset();  // stops cleanly: revokes its lease
  EXPECT_THAT(Listed(*a), ElementsAre("node-a 10.0.0.1:50051 live", "node-b 10.0.0.2:50051 down"));
  // Back, at a new address: the same node.
  auto again = Open();
  ASSERT_TRUE(again->Register({"node-b", "10.0.0.9:50051", true}).ok());
  EXPECT_THAT(Listed(*a), ElementsAre("node-a 10.0.0.1:50051 live", "node-b 10.0.0.9:50051 live"));
}

TEST_F(EtcdNodeRegistryTest, ALiveNodeRenewsItsLeaseAndADeadOnesExpires) {
  auto a = Open(absl::Seconds(3));
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->Register({"node-a", "10.0.0.1:50051", true}).ok());
  // Twice the lease's life: still live, because it renews.
  absl::SleepFor(absl::Seconds(6));
  EXPECT_THAT(Listed(*a), ElementsAre("node-a 10.0.0.1:50051 live"));
  // A node that dies without revoking (its renewals stop with the cluster
  // out of its reach) stops being live once the lease runs out.
  auto observer = Open();
  cluster_->Kill(0);
  a.reset();  // its revoke cannot reach etcd
  ASSERT_TRUE(cluster_->Restart(0).ok());
  // A restarted member gives every lease its whole life again.
  absl::SleepFor(absl::Seconds(5));
  EXPECT_THAT(Listed(*observer), ElementsAre("node-a 10.0.0.1:50051 down"));
}

TEST_F(EtcdNodeRegistryTest, BadNodesAreRefusedNamingWhatIsWrong) {
  auto a = Open();
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(error::FieldViolationsOf(a->Register({"Node A", "10.0.0.1:50051", true}))[0].field,
            "node_id");
  EXPECT_EQ(error::FieldViolationsOf(a->Register({"node-a", "", true}))[0].field,
            "--advertise-address");
  EtcdNodeRegistry::Options options;
  options.etcd.endpoints = cluster_->endpoints();
  options.etcd.prefix = "no-slash";
  EXPECT_EQ(error::FieldViolationsOf(EtcdNodeRegistry::Open(options).status())[0].field,
            "--etcd-prefix");
}

}  // namespace
}  // namespace sopsidebar
