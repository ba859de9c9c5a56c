#include "client/cli/args.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sopsidebar::cli {
namespace {

using ::google::protobuf::Value;
using ::testing::HasSubstr;
using ::testing::Not;
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
  EXPECT_EQ(invocation->global.timeout, absl::Seconds(10));
  EXPECT_EQ(invocation->name, "orgs/default/sops/mql-handoff");
}

TEST(ParseCommandLineTest, NewFromATemplateCarriesItsValuesAndId) {
  absl::StatusOr<Invocation> invocation =
      Parse({"--org", "acme", "new", "--template", "sla-handoff", "--set", "team=EMEA SDRs",
             "--set", "note=a=b", "--id", "emea"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kNew);
  const v1::CreateSopRequest& request = invocation->create_sop;
  EXPECT_EQ(request.parent(), "orgs/acme");
  EXPECT_EQ(request.template_(), "orgs/acme/templates/sla-handoff");
  EXPECT_EQ(request.sop_id(), "emea");
  EXPECT_EQ(request.template_values().at("team"), "EMEA SDRs");
  EXPECT_EQ(request.template_values().at("note"), "a=b");
  invocation = Parse({"new", "--template", "orgs/b/templates/t"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->create_sop.template_(), "orgs/b/templates/t");
}

TEST(ParseCommandLineTest, NewAndTemplatesUsageErrorsSayWhatIsMissing) {
  EXPECT_THAT(UsageErrorOf({"new"}), HasSubstr("new needs --template NAME"));
  EXPECT_THAT(UsageErrorOf({"new", "--template", "t", "--set", "team"}),
              HasSubstr("expected KEY=VALUE"));
  EXPECT_THAT(UsageErrorOf({"new", "--template", "t", "--set", "a=1", "--set", "a=2"}),
              HasSubstr("--set a is given twice"));
  EXPECT_THAT(UsageErrorOf({"new", "--template", "t", "--id", "Bad Id"}),
              HasSubstr("is not an SOP id"));
  EXPECT_THAT(UsageErrorOf({"templates", "apply"}), HasSubstr("templates apply needs -f"));
  EXPECT_THAT(UsageErrorOf({"templates"}), HasSubstr("templates needs a command"));
}

TEST(ParseCommandLineTest, TemplatesCommandsNameTheirTemplatesAndFiles) {
  absl::StatusOr<Invocation> invocation =
      Parse({"templates", "apply", "-f", "a.yaml", "--file", "dir"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kTemplatesApply);
  EXPECT_EQ(invocation->template_files, (std::vector<std::string>{"a.yaml", "dir"}));
  invocation = Parse({"--org", "acme", "templates", "get", "sla-handoff"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->name, "orgs/acme/templates/sla-handoff");
  invocation = Parse({"templates", "list"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->list_templates.parent(), "orgs/default");
}

TEST(ParseCommandLineTest, DefaultsComeFromTheEnvironment) {
  absl::StatusOr<Invocation> invocation =
      Parse({"get", "a"}, {{"SOPCTL_SERVER", "sopd:9000"}});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->global.server, "sopd:9000");
}

TEST(ParseCommandLineTest, GlobalFlagsGoBeforeOrAfterTheCommand) {
  absl::StatusOr<Invocation> invocation =
      Parse({"--server", "h:1", "-o", "json", "get", "x", "--org=acme", "--timeout",
             "500ms"},
            {{"SOPCTL_SERVER", "ignored:1"}});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->global.server, "h:1");
  EXPECT_EQ(invocation->global.output, OutputFormat::kJson);
  EXPECT_EQ(invocation->global.timeout, absl::Milliseconds(500));
  EXPECT_EQ(invocation->name, "orgs/acme/sops/x");
}

TEST(ParseCommandLineTest, DiagramReadsAFileOrNamesAnSop) {
  absl::StatusOr<Invocation> invocation =
      Parse({"diagram", "sops/MQL.YAML", "--kind", "swimlane", "--format", "svg", "-o", "m.svg"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kDiagram);
  EXPECT_EQ(invocation->apply_path, "sops/MQL.YAML");
  EXPECT_EQ(invocation->name, "");
  EXPECT_EQ(invocation->diagram_kind, DiagramKind::kSwimlane);
  EXPECT_EQ(invocation->diagram_output, DiagramOutput::kSvg);
  EXPECT_EQ(invocation->diagram_out, "m.svg");

  invocation = Parse({"--org", "west", "diagram", "handoff"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->name, "orgs/west/sops/handoff");
  EXPECT_EQ(invocation->apply_path, "");
  EXPECT_EQ(invocation->diagram_kind, DiagramKind::kFlowchart);
  EXPECT_EQ(invocation->diagram_output, DiagramOutput::kMermaid);
  EXPECT_EQ(invocation->diagram_out, "");

  invocation = Parse({"diagram", "handoff", "--out=h.dot", "--format", "dot"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->diagram_out, "h.dot");
}

TEST(ParseCommandLineTest, DiagramUsageErrorsNameTheFlag) {
  EXPECT_EQ(UsageErrorOf({"diagram", "x", "--kind", "sequence"}),
            "--kind: expected flowchart or swimlane, got \"sequence\"");
  EXPECT_EQ(UsageErrorOf({"diagram", "x", "--format", "jpeg"}),
            "--format: expected mermaid, dot, svg or png, got \"jpeg\"");
  EXPECT_EQ(UsageErrorOf({"diagram", "x", "--format", "png"}),
            "--format png needs -o FILE (a PNG is not text for a terminal)");
  EXPECT_EQ(UsageErrorOf({"diagram", "x", "-o", ""}), "--out: empty value");
  EXPECT_EQ(UsageErrorOf({"-o", "json", "diagram", "x"}),
            "diagram: --output does not apply (--format says what to write); write to a file "
            "with -o FILE after the command");
  EXPECT_EQ(UsageErrorOf({"diagram"}), "diagram needs exactly one NAME_OR_FILE");
  const absl::StatusOr<Invocation> bad = Parse({"diagram", "x", "--kind", "sequence"});
  EXPECT_EQ(UsageErrorText(bad.status()),
            "sopctl: --kind: expected flowchart or swimlane, got \"sequence\"\n"
            "run 'sopctl diagram --help' for usage\n");
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

TEST(ParseCommandLineTest, LookupAsksForNearMissesOnlyWithTheFlag) {
  absl::StatusOr<Invocation> invocation = Parse({"lookup", "--record-type", "Lead"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_FALSE(invocation->lookup.include_near_misses());
  invocation = Parse({"lookup", "--record-type", "Lead", "--near-misses"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_TRUE(invocation->lookup.include_near_misses());
  EXPECT_EQ(UsageErrorOf({"lookup", "--record-type", "Lead", "--near-misses=yes"}),
            "--near-misses takes no value");
}

TEST(ParseCommandLineTest, LookupWatchesOnlyWithTheFlagAndNeverWithNearMisses) {
  absl::StatusOr<Invocation> invocation = Parse({"lookup", "--record-type", "Lead"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_FALSE(invocation->watch);
  invocation = Parse({"lookup", "--record-type", "Lead", "--max", "3", "--watch"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_TRUE(invocation->watch);
  EXPECT_EQ(invocation->lookup.max_results(), 3);
  EXPECT_EQ(UsageErrorOf({"lookup", "--record-type", "Lead", "--watch", "--near-misses"}),
            "--watch and --near-misses cannot be combined (watches carry no near misses)");
  EXPECT_EQ(UsageErrorOf({"get", "x", "--watch"}), "unknown flag --watch for get");
}

TEST(ParseCommandLineTest, CheckTakesANameAndFailOnTies) {
  absl::StatusOr<Invocation> invocation = Parse({"--org", "acme", "check", "handoff"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kCheck);
  EXPECT_EQ(invocation->name, "orgs/acme/sops/handoff");
  EXPECT_FALSE(invocation->fail_on_ties);
  invocation = Parse({"check", "orgs/b/sops/x", "--fail-on-ties"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->name, "orgs/b/sops/x");
  EXPECT_TRUE(invocation->fail_on_ties);
  EXPECT_EQ(UsageErrorOf({"check"}), "check needs exactly one NAME");
  EXPECT_EQ(UsageErrorOf({"publish", "x", "--fail-on-ties"}),
            "unknown flag --fail-on-ties for publish");
}

TEST(ParseCommandLineTest, HelpDocumentsTiesAndNearMisses) {
  absl::StatusOr<Invocation> invocation = Parse({"check", "--help"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_THAT(invocation->usage, StartsWith("Usage: sopctl check NAME [--fail-on-ties]\n"));
  EXPECT_THAT(invocation->usage, HasSubstr("exit with status 3 when there are ties"));
  invocation = Parse({"publish", "--help"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_THAT(invocation->usage, HasSubstr("warns on\nstderr about each tie"));
  invocation = Parse({"lookup", "--help"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_THAT(invocation->usage, HasSubstr("--near-misses"));
  EXPECT_THAT(Usage(), HasSubstr("  check         find the published SOPs"));
  EXPECT_THAT(Usage(), HasSubstr("3 ties found by \"check --fail-on-ties\""));
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

TEST(ParseCommandLineTest, ValidateTakesAFileAndNothingElse) {
  absl::StatusOr<Invocation> invocation = Parse({"validate", "-f", "sops/"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kValidate);
  EXPECT_EQ(invocation->apply_path, "sops/");

  invocation = Parse({"validate"});
  EXPECT_EQ(invocation.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(invocation.status().message(), "validate needs -f FILE|DIR");

  invocation = Parse({"validate", "-f", "sops/", "--publish"});
  EXPECT_EQ(invocation.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(invocation.status().message(), "unknown flag --publish for validate");
}

TEST(ParseCommandLineTest, HelpShowsTheCommandsUsage) {
  absl::StatusOr<Invocation> invocation = Parse({"lookup", "--help"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_TRUE(invocation->help);
  EXPECT_THAT(invocation->usage, StartsWith("Usage: sopctl lookup --record-type TYPE"));
  EXPECT_THAT(invocation->usage, HasSubstr("--near-misses"));

  invocation = Parse({"-h"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->usage, Usage());
}

TEST(ParseCommandLineTest, CommandHelpPointsToTheGlobalFlagsInsteadOfRepeatingThem) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"lookup", "--help"}, {"token", "create", "-h"}, {"token", "--help"}}) {
    absl::StatusOr<Invocation> invocation = Parse(args);
    ASSERT_TRUE(invocation.ok()) << invocation.status();
    EXPECT_THAT(invocation->usage, Not(HasSubstr("--server ADDR"))) << args[0];
    EXPECT_THAT(invocation->usage, Not(HasSubstr("--tls-ca FILE"))) << args[0];
    EXPECT_THAT(invocation->usage, HasSubstr("\nGlobal flags (--server, --org, -o, --token-file, "
                                             "...): see \"sopctl --help\".\n"))
        << args[0];
  }
  EXPECT_THAT(Usage(), HasSubstr("--server ADDR"));
  EXPECT_THAT(Usage(), HasSubstr("--tls-ca FILE"));
}

TEST(ParseCommandLineTest, HelpCommandIsTheHelpFlag) {
  absl::StatusOr<Invocation> invocation = Parse({"help"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_TRUE(invocation->help);
  EXPECT_EQ(invocation->usage, Usage());

  for (const std::vector<std::string>& command :
       std::vector<std::vector<std::string>>{{"lookup"}, {"token"}, {"token", "create"}}) {
    std::vector<std::string> help_command = {"help"};
    help_command.insert(help_command.end(), command.begin(), command.end());
    std::vector<std::string> help_flag = command;
    help_flag.push_back("--help");
    invocation = Parse(help_command);
    ASSERT_TRUE(invocation.ok()) << invocation.status();
    EXPECT_TRUE(invocation->help);
    EXPECT_EQ(invocation->usage, Parse(help_flag)->usage);
  }
  EXPECT_EQ(UsageErrorOf({"help", "fetch"}), "unknown command \"fetch\"");
}

TEST(ParseCommandLineTest, VersionFlagAsksForTheVersion) {
  absl::StatusOr<Invocation> invocation = Parse({"--version"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_TRUE(invocation->version);
  EXPECT_FALSE(invocation->help);
  EXPECT_EQ(VersionText(), absl::StrCat("sopctl ", kSopctlVersion, "\n"));
  EXPECT_EQ(VersionText(), "sopctl 0.1.0\n");

  invocation = Parse({"get", "x"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_FALSE(invocation->version);
  EXPECT_EQ(UsageErrorOf({"--version=2"}), "--version takes no value");
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
            "--output: expected text (or table), json or csv, got \"yaml\"");
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

TEST(UsageErrorTextTest, SaysWhatIsWrongAndWhichHelpToRead) {
  EXPECT_EQ(UsageErrorText(Parse({"get", "x", "--bogus"}).status()),
            "sopctl: unknown flag --bogus for get\nrun 'sopctl get --help' for usage\n");
  EXPECT_EQ(UsageErrorText(Parse({"--org", "a", "token", "create", "--user"}).status()),
            "sopctl: --user needs a value\nrun 'sopctl token create --help' for usage\n");
  EXPECT_EQ(UsageErrorText(Parse({"token"}).status()),
            "sopctl: token needs a command: create, list, get, revoke\n"
            "run 'sopctl token --help' for usage\n");
  EXPECT_EQ(UsageErrorText(Parse({"fetch", "x"}).status()),
            "sopctl: unknown command \"fetch\"\nrun 'sopctl --help' for usage\n");
  EXPECT_EQ(UsageErrorText(Parse({"--timeout=\x1b[2J", "list"}).status()),
            "sopctl: --timeout: expected a positive duration such as 10s, got \"\\x1b[2J\"\n"
            "run 'sopctl list --help' for usage\n");
}

TEST(UsageErrorTextTest, ALocalErrorOutsideTheCommandLineHasNoHelpHint) {
  EXPECT_EQ(UsageErrorText(absl::InvalidArgumentError("the token file \"t\" is empty")),
            "sopctl: the token file \"t\" is empty\n");
}

TEST(ParseCommandLineTest, TokenPrecedenceIsFlagFileEnvEnvFile) {
  const std::map<std::string, std::string> env = {{"SOPCTL_TOKEN", "from-env"},
                                                  {"SOPCTL_TOKEN_FILE", "/env/token"}};
  absl::StatusOr<Invocation> invocation =
      Parse({"--token", "from-flag", "--token-file", "/flag/token", "whoami"}, env);
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->global.token, "from-flag");
  EXPECT_EQ(invocation->global.token_file, "");

  invocation = Parse({"whoami", "--token-file=/flag/token"}, env);
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->global.token, "");
  EXPECT_EQ(invocation->global.token_file, "/flag/token");

  invocation = Parse({"whoami"}, env);
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->global.token, "from-env");
  EXPECT_EQ(invocation->global.token_file, "");

  invocation = Parse({"whoami"}, {{"SOPCTL_TOKEN", ""}, {"SOPCTL_TOKEN_FILE", "/env/token"}});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->global.token, "");
  EXPECT_EQ(invocation->global.token_file, "/env/token");

  invocation = Parse({"whoami"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->global.token, "");
  EXPECT_EQ(invocation->global.token_file, "");
}

TEST(ParseCommandLineTest, ServerTakesSeveralNodesFromTheFlagOrTheEnvironment) {
  absl::StatusOr<Invocation> invocation =
      Parse({"--server", "10.0.0.1:50051,10.0.0.2:50051", "whoami"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->global.server, "10.0.0.1:50051,10.0.0.2:50051");
  invocation = Parse({"whoami"}, {{"SOPCTL_SERVER", "dns:///sopd.internal:50051"}});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->global.server, "dns:///sopd.internal:50051");
}

TEST(ParseCommandLineTest, BadServerListIsAUsageErrorNamingWhereItCameFrom) {
  EXPECT_EQ(UsageErrorOf({"--server", "10.0.0.1:50051,", "whoami"}),
            "--server: \"10.0.0.1:50051,\" has an empty address (two commas, or one at an end)");
  EXPECT_THAT(UsageErrorOf({"--server", "dns:///sopd:1,10.0.0.1:2", "whoami"}),
              HasSubstr("cannot be mixed with a list of addresses"));
  absl::StatusOr<Invocation> from_env =
      Parse({"whoami"}, {{"SOPCTL_SERVER", "sopd-a:50051,sopd-b:50051"}});
  EXPECT_EQ(from_env.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(from_env.status().message()),
              ::testing::StartsWith("$SOPCTL_SERVER: \"sopd-a:50051\" is not an IP address"));
}

TEST(ParseCommandLineTest, TlsToSeveralIpAddressesNeedsTheServerName) {
  EXPECT_EQ(UsageErrorOf({"--server", "10.0.0.1:1,10.0.0.2:1", "--tls", "whoami"}),
            "--server lists several IP addresses: TLS then needs --tls-server-name, the name "
            "every node's certificate carries (or name the nodes as dns:///NAME:PORT)");
  EXPECT_TRUE(Parse({"--server", "10.0.0.1:1,10.0.0.2:1", "--tls", "--tls-server-name",
                     "sopd.internal", "whoami"})
                  .ok());
  EXPECT_TRUE(Parse({"--server", "dns:///sopd.internal:1", "--tls", "whoami"}).ok());
}

TEST(ParseCommandLineTest, TlsFlagsImplyTls) {
  absl::StatusOr<Invocation> invocation = Parse({"whoami"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_FALSE(invocation->global.tls);

  invocation = Parse({"--tls", "whoami", "--tls-server-name", "sopd.internal"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_TRUE(invocation->global.tls);
  EXPECT_EQ(invocation->global.tls_ca_file, "");
  EXPECT_EQ(invocation->global.tls_server_name, "sopd.internal");

  invocation = Parse({"--tls-ca", "ca.pem", "whoami"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_TRUE(invocation->global.tls);
  EXPECT_EQ(invocation->global.tls_ca_file, "ca.pem");

  invocation = Parse({"--tls-cert", "c.pem", "--tls-key", "k.pem", "whoami"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_TRUE(invocation->global.tls);
  EXPECT_EQ(invocation->global.tls_cert_file, "c.pem");
  EXPECT_EQ(invocation->global.tls_key_file, "k.pem");
}

TEST(ParseCommandLineTest, TokenCreateBuildsItsRequest) {
  absl::StatusOr<Invocation> invocation =
      Parse({"--org", "acme", "token", "create", "--user", "dana@acme.com", "--role", "SDR",
             "--role", "sales-ops", "--display-name", "Dana", "--expires", "1d12h"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kTokenCreate);
  const v1::CreateTokenRequest& request = invocation->create_token;
  EXPECT_EQ(request.parent(), "orgs/acme");
  EXPECT_EQ(request.token().user_id(), "dana@acme.com");
  EXPECT_EQ(request.token().display_name(), "Dana");
  ASSERT_EQ(request.token().roles_size(), 2);
  EXPECT_EQ(request.token().roles(0), v1::SDR);
  EXPECT_EQ(request.token().roles(1), v1::SALES_OPS);
  EXPECT_EQ(request.ttl().seconds(), 36 * 3600);

  invocation = Parse({"token", "create", "--user", "u", "--role", "AE"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->create_token.parent(), "orgs/default");
  EXPECT_FALSE(invocation->create_token.has_ttl());
  EXPECT_FALSE(invocation->create_token.token().server_admin());
}

TEST(ParseCommandLineTest, TokenCreateWithServerAdminAsksForAServerAdminToken) {
  absl::StatusOr<Invocation> invocation =
      Parse({"token", "create", "--user", "ops-lead", "--role", "ADMIN", "--server-admin"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_TRUE(invocation->create_token.token().server_admin());
  EXPECT_EQ(invocation->create_token.token().user_id(), "ops-lead");
}

TEST(ParseCommandLineTest, TokenListRevokeWhoAmIAndOrgCommands) {
  absl::StatusOr<Invocation> invocation = Parse({"token", "list", "--all", "--org", "acme"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kTokenList);
  EXPECT_EQ(invocation->list_tokens.parent(), "orgs/acme");
  EXPECT_TRUE(invocation->list_tokens.show_inactive());

  invocation = Parse({"token", "list"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_FALSE(invocation->list_tokens.show_inactive());

  invocation = Parse({"--org", "acme", "token", "revoke", "t1"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kTokenRevoke);
  EXPECT_EQ(invocation->name, "orgs/acme/tokens/t1");

  invocation = Parse({"token", "revoke", "orgs/b/tokens/t2"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->name, "orgs/b/tokens/t2");

  invocation = Parse({"whoami"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kWhoAmI);

  invocation = Parse({"org", "create", "acme", "--display-name", "Acme Inc"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kOrgCreate);
  EXPECT_EQ(invocation->create_org.org_id(), "acme");
  EXPECT_EQ(invocation->create_org.org().display_name(), "Acme Inc");

  invocation = Parse({"org", "list"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kOrgList);
}

TEST(ParseCommandLineTest, GroupHelpListsItsCommands) {
  absl::StatusOr<Invocation> invocation = Parse({"token", "--help"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_THAT(invocation->usage, StartsWith("Usage: sopctl token COMMAND [flags]\n"));
  EXPECT_THAT(invocation->usage, HasSubstr("  token revoke  revoke an access token\n"));
  EXPECT_THAT(invocation->usage, Not(HasSubstr("org list")));

  invocation = Parse({"token", "create", "-h"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_THAT(invocation->usage, StartsWith("Usage: sopctl token create --user USER"));
  EXPECT_THAT(invocation->usage, HasSubstr("--expires DUR"));

  EXPECT_THAT(Usage(), HasSubstr("  whoami        show whom the token belongs to\n"));
  EXPECT_THAT(Usage(), HasSubstr("  org create    create an org\n"));
}

TEST(ParseCommandLineTest, AdminBackupTakesItsDestination) {
  absl::StatusOr<Invocation> invocation = Parse({"admin", "backup", "/srv/backups/today"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kAdminBackup);
  EXPECT_EQ(invocation->backup_dest, "/srv/backups/today");
  EXPECT_EQ(UsageErrorOf({"admin", "backup"}), "admin backup needs exactly one DEST");
  EXPECT_EQ(UsageErrorOf({"admin", "backup", ""}), "admin backup: DEST is empty");
  EXPECT_EQ(UsageErrorOf({"admin"}), "admin needs a command: backup");
  EXPECT_THAT(Usage(), HasSubstr("  admin backup  write an online backup of every org"));
}

TEST(ParseCommandLineTest, AuthUsageErrorsSayWhatIsWrong) {
  EXPECT_EQ(UsageErrorOf({"token"}), "token needs a command: create, list, get, revoke");
  EXPECT_EQ(UsageErrorOf({"token", "delete", "x"}),
            "unknown command \"token delete\" (token commands: create, list, get, revoke)");
  EXPECT_EQ(UsageErrorOf({"token", "create", "--role", "SDR"}),
            "token create needs --user, e.g. --user dana@example.com");
  EXPECT_EQ(UsageErrorOf({"token", "create", "--user", "u"}),
            "token create needs --role, e.g. --role SDR");
  EXPECT_EQ(UsageErrorOf({"token", "create", "--user", "u", "--role", "CEO"}),
            "--role: unknown role \"CEO\" (one of SDR, AE, SALES_MANAGER, SALES_OPS, MARKETING, "
            "VP_SALES, MARKETING_DIRECTOR, ADMIN, INTEGRATION)");
  EXPECT_EQ(UsageErrorOf({"token", "create", "--user", "u", "--role", "SDR", "--expires", "30"}),
            "--expires: expected a duration such as 30d, 12h, 90m or 3600s, got \"30\"");
  EXPECT_EQ(UsageErrorOf({"token", "revoke"}), "token revoke needs exactly one NAME");
  EXPECT_EQ(UsageErrorOf({"token", "list", "--user", "u"}), "unknown flag --user for token list");
  EXPECT_EQ(UsageErrorOf({"org", "create", "Acme"}),
            "org create: \"Acme\" is not an org id (1-63 of [a-z0-9-], starting with a letter)");
  EXPECT_EQ(UsageErrorOf({"--token=", "whoami"}), "--token: empty value");
  EXPECT_EQ(UsageErrorOf({"--tls-cert", "c.pem", "whoami"}),
            "--tls-cert and --tls-key go together (mutual TLS)");
  EXPECT_EQ(UsageErrorOf({"--tls-key", "k.pem", "whoami"}),
            "--tls-cert and --tls-key go together (mutual TLS)");
  EXPECT_EQ(UsageErrorOf({"--tls-server-name", "x", "whoami"}),
            "--tls-server-name needs TLS (--tls, --tls-ca or --tls-cert)");
  EXPECT_EQ(UsageErrorOf({"--tls=yes", "whoami"}), "--tls takes no value");
}

TEST(ParseCommandLineTest, TokenCreateForAnIntegrationTakesItsCrmAndDelegableRoles) {
  absl::StatusOr<Invocation> invocation =
      Parse({"token", "create", "--user", "salesforce-integration", "--role", "INTEGRATION",
             "--crm", "salesforce", "--delegable-roles", "SDR,ae", "--delegable-roles",
             "sales-manager"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  const v1::Token& token = invocation->create_token.token();
  EXPECT_EQ(token.crm(), "salesforce");
  ASSERT_EQ(token.roles_size(), 1);
  EXPECT_EQ(token.roles(0), v1::INTEGRATION);
  EXPECT_THAT(std::vector<int>(token.delegable_roles().begin(), token.delegable_roles().end()),
              ::testing::ElementsAre(v1::SDR, v1::AE, v1::SALES_MANAGER));
  EXPECT_TRUE(token.hubspot_portal_id().empty());
  EXPECT_TRUE(invocation->hubspot_client_secret_file.empty());
}

TEST(ParseCommandLineTest, TokenCreateForHubSpotTakesThePortalAndTheSecretsFileNeverTheSecret) {
  absl::StatusOr<Invocation> invocation =
      Parse({"token", "create", "--user", "hubspot-integration", "--role", "INTEGRATION", "--crm",
             "hubspot", "--delegable-roles", "SDR", "--hubspot-portal-id", "123456",
             "--hubspot-client-secret-file", "/run/hubspot.secret"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->create_token.token().hubspot_portal_id(), "123456");
  EXPECT_EQ(invocation->hubspot_client_secret_file, "/run/hubspot.secret");
  // ParseCommandLine reads no files: RunCommand reads the secret.
  EXPECT_TRUE(invocation->create_token.hubspot_client_secret().empty());
  EXPECT_EQ(UsageErrorOf({"token", "create", "--user", "u", "--role", "INTEGRATION",
                          "--hubspot-client-secret", "s3cret"}),
            "unknown flag --hubspot-client-secret for token create");
}

TEST(ParseCommandLineTest, TokenCreateIntegrationUsageErrorsSayWhatIsWrong) {
  const std::vector<std::string> create = {"token", "create", "--user", "u", "--role",
                                           "INTEGRATION"};
  auto with = [&create](std::vector<std::string> more) {
    std::vector<std::string> args = create;
    args.insert(args.end(), more.begin(), more.end());
    return UsageErrorOf(args);
  };
  EXPECT_EQ(with({"--crm", "pipedrive"}),
            "--crm: unknown CRM \"pipedrive\" (one of salesforce, hubspot)");
  EXPECT_THAT(with({"--delegable-roles", "SDR,CEO"}),
              StartsWith("--delegable-roles: unknown role \"CEO\" (one of SDR, AE,"));
  EXPECT_EQ(with({"--delegable-roles", ","}), "--delegable-roles: no role in \",\"");
  EXPECT_EQ(with({"--hubspot-portal-id", "1"}),
            "--hubspot-portal-id and --hubspot-client-secret-file go together");
  EXPECT_EQ(with({"--hubspot-client-secret-file", "f"}),
            "--hubspot-portal-id and --hubspot-client-secret-file go together");
  EXPECT_EQ(with({"--hubspot-portal-id="}), "--hubspot-portal-id: empty value");
}

TEST(ParseCommandLineTest, TokenCreateHelpShowsTheIntegrationFlagsAndAnExample) {
  absl::StatusOr<Invocation> invocation = Parse({"token", "create", "--help"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_THAT(invocation->usage, HasSubstr("--delegable-roles ROLE[,ROLE...]"));
  EXPECT_THAT(invocation->usage, HasSubstr("--hubspot-client-secret-file FILE"));
  EXPECT_THAT(invocation->usage,
              HasSubstr("sopctl token create --user salesforce-integration --role INTEGRATION "
                        "--crm salesforce --delegable-roles SDR,AE,SALES_MANAGER\n"));
}

TEST(ParseCommandLineTest, RoleMapCommandsNameTheMapInTheOrg) {
  absl::StatusOr<Invocation> invocation = Parse({"--org", "acme", "rolemap", "get", "salesforce"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kRoleMapGet);
  EXPECT_EQ(invocation->name, "orgs/acme/roleMaps/salesforce");

  invocation = Parse({"rolemap", "get", "orgs/b/roleMaps/hubspot"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->name, "orgs/b/roleMaps/hubspot");

  invocation = Parse({"rolemap", "set", "hubspot", "--entry", "Inside Sales=SDR",
                      "--entry", "*=sdr", "--entry", "user:ae@example.com=AE, SDR",
                      "--entry", "a=b=AE"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kRoleMapSet);
  const v1::RoleMap& map = invocation->update_role_map.role_map();
  EXPECT_EQ(map.name(), "orgs/default/roleMaps/hubspot");
  ASSERT_EQ(map.entries_size(), 4);
  EXPECT_EQ(map.entries(0).crm_role(), "Inside Sales");
  EXPECT_THAT(map.entries(0).roles(), ::testing::ElementsAre(v1::SDR));
  EXPECT_EQ(map.entries(1).crm_role(), "*");
  EXPECT_EQ(map.entries(2).crm_role(), "user:ae@example.com");
  EXPECT_THAT(map.entries(2).roles(), ::testing::ElementsAre(v1::AE, v1::SDR));
  // Split at the last '=': roles never hold one.
  EXPECT_EQ(map.entries(3).crm_role(), "a=b");
}

TEST(ParseCommandLineTest, RoleMapUsageErrorsNameTheEntry) {
  EXPECT_EQ(UsageErrorOf({"rolemap", "set", "salesforce"}),
            "rolemap set needs --entry, e.g. --entry \"Inside Sales=SDR\"");
  EXPECT_EQ(UsageErrorOf({"rolemap", "set", "salesforce", "--entry", "Inside Sales"}),
            "--entry \"Inside Sales\": expected CRM_ROLE=ROLE[,ROLE...], e.g. \"Inside "
            "Sales=SDR\"");
  EXPECT_EQ(UsageErrorOf({"rolemap", "set", "salesforce", "--entry", "=SDR"}),
            "--entry \"=SDR\": expected CRM_ROLE=ROLE[,ROLE...], e.g. \"Inside Sales=SDR\"");
  EXPECT_THAT(UsageErrorOf({"rolemap", "set", "salesforce", "--entry", "Inside Sales=SDR,Rep"}),
              StartsWith("--entry \"Inside Sales=SDR,Rep\": unknown role \"Rep\" (one of SDR,"));
  EXPECT_EQ(UsageErrorOf({"rolemap", "set", "salesforce", "--entry", "Inside Sales="}),
            "--entry \"Inside Sales=\": no role in \"\"");
  EXPECT_EQ(UsageErrorOf({"rolemap", "get", "zoho"}),
            "rolemap get: unknown CRM \"zoho\" (one of salesforce, hubspot)");
  EXPECT_EQ(UsageErrorOf({"rolemap", "get"}), "rolemap get needs exactly one CRM");
  EXPECT_EQ(UsageErrorOf({"rolemap"}), "rolemap needs a command: get, set");
}

TEST(ParseCommandLineTest, FieldMapCommandsNameTheMapAndTheFile) {
  absl::StatusOr<Invocation> invocation = Parse({"fieldmap", "get", "hubspot", "--org", "acme"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kFieldMapGet);
  EXPECT_EQ(invocation->name, "orgs/acme/fieldMaps/hubspot");

  invocation = Parse({"fieldmap", "set", "salesforce", "--file", "map.yaml"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kFieldMapSet);
  EXPECT_EQ(invocation->name, "orgs/default/fieldMaps/salesforce");
  EXPECT_EQ(invocation->field_map_path, "map.yaml");

  invocation = Parse({"fieldmap", "set", "salesforce", "-f", "m.json"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->field_map_path, "m.json");

  EXPECT_EQ(UsageErrorOf({"fieldmap", "set", "salesforce"}),
            "fieldmap set needs -f FILE, e.g. -f map.yaml");
  EXPECT_EQ(UsageErrorOf({"fieldmap", "get", "sf"}),
            "fieldmap get: unknown CRM \"sf\" (one of salesforce, hubspot)");
  EXPECT_THAT(Usage(), HasSubstr("  fieldmap set  replace the org's field map for a CRM"));
  EXPECT_THAT(Usage(), HasSubstr("  rolemap get   show the org's role map for a CRM\n"));
}

TEST(ParseCommandLineTest, LookupInACrmsNamesSetsTheContextsCrm) {
  absl::StatusOr<Invocation> invocation = Parse(
      {"lookup", "--crm", "salesforce", "--record-type", "Lead", "--field", "Status=MQL"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->lookup.context().crm(), "salesforce");
  EXPECT_EQ(invocation->lookup.context().fields().at("Status").string_value(), "MQL");

  invocation = Parse({"lookup", "--record-type", "Lead"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_TRUE(invocation->lookup.context().crm().empty());
  EXPECT_EQ(UsageErrorOf({"lookup", "--crm", "Salesforce", "--record-type", "Lead"}),
            "--crm: unknown CRM \"Salesforce\" (one of salesforce, hubspot)");
}

TEST(ParseCommandLineTest, ViewerFlagsAreGlobalAndNeedAViewerId) {
  absl::StatusOr<Invocation> invocation =
      Parse({"--token-file", "integration.token", "--viewer-id", "005A", "--viewer-crm-role",
             "Inside Sales", "lookup", "--record-type", "Lead", "--viewer-crm-role", "EMEA Team",
             "--viewer-name", "Dana Rep"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->global.viewer_id, "005A");
  EXPECT_EQ(invocation->global.viewer_name, "Dana Rep");
  EXPECT_THAT(invocation->global.viewer_crm_roles,
              ::testing::ElementsAre("Inside Sales", "EMEA Team"));

  invocation = Parse({"whoami"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_TRUE(invocation->global.viewer_id.empty());
  EXPECT_TRUE(invocation->global.viewer_crm_roles.empty());

  EXPECT_EQ(UsageErrorOf({"--viewer-crm-role", "Inside Sales", "whoami"}),
            "--viewer-name and --viewer-crm-role need --viewer-id");
  EXPECT_EQ(UsageErrorOf({"--viewer-name", "Dana", "whoami"}),
            "--viewer-name and --viewer-crm-role need --viewer-id");
  EXPECT_EQ(UsageErrorOf({"--viewer-id=", "whoami"}), "--viewer-id: empty value");
  EXPECT_EQ(UsageErrorOf({"--viewer-id", "a", "--viewer-id", "b", "whoami"}),
            "--viewer-id is given twice");
  EXPECT_THAT(Usage(), HasSubstr("--viewer-crm-role ROLE"));
}

TEST(ParseRoleListTest, SplitsAtCommasAndNamesTheFlagInErrors) {
  absl::StatusOr<std::vector<v1::Role>> roles = ParseRoleList(" sdr, AE ,,vp-sales", "--x");
  ASSERT_TRUE(roles.ok()) << roles.status();
  EXPECT_THAT(*roles, ::testing::ElementsAre(v1::SDR, v1::AE, v1::VP_SALES));
  EXPECT_THAT(std::string(ParseRoleList("SDR,Rep", "--x").status().message()),
              StartsWith("--x: unknown role \"Rep\""));
}

TEST(ResolveCrmMapNameTest, BareCrmIsTheMapInTheOrg) {
  EXPECT_EQ(ResolveCrmMapName("hubspot", "acme", "fieldMaps"), "orgs/acme/fieldMaps/hubspot");
  EXPECT_EQ(ResolveCrmMapName("orgs/b/roleMaps/x", "acme", "roleMaps"), "orgs/b/roleMaps/x");
}

TEST(ParseLifetimeTest, AcceptsDaysHoursMinutesSecondsAndSums) {
  EXPECT_EQ(ParseLifetime("30d").value(), absl::Hours(24 * 30));
  EXPECT_EQ(ParseLifetime("12h").value(), absl::Hours(12));
  EXPECT_EQ(ParseLifetime("90m").value(), absl::Minutes(90));
  EXPECT_EQ(ParseLifetime("3600s").value(), absl::Seconds(3600));
  EXPECT_EQ(ParseLifetime("1d2h3m4s").value(),
            absl::Hours(26) + absl::Minutes(3) + absl::Seconds(4));
}

TEST(ParseLifetimeTest, RejectsMalformedZeroAndHugeDurations) {
  for (const char* text : {"", "30", "d", "30x", "1.5d", "-1d", "30 d", "30D", "1d2"}) {
    EXPECT_EQ(ParseLifetime(text).status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
  EXPECT_EQ(ParseLifetime("0d").status(),
            absl::InvalidArgumentError("\"0d\" is not a positive duration"));
  EXPECT_TRUE(ParseLifetime("3652500d").ok());
  EXPECT_EQ(ParseLifetime("3652501d").status(),
            absl::InvalidArgumentError("\"3652501d\" is longer than 10,000 years"));
  EXPECT_EQ(ParseLifetime("99999999999999999999s").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseLifetime("9223372036854775807d").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ParseRoleTest, AcceptsAnyCaseAndDashes) {
  EXPECT_EQ(ParseRole("sdr").value(), v1::SDR);
  EXPECT_EQ(ParseRole("Sales-Manager").value(), v1::SALES_MANAGER);
  EXPECT_EQ(ParseRole("ROLE_UNSPECIFIED").status().code(), absl::StatusCode::kInvalidArgument);
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

TEST(ResolveTokenNameTest, BareIdIsInTheOrg) {
  EXPECT_EQ(ResolveTokenName("t1", "acme"), "orgs/acme/tokens/t1");
  EXPECT_EQ(ResolveTokenName("orgs/b/tokens/t2", "acme"), "orgs/b/tokens/t2");
}

TEST(ResolveOrgNameTest, BareIdIsAnOrgName) {
  EXPECT_EQ(ResolveOrgName("acme"), "orgs/acme");
  EXPECT_EQ(ResolveOrgName("orgs/b"), "orgs/b");
}

TEST(ResolveSopNameTest, BareIdIsInTheOrg) {
  EXPECT_EQ(ResolveSopName("x", "acme"), "orgs/acme/sops/x");
  EXPECT_EQ(ResolveSopName("orgs/b/sops/y", "acme"), "orgs/b/sops/y");
}

TEST(GovernanceCommandsTest, SubmitTakesTheSopAndAnOptionalComment) {
  absl::StatusOr<Invocation> invocation =
      Parse({"--org", "acme", "submit", "mql-handoff", "--comment", "new SLA"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kSubmit);
  EXPECT_EQ(invocation->submit.name(), "orgs/acme/sops/mql-handoff");
  EXPECT_EQ(invocation->submit.comment(), "new SLA");
}

TEST(GovernanceCommandsTest, ApproveTakesARoleInAnyCaseAndAComment) {
  absl::StatusOr<Invocation> invocation =
      Parse({"approve", "x", "--role", "sales-manager", "--comment", "ok"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kApprove);
  EXPECT_EQ(invocation->approve.name(), "orgs/default/sops/x");
  EXPECT_EQ(invocation->approve.role(), v1::SALES_MANAGER);
  EXPECT_EQ(invocation->approve.comment(), "ok");
}

TEST(GovernanceCommandsTest, ApproveAndRejectNameTheRevisionReviewed) {
  absl::StatusOr<Invocation> invocation = Parse({"approve", "x", "--revision", "4"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->approve.revision_id(), "4");
  invocation = Parse({"reject", "x", "--comment", "no", "--revision", "5"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->reject.revision_id(), "5");
  EXPECT_EQ(UsageErrorOf({"approve", "x", "--revision", "draft"}),
            "--revision: expected a revision id (a positive integer), got \"draft\"");
}

TEST(GovernanceCommandsTest, ApproveWithoutARoleLeavesItToTheServer) {
  absl::StatusOr<Invocation> invocation = Parse({"approve", "x"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->approve.role(), v1::ROLE_UNSPECIFIED);
}

TEST(GovernanceCommandsTest, ApproveRefusesAnUnknownRoleNamingTheFlag) {
  EXPECT_THAT(UsageErrorOf({"approve", "x", "--role", "boss"}),
              StartsWith("--role: unknown role \"boss\""));
}

TEST(GovernanceCommandsTest, RejectNeedsACommentSayingWhy) {
  EXPECT_EQ(UsageErrorOf({"reject", "x"}),
            "reject needs --comment saying why, e.g. --comment \"step 2 is wrong\"");
  EXPECT_EQ(UsageErrorOf({"reject", "x", "--comment="}), "--comment: empty value");
  absl::StatusOr<Invocation> invocation =
      Parse({"reject", "x", "--comment", "step 2 is wrong", "--role", "AE"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kReject);
  EXPECT_EQ(invocation->reject.name(), "orgs/default/sops/x");
  EXPECT_EQ(invocation->reject.comment(), "step 2 is wrong");
  EXPECT_EQ(invocation->reject.role(), v1::AE);
}

TEST(GovernanceCommandsTest, PublishIsNotAnEmergencyUnlessSaid) {
  absl::StatusOr<Invocation> invocation = Parse({"publish", "x"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->publish_sop.name(), "orgs/default/sops/x");
  EXPECT_FALSE(invocation->publish_sop.emergency());
  EXPECT_EQ(invocation->publish_sop.reason(), "");
}

TEST(GovernanceCommandsTest, EmergencyPublishCarriesItsReason) {
  absl::StatusOr<Invocation> invocation =
      Parse({"publish", "x", "--emergency", "--reason", "pricing error live"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->name, "orgs/default/sops/x");
  EXPECT_TRUE(invocation->publish_sop.emergency());
  EXPECT_EQ(invocation->publish_sop.reason(), "pricing error live");
}

TEST(GovernanceCommandsTest, EmergencyWithoutAReasonIsRefusedNamingReason) {
  EXPECT_EQ(UsageErrorOf({"publish", "x", "--emergency"}),
            "--emergency needs --reason, e.g. --reason \"pricing error live\"");
  EXPECT_EQ(UsageErrorOf({"publish", "x", "--emergency", "--reason="}), "--reason: empty value");
  EXPECT_EQ(UsageErrorOf({"publish", "x", "--reason", "why"}), "--reason goes with --emergency");
}

TEST(GovernanceCommandsTest, DiffTakesRevisionIdsOrLiveOrDraft) {
  absl::StatusOr<Invocation> invocation = Parse({"diff", "x", "3", "draft"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kDiff);
  EXPECT_EQ(invocation->diff.revision_a(), "orgs/default/sops/x/revisions/3");
  EXPECT_EQ(invocation->diff.revision_b(), "orgs/default/sops/x/revisions/draft");
  invocation = Parse({"diff", "orgs/b/sops/y", "live", "12"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->diff.revision_a(), "orgs/b/sops/y/revisions/live");
  EXPECT_EQ(invocation->diff.revision_b(), "orgs/b/sops/y/revisions/12");
}

TEST(GovernanceCommandsTest, DiffRefusesARevisionThatIsNoneOfThoseNamingIt) {
  EXPECT_EQ(UsageErrorOf({"diff", "x", "0", "draft"}),
            "REV_A: expected a revision id (a positive integer), \"live\" or \"draft\", got \"0\"");
  EXPECT_EQ(UsageErrorOf({"diff", "x", "3", "head"}),
            "REV_B: expected a revision id (a positive integer), \"live\" or \"draft\", got "
            "\"head\"");
  EXPECT_EQ(UsageErrorOf({"diff", "x", "3"}), "diff needs NAME REV_A REV_B, got 2 arguments");
}

TEST(GovernanceCommandsTest, RestoreTakesARevisionIdOnly) {
  absl::StatusOr<Invocation> invocation = Parse({"restore", "x", "4"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kRestore);
  EXPECT_EQ(invocation->restore.name(), "orgs/default/sops/x/revisions/4");
  EXPECT_EQ(UsageErrorOf({"restore", "x", "live"}),
            "REV: expected a revision id (a positive integer), got \"live\"");
  EXPECT_EQ(UsageErrorOf({"restore", "x"}), "restore needs NAME REV, got 1 argument");
}

TEST(GovernanceCommandsTest, GetRevisionNamesTheRevision) {
  absl::StatusOr<Invocation> invocation = Parse({"get", "x", "--revision", "2"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->revision, "orgs/default/sops/x/revisions/2");
  EXPECT_EQ(UsageErrorOf({"get", "x", "--revision", "two"}),
            "--revision: expected a revision id (a positive integer), got \"two\"");
  invocation = Parse({"get", "x"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->revision, "");
}

TEST(GovernanceCommandsTest, ReviewedTakesTheSopAndAComment) {
  absl::StatusOr<Invocation> invocation = Parse({"reviewed", "x", "--comment", "still right"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kReviewed);
  EXPECT_EQ(invocation->reviewed.name(), "orgs/default/sops/x");
  EXPECT_EQ(invocation->reviewed.comment(), "still right");
}

TEST(GovernanceCommandsTest, ReviewsDueWithinIsADuration) {
  absl::StatusOr<Invocation> invocation = Parse({"--org", "acme", "reviews", "due"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kReviewsDue);
  EXPECT_EQ(invocation->due_reviews.parent(), "orgs/acme");
  EXPECT_FALSE(invocation->due_reviews.has_within());
  invocation = Parse({"reviews", "due", "--within", "30d"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->due_reviews.within().seconds(), 30 * 86400);
}

TEST(GovernanceCommandsTest, BadWithinIsRefusedNamingTheFlag) {
  EXPECT_EQ(UsageErrorOf({"reviews", "due", "--within", "a month"}),
            "--within: expected a duration such as 30d, 12h, 90m or 3600s, got \"a month\"");
  EXPECT_EQ(UsageErrorOf({"reviews", "due", "--within", "0d"}),
            "--within: \"0d\" is not a positive duration");
}

TEST(GovernanceCommandsTest, LookupAsOfIsAnRfc3339Time) {
  absl::StatusOr<Invocation> invocation =
      Parse({"lookup", "--record-type", "Lead", "--as-of", "2024-04-01T11:00:00+02:00"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->lookup.as_of_time().seconds(), 1711962000);  // 09:00 UTC
  invocation = Parse({"lookup", "--record-type", "Lead"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_FALSE(invocation->lookup.has_as_of_time());
}

TEST(GovernanceCommandsTest, BadAsOfIsRefusedNamingTheFlag) {
  EXPECT_EQ(UsageErrorOf({"lookup", "--record-type", "Lead", "--as-of", "yesterday"}),
            "--as-of: expected an RFC 3339 time such as 2024-05-01T08:00:00Z, got \"yesterday\"");
  EXPECT_EQ(UsageErrorOf({"lookup", "--record-type", "Lead", "--as-of", "2024-05-01"}),
            "--as-of: expected an RFC 3339 time such as 2024-05-01T08:00:00Z, got "
            "\"2024-05-01\"");
  EXPECT_EQ(UsageErrorOf(
                {"lookup", "--record-type", "Lead", "--watch", "--as-of", "2024-05-01T00:00:00Z"}),
            "--as-of and --watch cannot be combined (a watch follows the present)");
}

TEST(GovernanceCommandsTest, CommentAddTakesTheTextAndAStep) {
  absl::StatusOr<Invocation> invocation =
      Parse({"comment", "add", "x", "Call within **5 minutes**?", "--step", "2"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kCommentAdd);
  EXPECT_EQ(invocation->add_comment.parent(), "orgs/default/sops/x");
  EXPECT_EQ(invocation->add_comment.comment().text(), "Call within **5 minutes**?");
  EXPECT_EQ(invocation->add_comment.comment().step_ordinal(), 2);
  EXPECT_EQ(UsageErrorOf({"comment", "add", "x", "hi", "--step", "0"}),
            "--step: expected a positive integer, got \"0\"");
  EXPECT_EQ(UsageErrorOf({"comment", "add", "x"}), "comment add needs NAME TEXT, got 1 argument");
  EXPECT_EQ(UsageErrorOf({"comment", "add", "x", ""}), "comment add: the comment's TEXT is empty");
}

TEST(GovernanceCommandsTest, CommentListAndResolve) {
  absl::StatusOr<Invocation> invocation = Parse({"comment", "list", "x", "--unresolved"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kCommentList);
  EXPECT_EQ(invocation->list_comments.parent(), "orgs/default/sops/x");
  EXPECT_TRUE(invocation->list_comments.unresolved_only());
  invocation = Parse({"--org", "acme", "comment", "resolve", "x/c7"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kCommentResolve);
  EXPECT_EQ(invocation->name, "orgs/acme/sops/x/comments/c7");
  invocation = Parse({"comment", "resolve", "orgs/b/sops/y/comments/c1"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->name, "orgs/b/sops/y/comments/c1");
  EXPECT_THAT(UsageErrorOf({"comment", "resolve", "c7"}),
              StartsWith("COMMENT: expected SOP_ID/COMMENT_ID or a full name"));
}

TEST(GovernanceCommandsTest, AuditListFilters) {
  absl::StatusOr<Invocation> invocation =
      Parse({"--org", "acme", "audit", "list", "--sop", "x", "--actor", "dana", "--since",
             "2024-05-01T00:00:00Z", "--until", "2024-05-02T00:00:00Z"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kAuditList);
  const v1::ListAuditEventsRequest& request = invocation->list_audit;
  EXPECT_EQ(request.parent(), "orgs/acme");
  EXPECT_EQ(request.resource(), "orgs/acme/sops/x");
  EXPECT_EQ(request.actor(), "dana");
  EXPECT_EQ(request.start_time().seconds(), 1714521600);
  EXPECT_EQ(request.end_time().seconds(), 1714608000);
}

TEST(GovernanceCommandsTest, AuditListRefusesBadTimesNamingTheFlag) {
  EXPECT_EQ(UsageErrorOf({"audit", "list", "--since", "May 1st"}),
            "--since: expected an RFC 3339 time such as 2024-05-01T08:00:00Z, got \"May 1st\"");
  EXPECT_EQ(UsageErrorOf({"audit", "list", "--until", "1714521600"}),
            "--until: expected an RFC 3339 time such as 2024-05-01T08:00:00Z, got "
            "\"1714521600\"");
  EXPECT_EQ(UsageErrorOf({"audit", "list", "--since", "2024-05-02T00:00:00Z", "--until",
                          "2024-05-01T00:00:00Z"}),
            "--until must be later than --since");
}

TEST(GovernanceCommandsTest, AuditVerifyAndHeadAreAboutTheOrg) {
  absl::StatusOr<Invocation> invocation =
      Parse({"--org", "acme", "audit", "verify", "--head-file", "head.json"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kAuditVerify);
  EXPECT_EQ(invocation->verify_audit.parent(), "orgs/acme");
  EXPECT_EQ(invocation->audit_head_file, "head.json");
  EXPECT_EQ(UsageErrorOf({"audit", "verify", "--head-file="}), "--head-file: empty value");
  invocation = Parse({"--org", "acme", "audit", "head", "-o", "json"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kAuditHead);
  EXPECT_EQ(invocation->audit_head.parent(), "orgs/acme");
  EXPECT_EQ(UsageErrorOf({"audit"}), "audit needs a command: list, verify, head");
}

TEST(GovernanceCommandsTest, UsageListsTheNewCommands) {
  EXPECT_THAT(Usage(), HasSubstr("  submit        send an SOP's draft for review\n"));
  EXPECT_THAT(Usage(), HasSubstr("  diff          show what changed between two revisions"));
  EXPECT_THAT(Usage(), HasSubstr("  comment resolve  mark a comment resolved\n"));
  EXPECT_THAT(Usage(), HasSubstr("  reviews due   list published SOPs whose review is due\n"));
  absl::StatusOr<Invocation> help = Parse({"help", "publish"});
  ASSERT_TRUE(help.ok()) << help.status();
  EXPECT_THAT(help->usage, HasSubstr("--reason TEXT"));
}

}  // namespace
}  // namespace sopsidebar::cli
