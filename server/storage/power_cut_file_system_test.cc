// What a simulated power cut keeps and what it loses, on real files.
#include "server/storage/power_cut_file_system.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/storage/rocksdb_store.h"

namespace sopsidebar {
namespace {

class PowerCutFileSystemTest : public ::testing::Test {
 protected:
  PowerCutFileSystemTest()
      : dir_((std::filesystem::path(::testing::TempDir()) /
              absl::StrCat("power-cut-", ::getpid(), "-",
                           ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                 .string()),
        fs_(std::make_shared<PowerCutFileSystem>()) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~PowerCutFileSystemTest() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<rocksdb::FSWritableFile> Create(const std::string& name) {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    EXPECT_TRUE(fs_->NewWritableFile(Path(name), rocksdb::FileOptions(), &file, nullptr).ok());
    return file;
  }
  rocksdb::IOStatus Append(rocksdb::FSWritableFile& file, const std::string& data) {
    return file.Append(data, rocksdb::IOOptions(), nullptr);
  }
  rocksdb::IOStatus Sync(rocksdb::FSWritableFile& file) {
    return file.Sync(rocksdb::IOOptions(), nullptr);
  }
  void SyncDirectory() {
    std::unique_ptr<rocksdb::FSDirectory> dir;
    ASSERT_TRUE(fs_->NewDirectory(dir_, rocksdb::IOOptions(), &dir, nullptr).ok());
    ASSERT_TRUE(dir->Fsync(rocksdb::IOOptions(), nullptr).ok());
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  std::string Read(const std::string& name) const {
    std::ifstream in(Path(name), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  const std::string dir_;
  std::shared_ptr<PowerCutFileSystem> fs_;
};

TEST_F(PowerCutFileSystemTest, BytesAppendedAfterTheLastSyncAreLost) {
  auto file = Create("log");
  SyncDirectory();
  ASSERT_TRUE(Append(*file, "synced|").ok());
  ASSERT_TRUE(Sync(*file).ok());
  ASSERT_TRUE(Append(*file, "not synced").ok());
  ASSERT_TRUE(file->Close(rocksdb::IOOptions(), nullptr).ok());
  ASSERT_EQ(Read("log"), "synced|not synced");
  fs_->CutPower();

  absl::StatusOr<PowerCutFileSystem::Losses> losses = fs_->DropUnsyncedData();
  ASSERT_TRUE(losses.ok()) << losses.status();
  EXPECT_EQ(Read("log"), "synced|");
  EXPECT_EQ(losses->bytes_dropped, 10u);
  EXPECT_EQ(losses->files_deleted, 0);
}

TEST_F(PowerCutFileSystemTest, AFileWhoseDirectoryWasNeverFsyncedIsGone) {
  auto file = Create("sst");
  ASSERT_TRUE(Append(*file, "synced data, unsynced name").ok());
  ASSERT_TRUE(Sync(*file).ok());
  ASSERT_TRUE(file->Close(rocksdb::IOOptions(), nullptr).ok());
  fs_->CutPower();

  absl::StatusOr<PowerCutFileSystem::Losses> losses = fs_->DropUnsyncedData();
  ASSERT_TRUE(losses.ok()) << losses.status();
  EXPECT_FALSE(std::filesystem::exists(Path("sst")));
  EXPECT_EQ(losses->files_deleted, 1);
}

TEST_F(PowerCutFileSystemTest, ARenameNotMadeDurableBringsBackTheFileItReplaced) {
  auto current = Create("CURRENT");
  ASSERT_TRUE(Append(*current, "MANIFEST-1\n").ok());
  ASSERT_TRUE(Sync(*current).ok());
  ASSERT_TRUE(current->Close(rocksdb::IOOptions(), nullptr).ok());
  SyncDirectory();
  auto next = Create("CURRENT.tmp");
  ASSERT_TRUE(Append(*next, "MANIFEST-2\n").ok());
  ASSERT_TRUE(Sync(*next).ok());
  ASSERT_TRUE(next->Close(rocksdb::IOOptions(), nullptr).ok());
  ASSERT_TRUE(
      fs_->RenameFile(Path("CURRENT.tmp"), Path("CURRENT"), rocksdb::IOOptions(), nullptr).ok());
  ASSERT_EQ(Read("CURRENT"), "MANIFEST-2\n");
  fs_->CutPower();

  absl::StatusOr<PowerCutFileSystem::Losses> losses = fs_->DropUnsyncedData();
  ASSERT_TRUE(losses.ok()) << losses.status();
  EXPECT_EQ(Read("CURRENT"), "MANIFEST-1\n");
  EXPECT_FALSE(std::filesystem::exists(Path("CURRENT.tmp")));
  EXPECT_EQ(losses->files_restored, 1);
}

TEST_F(PowerCutFileSystemTest, ARenameMadeDurableSurvives) {
  auto next = Create("CURRENT.tmp");
  ASSERT_TRUE(Append(*next, "MANIFEST-2\n").ok());
  ASSERT_TRUE(Sync(*next).ok());
  ASSERT_TRUE(next->Close(rocksdb::IOOptions(), nullptr).ok());
  ASSERT_TRUE(
      fs_->RenameFile(Path("CURRENT.tmp"), Path("CURRENT"), rocksdb::IOOptions(), nullptr).ok());
  SyncDirectory();
  fs_->CutPower();

  ASSERT_TRUE(fs_->DropUnsyncedData().ok());
  EXPECT_EQ(Read("CURRENT"), "MANIFEST-2\n");
}

TEST_F(PowerCutFileSystemTest, EveryWriteAfterTheCutFailsAndChangesNothing) {
  auto file = Create("log");
  SyncDirectory();
  fs_->CutPowerAfter(2);
  EXPECT_TRUE(Append(*file, "one|").ok());
  EXPECT_TRUE(Sync(*file).ok());
  EXPECT_TRUE(fs_->powered());
  EXPECT_TRUE(Append(*file, "two").IsIOError());
  EXPECT_FALSE(fs_->powered());
  EXPECT_TRUE(Sync(*file).IsIOError());
  std::unique_ptr<rocksdb::FSWritableFile> late;
  EXPECT_TRUE(
      fs_->NewWritableFile(Path("late"), rocksdb::FileOptions(), &late, nullptr).IsIOError());
  ASSERT_TRUE(file->Close(rocksdb::IOOptions(), nullptr).ok());

  ASSERT_TRUE(fs_->DropUnsyncedData().ok());
  EXPECT_EQ(Read("log"), "one|");
  EXPECT_FALSE(std::filesystem::exists(Path("late")));
  EXPECT_TRUE(fs_->powered());
}

SopWrite TitleWrite(const std::string& title) {
  SopWrite write;
  const SopName name{"default", "power-cut"};
  write.head.set_name(name.Full());
  write.head.set_title(title);
  write.head.set_revision_id("1");
  write.revision.set_name(RevisionName{name, 1}.Full());
  *write.revision.mutable_snapshot() = write.head;
  return write;
}

// The store's durability promise, and that this file system is what shows
// it: a synced write survives the cut, an unsynced one does not.
TEST_F(PowerCutFileSystemTest, AStoreWriteAcknowledgedWithSyncSurvivesTheCut) {
  RocksDbStore::Options options;
  options.env = PowerCutFileSystem::NewEnv(fs_);
  {
    auto store = RocksDbStore::Open(dir_ + "/db", options);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->Write(TitleWrite("synced")).ok());
    fs_->CutPower();
  }
  ASSERT_TRUE(fs_->DropUnsyncedData().ok());
  auto reopened = RocksDbStore::Open(dir_ + "/db", options);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  absl::StatusOr<v1::Sop> head = (*reopened)->GetHead({"default", "power-cut"});
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->title(), "synced");
}

TEST_F(PowerCutFileSystemTest, AStoreWriteWithoutSyncIsLostAtTheCut) {
  RocksDbStore::Options options;
  options.env = PowerCutFileSystem::NewEnv(fs_);
  options.sync_writes = false;
  {
    auto store = RocksDbStore::Open(dir_ + "/db", options);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->Write(TitleWrite("not synced")).ok());
    fs_->CutPower();
  }
  ASSERT_TRUE(fs_->DropUnsyncedData().ok());
  auto reopened = RocksDbStore::Open(dir_ + "/db", options);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->GetHead({"default", "power-cut"}).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace sopsidebar
