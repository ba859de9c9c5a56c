#include "server/main/config_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

ABSL_FLAG(std::string, cf_address, "127.0.0.1:1", "a string flag");
ABSL_FLAG(int, cf_threads, 2, "an int flag");
ABSL_FLAG(bool, cf_insecure, false, "a bool flag");
ABSL_FLAG(std::vector<std::string>, cf_origin, {}, "a list flag");
ABSL_FLAG(bool, cf_one_shot, false, "an excluded flag");

namespace sopsidebar {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

class ConfigFileTest : public ::testing::Test {
 protected:
  // Writes `text` to a fresh file and returns its path.
  std::string Write(const std::string& text) {
    const std::string path = dir_ + "/sopd" + std::to_string(++files_) + ".yaml";
    std::ofstream(path) << text;
    return path;
  }

  ConfigFileOptions Options() const { return {__FILE__, {"cf_one_shot"}}; }

  void SetUp() override {
    char tmpl[] = "/tmp/config_file_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  absl::FlagSaver saver_;  // every test starts from the defaults
  std::string dir_;
  int files_ = 0;
};

TEST_F(ConfigFileTest, SetsEachFlagTheFileNamesAndSaysWhere) {
  const std::string path = Write(
      "# sopd.yaml\n"
      "cf_address: 0.0.0.0:50051\n"
      "cf-threads: 8\n"
      "cf_insecure: true\n"
      "cf_origin:\n"
      "  - https://a.example.com\n"
      "  - https://b.example.com\n");
  auto origins = ApplyConfigFile(path, Options());
  ASSERT_TRUE(origins.ok()) << origins.status();
  EXPECT_EQ(absl::GetFlag(FLAGS_cf_address), "0.0.0.0:50051");
  EXPECT_EQ(absl::GetFlag(FLAGS_cf_threads), 8);
  EXPECT_TRUE(absl::GetFlag(FLAGS_cf_insecure));
  EXPECT_THAT(absl::GetFlag(FLAGS_cf_origin),
              ElementsAre("https://a.example.com", "https://b.example.com"));
  EXPECT_THAT(*origins,
              ElementsAre(Pair("cf_address", path + ":2"), Pair("cf_insecure", path + ":4"),
                          Pair("cf_origin", path + ":5"), Pair("cf_threads", path + ":3")));
}

TEST_F(ConfigFileTest, AnEmptyStringAndACommaSeparatedListAreValues) {
  ASSERT_TRUE(
      ApplyConfigFile(Write("cf_address: \"\"\ncf_origin: https://a,https://b\n"), Options()).ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_cf_address), "");
  EXPECT_THAT(absl::GetFlag(FLAGS_cf_origin), ElementsAre("https://a", "https://b"));
}

TEST_F(ConfigFileTest, AnEmptyFileSetsNothing) {
  auto origins = ApplyConfigFile(Write("# nothing set\n"), Options());
  ASSERT_TRUE(origins.ok()) << origins.status();
  EXPECT_TRUE(origins->empty());
  EXPECT_EQ(absl::GetFlag(FLAGS_cf_address), "127.0.0.1:1");
}

// Each bad file: the error's code and that its message starts with
// "FILE:LINE: KEY: " and says why.
struct BadFile {
  std::string text;
  int line;
  std::string key;
  std::string reason;
};

TEST_F(ConfigFileTest, BadSettingsAreInvalidArgumentNamingFileLineAndKey) {
  const std::vector<BadFile> cases = {
      {"cf_address: a\ncf_adress: b\n", 2, "cf_adress", "unknown key"},
      {"cf_threads: 1\ncf_one_shot: true\n", 2, "cf_one_shot", "one-shot"},
      {"cf_threads: many\n", 1, "cf_threads", "bad value \"many\""},
      {"\ncf_insecure: perhaps\n", 2, "cf_insecure", "bad value \"perhaps\""},
      {"cf_threads: [1, 2]\n", 1, "cf_threads", "not a list"},
      {"cf_address:\n  host: a\n", 1, "cf_address", "not a mapping"},
      {"cf_address:\n", 1, "cf_address", "has no value"},
      {"cf_threads: 1\ncf-threads: 2\n", 2, "cf-threads", "given twice (first at line 1)"},
      {"cf_origin: [\"https://a,b\"]\n", 1, "cf_origin", "holds a comma"},
      {"help: true\n", 1, "help", "unknown key"},
      {"flagfile: x\n", 1, "flagfile", "unknown key"},
  };
  for (const BadFile& c : cases) {
    const std::string path = Write(c.text);
    auto origins = ApplyConfigFile(path, Options());
    ASSERT_FALSE(origins.ok()) << c.text;
    EXPECT_EQ(origins.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(std::string(origins.status().message()),
                HasSubstr(path + ":" + std::to_string(c.line) + ": " + c.key + ": "))
        << c.text;
    EXPECT_THAT(std::string(origins.status().message()), HasSubstr(c.reason)) << c.text;
  }
}

TEST_F(ConfigFileTest, YamlThatIsNotAMappingIsRefusedWithItsLine) {
  const std::string broken = Write("cf_address: a\ncf_threads: [1\n");
  auto origins = ApplyConfigFile(broken, Options());
  ASSERT_FALSE(origins.ok());
  EXPECT_EQ(origins.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(origins.status().message()), HasSubstr(broken + ":"));
  EXPECT_THAT(std::string(origins.status().message()), HasSubstr("not YAML"));

  const std::string list = Write("- cf_address\n");
  origins = ApplyConfigFile(list, Options());
  ASSERT_FALSE(origins.ok());
  EXPECT_THAT(std::string(origins.status().message()),
              HasSubstr(list + ":1: the file must be a mapping"));
}

TEST_F(ConfigFileTest, AMissingOrUnreadableFileIsNamed) {
  auto origins = ApplyConfigFile(dir_ + "/absent.yaml", Options());
  ASSERT_FALSE(origins.ok());
  EXPECT_EQ(origins.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(origins.status().message()),
              HasSubstr(dir_ + "/absent.yaml: cannot read the configuration file"));

  origins = ApplyConfigFile(dir_, Options());
  ASSERT_FALSE(origins.ok());
  EXPECT_THAT(std::string(origins.status().message()),
              HasSubstr(dir_ + ": cannot read the configuration file"));

  if (geteuid() != 0) {  // root reads a 0000 file anyway
    const std::string secret = Write("cf_threads: 3\n");
    ASSERT_EQ(chmod(secret.c_str(), 0), 0);
    origins = ApplyConfigFile(secret, Options());
    ASSERT_FALSE(origins.ok());
    EXPECT_EQ(origins.status().code(), absl::StatusCode::kPermissionDenied);
  }
}

TEST_F(ConfigFileTest, ConfigurableFlagsAreThoseOfTheFlagsFileMinusTheExcluded) {
  EXPECT_THAT(ConfigurableFlags(Options()),
              ElementsAre("cf_address", "cf_insecure", "cf_origin", "cf_threads"));
}

TEST_F(ConfigFileTest, ConfigFileArgumentFindsEitherSpellingOnce) {
  EXPECT_EQ(*ConfigFileArgument({"--data-dir", "x"}), std::nullopt);
  EXPECT_EQ(*ConfigFileArgument({"--config", "/etc/a.yaml", "--data-dir", "x"}), "/etc/a.yaml");
  EXPECT_EQ(*ConfigFileArgument({"--config=/etc/b.yaml"}), "/etc/b.yaml");
  EXPECT_EQ(*ConfigFileArgument({"--", "--config", "c.yaml"}), std::nullopt);
  EXPECT_EQ(*ConfigFileArgument({"--config"}), std::nullopt);
  auto twice = ConfigFileArgument({"--config", "a", "--config=b"});
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(twice.status().message()), HasSubstr("--config"));
}

}  // namespace
}  // namespace sopsidebar
