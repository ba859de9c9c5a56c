#include "server/domain/backup/backup_source.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

namespace fs = std::filesystem;

// A store whose checkpoint is two files of known bytes.
class FakeCheckpointStore : public CheckpointStore {
 public:
  absl::StatusOr<v1::BackupContents> Checkpoint(const std::string& dir) override {
    if (fs::exists(dir)) return absl::FailedPreconditionError("exists");
    fs::create_directory(dir);
    for (const auto& [name, bytes] : files) std::ofstream(fs::path(dir) / name) << bytes;
    last_dir = dir;
    v1::BackupContents contents;
    contents.set_sops(7);
    return contents;
  }
  std::map<std::string, std::string> files = {{"CURRENT", "MANIFEST-000001\n"},
                                              {"000009.sst", std::string(2500, 's')}};
  std::string last_dir;
};

// Collects a stream's messages; optionally refuses room after `room` calls.
class RecordingSink : public MessageSink {
 public:
  void Send(std::string message) override {
    absl::MutexLock lock(&mu_);
    v1::CreateBackupResponse response;
    EXPECT_TRUE(response.ParseFromString(message));
    messages.push_back(response);
  }
  void Close(absl::Status status) override {
    {
      absl::MutexLock lock(&mu_);
      closed = status;
    }
    done.Notify();
  }
  bool AwaitRoom(size_t) override { return --room >= 0; }

  absl::Mutex mu_;
  std::vector<v1::CreateBackupResponse> messages;
  absl::Status closed;
  absl::Notification done;
  int room = 1 << 20;
};

class BackupSourceTest : public ::testing::Test {
 protected:
  BackupSourceTest()
      : scratch_((fs::path(::testing::TempDir()) / absl::StrCat("backup-source-", ::getpid()) /
                  "scratch")
                     .string()) {
    BackupSource::Options options;
    options.scratch_dir = scratch_;
    options.sopd_version = "9.9.9";
    options.chunk_bytes = 1000;
    auto source = BackupSource::Create(&store_, options);
    EXPECT_TRUE(source.ok()) << source.status();
    source_ = *std::move(source);
    admin_.server_admin = true;
    admin_.roles = RoleBit(v1::ADMIN);
  }
  ~BackupSourceTest() override { fs::remove_all(fs::path(scratch_).parent_path()); }

  const std::string scratch_;
  FakeCheckpointStore store_;
  std::unique_ptr<BackupSource> source_;
  Caller admin_;
};

TEST_F(BackupSourceTest, StreamsEveryFileInOrderedChunksThenTheManifestAndDeletesTheCheckpoint) {
  auto sink = std::make_shared<RecordingSink>();
  auto run = source_->CreateBackup(admin_, {}, sink);
  ASSERT_TRUE(run.ok()) << run.status();
  sink->done.WaitForNotification();
  run->reset();
  ASSERT_TRUE(sink->closed.ok()) << sink->closed;
  std::map<std::string, std::string> files;
  for (size_t i = 0; i + 1 < sink->messages.size(); ++i) {
    const v1::BackupChunk& chunk = sink->messages[i].chunk();
    EXPECT_LE(chunk.data().size(), 1000u);
    std::string& bytes = files[chunk.path()];
    EXPECT_EQ(chunk.offset(), static_cast<int64_t>(bytes.size())) << chunk.path();
    bytes += chunk.data();
  }
  // 2500 bytes in chunks of 1000: 3 chunks, 1 for CURRENT, the manifest.
  EXPECT_EQ(sink->messages.size(), 5u);
  ASSERT_TRUE(sink->messages.back().has_manifest());
  const v1::BackupManifest& manifest = sink->messages.back().manifest();
  EXPECT_EQ(manifest.format_version(), kBackupFormatVersion);
  EXPECT_EQ(manifest.sopd_version(), "9.9.9");
  EXPECT_EQ(manifest.contents().sops(), 7);
  ASSERT_EQ(manifest.files_size(), 2);
  for (const v1::BackupFile& file : manifest.files()) {
    const std::string name = file.path().substr(3);
    EXPECT_EQ(files[file.path()], store_.files[name]) << file.path();
    EXPECT_EQ(file.size_bytes(), static_cast<int64_t>(store_.files[name].size()));
    Sha256Stream sha;
    sha.Update(store_.files[name]);
    EXPECT_EQ(file.sha256(), sha.HexDigest());
  }
  EXPECT_FALSE(fs::exists(store_.last_dir));
}

TEST_F(BackupSourceTest, OnlyServerAdminsMayTakeBackups) {
  Caller org_admin;
  org_admin.roles = RoleBit(v1::ADMIN);
  auto run = source_->CreateBackup(org_admin, {}, std::make_shared<RecordingSink>());
  EXPECT_EQ(run.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(BackupSourceTest, ASecondBackupWhileOneStreamsIsUnavailable) {
  auto slow = std::make_shared<RecordingSink>();
  slow->room = 0;  // the first backup stops at its first chunk ...
  auto first = source_->CreateBackup(admin_, {}, slow);
  ASSERT_TRUE(first.ok());
  auto second = source_->CreateBackup(admin_, {}, std::make_shared<RecordingSink>());
  // ... unless it has already ended: then the second one may run.
  if (!slow->done.HasBeenNotified()) {
    EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  }
  slow->done.WaitForNotification();
  EXPECT_EQ(slow->closed.code(), absl::StatusCode::kCancelled);
  first->reset();
  second = absl::UnavailableError("dropped");
  auto third = source_->CreateBackup(admin_, {}, std::make_shared<RecordingSink>());
  EXPECT_TRUE(third.ok()) << third.status();
}

TEST_F(BackupSourceTest, AClientThatGoesAwayStopsTheStreamAndTheCheckpointIsDeleted) {
  auto sink = std::make_shared<RecordingSink>();
  sink->room = 2;
  auto run = source_->CreateBackup(admin_, {}, sink);
  ASSERT_TRUE(run.ok());
  sink->done.WaitForNotification();
  run->reset();
  EXPECT_EQ(sink->closed.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(sink->messages.size(), 2u);
  EXPECT_FALSE(fs::exists(store_.last_dir));
  EXPECT_TRUE(fs::is_empty(scratch_));
}

}  // namespace
}  // namespace sopsidebar
