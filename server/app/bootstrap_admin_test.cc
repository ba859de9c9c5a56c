#include "server/app/bootstrap_admin.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/app/sopd_server.h"
#include "server/common/clock.h"
#include "server/domain/auth/access_registry.h"
#include "server/storage/rocksdb_store.h"

namespace sopsidebar {
namespace {

std::string ReadLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

class BootstrapAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    options_.data_dir = (std::filesystem::path(::testing::TempDir()) /
                         absl::StrCat("bootstrap-admin-", info->name(), "-", ::getpid()))
                            .string();
    std::filesystem::remove_all(options_.data_dir);
    options_.listen_address = "127.0.0.1:0";
    token_path_ = options_.data_dir + "/admin.token";
  }
  void TearDown() override { std::filesystem::remove_all(options_.data_dir); }

  std::unique_ptr<SopdServer> Start() {
    auto server = SopdServer::Start(options_);
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? std::move(server).value() : nullptr;
  }

  SopdServer::Options options_;
  std::string token_path_;
};

TEST_F(BootstrapAdminTest, IssuesAnotherServerAdminTokenInTheDefaultOrg) {
  Start().reset();
  const std::string first = ReadLine(token_path_);

  auto path = BootstrapAdmin(options_.data_dir);
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, token_path_);
  struct stat st;
  ASSERT_EQ(::stat(token_path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  const std::string recovered = ReadLine(token_path_);
  EXPECT_NE(recovered, first);

  auto store = RocksDbStore::Open(options_.data_dir + "/db");
  ASSERT_TRUE(store.ok()) << store.status();
  auto access = AccessRegistry::Create(store->get(), &Clock::Real());
  ASSERT_TRUE(access.ok()) << access.status();
  auto admin = (*access)->Authenticate(recovered);
  ASSERT_TRUE(admin.ok()) << admin.status();
  EXPECT_TRUE(admin->server_admin);
  EXPECT_EQ(admin->org, "default");
  EXPECT_EQ(admin->roles, RoleBit(v1::ADMIN));
  EXPECT_TRUE((*access)->Authenticate(first).ok());
}

TEST_F(BootstrapAdminTest, IsRefusedWhileSopdHoldsTheDataDir) {
  std::unique_ptr<SopdServer> running = Start();
  ASSERT_NE(running, nullptr);
  const std::string first = ReadLine(token_path_);
  const absl::Status refused = BootstrapAdmin(options_.data_dir).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StartsWith(
      refused.message(), absl::StrCat("cannot open the database in ", options_.data_dir, "/db (")))
      << refused;
  EXPECT_TRUE(absl::EndsWith(refused.message(), "needs the sopd that serves it stopped first"))
      << refused;
  EXPECT_EQ(ReadLine(token_path_), first);
}

TEST_F(BootstrapAdminTest, NeedsAnExistingDatabaseAndCreatesNone) {
  const std::string db = options_.data_dir + "/db";
  const absl::Status status = BootstrapAdmin(options_.data_dir).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      status.message(),
      absl::StrCat("no sopd database in ", db,
                   ": --bootstrap-admin issues a token in an existing data dir (check --data-dir); "
                   "on a new one, sopd's first start writes the admin token itself"));
  EXPECT_FALSE(std::filesystem::exists(options_.data_dir));
}

}  // namespace
}  // namespace sopsidebar
