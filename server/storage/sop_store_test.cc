// Behaviour every SopStore must have, run against both implementations, and
// what only the RocksDB store promises (durability, one batch per write).
#include <sched.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "server/domain/store/in_memory_sop_store.h"
#include "server/storage/etcd/etcd_store.h"
#include "server/storage/etcd/etcd_test_cluster.h"
#include "server/storage/rocksdb_store.h"

namespace sopsidebar {
namespace {

using ::testing::ElementsAre;
using ::testing::SizeIs;

std::string TempDir(absl::string_view name) {
  std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                              absl::StrCat(name, "-", ::getpid(), "-", rand());
  std::filesystem::remove_all(dir);
  return dir.string();
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
  w.revision.set_author("tester");
  return w;
}

using StoreFactory = std::function<std::unique_ptr<SopStore>()>;

class SopStoreContractTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam()();
    ASSERT_NE(store_, nullptr);
  }
  std::unique_ptr<SopStore> store_;
};

TEST_P(SopStoreContractTest, WriteThenReadHeadAndRevision) {
  ASSERT_TRUE(store_->Write(MakeWrite("default", "a", 1, "First")).ok());
  ASSERT_TRUE(store_->Write(MakeWrite("default", "a", 2, "Second")).ok());
  absl::StatusOr<v1::Sop> head = store_->GetHead({"default", "a"});
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->title(), "Second");
  absl::StatusOr<v1::SopRevision> first = store_->GetRevision({{"default", "a"}, 1});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->snapshot().title(), "First");
  EXPECT_EQ(first->author(), "tester");
}

