// The audit trail against someone with write access to sopd's RocksDB:
// editing, deleting or reordering an event, and cutting events off the end
// of the chain (or rolling the store back) against a head saved earlier, are
// each reported by VerifyAuditLog with the first broken link.
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"
#include "server/domain/matching/linear_sop_matcher.h"
#include "server/domain/registry/sop_registry.h"
#include "server/storage/rocksdb_store.h"

namespace sopsidebar {
namespace {

using ::testing::HasSubstr;

class AuditTamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("audit-tamper-",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name(), "-",
                        ::getpid());
    std::filesystem::remove_all(dir_);
    auto store = RocksDbStore::Open(dir_.string());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(store).value();
    auto registry = SopRegistry::Create(store_.get(), &clock_, LinearSopMatcher::Build);
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = std::move(registry).value();
    admin_.org = "default";
    admin_.user_id = "admin@example.com";
    admin_.roles = RoleBit(v1::ADMIN);
    // Six events: a create and five edits.
    v1::CreateSopRequest create;
    create.set_parent("orgs/default");
    create.set_sop_id("mql-handoff");
    create.mutable_sop()->set_title("MQL Acceptance & Handoff");
    create.mutable_sop()->set_owner("Sales Ops");
    ASSERT_TRUE(registry_->CreateSop(admin_, create).ok());
    for (int i = 1; i <= 5; ++i) {
      clock_.Advance(absl::Minutes(1));
      v1::UpdateSopRequest update;
      update.mutable_sop()->set_name("orgs/default/sops/mql-handoff");
      update.mutable_sop()->set_title(absl::StrCat("MQL Acceptance & Handoff v", i + 1));
      update.mutable_update_mask()->add_paths("title");
      ASSERT_TRUE(registry_->UpdateSop(admin_, update).ok());
    }
  }
  void TearDown() override {
    registry_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  v1::VerifyAuditLogResponse Verify(const v1::AuditHead* saved = nullptr) {
    v1::VerifyAuditLogRequest request;
    request.set_parent("orgs/default");
    if (saved != nullptr) *request.mutable_expected_head() = *saved;
    auto result = registry_->audit().VerifyAuditLog(admin_, request);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.value_or(v1::VerifyAuditLogResponse());
  }
  v1::AuditHead Head() {
    v1::GetAuditHeadRequest request;
    request.set_parent("orgs/default");
    return registry_->audit().GetAuditHead(admin_, request).value_or(v1::AuditHead());
  }
  std::string Key(int64_t sequence) {
    return RocksDbStore::AuditKeyForTesting("default", sequence);
  }
  v1::AuditEvent Stored(int64_t sequence) {
    v1::AuditEvent event;
    EXPECT_TRUE(event.ParseFromString(store_->GetRawForTesting(Key(sequence)).value_or("")));
    return event;
  }

  std::filesystem::path dir_;
  FakeClock clock_;
  std::unique_ptr<RocksDbStore> store_;
  std::unique_ptr<SopRegistry> registry_;
  Caller admin_;
};

TEST_F(AuditTamperTest, AnUntouchedChainVerifies) {
  v1::VerifyAuditLogResponse result = Verify();
  EXPECT_TRUE(result.intact()) << result.problem();
  EXPECT_EQ(result.events_checked(), 6);
  EXPECT_EQ(result.head().hash(), Head().hash());
}

TEST_F(AuditTamperTest, AnEditedEventIsFound) {
  v1::AuditEvent event = Stored(3);
  event.set_actor("someone-else@example.com");
  ASSERT_TRUE(store_->PutRawForTesting(Key(3), event.SerializeAsString()).ok());
  v1::VerifyAuditLogResponse result = Verify();
  EXPECT_FALSE(result.intact());
  EXPECT_EQ(result.first_broken_sequence(), 3);
  EXPECT_THAT(result.problem(), HasSubstr("does not match its hash"));
}

TEST_F(AuditTamperTest, AnEditedEventWithARecomputedHashBreaksTheNextLink) {
  v1::AuditEvent event = Stored(3);
  event.set_detail("nothing to see");
  event.set_hash(AuditLog::HashOf(event));
  ASSERT_TRUE(store_->PutRawForTesting(Key(3), event.SerializeAsString()).ok());
  v1::VerifyAuditLogResponse result = Verify();
  EXPECT_FALSE(result.intact());
  EXPECT_EQ(result.first_broken_sequence(), 4);
  EXPECT_THAT(result.problem(), HasSubstr("previous_hash"));
}

TEST_F(AuditTamperTest, ADeletedEventIsFound) {
  ASSERT_TRUE(store_->DeleteRawForTesting(Key(4)).ok());
  v1::VerifyAuditLogResponse result = Verify();
  EXPECT_FALSE(result.intact());
  EXPECT_EQ(result.first_broken_sequence(), 4);
  EXPECT_THAT(result.problem(), HasSubstr("event 4 is missing"));
}

TEST_F(AuditTamperTest, SwappedEventsAreFound) {
  const std::string two = store_->GetRawForTesting(Key(2)).value_or("");
  const std::string five = store_->GetRawForTesting(Key(5)).value_or("");
  ASSERT_TRUE(store_->PutRawForTesting(Key(2), five).ok());
  ASSERT_TRUE(store_->PutRawForTesting(Key(5), two).ok());
  v1::VerifyAuditLogResponse result = Verify();
  EXPECT_FALSE(result.intact());
  EXPECT_EQ(result.first_broken_sequence(), 2);
}

TEST_F(AuditTamperTest, ReorderedEventsWithRewrittenSequencesAreFound) {
  // Both events moved and renumbered to fit their new places: the hashes
  // no longer hold.
  v1::AuditEvent two = Stored(2);
  v1::AuditEvent three = Stored(3);
  two.set_sequence(3);
  two.set_name("orgs/default/auditEvents/3");
  three.set_sequence(2);
  three.set_name("orgs/default/auditEvents/2");
  ASSERT_TRUE(store_->PutRawForTesting(Key(2), three.SerializeAsString()).ok());
  ASSERT_TRUE(store_->PutRawForTesting(Key(3), two.SerializeAsString()).ok());
  v1::VerifyAuditLogResponse result = Verify();
  EXPECT_FALSE(result.intact());
  EXPECT_EQ(result.first_broken_sequence(), 2);
}

TEST_F(AuditTamperTest, ATruncatedChainIsFoundAgainstASavedHead) {
  const v1::AuditHead saved = Head();
  ASSERT_EQ(saved.sequence(), 6);
  ASSERT_TRUE(store_->DeleteRawForTesting(Key(6)).ok());
  ASSERT_TRUE(store_->DeleteRawForTesting(Key(5)).ok());
  // The chain alone still looks whole...
  EXPECT_TRUE(Verify().intact());
  // ...but not against the head saved before.
  v1::VerifyAuditLogResponse result = Verify(&saved);
  EXPECT_FALSE(result.intact());
  EXPECT_EQ(result.first_broken_sequence(), 5);
  EXPECT_THAT(result.problem(), HasSubstr("cut off its end"));
}

TEST_F(AuditTamperTest, AChainRewrittenFromASavedHeadOnIsFound) {
  const v1::AuditHead saved = Head();
  // Rewrite the last event consistently (valid hash, valid link): only the
  // saved head can tell.
  v1::AuditEvent last = Stored(6);
  last.set_actor("nobody@example.com");
  last.set_hash(AuditLog::HashOf(last));
  ASSERT_TRUE(store_->PutRawForTesting(Key(6), last.SerializeAsString()).ok());
  EXPECT_TRUE(Verify().intact());
  v1::VerifyAuditLogResponse result = Verify(&saved);
  EXPECT_FALSE(result.intact());
  EXPECT_EQ(result.first_broken_sequence(), 6);
  EXPECT_THAT(result.problem(), HasSubstr("rewritten"));
}

}  // namespace
}  // namespace sopsidebar
