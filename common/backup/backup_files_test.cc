#include "common/backup/backup_files.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

namespace fs = std::filesystem;

class BackupFilesTest : public ::testing::Test {
 protected:
  BackupFilesTest()
      : root_((fs::path(::testing::TempDir()) /
               absl::StrCat("backup-files-",
                            ::testing::UnitTest::GetInstance()->current_test_info()->name(), "-",
                            ::getpid()))
                  .string()) {
    fs::remove_all(root_);
    fs::create_directories(fs::path(root_) / kBackupDbDir);
  }
  ~BackupFilesTest() override { fs::remove_all(root_); }

  // Writes `bytes` to the backup file `path` and lists it in manifest_.
  void AddFile(const std::string& path, const std::string& bytes) {
    std::ofstream(fs::path(root_) / path, std::ios::binary) << bytes;
    Sha256Stream sha;
    sha.Update(bytes);
    v1::BackupFile* file = manifest_.add_files();
    file->set_path(path);
    file->set_size_bytes(static_cast<int64_t>(bytes.size()));
    file->set_sha256(sha.HexDigest());
  }

  void WriteGoodBackup() {
    manifest_.set_format_version(kBackupFormatVersion);
    AddFile("db/CURRENT", "MANIFEST-000005\n");
    AddFile("db/000004.sst", std::string(3 * kBackupChunkBytes / 2, 'x'));
    ASSERT_TRUE(WriteBackupManifest(root_, manifest_).ok());
  }

  const std::string root_;
  v1::BackupManifest manifest_;
};

TEST_F(BackupFilesTest, Sha256OfPiecesIsTheKnownDigest) {
  Sha256Stream sha;
  sha.Update("a");
  sha.Update("bc");
  EXPECT_EQ(sha.HexDigest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(BackupFilesTest, AnIntactBackupVerifiesAndReturnsItsManifest) {
  WriteGoodBackup();
  absl::StatusOr<v1::BackupManifest> verified = VerifyBackup(root_);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->files_size(), 2);
  EXPECT_EQ(verified->files(1).size_bytes(), 3 * kBackupChunkBytes / 2);
  EXPECT_EQ(fs::status(fs::path(root_) / kBackupManifestFile).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
}

TEST_F(BackupFilesTest, AFlippedByteIsDataLossNamingTheFile) {
  WriteGoodBackup();
  {
    std::fstream f(fs::path(root_) / "db/000004.sst",
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(1000);
    f.put('y');
  }
  absl::StatusOr<v1::BackupManifest> verified = VerifyBackup(root_);
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(verified.status().message().find("db/000004.sst does not match its SHA-256"),
            std::string::npos)
      << verified.status();
}

TEST_F(BackupFilesTest, ATruncatedOrMissingFileIsDataLossNamingIt) {
  WriteGoodBackup();
  fs::resize_file(fs::path(root_) / "db/000004.sst", 10);
  EXPECT_NE(VerifyBackup(root_).status().message().find("db/000004.sst has 10 bytes"),
            std::string::npos);
  fs::remove(fs::path(root_) / "db/CURRENT");
  absl::Status missing = VerifyBackup(root_).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(missing.message().find("db/CURRENT is missing"), std::string::npos) << missing;
}

TEST_F(BackupFilesTest, ADirectoryWithoutManifestIsNotABackup) {
  absl::Status status = VerifyBackup(root_).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("has no backup-manifest.json"), std::string::npos) << status;
}

TEST_F(BackupFilesTest, ANewerFormatIsRefusedSayingWhichSopdToUse) {
  WriteGoodBackup();
  manifest_.set_format_version(kBackupFormatVersion + 1);
  ASSERT_TRUE(WriteBackupManifest(root_, manifest_).ok());
  absl::Status status = VerifyBackup(root_).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("a newer sopd wrote it"), std::string::npos) << status;
}

TEST_F(BackupFilesTest, PathsLeavingTheBackupAreRefused) {
  for (const char* path : {"/etc/passwd", "../x", "db/../../x", "db//x", "", "db/./x"}) {
    EXPECT_EQ(CheckBackupPath(path).code(), absl::StatusCode::kFailedPrecondition) << path;
  }
  EXPECT_TRUE(CheckBackupPath("db/000004.sst").ok());
  WriteGoodBackup();
  manifest_.mutable_files(0)->set_path("../outside");
  ASSERT_TRUE(WriteBackupManifest(root_, manifest_).ok());
  EXPECT_EQ(VerifyBackup(root_).status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace sopsidebar
