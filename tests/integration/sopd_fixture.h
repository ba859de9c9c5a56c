// A real sopd (SopdServer, as main runs it) on a free loopback port with
// RocksDB in a fresh temp dir, and clients for tokens issued on it.
#ifndef SOPSIDEBAR_TESTS_INTEGRATION_SOPD_FIXTURE_H_
#define SOPSIDEBAR_TESTS_INTEGRATION_SOPD_FIXTURE_H_

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "client/client.h"
#include "client/connection.h"
#include "gtest/gtest.h"
#include "server/app/sopd_server.h"

namespace sopsidebar::test {

// A data dir of its own for the running test.
inline std::string FreshDataDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) /
      absl::StrCat("sopd-", info->test_suite_name(), "-", info->name(), "-", ::getpid());
  std::filesystem::remove_all(dir);
  return dir.string();
}

class SopdFixture : public ::testing::Test {
 protected:
  SopdFixture() {
    options_.data_dir = FreshDataDir();
    options_.listen_address = "127.0.0.1:0";
  }

  ~SopdFixture() override {
    server_.reset();
    std::filesystem::remove_all(options_.data_dir);
  }

  // Starts sopd on options_ and reads the bootstrap admin token on the
  // first start.
  void StartServer() {
    auto server = SopdServer::Start(options_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(server).value();
    if (!server_->admin_token_path().empty()) {
      std::ifstream in(server_->admin_token_path());
      std::getline(in, admin_token_);
    }
  }

  void StopServer() {
    server_->Shutdown();
    server_.reset();
  }

  client::ConnectionOptions ConnectionTo(const std::string& token) const {
    client::ConnectionOptions options;
    options.target = absl::StrCat("127.0.0.1:", server_->port());
    options.token = token;
    return options;
  }

  client::Client ClientFor(const std::string& token) const {
    return client::Client(client::MakeGrpcConnection(ConnectionTo(token)));
  }

  // A token for `user` with `roles` in `org`, issued with `issuer`.
  std::string IssueToken(const std::string& issuer, const std::string& user,
                         std::initializer_list<v1::Role> roles,
                         const std::string& org = "default") {
    v1::CreateTokenRequest request;
    request.set_parent(absl::StrCat("orgs/", org));
    request.mutable_token()->set_user_id(user);
    for (v1::Role role : roles) request.mutable_token()->add_roles(role);
    auto issued = ClientFor(issuer).CreateToken(request);
    EXPECT_TRUE(issued.ok()) << issued.status();
    return issued.ok() ? issued->secret() : "";
  }

  // An INTEGRATION token for `crm` in `org` whose viewers may get
  // `delegable`, issued with `issuer`.
  std::string IssueIntegrationToken(const std::string& issuer, const std::string& user,
                                    const std::string& crm,
                                    std::initializer_list<v1::Role> delegable,
                                    const std::string& org = "default") {
    v1::CreateTokenRequest request;
    request.set_parent(absl::StrCat("orgs/", org));
    request.mutable_token()->set_user_id(user);
    request.mutable_token()->add_roles(v1::INTEGRATION);
    request.mutable_token()->set_crm(crm);
    for (v1::Role role : delegable) request.mutable_token()->add_delegable_roles(role);
    auto issued = ClientFor(issuer).CreateToken(request);
    EXPECT_TRUE(issued.ok()) << issued.status();
    return issued.ok() ? issued->secret() : "";
  }

  // A client whose every call states `viewer` (an integration acting).
  client::Client ClientActingFor(const std::string& token,
                                 client::ConnectionOptions::Viewer viewer) const {
    client::ConnectionOptions options = ConnectionTo(token);
    options.viewer = std::move(viewer);
    return client::Client(client::MakeGrpcConnection(options));
  }

  // Replaces the role map of `crm` in `org`: CRM role -> our role.
  void MapRoles(const std::string& admin, const std::string& crm,
                std::initializer_list<std::pair<std::string, v1::Role>> entries,
                const std::string& org = "default") {
    v1::UpdateRoleMapRequest request;
    request.mutable_role_map()->set_name(absl::StrCat("orgs/", org, "/roleMaps/", crm));
    for (const auto& [crm_role, role] : entries) {
      v1::RoleMapEntry* entry = request.mutable_role_map()->add_entries();
      entry->set_crm_role(crm_role);
      entry->add_roles(role);
    }
    auto updated = ClientFor(admin).UpdateRoleMap(request);
    EXPECT_TRUE(updated.ok()) << updated.status();
  }

  SopdServer::Options options_;
  std::unique_ptr<SopdServer> server_;
  std::string admin_token_;
};

}  // namespace sopsidebar::test

#endif  // SOPSIDEBAR_TESTS_INTEGRATION_SOPD_FIXTURE_H_