TEST_P(SopStoreContractTest, MissingHeadAndRevisionAreNotFound) {
  EXPECT_EQ(store_->GetHead({"default", "nope"}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetRevision({{"default", "nope"}, 1}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_P(SopStoreContractTest, RevisionsAreImmutable) {
  ASSERT_TRUE(store_->Write(MakeWrite("default", "a", 1, "First")).ok());
  absl::Status again = store_->Write(MakeWrite("default", "a", 1, "Overwrite"));
  // As a concurrent writer's would be: its etag was stale.
  EXPECT_EQ(again.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(error::ReasonOf(again), "ETAG_MISMATCH");
  EXPECT_EQ(store_->GetRevision({{"default", "a"}, 1})->snapshot().title(), "First");
  EXPECT_EQ(store_->GetHead({"default", "a"})->title(), "First");
}

TEST_P(SopStoreContractTest, RevisionMustBelongToHead) {
  SopWrite w = MakeWrite("default", "a", 1, "T");
  w.revision.set_name("orgs/default/sops/b/revisions/1");
  EXPECT_EQ(store_->Write(w).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->GetHead({"default", "a"}).status().code(), absl::StatusCode::kNotFound);
}

TEST_P(SopStoreContractTest, ListHeadsPagesInIdOrderWithinOneOrg) {
  for (const char* id : {"c", "a", "b"}) {
    ASSERT_TRUE(store_->Write(MakeWrite("default", id, 1, id)).ok());
  }
  ASSERT_TRUE(store_->Write(MakeWrite("default-2", "a", 1, "other org")).ok());
  auto page1 = store_->ListHeads("default", "", 2);
  ASSERT_TRUE(page1.ok());
  ASSERT_THAT(*page1, SizeIs(2));
  EXPECT_EQ((*page1)[0].title(), "a");
  EXPECT_EQ((*page1)[1].title(), "b");
  auto page2 = store_->ListHeads("default", "b", 2);
  ASSERT_TRUE(page2.ok());
  ASSERT_THAT(*page2, SizeIs(1));
  EXPECT_EQ((*page2)[0].title(), "c");
}

TEST_P(SopStoreContractTest, ListRevisionsNewestFirstWithCursor) {
  for (int r = 1; r <= 12; ++r) {
    ASSERT_TRUE(store_->Write(MakeWrite("default", "a", r, absl::StrCat("t", r))).ok());
  }
  ASSERT_TRUE(store_->Write(MakeWrite("default", "ab", 1, "neighbour")).ok());
  auto newest = store_->ListRevisions({"default", "a"}, 0, 3);
  ASSERT_TRUE(newest.ok());
  std::vector<std::string> titles;
  for (const auto& r : *newest) titles.push_back(r.snapshot().title());
  EXPECT_THAT(titles, ElementsAre("t12", "t11", "t10"));
  auto older = store_->ListRevisions({"default", "a"}, 3, 10);
  ASSERT_TRUE(older.ok());
  titles.clear();
  for (const auto& r : *older) titles.push_back(r.snapshot().title());
  EXPECT_THAT(titles, ElementsAre("t2", "t1"));
}

TEST_P(SopStoreContractTest, RequestIdsAreRememberedPerOrgAndUser) {
  SopWrite w = MakeWrite("default", "a", 1, "T");
  w.request = CreateRequest{"sam@example.com", "req-1"};
  ASSERT_TRUE(store_->Write(w).ok());
  auto found = store_->FindRequest("default", {"sam@example.com", "req-1"});
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->value_or(""), "orgs/default/sops/a");
  EXPECT_FALSE(store_->FindRequest("other", {"sam@example.com", "req-1"})->has_value());
  EXPECT_FALSE(store_->FindRequest("default", {"dana@example.com", "req-1"})->has_value());
}

TEST_P(SopStoreContractTest, UserIdsWithSlashesKeepRequestsApart) {
  // Joined naively, both would be "a/b/c".
  SopWrite first = MakeWrite("default", "first", 1, "T");
  first.request = CreateRequest{"a/b", "c"};
  SopWrite second = MakeWrite("default", "second", 1, "T");
  second.request = CreateRequest{"a", "b/c"};
  SopWrite escaped = MakeWrite("default", "third", 1, "T");
  escaped.request = CreateRequest{"a%2Fb", "c"};
  for (const SopWrite* w : {&first, &second, &escaped}) ASSERT_TRUE(store_->Write(*w).ok());
  EXPECT_EQ(store_->FindRequest("default", {"a/b", "c"})->value_or(""), "orgs/default/sops/first");
  EXPECT_EQ(store_->FindRequest("default", {"a", "b/c"})->value_or(""), "orgs/default/sops/second");
  EXPECT_EQ(store_->FindRequest("default", {"a%2Fb", "c"})->value_or(""),
            "orgs/default/sops/third");
  EXPECT_FALSE(store_->FindRequest("default", {"a", "b"})->has_value());
}

TEST_P(SopStoreContractTest, ForEachHeadVisitsEveryOrg) {
  ASSERT_TRUE(store_->Write(MakeWrite("x", "a", 1, "xa")).ok());
  ASSERT_TRUE(store_->Write(MakeWrite("y", "b", 1, "yb")).ok());
  std::vector<std::string> names;
  ASSERT_TRUE(store_
                  ->ForEachHead([&](const v1::Sop& head) {
                    names.push_back(head.name());
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_THAT(names, ElementsAre("orgs/x/sops/a", "orgs/y/sops/b"));
}

TEST_P(SopStoreContractTest, ForEachHeadVisitsManyHeadsInOrderAndMayMoveThem) {
  constexpr int kHeads = 1500;
  for (int i = 0; i < kHeads; ++i) {
    ASSERT_TRUE(
        store_
            ->Write(MakeWrite("default", absl::StrFormat("s%05d", i), 1, absl::StrCat("title ", i)))
            .ok());
  }
  std::vector<v1::Sop> kept;
  ASSERT_TRUE(store_
                  ->ForEachHead([&](v1::Sop&& head) {
                    kept.push_back(std::move(head));
                    return absl::OkStatus();
                  })
                  .ok());
  ASSERT_THAT(kept, SizeIs(kHeads));
  for (int i = 0; i < kHeads; ++i) {
    EXPECT_EQ(kept[i].name(), absl::StrFormat("orgs/default/sops/s%05d", i));
    EXPECT_EQ(kept[i].title(), absl::StrCat("title ", i));
  }
}

TEST_P(SopStoreContractTest, ForEachHeadStopsAtTheFirstError) {
  for (int i = 0; i < 1200; ++i) {
    ASSERT_TRUE(store_->Write(MakeWrite("default", absl::StrFormat("s%05d", i), 1, "T")).ok());
  }
  int calls = 0;
  absl::Status status = store_->ForEachHead([&](const v1::Sop& head) {
    ++calls;
    if (head.name() == "orgs/default/sops/s00700") return absl::CancelledError("enough");
    return absl::OkStatus();
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(calls, 701);
}

v1::AuditEvent MakeEvent(absl::string_view org, int64_t sequence, absl::string_view action) {
  v1::AuditEvent event;
  event.set_name(AuditEventName(org, sequence));
  event.set_sequence(sequence);
  event.set_action(std::string(action));
  return event;
}

TEST_P(SopStoreContractTest, AuditEventsComeBackInSequenceOrderPerOrg) {
  SopWrite first = MakeWrite("default", "a", 1, "First");
  first.audit = MakeEvent("default", 1, "sop.create");
  ASSERT_TRUE(store_->Write(first).ok());
  SopWrite other = MakeWrite("other", "a", 1, "Other org");
  other.audit = MakeEvent("other", 1, "sop.create");
  ASSERT_TRUE(store_->Write(other).ok());
  CommentWrite comment;
  comment.comment.set_name("orgs/default/sops/a/comments/c-1");
  comment.comment.set_text("Why 5 minutes?");
  comment.audit = MakeEvent("default", 2, "comment.add");
  ASSERT_TRUE(store_->WriteComment(comment).ok());

  absl::StatusOr<std::vector<v1::AuditEvent>> events = store_->ListAuditEvents("default", 0, 10);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_THAT(*events, SizeIs(2));
  EXPECT_EQ((*events)[0].action(), "sop.create");
  EXPECT_EQ((*events)[1].action(), "comment.add");
  EXPECT_THAT(*store_->ListAuditEvents("default", 1, 10), SizeIs(1));
  absl::StatusOr<std::optional<v1::AuditEvent>> last = store_->LastAuditEvent("default");
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ((*last)->sequence(), 2);
  EXPECT_FALSE(store_->LastAuditEvent("nobody")->has_value());

  absl::StatusOr<v1::Comment> read = store_->GetComment({{"default", "a"}, "c-1"});
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->text(), "Why 5 minutes?");
  EXPECT_THAT(*store_->ListComments({"default", "a"}), SizeIs(1));
  EXPECT_EQ(store_->GetComment({{"default", "a"}, "c-2"}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_P(SopStoreContractTest, AnAuditEventOfAnotherOrgOrWithoutItsSequenceIsRefused) {
  SopWrite write = MakeWrite("default", "a", 1, "First");
  write.audit = MakeEvent("other", 1, "sop.create");
  EXPECT_EQ(store_->Write(write).code(), absl::StatusCode::kInvalidArgument);
  write.audit = MakeEvent("default", 1, "sop.create");
  write.audit->set_sequence(2);
  EXPECT_EQ(store_->Write(write).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->GetHead({"default", "a"}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(store_->LastAuditEvent("default")->has_value());
}

TEST_P(SopStoreContractTest, TemplatesAreWrittenWithTheirAuditEventListedAndRemoved) {
  auto* templates = dynamic_cast<TemplateStore*>(store_.get());
  ASSERT_NE(templates, nullptr);
  auto put = [&](absl::string_view org, absl::string_view id, int64_t sequence) {
    TemplateWrite write;
    write.put.emplace();
    write.put->set_name(TemplateName{std::string(org), std::string(id)}.Full());
    write.put->set_title(absl::StrCat("Template ", id));
    write.audit = MakeEvent(org, sequence, "template.create");
    return templates->WriteTemplate(write);
  };
  ASSERT_TRUE(put("default", "b", 1).ok());
  ASSERT_TRUE(put("default", "a", 2).ok());
  ASSERT_TRUE(put("other", "a", 1).ok());
  // An audit event of another org: refused, nothing written.
  TemplateWrite wrong;
  wrong.put.emplace();
  wrong.put->set_name("orgs/default/templates/c");
  wrong.audit = MakeEvent("other", 2, "template.create");
  EXPECT_EQ(templates->WriteTemplate(wrong).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(templates->GetTemplate({"default", "c"}).status().code(), absl::StatusCode::kNotFound);

  absl::StatusOr<std::vector<v1::SopTemplate>> page = templates->ListTemplates("default", "", 1);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_THAT(*page, SizeIs(1));
  EXPECT_EQ((*page)[0].name(), "orgs/default/templates/a");
  page = templates->ListTemplates("default", "a", 10);
  ASSERT_THAT(*page, SizeIs(1));
  EXPECT_EQ((*page)[0].name(), "orgs/default/templates/b");
  EXPECT_EQ((*store_->LastAuditEvent("default"))->action(), "template.create");

  TemplateWrite remove;
  remove.remove = TemplateName{"default", "a"};
  remove.audit = MakeEvent("default", 3, "template.delete");
  ASSERT_TRUE(templates->WriteTemplate(remove).ok());
  EXPECT_EQ(templates->GetTemplate({"default", "a"}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(templates->GetTemplate({"other", "a"})->title(), "Template a");
  EXPECT_EQ((*store_->LastAuditEvent("default"))->sequence(), 3);
}

// One real etcd member per test process, started on first use; each store
// gets a prefix of its own.
std::unique_ptr<SopStore> OpenEtcdStore() {
  // Destroyed at exit, which stops the member.
  static const std::unique_ptr<EtcdTestCluster> cluster = [] {
    auto started = EtcdTestCluster::Start(TempDir("etcd-contract"), 1);
    EXPECT_TRUE(started.ok()) << started.status();
    return started.ok() ? *std::move(started) : nullptr;
  }();
  if (cluster == nullptr) return nullptr;
  static int stores = 0;
  EtcdStore::Options options;
  options.etcd.endpoints = cluster->endpoints();
  options.etcd.prefix = absl::StrCat("/contract-", ::getpid(), "-", ++stores, "/");
  auto store = EtcdStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(store).value() : nullptr;
}

std::string StoreName(const ::testing::TestParamInfo<StoreFactory>& info) {
  static const char* const kNames[] = {"InMemory", "RocksDb", "Etcd"};
  return kNames[info.index];
}

INSTANTIATE_TEST_SUITE_P(Stores, SopStoreContractTest,
                         ::testing::Values(StoreFactory([] {
                                             return std::make_unique<InMemorySopStore>();
                                           }),
                                           StoreFactory([]() -> std::unique_ptr<SopStore> {
                                             auto store = RocksDbStore::Open(TempDir("contract"));
                                             EXPECT_TRUE(store.ok()) << store.status();
                                             return std::move(store).value();
                                           }),
                                           StoreFactory(OpenEtcdStore)),
                         StoreName);

TEST(RocksDbStoreTest, EachWriteIsOneBatchWithHeadRevisionAndRequest) {
  auto store = RocksDbStore::Open(TempDir("batch"));
  ASSERT_TRUE(store.ok()) << store.status();
  uint64_t before = (*store)->LatestSequenceNumberForTesting();
  SopWrite w = MakeWrite("default", "a", 1, "T");
  w.request = CreateRequest{"ops/eu@example.com", "req-9"};
  ASSERT_TRUE((*store)->Write(w).ok());
  ASSERT_TRUE((*store)->Write(MakeWrite("default", "a", 2, "U")).ok());
  auto batches = (*store)->BatchesSinceForTesting(before);
  ASSERT_TRUE(batches.ok()) << batches.status();
  EXPECT_THAT(*batches, ElementsAre(ElementsAre("h/default/a", "r/default/a/0000000000000001",
                                                "c/default/ops%2Feu@example.com/req-9"),
                                    ElementsAre("h/default/a", "r/default/a/0000000000000002")));
}

TEST(RocksDbStoreTest, TheAuditEventIsInTheSameBatchAsTheChange) {
  auto store = RocksDbStore::Open(TempDir("audit-batch"));
  ASSERT_TRUE(store.ok()) << store.status();
  const uint64_t before = (*store)->LatestSequenceNumberForTesting();
  SopWrite write = MakeWrite("default", "a", 1, "First");
  write.audit = MakeEvent("default", 1, "sop.create");
  ASSERT_TRUE((*store)->Write(write).ok());
  auto batches = (*store)->BatchesSinceForTesting(before);
  ASSERT_TRUE(batches.ok()) << batches.status();
  EXPECT_THAT(*batches, ElementsAre(ElementsAre("h/default/a", "r/default/a/0000000000000001",
                                                RocksDbStore::AuditKeyForTesting("default", 1))));
}

TEST(RocksDbStoreTest, ACheckpointIsTheDatabaseAtOnePointCountedInTheCopyItself) {
  const std::string dir = TempDir("checkpoint");
  auto store = RocksDbStore::Open(dir + "/live");
  ASSERT_TRUE(store.ok()) << store.status();
  for (int i = 1; i <= 3; ++i) {
    SopWrite write = MakeWrite("default", absl::StrCat("s", i), 1, "T");
    write.audit = MakeEvent("default", i, "sop.create");
    write.audit->set_hash(absl::StrCat("hash-", i));
    ASSERT_TRUE((*store)->Write(write).ok());
  }
  SopWrite other = MakeWrite("other", "a", 1, "Other");
  other.audit = MakeEvent("other", 1, "sop.create");
  other.audit->set_hash("other-hash");
  ASSERT_TRUE((*store)->Write(other).ok());
  ASSERT_TRUE((*store)->Write(MakeWrite("default", "s1", 2, "T2")).ok());
  v1::Org org;
  org.set_name("orgs/default");
  ASSERT_TRUE((*store)->PutOrg(org).ok());

  absl::StatusOr<v1::BackupContents> contents = (*store)->Checkpoint(dir + "/copy");
  ASSERT_TRUE(contents.ok()) << contents.status();
  // Written after the checkpoint: not in it.
  ASSERT_TRUE((*store)->Write(MakeWrite("default", "late", 1, "Late")).ok());
  EXPECT_EQ(contents->sops(), 4);
  EXPECT_EQ(contents->revisions(), 5);
  EXPECT_EQ(contents->orgs(), 1);
  EXPECT_EQ(contents->audit_events(), 4);
  ASSERT_EQ(contents->audit_heads_size(), 2);
  EXPECT_EQ(contents->audit_heads(0).org(), "orgs/default");
  EXPECT_EQ(contents->audit_heads(0).sequence(), 3);
  EXPECT_EQ(contents->audit_heads(0).hash(), "hash-3");
  EXPECT_EQ(contents->audit_heads(1).org(), "orgs/other");
  EXPECT_EQ(contents->audit_heads(1).hash(), "other-hash");
  // Counting added no LOG file; the copy opens as a database of its own.
  EXPECT_FALSE(std::filesystem::exists(dir + "/copy/LOG"));
  auto copy = RocksDbStore::Open(dir + "/copy");
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ((*copy)->GetHead({"default", "s1"})->title(), "T2");
  EXPECT_EQ((*copy)->GetHead({"default", "late"}).status().code(), absl::StatusCode::kNotFound);

  EXPECT_EQ((*store)->Checkpoint(dir + "/copy").status().code(),
            absl::StatusCode::kFailedPrecondition);
  std::filesystem::remove_all(dir);
}

TEST(RocksDbStoreTest, DataSurvivesReopen) {
  const std::string dir = TempDir("reopen");
  {
    auto store = RocksDbStore::Open(dir);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->Write(MakeWrite("default", "a", 1, "Kept")).ok());
  }
  auto store = RocksDbStore::Open(dir);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->GetHead({"default", "a"})->title(), "Kept");
  EXPECT_EQ((*store)->GetRevision({{"default", "a"}, 1})->snapshot().title(), "Kept");
}

// Runs `fn` with the calling thread allowed on one CPU only (restored after),
// so that a store takes its single-threaded paths.
void OnOneCpu(const std::function<void()>& fn) {
  cpu_set_t saved;
  ASSERT_EQ(sched_getaffinity(0, sizeof(saved), &saved), 0);
  int first = 0;
  while (!CPU_ISSET(first, &saved)) ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  fn();
  ASSERT_EQ(sched_setaffinity(0, sizeof(saved), &saved), 0);
}

// The names ForEachHead passes until it returns, and what it returns.
std::pair<std::vector<std::string>, absl::Status> VisitHeads(const SopStore& store) {
  std::vector<std::string> names;
  absl::Status status = store.ForEachHead([&](v1::Sop&& head) {
    names.push_back(head.name());
    return absl::OkStatus();
  });
  return {std::move(names), std::move(status)};
}

TEST(RocksDbStoreTest, ForEachHeadStopsWithDataLossAtAnUndecodableHead) {
  const std::string dir = TempDir("corrupt");
  constexpr int kHeads = 1100;
  {
    auto store = RocksDbStore::Open(dir);
    ASSERT_TRUE(store.ok()) << store.status();
    for (int i = 0; i < kHeads; ++i) {
      ASSERT_TRUE((*store)->Write(MakeWrite("default", absl::StrFormat("s%05d", i), 1, "T")).ok());
    }
  }
  {
    // A head that is not a v1::Sop, sorting after the first 1000. RocksDB
    // opens a database only with all its column families.
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const std::string& name : names)
      families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dir, families, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "h/default/s00999x", "\xff\xff\xff").ok());
    for (rocksdb::ColumnFamilyHandle* handle : handles) {
      ASSERT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
    }
    ASSERT_TRUE(db->Close().ok());
  }
  auto store = RocksDbStore::Open(dir);
  ASSERT_TRUE(store.ok()) << store.status();
  auto check = [&] {
    auto [names, status] = VisitHeads(**store);
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
    ASSERT_THAT(names, SizeIs(1000));
    EXPECT_EQ(names.back(), "orgs/default/sops/s00999");
  };
  check();
  OnOneCpu(check);
}

TEST(RocksDbStoreTest, ForEachHeadIsTheSameOnOneCpu) {
  auto store = RocksDbStore::Open(TempDir("one-cpu"));
  ASSERT_TRUE(store.ok()) << store.status();
  for (int i = 0; i < 700; ++i) {
    ASSERT_TRUE(
        (*store)->Write(MakeWrite(i % 2 ? "x" : "y", absl::StrFormat("s%05d", i), 1, "T")).ok());
  }
  auto [names, status] = VisitHeads(**store);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_THAT(names, SizeIs(700));
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  // A plain reference: C++17 lambdas may not capture structured bindings (clang
  // refuses; gcc lets it pass).
  const std::vector<std::string>& all_names = names;
  OnOneCpu([&] {
    auto [one_cpu_names, one_cpu_status] = VisitHeads(**store);
    ASSERT_TRUE(one_cpu_status.ok()) << one_cpu_status;
    EXPECT_EQ(one_cpu_names, all_names);
  });
}

TEST(RocksDbStoreTest, SecondOpenOfTheSameDirectoryFails) {
  const std::string dir = TempDir("locked");
  auto first = RocksDbStore::Open(dir);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = RocksDbStore::Open(dir);
  EXPECT_FALSE(second.ok());
}

}  // namespace
}  // namespace sopsidebar
