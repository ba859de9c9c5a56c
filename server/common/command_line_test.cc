#include "server/common/command_line.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

ABSL_FLAG(std::string, test_data_dir, "./var/test", "where the test's data lives");
ABSL_FLAG(bool, test_switch, false, "a switch");
ABSL_FLAG(int, test_count, 3, "how many");
ABSL_FLAG(std::vector<std::string>, test_origin, {}, "an origin; repeatable");

namespace sopsidebar {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

CommandLine TestCommandLine() {
  return CommandLine{"command_line_test", "command_line_test: checks flags.\n", __FILE__,
                     "command_line_test 1.2.3"};
}

// Runs ParseCommandLineOrExit on `args` in a child process (Abseil lets a
// program set its usage once, and a bad flag exits) and exits 0 when it
// returned with --test-data-dir set to `expected_data_dir`.
void ParseAndCheck(std::vector<std::string> args, const std::string& expected_data_dir) {
  args.insert(args.begin(), "command_line_test");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  ParseCommandLineOrExit(static_cast<int>(argv.size()), argv.data(), TestCommandLine());
  std::exit(absl::GetFlag(FLAGS_test_data_dir) == expected_data_dir ? 0 : 3);
}

TEST(CommandLineTest, DashedFlagNamesReachTheirFlags) {
  EXPECT_EQ(WithFlagNamesInSnakeCase({"--test-data-dir", "d", "--test-switch", "-test-count=4",
                                      "--test-data-dir=e", "--test_count", "5"}),
            (std::vector<std::string>{"--test_data_dir", "d", "--test_switch", "-test_count=4",
                                      "--test_data_dir=e", "--test_count", "5"}));
}

TEST(CommandLineTest, ValuesUnknownFlagsAndArgumentsAfterDoubleDashKeepTheirSpelling) {
  EXPECT_EQ(WithFlagNamesInSnakeCase({"--test-data-dir", "--test-switch", "--no-such-flag",
                                      "--test-count=x-y", "--", "--test-switch"}),
            (std::vector<std::string>{"--test_data_dir", "--test-switch", "--no-such-flag",
                                      "--test_count=x-y", "--", "--test-switch"}));
}

TEST(CommandLineTest, RepeatedListFlagIsJoinedAtItsFirstPlace) {
  EXPECT_EQ(WithListFlagsJoined({"--test_origin", "https://a.example", "--test_switch",
                                 "--test_origin=https://b.example", "--test_count", "4"}),
            (std::vector<std::string>{"--test_origin=https://a.example,https://b.example",
                                      "--test_switch", "--test_count", "4"}));
  // Given once, with or without '=', or after "--": as it was (Abseil
  // reports a missing value itself).
  EXPECT_EQ(WithListFlagsJoined({"--test_origin=a,b", "--", "--test_origin", "c"}),
            (std::vector<std::string>{"--test_origin=a,b", "--", "--test_origin", "c"}));
  EXPECT_EQ(WithListFlagsJoined({"--test_origin"}), (std::vector<std::string>{"--test_origin"}));
}

// Runs ParseCommandLineOrExit on `args` in a child process and exits 0 when
// it returned with --test-origin set to `expected`.
void ParseAndCheckOrigins(std::vector<std::string> args, std::vector<std::string> expected) {
  args.insert(args.begin(), "command_line_test");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  ParseCommandLineOrExit(static_cast<int>(argv.size()), argv.data(), TestCommandLine());
  std::exit(absl::GetFlag(FLAGS_test_origin) == expected ? 0 : 3);
}

TEST(CommandLineTest, RepeatedListFlagKeepsEveryValue) {
  EXPECT_EXIT(ParseAndCheckOrigins({"--test-origin", "https://a", "--test-origin=https://b"},
                                   {"https://a", "https://b"}),
              ::testing::ExitedWithCode(0), "");
}

TEST(CommandLineTest, HelpListsTheProgramsFlagsDashedWithTheirDefaults) {
  const std::string help = CommandLineHelp(TestCommandLine());
  EXPECT_THAT(help, HasSubstr("command_line_test: checks flags.\n"));
  EXPECT_THAT(help, HasSubstr("  --test-data-dir (default ./var/test)\n"
                              "      where the test's data lives\n"));
  EXPECT_THAT(help, HasSubstr("  --test-count (default 3)\n"));
  EXPECT_THAT(help, HasSubstr("  --test-switch\n      a switch\n"));
  EXPECT_THAT(help, Not(HasSubstr("--fromenv")));  // Abseil's own: --helpfull
}

TEST(CommandLineTest, FlagsParseInEitherSpellingAndForm) {
  EXPECT_EXIT(ParseAndCheck({"--test-data-dir", "/a"}, "/a"), ::testing::ExitedWithCode(0), "");
  EXPECT_EXIT(ParseAndCheck({"--test_data_dir=/b", "--test-switch"}, "/b"),
              ::testing::ExitedWithCode(0), "");
}

TEST(CommandLineTest, HelpAndVersionPrintAndExitZero) {
  EXPECT_EXIT(ParseAndCheck({"--help"}, ""), ::testing::ExitedWithCode(0), "");
  EXPECT_EXIT(ParseAndCheck({"--version"}, ""), ::testing::ExitedWithCode(0), "");
}

TEST(CommandLineTest, BadFlagsExitOneNamingTheFlag) {
  EXPECT_EXIT(ParseAndCheck({"--no-such-flag"}, ""), ::testing::ExitedWithCode(1),
              "Unknown command line flag 'no-such-flag'");
  EXPECT_EXIT(ParseAndCheck({"--test-count", "many"}, ""), ::testing::ExitedWithCode(1),
              "Illegal value 'many' specified for flag 'test_count'");
  EXPECT_EXIT(ParseAndCheck({"--test-data-dir"}, ""), ::testing::ExitedWithCode(1),
              "Missing the value for the flag 'test_data_dir'");
  EXPECT_EXIT(ParseAndCheck({"stray"}, ""), ::testing::ExitedWithCode(1),
              "command_line_test: unexpected argument stray");
}

}  // namespace
}  // namespace sopsidebar
