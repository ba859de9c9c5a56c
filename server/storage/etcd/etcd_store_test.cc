// What only a store shared by several nodes must do, against real etcd
// members on loopback: concurrent writers, lost members, a watch that fell
// behind a compaction, the request size limit. The behaviour every SopStore
// has runs against etcd in server/storage/sop_store_test.cc.
#include "server/storage/etcd/etcd_store.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/storage/etcd/etcd_test_cluster.h"

namespace sopsidebar {
namespace {

std::string TempDir(absl::string_view name) {
  return (std::filesystem::path(::testing::TempDir()) /
          absl::StrCat(name, "-", ::getpid(), "-", rand()))
      .string();
}

SopWrite MakeWrite(absl::string_view org, absl::string_view sop, int64_t revision,
                   absl::string_view title) {
  SopWrite w;
  SopName name{std::string(org), std::string(sop)};
  w.head.set_name(name.Full());
  w.head.set_title(std::string(title));
  w.head.set_revision_id(absl::StrCat(revision));
  w.revision.set_name(RevisionName{name, revision}.Full());
  *w.revision.mutable_snapshot() = w.head;
  return w;
}

v1::AuditEvent MakeEvent(absl::string_view org, int64_t sequence) {
  v1::AuditEvent event;
  event.set_name(absl::StrCat("orgs/", org, "/auditEvents/", sequence));
  event.set_sequence(sequence);
  event.set_action("sop.update");
  return event;
}

class EtcdStoreTest : public ::testing::Test {
 protected:
  void StartCluster(int members) {
    auto cluster = EtcdTestCluster::Start(TempDir("etcd"), members);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
  }
  // A store ("a node") reaching the members `members` (all when empty).
  std::unique_ptr<EtcdStore> Node(std::vector<int> members = {},
                                  absl::Duration call_timeout = absl::Seconds(5)) {
    EtcdStore::Options options;
    const std::vector<std::string> all = cluster_->endpoints();
    if (members.empty()) {
      options.etcd.endpoints = all;
    } else {
      for (int i : members) options.etcd.endpoints.push_back(all[static_cast<size_t>(i)]);
    }
    options.etcd.call_timeout = call_timeout;
    options.connect_timeout = absl::Seconds(20);
    auto store = EtcdStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }
  std::unique_ptr<EtcdTestCluster> cluster_;
};

// Records what a follower hands over.
class RecordingListener : public StoreChangeListener {
 public:
  void HeadStored(v1::Sop head) override {
    absl::MutexLock lock(&mu_);
    titles_.push_back(head.title());
  }
  void TokenStored(const internal::v1::TokenRecord&) override {}
  void OrgStored(const v1::Org&) override {}
  void RoleMapStored(const v1::RoleMap&) override {}
  void FieldMapStored(const v1::FieldMap&) override {}
  // Waits up to `timeout` for a head titled `title`; true when it came.
  bool AwaitTitle(const std::string& title, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    wanted_ = title;
    return mu_.AwaitWithTimeout(absl::Condition(this, &RecordingListener::SawWanted), timeout);
  }

