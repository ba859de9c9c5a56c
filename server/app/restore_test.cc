#include "server/app/restore.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/backup/backup_files.h"
#include "gtest/gtest.h"
#include "server/storage/rocksdb_store.h"

namespace sopsidebar {
namespace {

namespace fs = std::filesystem;

// A backup as sopctl writes one, of a real RocksDB database holding
// kOrgs orgs: the store's checkpoint copied under db/, and its manifest.
class RestoreTest : public ::testing::Test {
 protected:
  static constexpr int kOrgs = 25;

  void SetUp() override {
    root_ =
        fs::path(::testing::TempDir()) /
        absl::StrCat("restore-", ::testing::UnitTest::GetInstance()->current_test_info()->name(),
                     "-", ::getpid());
    fs::remove_all(root_);
    fs::create_directories(root_);
    backup_ = (root_ / "backup").string();
    auto store = RocksDbStore::Open((root_ / "live").string());
    ASSERT_TRUE(store.ok()) << store.status();
    for (int i = 0; i < kOrgs; ++i) {
      v1::Org org;
      org.set_name(absl::StrCat("orgs/org", i));
      ASSERT_TRUE((*store)->PutOrg(org).ok());
    }
    const std::string checkpoint = (root_ / "checkpoint").string();
    auto contents = (*store)->Checkpoint(checkpoint);
    ASSERT_TRUE(contents.ok()) << contents.status();
    EXPECT_EQ(contents->orgs(), kOrgs);
    v1::BackupManifest manifest;
    manifest.set_format_version(kBackupFormatVersion);
    *manifest.mutable_contents() = *contents;
    fs::create_directories(fs::path(backup_) / kBackupDbDir);
    for (const fs::directory_entry& entry : fs::directory_iterator(checkpoint)) {
      const std::string path = absl::StrCat(kBackupDbDir, "/", entry.path().filename().string());
      fs::copy_file(entry.path(), fs::path(backup_) / path);
      std::ifstream in(entry.path(), std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)), {});
      Sha256Stream sha;
      sha.Update(bytes);
      v1::BackupFile* file = manifest.add_files();
      file->set_path(path);
      file->set_size_bytes(static_cast<int64_t>(bytes.size()));
      file->set_sha256(sha.HexDigest());
      if (entry.path().extension() == ".sst") sst_ = path;
    }
    ASSERT_TRUE(WriteBackupManifest(backup_, manifest).ok());
    ASSERT_FALSE(sst_.empty());
  }
  void TearDown() override { fs::remove_all(root_); }

  int CountOrgs(const std::string& db) {
    auto store = RocksDbStore::Open(db);
    EXPECT_TRUE(store.ok()) << store.status();
    int orgs = 0;
    if (store.ok()) {
      EXPECT_TRUE((*store)
                      ->ForEachOrg([&](const v1::Org&) {
                        ++orgs;
                        return absl::OkStatus();
                      })
                      .ok());
    }
    return orgs;
  }

  fs::path root_;
  std::string backup_;
  std::string sst_;
};

TEST_F(RestoreTest, RestoresTheCheckpointOwnerOnlyAsTheDataDirsDatabase) {
  const std::string data_dir = (root_ / "restored").string();
  auto restored = RestoreBackup(backup_, data_dir);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->db, (fs::path(data_dir) / "db").string());
  EXPECT_EQ(restored->files, restored->manifest.files_size());
  EXPECT_FALSE(fs::exists(restored->db + ".restoring"));
  EXPECT_EQ(fs::status(data_dir).permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_EQ(fs::status(restored->db).permissions() & fs::perms::all, fs::perms::owner_all);
  for (const fs::directory_entry& entry : fs::directory_iterator(restored->db)) {
    EXPECT_EQ(entry.status().permissions() & (fs::perms::group_all | fs::perms::others_all),
              fs::perms::none)
        << entry.path();
  }
  EXPECT_EQ(CountOrgs(restored->db), kOrgs);
}

TEST_F(RestoreTest, ADatabaseDirThatIsNotEmptyIsRefusedAndKept) {
  const std::string data_dir = (root_ / "restored").string();
  ASSERT_TRUE(RestoreBackup(backup_, data_dir).ok());
  absl::StatusOr<RestoreSummary> again = RestoreBackup(backup_, data_dir);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(again.status().message().find(absl::StrCat("the database dir ", data_dir, "/db")),
            std::string::npos)
      << again.status();
  EXPECT_NE(again.status().message().find("move it aside"), std::string::npos);
  EXPECT_EQ(CountOrgs((fs::path(data_dir) / "db").string()), kOrgs);
}

TEST_F(RestoreTest, ACorruptedBackupFileIsRefusedNamingItAndNothingIsRestored) {
  {
    std::fstream f(fs::path(backup_) / sst_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(20);
    f.put('\x5a');
  }
  const std::string data_dir = (root_ / "restored").string();
  absl::StatusOr<RestoreSummary> restored = RestoreBackup(backup_, data_dir);
  EXPECT_EQ(restored.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(restored.status().message().find(sst_), std::string::npos) << restored.status();
  EXPECT_FALSE(fs::exists(fs::path(data_dir) / "db"));
}

TEST_F(RestoreTest, ADirectoryThatIsNoBackupIsRefused) {
  absl::StatusOr<RestoreSummary> restored =
      RestoreBackup((root_ / "live").string(), (root_ / "restored").string());
  EXPECT_EQ(restored.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(restored.status().message().find("has no backup-manifest.json"), std::string::npos);
}

}  // namespace
}  // namespace sopsidebar
