#include "server/app/data_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/app/sopd_server.h"

namespace sopsidebar {
namespace {

mode_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

void WriteFile(const std::string& path, mode_t mode) {
  std::ofstream(path) << "x";
  ASSERT_EQ(::chmod(path.c_str(), mode), 0) << path;
}

class DataDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = std::filesystem::path(::testing::TempDir()) /
            absl::StrCat("data-dir-", info->name(), "-", ::getpid());
    std::filesystem::remove_all(root_);
    data_dir_ = (root_ / "var" / "sopd").string();
    db_dir_ = data_dir_ + "/db";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::filesystem::path root_;
  std::string data_dir_;
  std::string db_dir_;
};

TEST_F(DataDirTest, MissingDirsAreCreatedOwnerOnly) {
  auto paths = PrepareDataDir(data_dir_);
  ASSERT_TRUE(paths.ok()) << paths.status();
  EXPECT_EQ(paths->db, db_dir_);
  EXPECT_EQ(paths->admin_token, data_dir_ + "/admin.token");
  EXPECT_EQ(ModeOf(data_dir_), 0700u);
  EXPECT_EQ(ModeOf(db_dir_), 0700u);
}

TEST_F(DataDirTest, DirsAndFilesOthersMayReadAreTightened) {
  std::filesystem::create_directories(db_dir_);
  ASSERT_EQ(::chmod(data_dir_.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(db_dir_.c_str(), 0750), 0);
  WriteFile(data_dir_ + "/admin.token", 0640);
  WriteFile(db_dir_ + "/CURRENT", 0644);
  WriteFile(db_dir_ + "/000004.log", 0604);
  ASSERT_TRUE(PrepareDataDir(data_dir_).ok());
  EXPECT_EQ(ModeOf(data_dir_), 0700u);
  EXPECT_EQ(ModeOf(db_dir_), 0700u);
  EXPECT_EQ(ModeOf(data_dir_ + "/admin.token"), 0600u);
  EXPECT_EQ(ModeOf(db_dir_ + "/CURRENT"), 0600u);
  EXPECT_EQ(ModeOf(db_dir_ + "/000004.log"), 0600u);
}

TEST_F(DataDirTest, DataDirOthersMayWriteIsRefusedAndLeftAsIs) {
  std::filesystem::create_directories(data_dir_);
  ASSERT_EQ(::chmod(data_dir_.c_str(), 0777), 0);
  const absl::Status status = PrepareDataDir(data_dir_).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      status.message(),
      absl::StrCat("data dir ", data_dir_,
                   " has mode 0777: group or others may write to it, so someone else may have "
                   "changed sopd's data; check what is in it, then run: chmod 0700 ",
                   data_dir_));
  EXPECT_EQ(ModeOf(data_dir_), 0777u);
  EXPECT_FALSE(std::filesystem::exists(db_dir_));
}

TEST_F(DataDirTest, DatabaseDirTheGroupMayWriteIsRefused) {
  std::filesystem::create_directories(db_dir_);
  ASSERT_EQ(::chmod(db_dir_.c_str(), 0770), 0);
  const absl::Status refused = PrepareDataDir(data_dir_).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(
      absl::StartsWith(refused.message(), absl::StrCat("database dir ", db_dir_, " has mode 0770")))
      << refused;
  EXPECT_TRUE(absl::EndsWith(refused.message(), absl::StrCat("chmod 0700 ", db_dir_)));
}

TEST_F(DataDirTest, SecretFileIsOwnerOnlyWhateverTheUmaskAndReplacesAnOldOne) {
  std::filesystem::create_directories(data_dir_);
  const std::string path = data_dir_ + "/admin.token";
  WriteFile(path, 0644);
  const mode_t old_umask = ::umask(0);
  const absl::Status written = WriteSecretFile(path, "sop_tk1_secret");
  ::umask(old_umask);
  ASSERT_TRUE(written.ok()) << written;
  EXPECT_EQ(ModeOf(path), 0600u);
  std::ifstream in(path);
  std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(contents, "sop_tk1_secret\n");
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST_F(DataDirTest, NewDataDirHasNoDatabaseAndIsMarkedWithTheCurrentFormat) {
  auto paths = PrepareDataDir(data_dir_);
  ASSERT_TRUE(paths.ok()) << paths.status();
  auto format = CheckDataFormat(*paths);
  ASSERT_TRUE(format.ok()) << format.status();
  EXPECT_FALSE(format->version.has_value());
  EXPECT_FALSE(format->has_database);
  ASSERT_TRUE(RecordDataFormat(*paths, *format).ok());
  EXPECT_EQ(ReadFile(data_dir_ + "/FORMAT"),
            absl::StrCat("sopd data dir format ", kDataFormatVersion, "\n"));
  EXPECT_EQ(ModeOf(data_dir_ + "/FORMAT"), 0600u);
  EXPECT_FALSE(std::filesystem::exists(data_dir_ + "/FORMAT.tmp"));
  auto again = CheckDataFormat(*paths);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->version, kDataFormatVersion);
  EXPECT_TRUE(again->has_database);
}

TEST_F(DataDirTest, DataDirFromBeforeFormatVersionsHoldsADatabaseAndIsMigratedToFormatOne) {
  std::filesystem::create_directories(db_dir_);
  WriteFile(db_dir_ + "/CURRENT", 0600);
  auto paths = PrepareDataDir(data_dir_);
  ASSERT_TRUE(paths.ok()) << paths.status();
  auto format = CheckDataFormat(*paths);
  ASSERT_TRUE(format.ok()) << format.status();
  EXPECT_FALSE(format->version.has_value());
  EXPECT_TRUE(format->has_database);
  ASSERT_TRUE(RecordDataFormat(*paths, *format).ok());
  EXPECT_EQ(ReadFile(data_dir_ + "/FORMAT"), "sopd data dir format 1\n");
}

TEST_F(DataDirTest, DataDirOfANewerFormatIsRefusedNamingBothVersionsAndLeftAsIs) {
  std::filesystem::create_directories(db_dir_);
  std::ofstream(data_dir_ + "/FORMAT") << "sopd data dir format " << kDataFormatVersion + 2 << "\n";
  auto paths = PrepareDataDir(data_dir_);
  ASSERT_TRUE(paths.ok()) << paths.status();
  const absl::Status refused = CheckDataFormat(*paths).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.message(),
            absl::StrCat("data dir ", data_dir_, " was written by format version ",
                         kDataFormatVersion + 2, "; this sopd ", kSopdVersion, " reads up to ",
                         kDataFormatVersion, ": upgrade sopd or restore a backup"));
  EXPECT_EQ(ReadFile(data_dir_ + "/FORMAT"),
            absl::StrCat("sopd data dir format ", kDataFormatVersion + 2, "\n"));
}

TEST_F(DataDirTest, FormatFileThatStatesNoVersionIsRefusedNamingIt) {
  std::filesystem::create_directories(db_dir_);
  for (const std::string contents : {"", "sopd data dir format x", "sopd data dir format 0",
                                     "sopd data dir format -1", "format 1"}) {
    std::ofstream(data_dir_ + "/FORMAT") << contents;
    auto paths = PrepareDataDir(data_dir_);
    ASSERT_TRUE(paths.ok()) << paths.status();
    const absl::Status refused = CheckDataFormat(*paths).status();
    EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << contents;
    EXPECT_TRUE(absl::StartsWith(
        refused.message(),
        absl::StrCat("data dir format file ", data_dir_,
                     "/FORMAT does not say 'sopd data dir format N' (it says \"", contents)))
        << refused;
  }
}

}  // namespace
}  // namespace sopsidebar