 private:
  bool SawWanted() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return std::find(titles_.begin(), titles_.end(), wanted_) != titles_.end();
  }
  mutable absl::Mutex mu_;
  std::vector<std::string> titles_ ABSL_GUARDED_BY(mu_);
  std::string wanted_ ABSL_GUARDED_BY(mu_);
};

TEST_F(EtcdStoreTest, OfTwoNodesWritingTheSameRevisionOneWinsAndTheOtherIsAborted) {
  StartCluster(1);
  std::unique_ptr<EtcdStore> a = Node();
  std::unique_ptr<EtcdStore> b = Node();
  ASSERT_TRUE(a->Write(MakeWrite("acme", "mql", 1, "v1")).ok());
  // Both read revision 1 and write revision 2, at the same moment.
  absl::Status from_a, from_b;
  std::thread ta([&] { from_a = a->Write(MakeWrite("acme", "mql", 2, "from a")); });
  std::thread tb([&] { from_b = b->Write(MakeWrite("acme", "mql", 2, "from b")); });
  ta.join();
  tb.join();
  EXPECT_NE(from_a.ok(), from_b.ok()) << from_a << " / " << from_b;
  const absl::Status& lost = from_a.ok() ? from_b : from_a;
  EXPECT_EQ(lost.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(error::ReasonOf(lost), "ETAG_MISMATCH");
  absl::StatusOr<v1::Sop> head = b->GetHead({"acme", "mql"});
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->title(), from_a.ok() ? "from a" : "from b");
}

TEST_F(EtcdStoreTest, AnAuditSequenceAnotherNodeTookIsRefusedAndNothingOfTheChangeIsWritten) {
  StartCluster(1);
  std::unique_ptr<EtcdStore> a = Node();
  std::unique_ptr<EtcdStore> b = Node();
  SopWrite first = MakeWrite("acme", "a", 1, "a");
  first.audit = MakeEvent("acme", 1);
  ASSERT_TRUE(a->Write(first).ok());
  SopWrite second = MakeWrite("acme", "b", 1, "b");
  second.audit = MakeEvent("acme", 1);  // b's view of the chain is behind
  second.audit->set_resource("orgs/acme/sops/b");  // another change's event
  absl::Status status = b->Write(second);
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(error::ReasonOf(status), error::kAuditSequenceTaken);
  EXPECT_EQ(b->GetHead({"acme", "b"}).status().code(), absl::StatusCode::kNotFound);
  second.audit = MakeEvent("acme", 2);
  EXPECT_TRUE(b->Write(second).ok());
}

TEST_F(EtcdStoreTest, TheSameChangeSentAgainIsRecognisedAsAlreadyApplied) {
  // What a node does when a member went away before answering: it sends the
  // transaction to the next member, where its compares now fail.
  StartCluster(1);
  std::unique_ptr<EtcdStore> a = Node();
  SopWrite write = MakeWrite("acme", "a", 1, "a");
  write.audit = MakeEvent("acme", 1);
  ASSERT_TRUE(a->Write(write).ok());
  EXPECT_TRUE(a->Write(write).ok());
  EXPECT_EQ((*a->LastAuditEvent("acme"))->sequence(), 1);
}

TEST_F(EtcdStoreTest, AChangeOverTheRequestLimitIsInvalidArgumentBeforeAnythingIsSent) {
  StartCluster(1);
  std::unique_ptr<EtcdStore> a = Node();
  SopWrite write = MakeWrite("acme", "big", 1, "big");
  write.head.set_purpose(std::string(900 * 1024, 'x'));  // twice in the change
  *write.revision.mutable_snapshot() = write.head;
  absl::Status status = a->Write(write);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("sop"));
  EXPECT_EQ(a->GetHead({"acme", "big"}).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(EtcdStoreTest, OpeningAnUnreachableClusterRetriesThenFailsUnavailable) {
  EtcdStore::Options options;
  options.etcd.endpoints = {"http://127.0.0.1:1"};
  options.etcd.call_timeout = absl::Milliseconds(300);
  options.connect_timeout = absl::Seconds(1);
  int retries = 0;
  options.on_connect_retry = [&retries](const absl::Status&) { ++retries; };
  const absl::Time start = absl::Now();
  auto store = EtcdStore::Open(options);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable) << store.status();
  EXPECT_THAT(std::string(store.status().message()), ::testing::HasSubstr("127.0.0.1:1"));
  EXPECT_GE(retries, 2);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

TEST_F(EtcdStoreTest, BadEndpointsAreRefusedNamingTheFlag) {
  EtcdStore::Options options;
  options.etcd.endpoints = {"127.0.0.1:2379"};
  auto store = EtcdStore::Open(options);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(store.status().message()), ::testing::HasSubstr("--etcd-endpoints"));
  options.etcd.endpoints = {"http://127.0.0.1:2379", "https://127.0.0.1:2380"};
  EXPECT_EQ(EtcdStore::Open(options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(EtcdStoreTest, WithEtcdGoneWritesAreUnavailableAndWorkAgainWhenItIsBack) {
  StartCluster(1);
  std::unique_ptr<EtcdStore> a = Node({}, absl::Seconds(1));
  ASSERT_TRUE(a->Write(MakeWrite("acme", "a", 1, "a")).ok());
  cluster_->Kill(0);
  absl::Status status = a->Write(MakeWrite("acme", "a", 2, "b"));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("writes are refused"));
  ASSERT_TRUE(cluster_->Restart(0).ok());
  absl::Status again;
  for (int i = 0; i < 50; ++i) {  // the channel reconnects within its backoff
    again = a->Write(MakeWrite("acme", "a", 2, "b"));
    if (again.code() != absl::StatusCode::kUnavailable) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(again.ok()) << again;
  EXPECT_EQ(a->GetHead({"acme", "a"})->title(), "b");
}

TEST_F(EtcdStoreTest, AFollowerSeesAnotherNodesWriteWithinASecond) {
  StartCluster(1);
  std::unique_ptr<EtcdStore> writer = Node();
  std::unique_ptr<EtcdStore> follower = Node();
  ASSERT_TRUE(writer->Write(MakeWrite("acme", "a", 1, "before")).ok());
  RecordingListener listener;
  follower->StartFollowing(&listener);
  EXPECT_TRUE(listener.AwaitTitle("before", absl::Seconds(5)));  // the snapshot
  const absl::Time written = absl::Now();
  ASSERT_TRUE(writer->Write(MakeWrite("acme", "a", 2, "after")).ok());
  EXPECT_TRUE(listener.AwaitTitle("after", absl::Seconds(1)));
  EXPECT_LT(absl::Now() - written, absl::Seconds(1));
  const StoreFollowState state = follower->follow_state();
  EXPECT_TRUE(state.connected);
  EXPECT_GT(state.revision, 0);
  follower->StopFollowing();
}

TEST_F(EtcdStoreTest, AFollowerCutOffPastACompactionReadsEverythingAgain) {
  StartCluster(3);
  std::unique_ptr<EtcdStore> writer = Node({1, 2});
  std::unique_ptr<EtcdStore> follower = Node({0});
  ASSERT_TRUE(writer->Write(MakeWrite("acme", "a", 1, "first")).ok());
  RecordingListener listener;
  follower->StartFollowing(&listener);
  ASSERT_TRUE(listener.AwaitTitle("first", absl::Seconds(5)));
  // The follower's only member goes away; meanwhile the SOP changes and
  // etcd compacts the history the follower's watch would need.
  cluster_->Kill(0);
  absl::Status second = writer->Write(MakeWrite("acme", "a", 2, "second"));
  ASSERT_TRUE(second.ok()) << second;
  absl::Status third = writer->Write(MakeWrite("acme", "a", 3, "third"));
  ASSERT_TRUE(third.ok()) << third;
  const std::vector<std::string> endpoints = cluster_->endpoints();
  const std::string compact = absl::StrCat(
      "ETCDCTL_API=3 etcdctl --endpoints=", endpoints[1],
      " compact \"$(ETCDCTL_API=3 etcdctl --endpoints=", endpoints[1],
      " endpoint status -w json | sed 's/.*\"revision\":\\([0-9]*\\).*/\\1/')\"", " > /dev/null");
  ASSERT_EQ(std::system(compact.c_str()), 0) << compact;
  ASSERT_TRUE(cluster_->Restart(0).ok());
  EXPECT_TRUE(listener.AwaitTitle("third", absl::Seconds(10)));
  follower->StopFollowing();
}

}  // namespace
}  // namespace sopsidebar
