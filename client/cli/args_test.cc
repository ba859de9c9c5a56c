#include "client/cli/args.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sopsidebar::cli {
namespace {

using ::google::protobuf::Value;
using ::testing::HasSubstr;
using ::testing::StartsWith;

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

absl::StatusOr<Invocation> Parse(std::vector<std::string> args,
                                 std::map<std::string, std::string> env = {}) {
  return ParseCommandLine(args, Env(std::move(env)));
}

std::string UsageErrorOf(std::vector<std::string> args) {
  absl::StatusOr<Invocation> invocation = Parse(std::move(args));
  EXPECT_EQ(invocation.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(invocation.status().message());
}

TEST(ParseCommandLineTest, DefaultsWithoutFlagsOrEnvironment) {
  absl::StatusOr<Invocation> invocation = Parse({"get", "mql-handoff"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kGet);
  EXPECT_EQ(invocation->global.server, "127.0.0.1:50051");
  EXPECT_EQ(invocation->global.org, "default");
  EXPECT_EQ(invocation->global.output, OutputFormat::kText);
  EXPECT_EQ(invocation->global.author, "anonymous");
  EXPECT_EQ(invocation->global.timeout, absl::Seconds(10));
  EXPECT_EQ(invocation->name, "orgs/default/sops/mql-handoff");
}

TEST(ParseCommandLineTest, DefaultsComeFromTheEnvironment) {
  absl::StatusOr<Invocation> invocation =
      Parse({"get", "a"}, {{"SOPCTL_SERVER", "sopd:9000"}, {"USER", "dana"}});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->global.server, "sopd:9000");
  EXPECT_EQ(invocation->global.author, "dana");

  invocation = Parse({"get", "a"}, {{"SOPCTL_AUTHOR", "ops-bot"}, {"USER", "dana"}});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->global.author, "ops-bot");
}

TEST(ParseCommandLineTest, GlobalFlagsGoBeforeOrAfterTheCommand) {
  absl::StatusOr<Invocation> invocation =
      Parse({"--server", "h:1", "-o", "json", "get", "x", "--org=acme", "--author", "lee",
             "--timeout", "500ms"},
            {{"SOPCTL_SERVER", "ignored:1"}});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->global.server, "h:1");
  EXPECT_EQ(invocation->global.output, OutputFormat::kJson);
  EXPECT_EQ(invocation->global.author, "lee");
  EXPECT_EQ(invocation->global.timeout, absl::Milliseconds(500));
  EXPECT_EQ(invocation->name, "orgs/acme/sops/x");
}

