#include "client/cli/connection_options.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sopsidebar::cli {
namespace {

using ::testing::HasSubstr;

// Files by path; any other path is missing.
FileReader Files(std::map<std::string, std::string> files) {
  return [files](const std::string& path) -> absl::StatusOr<std::string> {
    auto it = files.find(path);
    if (it == files.end()) return absl::NotFoundError("No such file or directory");
    return it->second;
  };
}

TEST(MakeConnectionOptionsTest, CopiesTheGlobalOptions) {
  GlobalOptions global;
  global.server = "sopd:9000";
  global.timeout = absl::Seconds(3);
  global.token = "sops_abc";
  absl::StatusOr<client::ConnectionOptions> options = MakeConnectionOptions(global, Files({}));
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->target, "sopd:9000");
  EXPECT_EQ(options->timeout, absl::Seconds(3));
  EXPECT_EQ(options->token, "sops_abc");
  EXPECT_FALSE(options->tls.enabled);
}

TEST(MakeConnectionOptionsTest, CopiesTheViewer) {
  GlobalOptions global;
  global.token = "sops_integration";
  global.viewer_id = "005A";
  global.viewer_name = "Dana Rep";
  global.viewer_crm_roles = {"Inside Sales", "EMEA Team"};
  absl::StatusOr<client::ConnectionOptions> options = MakeConnectionOptions(global, Files({}));
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->viewer.id, "005A");
  EXPECT_EQ(options->viewer.name, "Dana Rep");
  EXPECT_THAT(options->viewer.crm_roles, ::testing::ElementsAre("Inside Sales", "EMEA Team"));

  options = MakeConnectionOptions(GlobalOptions(), Files({}));
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_TRUE(options->viewer.id.empty());
}

TEST(MakeConnectionOptionsTest, TokenFileIsTrimmed) {
  GlobalOptions global;
  global.token_file = "/run/token";
  absl::StatusOr<client::ConnectionOptions> options =
      MakeConnectionOptions(global, Files({{"/run/token", "  sops_abc\n\n"}}));
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->token, "sops_abc");
}

TEST(MakeConnectionOptionsTest, UnreadableOrBlankTokenFileNamesTheFile) {
  GlobalOptions global;
  global.token_file = "/run/missing";
  EXPECT_EQ(MakeConnectionOptions(global, Files({})).status(),
            absl::InvalidArgumentError(
                "cannot read the token file \"/run/missing\": No such file or directory"));
  global.token_file = "/run/blank";
  EXPECT_EQ(MakeConnectionOptions(global, Files({{"/run/blank", " \n"}})).status(),
            absl::InvalidArgumentError("the token file \"/run/blank\" is empty"));
}

TEST(MakeConnectionOptionsTest, TlsFilesAreReadIntoPem) {
  GlobalOptions global;
  global.tls = true;
  global.tls_ca_file = "ca.pem";
  global.tls_cert_file = "cert.pem";
  global.tls_key_file = "key.pem";
  global.tls_server_name = "sopd.internal";
  absl::StatusOr<client::ConnectionOptions> options = MakeConnectionOptions(
      global, Files({{"ca.pem", "CA"}, {"cert.pem", "CERT"}, {"key.pem", "KEY"}}));
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_TRUE(options->tls.enabled);
  EXPECT_EQ(options->tls.root_ca_pem, "CA");
  EXPECT_EQ(options->tls.client_cert_pem, "CERT");
  EXPECT_EQ(options->tls.client_key_pem, "KEY");
  EXPECT_EQ(options->tls.server_name_override, "sopd.internal");

  global.tls_key_file = "nope.pem";
  EXPECT_EQ(MakeConnectionOptions(global, Files({{"ca.pem", "CA"}, {"cert.pem", "CERT"}})).status(),
            absl::InvalidArgumentError(
                "cannot read the --tls-key file \"nope.pem\": No such file or directory"));
}

TEST(ReadFileContentsTest, ReadsAFileAndSaysWhyNot) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "sopctl_read";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "token") << "sops_abc\n";
  EXPECT_EQ(ReadFileContents((dir / "token").string()).value(), "sops_abc\n");
  EXPECT_THAT(std::string(ReadFileContents((dir / "missing").string()).status().message()),
              HasSubstr("No such file"));
  EXPECT_THAT(std::string(ReadFileContents(dir.string()).status().message()),
              HasSubstr("directory"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sopsidebar::cli