TEST(ParseCommandLineTest, FullNameIsKeptAsGiven) {
  absl::StatusOr<Invocation> invocation = Parse({"--org", "acme", "publish", "orgs/b/sops/x"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kPublish);
  EXPECT_EQ(invocation->name, "orgs/b/sops/x");
}

TEST(ParseCommandLineTest, LookupTypesFieldValues) {
  absl::StatusOr<Invocation> invocation = Parse({"lookup",
                                                 "--record-type",
                                                 "Lead",
                                                 "--field",
                                                 "lead_status=MQL – New Handoff",
                                                 "--field",
                                                 "lead_score=82",
                                                 "--field",
                                                 "zip=02134",
                                                 "--field",
                                                 "vip=true",
                                                 "--field",
                                                 "owner=null",
                                                 "--field",
                                                 "note=a=b",
                                                 "--field-json",
                                                 "code=\"75\"",
                                                 "--field-json",
                                                 "tags=[\"a\", 2]",
                                                 "--record-id",
                                                 "00Q1",
                                                 "--max",
                                                 "5"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  const v1::LookupSopsRequest& request = invocation->lookup;
  EXPECT_EQ(request.context().org(), "orgs/default");
  EXPECT_EQ(request.context().record_type(), "Lead");
  EXPECT_EQ(request.context().record_id(), "00Q1");
  EXPECT_EQ(request.max_results(), 5);
  const auto& fields = request.context().fields();
  EXPECT_EQ(fields.at("lead_status").string_value(), "MQL – New Handoff");
  EXPECT_EQ(fields.at("lead_score").number_value(), 82);
  EXPECT_EQ(fields.at("zip").string_value(), "02134");
  EXPECT_TRUE(fields.at("vip").bool_value());
  EXPECT_EQ(fields.at("owner").kind_case(), Value::kNullValue);
  EXPECT_EQ(fields.at("note").string_value(), "a=b");
  EXPECT_EQ(fields.at("code").string_value(), "75");
  ASSERT_EQ(fields.at("tags").list_value().values_size(), 2);
  EXPECT_EQ(fields.at("tags").list_value().values(1).number_value(), 2);
}

TEST(ParseCommandLineTest, ListBuildsItsRequest) {
  absl::StatusOr<Invocation> invocation =
      Parse({"list", "--filter", "state = PUBLISHED", "--show-deleted", "--page-size", "20"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->list.parent(), "orgs/default");
  EXPECT_EQ(invocation->list.filter(), "state = PUBLISHED");
  EXPECT_TRUE(invocation->list.show_deleted());
  EXPECT_EQ(invocation->list.page_size(), 20);
}

TEST(ParseCommandLineTest, ApplyTakesFileAndPublish) {
  absl::StatusOr<Invocation> invocation = Parse({"apply", "-f", "sops/", "--publish"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kApply);
  EXPECT_EQ(invocation->apply_path, "sops/");
  EXPECT_TRUE(invocation->publish);
}

TEST(ParseCommandLineTest, HelpShowsTheCommandsUsage) {
  absl::StatusOr<Invocation> invocation = Parse({"lookup", "--help"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_TRUE(invocation->help);
  EXPECT_THAT(invocation->usage, StartsWith("Usage: sopctl lookup --record-type TYPE"));
  EXPECT_THAT(invocation->usage, HasSubstr("--server ADDR"));

  invocation = Parse({"-h"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->usage, Usage());
}

TEST(ParseCommandLineTest, HelpNeedsNoValidFlags) {
  absl::StatusOr<Invocation> invocation = Parse({"lookup", "--help"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_TRUE(invocation->help);
}

TEST(ParseCommandLineTest, UsageErrorsSayWhatIsWrong) {
  EXPECT_EQ(UsageErrorOf({}), "no command given");
  EXPECT_EQ(UsageErrorOf({"fetch", "x"}), "unknown command \"fetch\"");
  EXPECT_EQ(UsageErrorOf({"get", "x", "--bogus"}), "unknown flag --bogus for get");
  EXPECT_EQ(UsageErrorOf({"--filter", "x", "list"}),
            "unknown flag --filter (a command's flags go after the command)");
  EXPECT_EQ(UsageErrorOf({"get", "x", "--org"}), "--org needs a value");
  EXPECT_EQ(UsageErrorOf({"get"}), "get needs exactly one NAME");
  EXPECT_EQ(UsageErrorOf({"get", "a", "b"}), "get needs exactly one NAME");
  EXPECT_EQ(UsageErrorOf({"list", "a"}), "list takes no arguments, got \"a\"");
  EXPECT_EQ(UsageErrorOf({"lookup"}), "lookup needs --record-type, e.g. --record-type Lead");
  EXPECT_EQ(UsageErrorOf({"apply"}), "apply needs -f FILE|DIR");
  EXPECT_EQ(UsageErrorOf({"-o", "yaml", "get", "x"}),
            "--output: expected text or json, got \"yaml\"");
  EXPECT_EQ(UsageErrorOf({"--timeout", "10", "get", "x"}),
            "--timeout: expected a positive duration such as 10s, got \"10\"");
  EXPECT_EQ(UsageErrorOf({"list", "--page-size", "0"}),
            "--page-size: expected a positive integer, got \"0\"");
  EXPECT_EQ(UsageErrorOf({"list", "--show-deleted=yes"}), "--show-deleted takes no value");
  EXPECT_EQ(UsageErrorOf({"--org", "a", "--org", "b", "get", "x"}), "--org is given twice");
  EXPECT_EQ(UsageErrorOf({"--org", "Acme Inc", "get", "x"}),
            "--org: \"Acme Inc\" is not an org id (1-63 of [a-z0-9-], starting with a letter)");
  EXPECT_EQ(UsageErrorOf({"lookup", "--record-type", "Lead", "--field", "a=1", "--field", "a=2"}),
            "field \"a\" is given twice");
  EXPECT_EQ(UsageErrorOf({"lookup", "--record-type", "Lead", "--field", "lead_score"}),
            "--field: expected NAME=VALUE, got \"lead_score\"");
}

TEST(ParseFieldFlagTest, MalformedJsonIsAUsageError) {
  absl::StatusOr<std::pair<std::string, Value>> field = ParseFieldFlag("status=MQL", true);
  EXPECT_EQ(field.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(field.status().message()), HasSubstr("strings need quotes"));
}

TEST(ParseFieldFlagTest, EmptyValueIsAnEmptyString) {
  absl::StatusOr<std::pair<std::string, Value>> field = ParseFieldFlag("title=", false);
  ASSERT_TRUE(field.ok()) << field.status();
  EXPECT_EQ(field->first, "title");
  EXPECT_EQ(field->second.kind_case(), Value::kStringValue);
  EXPECT_EQ(field->second.string_value(), "");
}

TEST(ResolveSopNameTest, BareIdIsInTheOrg) {
  EXPECT_EQ(ResolveSopName("x", "acme"), "orgs/acme/sops/x");
  EXPECT_EQ(ResolveSopName("orgs/b/sops/y", "acme"), "orgs/b/sops/y");
}

}  // namespace
}  // namespace sopsidebar::cli
