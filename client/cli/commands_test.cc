#include "client/cli/commands.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <streambuf>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "client/cli/in_process_sopd.h"
#include "common/model/names.h"
#include "common/proto_time.h"
#include "common/sopfile/sop_file.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "server/domain/store/sop_store.h"

namespace sopsidebar::cli {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

// sopctl's commands run against sopd's own domain in process (the real
// registries over in-memory stores, in_process_sopd.h): what the tests expect
// of the server is what the server does. `connection_` records the calls and
// injects what the domain cannot do (a server going away mid-run).
class CommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("sopctl_", ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    InProcessSopd::Options options;
    // Small pages, so that lists and histories of a few items page.
    options.registry.default_page_size = 2;
    absl::StatusOr<std::unique_ptr<InProcessSopd>> sopd = InProcessSopd::Start(options);
    ASSERT_TRUE(sopd.ok()) << sopd.status();
    sopd_ = *std::move(sopd);
    // Sales Ops, who may write and publish; tests of other callers change it.
    CallAs(Issue("default", "ops@example.com", {v1::SALES_OPS}));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The secret of a new token of `user_id` with `roles` in the org `org`.
  std::string Issue(const std::string& org, const std::string& user_id,
                    const std::vector<v1::Role>& roles) {
    absl::StatusOr<std::string> secret = sopd_->IssueToken(org, user_id, roles);
    EXPECT_TRUE(secret.ok()) << secret.status();
    return secret.value_or("");
  }
  // From now on sopctl's calls reach sopd with `token`, as sopctl's
  // connection would send it (the token sopctl itself is given only decides
  // whether it calls at all).
  void CallAs(const std::string& token, client::ConnectionOptions::Viewer viewer = {}) {
    connection_ = std::make_shared<FaultInjectingConnection>(sopd_->Connect(token, viewer));
    client_ = client::Client(connection_);
  }
  // The secret of a Salesforce INTEGRATION token in orgs/default that may
  // delegate SDR and AE, created with sopctl as the server admin.
  std::string CreateSalesforceIntegration() {
    CallAs(sopd_->admin_token());
    EXPECT_EQ(Run({"token", "create", "--user", "salesforce-integration", "--role", "INTEGRATION",
                   "--crm", "salesforce", "--delegable-roles", "SDR,AE"}),
              0)
        << err_.str();
    return std::string(absl::StripSuffix(out_.str(), "\n"));
  }

  // The head of orgs/{org}/sops/{id} as sopd stores it.
  absl::StatusOr<v1::Sop> Head(const std::string& id, const std::string& org = "default") {
    return sopd_->sop_store().GetHead(SopName{org, id});
  }

  std::string Write(const std::string& name, const std::string& contents) {
    std::ofstream(dir_ / name) << contents;
    return (dir_ / name).string();
  }

  // Sales Ops publishes handoff (created as revision 1, published as 2) and
  // edits its draft (revision 3, "Handoff v2"); from then on an SDR calls,
  // who reads revision 2.
  void PublishThenEditAsOpsThenCallAsSdr();
  // Publishes the shipped examples as an ADMIN (without their sign-offs,
  // in an emergency); then calls as a sales manager, who sees them all.
  void PublishExamplesAsAdmin() {
    CallAs(Issue("default", "admin@example.com", {v1::ADMIN}));
    ASSERT_EQ(Run({"apply", "-f", SOP_EXAMPLES_DIR, "--publish", "--emergency", "--reason",
                   "the examples"}),
              0)
        << err_.str();
    CallAs(Issue("default", "max@example.com", {v1::SALES_MANAGER}));
  }
  // Publishes other (kOther) and applies handoff (kHandoff), a draft that
  // ties with it; leaves only handoff.yaml in dir_.
  void PublishOtherAndApplyHandoff();

  // Runs a command line with a token in $SOPCTL_TOKEN unless `with_token` is
  // false; returns the exit status, output in out_ / err_.
  int Run(std::vector<std::string> args, bool with_token = true) {
    out_.str("");
    err_.str("");
    absl::StatusOr<Invocation> invocation =
        ParseCommandLine(args, [with_token](const std::string& name) -> std::optional<std::string> {
          if (with_token && name == "SOPCTL_TOKEN") return "sops_t0k3n";
          return std::nullopt;
        });
    EXPECT_TRUE(invocation.ok()) << invocation.status();
    if (!invocation.ok()) return 2;
    return RunCommand(*invocation, client_, out_, err_);
  }

  std::filesystem::path dir_;
  std::unique_ptr<InProcessSopd> sopd_;
  std::shared_ptr<FaultInjectingConnection> connection_;
  client::Client client_{nullptr};
  std::ostringstream out_;
  std::ostringstream err_;
};

constexpr char kHandoff[] =
    "title: Handoff\nowner: Sales Ops\ntargeting_rules:\n  - record_types: [Lead]\n";

// The SOP other, published: it ties with kHandoff on every Lead.
constexpr char kOther[] =
    "title: Other\nowner: Sales Ops\ntargeting_rules:\n  - record_types: [Lead]\n";

// What sopd says of a tie between two kHandoff-like SOPs: same priority,
// same specificity, and every Lead matches both.
constexpr char kTieWithA[] =
    "warning: ties with orgs/default/sops/a (rule 1 vs its rule 1, priority 0, specificity 1), "
    "e.g. record_type=Lead\n";
constexpr char kTieWithOther[] =
    "warning: ties with orgs/default/sops/other (rule 1 vs its rule 1, priority 0, specificity "
    "1), e.g. record_type=Lead\n";
// What `check` prints for handoff's tie with other (published: revision 2).
constexpr char kTiesWithOther[] =
    "ties with orgs/default/sops/other (rev 2)\n"
    "  rules:        this SOP's rule 1 vs its rule 1\n"
    "  priority:     0\n"
    "  specificity:  1\n"
    "  example:      record_type=Lead\n";

std::string StripNewline(const std::string& line) {
  return std::string(absl::StripSuffix(line, "\n"));
}

void CommandsTest::PublishThenEditAsOpsThenCallAsSdr() {
  const std::string path = Write("handoff.yaml", kHandoff);
  ASSERT_EQ(Run({"apply", "-f", path, "--publish"}), 0) << err_.str();
  Write("handoff.yaml", absl::StrReplaceAll(kHandoff, {{"Handoff", "Handoff v2"}}));
  ASSERT_EQ(Run({"apply", "-f", path}), 0) << err_.str();
  std::filesystem::remove(path);
  CallAs(Issue("default", "sam@example.com", {v1::SDR}));
}

void CommandsTest::PublishOtherAndApplyHandoff() {
  const std::string other = Write("other.yaml", kOther);
  ASSERT_EQ(Run({"apply", "-f", other, "--publish"}), 0) << err_.str();
  std::filesystem::remove(other);
  ASSERT_EQ(Run({"apply", "-f", Write("handoff.yaml", kHandoff)}), 0) << err_.str();
  connection_->ClearCalls();
}

TEST_F(CommandsTest, ApplyCreatesMissingSopWithRequestId) {
  const std::string path = Write("handoff.yaml", kHandoff);
  EXPECT_EQ(Run({"apply", "-f", path}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "created orgs/default/sops/handoff\n");
  const std::vector<v1::CreateSopRequest> creates = connection_->requests<v1::CreateSopRequest>();
  ASSERT_EQ(creates.size(), 1u);
  EXPECT_EQ(creates[0].parent(), "orgs/default");
  EXPECT_EQ(creates[0].sop_id(), "handoff");
  EXPECT_THAT(creates[0].request_id(), StartsWith("apply-"));
  ASSERT_TRUE(Head("handoff").ok());
  EXPECT_EQ(Head("handoff")->title(), "Handoff");
  EXPECT_EQ(Head("handoff")->state(), v1::Sop::DRAFT);
}

constexpr char kSlaTemplate[] = R"(title: SLA handoff
placeholders:
  - key: team
required_fields: [purpose]
sla_requirements:
  - term: min_lead_score
    min_number: 75
sop:
  title: "Handoff: {{team}}"
  owner: Sales Ops
  targeting_rules:
    - record_types: [Lead]
  sla_terms:
    - name: min_lead_score
      number: 60
)";

TEST_F(CommandsTest, TemplatesApplyIsIdempotentAndNewMakesAnSopThatSubmitHoldsToIt) {
  const std::string path = Write("sla-handoff.yaml", kSlaTemplate);
  ASSERT_EQ(Run({"templates", "apply", "-f", path}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "created orgs/default/templates/sla-handoff\n");
  ASSERT_EQ(Run({"templates", "apply", "-f", path}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "unchanged orgs/default/templates/sla-handoff\n");
  Write("sla-handoff.yaml", absl::StrReplaceAll(kSlaTemplate, {{"title: SLA", "title: The SLA"}}));
  ASSERT_EQ(Run({"templates", "apply", "-f", path}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "updated orgs/default/templates/sla-handoff\n");
  ASSERT_EQ(Run({"templates", "list"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("orgs/default/templates/sla-handoff"));
  ASSERT_EQ(Run({"templates", "get", "sla-handoff"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("min_lead_score >= 75"));

  ASSERT_EQ(Run({"new", "--template", "sla-handoff", "--set", "team=EMEA", "--id", "emea"}), 0)
      << err_.str();
  EXPECT_THAT(out_.str(), StartsWith("created orgs/default/sops/emea: DRAFT\n"));
  EXPECT_THAT(out_.str(), HasSubstr("Handoff: EMEA"));
  EXPECT_NE(Run({"submit", "emea"}), 0);
  EXPECT_THAT(err_.str(), HasSubstr("purpose is empty; the sla-handoff template requires it"));
  EXPECT_THAT(err_.str(),
              HasSubstr("min_lead_score is 60; the sla-handoff template requires at least 75"));
}

TEST_F(CommandsTest, TemplatesApplyOfABadFileNamesTheLineAndSendsNothing) {
  const std::string path = Write("bad.yaml", "description: no title\nrequired_fields: [colour]\n");
  EXPECT_NE(Run({"templates", "apply", "-f", path}), 0);
  EXPECT_THAT(err_.str(), HasSubstr(path + ":1: title: is required"));
  EXPECT_THAT(err_.str(), HasSubstr(path + ":2: required_fields[0]"));
  EXPECT_TRUE(connection_->requests<v1::CreateTemplateRequest>().empty());
}

TEST_F(CommandsTest, ApplyTwiceLeavesTheSopUnchanged) {
  const std::string path = Write("handoff.yaml", kHandoff);
  ASSERT_EQ(Run({"apply", "-f", path}), 0) << err_.str();
  EXPECT_EQ(Run({"apply", "-f", path}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "unchanged orgs/default/sops/handoff\n");
  EXPECT_THAT(connection_->calls(),
              ElementsAre("WhoAmI", "GetSop", "CreateSop", "WhoAmI", "GetSop"));
  EXPECT_EQ(Head("handoff")->revision_id(), "1");
}

TEST_F(CommandsTest, ApplyUpdatesAChangedSop) {
  const std::string path = Write("handoff.yaml", kHandoff);
  ASSERT_EQ(Run({"apply", "-f", path}), 0) << err_.str();
  Write("handoff.yaml", absl::StrReplaceAll(kHandoff, {{"Handoff", "Handoff v2"}}));
  EXPECT_EQ(Run({"apply", "-f", path}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "updated orgs/default/sops/handoff\n");
  EXPECT_EQ(Head("handoff")->title(), "Handoff v2");
  EXPECT_EQ(Head("handoff")->revision_id(), "2");
}

// The file is the whole SOP: sopctl sends update_mask "*", so the server
// clears what the file no longer says (without a mask it would keep it).
TEST_F(CommandsTest, ApplyClearsWhatTheFileNoLongerSays) {
  const std::string path =
      Write("handoff.yaml", absl::StrCat(kHandoff, "tags: [mql]\npurpose: Hand leads over.\n"));
  ASSERT_EQ(Run({"apply", "-f", path}), 0) << err_.str();
  ASSERT_THAT(Head("handoff")->tags(), ElementsAre("mql"));
  Write("handoff.yaml", kHandoff);
  EXPECT_EQ(Run({"apply", "-f", path}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "updated orgs/default/sops/handoff\n");
  EXPECT_THAT(Head("handoff")->tags(), IsEmpty());
  EXPECT_EQ(Head("handoff")->purpose(), "");
  const std::vector<v1::UpdateSopRequest> updates = connection_->requests<v1::UpdateSopRequest>();
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_THAT(updates[0].update_mask().paths(), ElementsAre("*"));
}

TEST_F(CommandsTest, ApplyWithPublishPublishesOnlyDraftsAhead) {
  const std::string path = Write("handoff.yaml", kHandoff);
  EXPECT_EQ(Run({"apply", "-f", path, "--publish"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "created orgs/default/sops/handoff\npublished orgs/default/sops/handoff\n");
  // Publishing is a revision of its own.
  EXPECT_EQ(Head("handoff")->published_revision_id(), "2");
  EXPECT_EQ(Run({"apply", "-f", path, "--publish"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "unchanged orgs/default/sops/handoff\n");
  EXPECT_EQ(Head("handoff")->revision_id(), "2");
}

TEST_F(CommandsTest, ApplyWithPublishWarnsAboutEachPublishedSopsTies) {
  Write("a.yaml", kHandoff);
  Write("b.yaml", kHandoff);
  EXPECT_EQ(Run({"apply", "-f", dir_.string(), "--publish"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "created orgs/default/sops/a\npublished orgs/default/sops/a\n"
            "created orgs/default/sops/b\npublished orgs/default/sops/b\n");
  // Only b's tie with a, once: when a was published, b was not yet.
  EXPECT_EQ(err_.str(), kTieWithA);
}

TEST_F(CommandsTest, ApplyToAnotherOrgThanTheTokensWritesNothing) {
  Write("a.yaml", kHandoff);
  const std::string other = Write("b.yaml", "name: orgs/acme/sops/b\ntitle: T\nowner: O\n");
  EXPECT_EQ(Run({"apply", "-f", dir_.string()}), 1);
  EXPECT_EQ(err_.str(), absl::StrCat("NOT_FOUND: ", other,
                                     ": org orgs/acme not found\n"
                                     "nothing applied: 1 of 2 SOPs cannot be applied\n"));
  EXPECT_THAT(connection_->calls(), Not(Contains("CreateSop")));
  EXPECT_EQ(sopd_->sop_store().write_count(), 0);
}

TEST_F(CommandsTest, ApplyUsesTheOrgOfTheNameInTheFile) {
  CallAs(Issue("acme", "ops@acme.com", {v1::SALES_OPS}));
  const std::string path =
      Write("x.yaml", "name: orgs/acme/sops/handoff\ntitle: T\nowner: O\nstate: PUBLISHED\n");
  EXPECT_EQ(Run({"apply", "-f", path}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "created orgs/acme/sops/handoff\n");
  const std::vector<v1::CreateSopRequest> creates = connection_->requests<v1::CreateSopRequest>();
  ASSERT_EQ(creates.size(), 1u);
  EXPECT_EQ(creates[0].parent(), "orgs/acme");
  EXPECT_EQ(creates[0].sop().name(), "");
  EXPECT_EQ(creates[0].sop().state(), v1::Sop::STATE_UNSPECIFIED);
  EXPECT_EQ(Head("handoff", "acme")->state(), v1::Sop::DRAFT);
}

TEST_F(CommandsTest, ApplyOfAnyBadFileSendsNothing) {
  Write("a.yaml", kHandoff);
  Write("b.yaml", "title: T\nowner: O\nsteps:\n  - ordinal: 0\n    title: S\n");
  EXPECT_EQ(Run({"apply", "-f", dir_.string()}), 1);
  EXPECT_EQ(err_.str(),
            absl::StrCat((dir_ / "b.yaml").string(), ":4: steps[0].ordinal: must be positive\n"));
  EXPECT_THAT(connection_->calls(), IsEmpty());
  EXPECT_EQ(out_.str(), "");
}

TEST_F(CommandsTest, ApplyPrintsEveryErrorOfEveryFileOnItsOwnLine) {
  const std::string a = Write("a.yaml", "title: T\nsteps:\n  - ordinal: 0\n    title: S\n");
  const std::string b = Write("b.yaml", "owner: O\n");
  EXPECT_EQ(Run({"apply", "-f", dir_.string()}), 1);
  EXPECT_EQ(err_.str(), absl::StrCat(a, ":1: owner: is required\n", a,
                                     ":3: steps[0].ordinal: must be positive\n", b,
                                     ":1: title: is required\n"));
  EXPECT_THAT(connection_->calls(), IsEmpty());
}

TEST_F(CommandsTest, ApplyWarnsAboutOutputOnlyKeysAndAppliesTheRest) {
  const std::string path = Write("handoff.yaml", "title: Handoff\nowner: O\nstate: PUBLISHED\n");
  EXPECT_EQ(Run({"apply", "-f", path}), 0) << err_.str();
  EXPECT_EQ(err_.str(), absl::StrCat(path,
                                     ":3: warning: state: is output-only and ignored; the server "
                                     "sets it (apply --publish publishes)\n"));
  EXPECT_EQ(out_.str(), "created orgs/default/sops/handoff\n");
  EXPECT_EQ(Head("handoff")->state(), v1::Sop::DRAFT);
}

TEST_F(CommandsTest, ApplyWithPublishWritesNothingWhenPublishWouldFail) {
  Write("a.yaml", kHandoff);
  const std::string b = Write("b.yaml", "title: B\nowner: Ops\n");
  Write("c.yaml", kHandoff);
  EXPECT_EQ(Run({"apply", "-f", dir_.string(), "--publish"}), 1);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(), absl::StrCat("FAILED_PRECONDITION: ", b,
                                     ": SOP orgs/default/sops/b cannot be published: it has no "
                                     "targeting_rules, so no record would match it\n"
                                     "nothing applied: 1 of 3 SOPs cannot be applied\n"));
  EXPECT_THAT(connection_->calls(), ElementsAre("WhoAmI", "GetSop", "GetSop", "GetSop"));
  EXPECT_EQ(sopd_->sop_store().write_count(), 0);
}

// The real registry never refuses b's publish while publishing a's; a
// server going away mid-run does, so the connection injects it.
TEST_F(CommandsTest, ApplyStoppedByTheServerNamesWhatWasAppliedWhatFailedAndWhatWasNotAttempted) {
  Write("a.yaml", kHandoff);
  const std::string b = Write("b.yaml", kHandoff);
  Write("c.yaml", kHandoff);
  connection_->Fail("PublishSop", "orgs/default/sops/b", absl::UnavailableError("sopd went away"));
  EXPECT_EQ(Run({"apply", "-f", dir_.string(), "--publish"}), 1);
  EXPECT_EQ(out_.str(),
            "created orgs/default/sops/a\npublished orgs/default/sops/a\n"
            "created orgs/default/sops/b\n");
  EXPECT_EQ(err_.str(),
            absl::StrCat("UNAVAILABLE: ", b, ": sopd went away\n",
                         "apply stopped at orgs/default/sops/b; the SOPs before it stay applied:\n"
                         "applied orgs/default/sops/a (created, published)\n"
                         "failed orgs/default/sops/b (created, not published; UNAVAILABLE: sopd "
                         "went away)\n"
                         "not attempted orgs/default/sops/c\n"));
  EXPECT_EQ(Head("a")->state(), v1::Sop::PUBLISHED);
  EXPECT_EQ(Head("b")->state(), v1::Sop::DRAFT);
  EXPECT_EQ(Head("c").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CommandsTest, ApplyDryRunPrintsWhatItWouldDoAndWritesNothing) {
  Write("a.yaml", kHandoff);
  Write("b.yaml", kHandoff);
  ASSERT_EQ(Run({"apply", "-f", dir_.string(), "--publish"}), 0) << err_.str();
  Write("b.yaml", absl::StrReplaceAll(kHandoff, {{"Handoff", "Handoff v2"}}));
  Write("c.yaml", kHandoff);
  const int writes = sopd_->sop_store().write_count();
  connection_->ClearCalls();
  EXPECT_EQ(Run({"apply", "-f", dir_.string(), "--publish", "--dry-run"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "unchanged orgs/default/sops/a\n"
            "would update orgs/default/sops/b\nwould publish orgs/default/sops/b\n"
            "would create orgs/default/sops/c\nwould publish orgs/default/sops/c\n"
            "dry run: nothing written\n");
  EXPECT_THAT(connection_->calls(), ElementsAre("WhoAmI", "GetSop", "GetSop", "GetSop"));
  EXPECT_EQ(sopd_->sop_store().write_count(), writes);
  EXPECT_EQ(Head("b")->title(), "Handoff");
}

TEST_F(CommandsTest, ApplyDryRunReportsWhatARealApplyWouldRefuse) {
  const std::string b = Write("b.yaml", "title: B\nowner: Ops\n");
  EXPECT_EQ(Run({"apply", "-f", dir_.string(), "--publish", "--dry-run"}), 1);
  const std::string dry_err = err_.str();
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(Run({"apply", "-f", dir_.string(), "--publish"}), 1);
  EXPECT_EQ(err_.str(), dry_err);
  EXPECT_THAT(dry_err, HasSubstr("cannot be published"));
  EXPECT_THAT(connection_->calls(), Not(Contains("CreateSop")));
}

TEST_F(CommandsTest, ApplyByACallerWhoCannotReadDraftsSaysItComparedWithThePublishedRevision) {
  PublishThenEditAsOpsThenCallAsSdr();
  EXPECT_EQ(Run({"apply", "-f", Write("handoff.yaml", kHandoff), "--publish"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "unchanged orgs/default/sops/handoff (compared with published revision 2: your roles "
            "cannot read drafts)\n");
}

TEST_F(CommandsTest, ApplyOfAChangedFileByACallerWhoMayNotWriteIsPermissionDeniedBeforeAnyWrite) {
  PublishThenEditAsOpsThenCallAsSdr();
  const int writes = sopd_->sop_store().write_count();
  Write("a.yaml", kHandoff);
  const std::string path = Write("handoff.yaml", "title: Mine\nowner: Ops\n");
  EXPECT_EQ(Run({"apply", "-f", dir_.string()}), 1);
  EXPECT_EQ(err_.str(),
            absl::StrCat("PERMISSION_DENIED: ", (dir_ / "a.yaml").string(),
                         ": your roles do not allow you to create, change or delete SOPs\n"
                         "PERMISSION_DENIED: ",
                         path,
                         ": your roles do not allow you to create, change or delete SOPs\n"
                         "nothing applied: 2 of 2 SOPs cannot be applied\n"));
  EXPECT_THAT(connection_->calls(), ElementsAre("WhoAmI", "GetSop", "GetSop"));
  EXPECT_EQ(sopd_->sop_store().write_count(), writes);
}

TEST_F(CommandsTest, ValidateOfValidFilesNamesEachSopAndCallsNoServer) {
  const std::string a = Write("a.yaml", "name: orgs/acme/sops/handoff\ntitle: T\nowner: O\n");
  const std::string b = Write("b.yaml", kHandoff);
  EXPECT_EQ(Run({"validate", "-f", dir_.string(), "--org", "west"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), absl::StrCat("valid ", a, ": orgs/acme/sops/handoff\nvalid ", b,
                                     ": orgs/west/sops/b\n"));
  EXPECT_EQ(err_.str(), "");
  EXPECT_THAT(connection_->calls(), IsEmpty());
}

std::string MqlHandoffFile() {
  return absl::StrCat(SOP_EXAMPLES_DIR, "/mql-acceptance-handoff.yaml");
}

TEST_F(CommandsTest, DiagramOfAFileNeedsNoServerOrToken) {
  EXPECT_EQ(Run({"diagram", MqlHandoffFile(), "--kind", "swimlane", "--format", "dot"},
                /*with_token=*/false),
            0)
      << err_.str();
  EXPECT_THAT(out_.str(), StartsWith("digraph sop {\n"));
  EXPECT_THAT(out_.str(), HasSubstr("  subgraph cluster_sales_ops {\n"));
  EXPECT_THAT(out_.str(), HasSubstr("  subgraph cluster_sdr {\n"));
  EXPECT_EQ(err_.str(), "");
  EXPECT_THAT(connection_->calls(), IsEmpty());
  const absl::StatusOr<Invocation> invocation = ParseCommandLine(
      {"diagram", MqlHandoffFile()}, [](const std::string&) { return std::nullopt; });
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_TRUE(RunsOffline(*invocation));
}

TEST_F(CommandsTest, DiagramByNameDrawsTheSopSopdServes) {
  PublishExamplesAsAdmin();
  ASSERT_EQ(Run({"diagram", MqlHandoffFile(), "--kind", "swimlane"}), 0) << err_.str();
  const std::string offline = out_.str();
  connection_->ClearCalls();
  ASSERT_EQ(Run({"diagram", "mql-acceptance-handoff", "--kind", "swimlane"}), 0) << err_.str();
  EXPECT_THAT(connection_->calls(), ElementsAre("GetSopDiagram"));
  EXPECT_EQ(out_.str(), offline);
  EXPECT_THAT(out_.str(),
              HasSubstr("  step1 ==>|\"lead_status → #quot;MQL – New Handoff#quot;\"| gate2\n"));
}

TEST_F(CommandsTest, DraftPrintsTheSavedDraftAsAnSopFile) {
  ASSERT_EQ(
      Run({"draft", "inbound MQL, 5-touch cadence over 5 days, call/email", "--id", "mql-cadence"}),
      0)
      << err_.str();
  EXPECT_THAT(connection_->calls(), ElementsAre("DraftSop"));
  absl::StatusOr<v1::Sop> sop = ParseSopFile("draft.yaml", out_.str());
  ASSERT_TRUE(sop.ok()) << sop.status() << "\n" << out_.str();
  EXPECT_EQ(sop->name(), "orgs/default/sops/mql-cadence");
  EXPECT_EQ(sop->state(), v1::Sop::DRAFT);
  EXPECT_EQ(err_.str(),
            "drafted by the builtin drafter; saved as DRAFT orgs/default/sops/mql-cadence: "
            "review it, then \"sopctl submit\"\n");
}

TEST_F(CommandsTest, DiagramOfAMissingSopIsNotFound) {
  EXPECT_EQ(Run({"diagram", "missing"}), 1);
  EXPECT_EQ(err_.str(), "NOT_FOUND: SOP orgs/default/sops/missing not found\n");
  EXPECT_EQ(out_.str(), "");
}

TEST_F(CommandsTest, DiagramOfAnSopWithoutStepsNamesTheField) {
  ASSERT_EQ(Run({"apply", "-f", Write("handoff.yaml", kHandoff)}), 0) << err_.str();
  EXPECT_EQ(Run({"diagram", "handoff"}), 1);
  EXPECT_EQ(err_.str(),
            "INVALID_ARGUMENT: orgs/default/sops/handoff: steps: is empty: a diagram needs at "
            "least one step\n");
  EXPECT_EQ(Run({"diagram", (dir_ / "handoff.yaml").string()}, /*with_token=*/false), 1);
  EXPECT_EQ(err_.str(), absl::StrCat("INVALID_ARGUMENT: ", (dir_ / "handoff.yaml").string(),
                                     ": steps: is empty: a diagram needs at least one step\n"));
}

TEST_F(CommandsTest, DiagramOfAnInvalidFileListsItsErrorsAsValidateDoes) {
  const std::string path = Write("bad.yaml", "title: T\nsteps: [{ordinal: 1}]\n");
  EXPECT_EQ(Run({"diagram", path}, /*with_token=*/false), 1);
  EXPECT_THAT(err_.str(), HasSubstr(absl::StrCat(path, ":1: owner: is required\n")));
  EXPECT_EQ(out_.str(), "");
}

TEST_F(CommandsTest, DiagramAsSvgAndPngGoesToTheFileOfDashO) {
  const std::string svg = (dir_ / "mql.svg").string();
  const int status =
      Run({"diagram", MqlHandoffFile(), "--kind", "swimlane", "--format", "svg", "-o", svg});
  if (absl::StrContains(err_.str(), "install graphviz")) {
    GTEST_SKIP() << "Graphviz's dot is not installed (scripts/setup installs graphviz): "
                 << err_.str();
  }
  ASSERT_EQ(status, 0) << err_.str();
  EXPECT_EQ(out_.str(), "");
  std::ifstream svg_file(svg);
  const std::string image((std::istreambuf_iterator<char>(svg_file)),
                          std::istreambuf_iterator<char>());
  EXPECT_THAT(image, HasSubstr("<svg"));
  EXPECT_THAT(image, HasSubstr(">SALES_OPS</text>"));
  EXPECT_THAT(image, HasSubstr(">SDR</text>"));
  EXPECT_THAT(image, HasSubstr("MQL Acceptance &amp; Handoff"));

  const std::string png = (dir_ / "mql.png").string();
  ASSERT_EQ(Run({"diagram", MqlHandoffFile(), "--format", "png", "-o", png}), 0) << err_.str();
  std::ifstream png_file(png, std::ios::binary);
  std::string magic(8, '\0');
  png_file.read(magic.data(), magic.size());
  EXPECT_EQ(magic, "\x89PNG\r\n\x1a\n");

  EXPECT_EQ(Run({"diagram", MqlHandoffFile(), "-o", (dir_ / "no/such/dir.mmd").string()}), 1);
  EXPECT_THAT(err_.str(), StartsWith("INVALID_ARGUMENT: -o: cannot write \""));
}

TEST_F(CommandsTest, ValidatePrintsEveryErrorAndFails) {
  const std::string path = Write("s.yaml",
                                 "title: T\n"
                                 "targeting_rules:\n"
                                 "  - record_types: [Lead]\n"
                                 "    priority: 5000\n"
                                 "visibility_roles: [SDR, CEO]\n");
  std::ostringstream out;
  std::ostringstream err;
  absl::StatusOr<Invocation> invocation =
      ParseCommandLine({"validate", "-f", path}, [](const std::string&) { return std::nullopt; });
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(RunOffline(*invocation, out, err), kExitFailed);
  EXPECT_EQ(err.str(),
            absl::StrCat(path, ":1: owner: is required\n", path,
                         ":4: targeting_rules[0].priority: must be between 0 and 1000\n", path,
                         ":5: visibility_roles[1]: unknown value \"CEO\" for Role; expected one "
                         "of SDR, AE, SALES_MANAGER, SALES_OPS, MARKETING, VP_SALES, "
                         "MARKETING_DIRECTOR, ADMIN\n"));
  EXPECT_EQ(out.str(), "");
}

TEST_F(CommandsTest, ValidateOfAMissingPathIsNotFound) {
  const std::string missing = (dir_ / "missing").string();
  EXPECT_EQ(Run({"validate", "-f", missing}), 1);
  EXPECT_EQ(err_.str(), absl::StrCat("NOT_FOUND: ", missing, ": no such file or directory\n"));
}

TEST_F(CommandsTest, ExportedSopAppliesBackUnchanged) {
  ASSERT_EQ(Run({"apply", "-f", Write("handoff.yaml", kHandoff), "--publish"}), 0) << err_.str();
  ASSERT_EQ(Run({"get", "handoff", "-o", "json"}), 0) << err_.str();
  const std::string exported = Write("exported.json", out_.str());
  const int writes = sopd_->sop_store().write_count();
  EXPECT_EQ(Run({"apply", "-f", exported}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "unchanged orgs/default/sops/handoff\n");
  EXPECT_EQ(sopd_->sop_store().write_count(), writes);
}

TEST_F(CommandsTest, ApplyOfAStaleExportIsAborted) {
  ASSERT_EQ(Run({"apply", "-f", Write("handoff.yaml", kHandoff)}), 0) << err_.str();
  ASSERT_EQ(Run({"get", "handoff", "-o", "json"}), 0) << err_.str();
  std::string exported = out_.str();
  exported.replace(exported.find("Handoff"), 7, "Handoff (edited)");
  const std::string path = Write("exported.json", exported);
  // Someone else changes the SOP after the export.
  ASSERT_EQ(Run({"apply", "-f", Write("handoff.yaml", "title: Other\nowner: O\n")}), 0);
  connection_->ClearCalls();

  EXPECT_EQ(Run({"apply", "-f", path}), 1);
  EXPECT_EQ(err_.str(), absl::StrCat("ABORTED: ", path,
                                     ": SOP orgs/default/sops/handoff was changed since the etag "
                                     "was read; get it again and retry\n"
                                     "nothing applied: 1 of 1 SOPs cannot be applied\n"));
  EXPECT_THAT(connection_->calls(), Not(Contains("UpdateSop")));
  EXPECT_EQ(Head("handoff")->title(), "Other");
}

TEST_F(CommandsTest, RpcErrorPrintsCodeAndMessage) {
  EXPECT_EQ(Run({"get", "missing"}), 1);
  EXPECT_EQ(err_.str(), "NOT_FOUND: SOP orgs/default/sops/missing not found\n");
  EXPECT_EQ(out_.str(), "");
}

TEST_F(CommandsTest, MalformedNameIsRefusedByTheServerQuotingItEscaped) {
  EXPECT_EQ(Run({"get", "orgs/default/sops/x\x1b[2J"}), 1);
  EXPECT_EQ(err_.str(),
            "INVALID_ARGUMENT: name: \"orgs/default/sops/x\\x1b[2J\" is not a valid name; "
            "expected orgs/{org}/sops/{sop}\n");
  EXPECT_EQ(out_.str(), "");
}

// sopd quotes input escaped (error::QuoteInput); a message with a raw
// control character (from something else on the way) is escaped by sopctl.
TEST_F(CommandsTest, RpcErrorMessageIsEscaped) {
  connection_->Fail("GetSop", "orgs/default/sops/x",
                    absl::NotFoundError("SOP orgs/default/sops/x\x1b[2J not found"));
  EXPECT_EQ(Run({"get", "x"}), 1);
  EXPECT_EQ(err_.str(), "NOT_FOUND: SOP orgs/default/sops/x\\x1b[2J not found\n");
}

TEST_F(CommandsTest, UnreachableSopdIsUnavailableAndNothingIsWritten) {
  connection_->FailEverything(absl::UnavailableError("failed to connect to all addresses"));
  EXPECT_EQ(Run({"apply", "-f", Write("handoff.yaml", kHandoff)}), 1);
  EXPECT_EQ(err_.str(), "UNAVAILABLE: failed to connect to all addresses\n");
  EXPECT_THAT(connection_->calls(), ElementsAre("WhoAmI"));
  EXPECT_EQ(sopd_->sop_store().write_count(), 0);
}

// Text the API refuses today (control characters) may be in SOPs stored
// before: an SOP planted in the store, served after a restart.
TEST_F(CommandsTest, GetEscapesControlCharactersInText) {
  SopWrite write;
  write.head.set_name("orgs/default/sops/evil");
  write.head.set_title("Evil\x1b]0;owned\a");
  write.head.set_owner("O");
  write.head.set_state(v1::Sop::DRAFT);
  write.head.set_revision_id("1");
  write.revision.set_name("orgs/default/sops/evil/revisions/1");
  *write.revision.mutable_snapshot() = write.head;
  ASSERT_TRUE(sopd_->sop_store().Write(write).ok());
  ASSERT_TRUE(sopd_->Restart().ok());
  EXPECT_EQ(Run({"get", "evil"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("Title:  Evil\\x1b]0;owned\\x07\n"));
  EXPECT_EQ(Run({"get", "evil", "-o", "json"}), 0) << err_.str();
  v1::Sop printed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(out_.str(), &printed).ok()) << out_.str();
  EXPECT_EQ(printed.title(), write.head.title());
}

TEST_F(CommandsTest, GetPrintsASummary) {
  ASSERT_EQ(Run({"apply", "-f", Write("handoff.yaml", kHandoff)}), 0) << err_.str();
  EXPECT_EQ(Run({"get", "orgs/default/sops/handoff"}), 0) << err_.str();
  // A new SOP's draft is in review state DRAFT: it has yet to be submitted.
  EXPECT_THAT(out_.str(), StartsWith("orgs/default/sops/handoff\n"
                                     "  Title:         Handoff\n"
                                     "  Owner:         Sales Ops\n"
                                     "  State:         DRAFT, draft rev 1\n"
                                     "  Draft review:  DRAFT\n"
                                     "  Updated:       2024-05-01T08:00:00Z\n"));
}

TEST_F(CommandsTest, GetShowsTheOwnersUserId) {
  ASSERT_EQ(Run({"apply", "-f",
                 Write("handoff.yaml",
                       "title: Handoff\nowner: Sales Ops\n"
                       "owner_user_id: dana@acme.com\n")}),
            0)
      << err_.str();
  EXPECT_EQ(Run({"get", "handoff"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), StartsWith("orgs/default/sops/handoff\n"
                                     "  Title:         Handoff\n"
                                     "  Owner:         Sales Ops\n"
                                     "  Owner user:    dana@acme.com\n"));
}

TEST_F(CommandsTest, PublishWithoutTiesWarnsAboutNothing) {
  ASSERT_EQ(Run({"apply", "-f", Write("handoff.yaml", kHandoff)}), 0) << err_.str();
  EXPECT_EQ(Run({"publish", "handoff"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "published orgs/default/sops/handoff (rev 2)\n");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(CommandsTest, PublishWarnsAboutEachTieOnStderrAndSucceeds) {
  PublishOtherAndApplyHandoff();
  ASSERT_EQ(Run({"apply", "-f", Write("another.yaml", kOther), "--publish"}), 0) << err_.str();
  EXPECT_EQ(Run({"publish", "handoff"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "published orgs/default/sops/handoff (rev 2)\n");
  // One line per tie; their order is the server's to choose.
  const std::vector<std::string> warnings = absl::StrSplit(err_.str(), '\n', absl::SkipEmpty());
  EXPECT_THAT(warnings, UnorderedElementsAre(StripNewline(kTieWithOther),
                                             "warning: ties with orgs/default/sops/another (rule 1 "
                                             "vs its rule 1, priority 0, specificity 1), e.g. "
                                             "record_type=Lead"));
  EXPECT_EQ(Head("handoff")->state(), v1::Sop::PUBLISHED);
}

TEST_F(CommandsTest, PublishWithJsonPrintsTheWholeResponseAndNoWarnings) {
  PublishOtherAndApplyHandoff();
  EXPECT_EQ(Run({"publish", "handoff", "-o", "json"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), StartsWith("{\n \"sop\": {"));
  EXPECT_THAT(out_.str(), HasSubstr("\"published_revision_id\": \"2\""));
  EXPECT_THAT(out_.str(), HasSubstr("\"ties\": ["));
  EXPECT_THAT(out_.str(), HasSubstr("\"sop\": \"orgs/default/sops/other\""));
  EXPECT_EQ(err_.str(), "");
}

TEST_F(CommandsTest, CheckWithoutTiesSaysSo) {
  ASSERT_EQ(Run({"apply", "-f", Write("handoff.yaml", kHandoff)}), 0) << err_.str();
  EXPECT_EQ(Run({"check", "handoff", "--fail-on-ties"}), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(), "no ties\n");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(CommandsTest, CheckPrintsTiesAndSucceedsWithoutFailOnTies) {
  PublishOtherAndApplyHandoff();
  EXPECT_EQ(Run({"check", "handoff"}), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(), kTiesWithOther);
  EXPECT_EQ(err_.str(), "");
  // Checking publishes nothing.
  EXPECT_EQ(Head("handoff")->state(), v1::Sop::DRAFT);
}

TEST_F(CommandsTest, CheckWithFailOnTiesExitsThreeWhenThereAreTies) {
  PublishOtherAndApplyHandoff();
  EXPECT_EQ(Run({"check", "handoff", "--fail-on-ties"}), kExitTiesFound);
  EXPECT_THAT(out_.str(), StartsWith("ties with orgs/default/sops/other (rev 2)\n"));
  EXPECT_EQ(Run({"check", "handoff", "--fail-on-ties", "-o", "json"}), kExitTiesFound);
  EXPECT_THAT(out_.str(), StartsWith("{\n \"ties\": ["));
  EXPECT_THAT(out_.str(), HasSubstr("\"sop\": \"orgs/default/sops/other\""));
}

TEST_F(CommandsTest, CheckOfAMissingSopFails) {
  EXPECT_EQ(Run({"check", "missing", "--fail-on-ties"}), kExitFailed);
  EXPECT_EQ(err_.str(), "NOT_FOUND: SOP orgs/default/sops/missing not found\n");
  EXPECT_EQ(out_.str(), "");
}

// Published: x, matching a Lead in "MQL – New Handoff" (an en dash).
constexpr char kMqlSop[] =
    "title: X\nowner: Sales Ops\ntargeting_rules:\n"
    "  - record_types: [Lead]\n    priority: 100\n    conditions:\n"
    "      - field: lead_status\n        equals: \"MQL – New Handoff\"\n";

TEST_F(CommandsTest, LookupWithNearMissesAsksForThemAndListsThemAfterTheMatches) {
  ASSERT_EQ(Run({"apply", "-f", Write("x.yaml", kMqlSop), "--publish"}), 0) << err_.str();
  EXPECT_EQ(Run({"lookup", "--record-type", "Lead", "--field", "lead_status=MQL - New Handoff",
                 "--near-misses"}),
            0)
      << err_.str();
  const std::vector<v1::LookupSopsRequest> lookups = connection_->requests<v1::LookupSopsRequest>();
  ASSERT_EQ(lookups.size(), 1u);
  EXPECT_TRUE(lookups[0].include_near_misses());
  EXPECT_EQ(out_.str(),
            "No published SOP matches this record.\n"
            "near misses:\n"
            "  orgs/default/sops/x rule 1 (priority 100): failed lead_status = \"MQL – New "
            "Handoff\" (actual \"MQL - New Handoff\": differs only by dash)\n");
}

// Text another thread may read while a command writes it.
class SharedOutput : public std::streambuf {
 public:
  std::string text() const {
    absl::MutexLock lock(&mu_);
    return text_;
  }

 protected:
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    absl::MutexLock lock(&mu_);
    text_.push_back(traits_type::to_char_type(c));
    return c;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    absl::MutexLock lock(&mu_);
    text_.append(s, n);
    return n;
  }

 private:
  mutable absl::Mutex mu_;
  std::string text_ ABSL_GUARDED_BY(mu_);
};

// Polls `done` every 10 ms for up to 10 s; whether it became true.
bool WaitFor(const std::function<bool()>& done) {
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (!done()) {
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

TEST_F(CommandsTest, LookupWatchPrintsTheResultThenEachUpdateUntilTheStreamEnds) {
  ASSERT_EQ(Run({"apply", "-f", Write("x.yaml", kMqlSop), "--publish"}), 0) << err_.str();
  const std::vector<std::string> lookup = {"lookup", "--record-type", "Lead", "--field",
                                           "lead_status=MQL – New Handoff"};
  ASSERT_EQ(Run(lookup), 0) << err_.str();
  const std::string before = out_.str();

  std::vector<std::string> watch = lookup;
  watch.push_back("--watch");
  absl::StatusOr<Invocation> invocation =
      ParseCommandLine(watch, [](const std::string& name) -> std::optional<std::string> {
        if (name == "SOPCTL_TOKEN") return "sops_t0k3n";
        return std::nullopt;
      });
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  SharedOutput out_buffer;
  SharedOutput err_buffer;
  std::ostream out(&out_buffer);
  std::ostream err(&err_buffer);
  client::Client watch_client = client_;
  int exit_status = -1;
  std::thread watcher([&] { exit_status = RunCommand(*invocation, watch_client, out, err); });

  // Once the watch is open its first result is on its way: a publish now is
  // an update.
  EXPECT_TRUE(WaitFor([&] { return sopd_->open_watches() == 1; }));
  EXPECT_EQ(Run({"apply", "-f", Write("handoff.yaml", kHandoff), "--publish"}), 0) << err_.str();
  EXPECT_TRUE(WaitFor([&] { return absl::StrContains(out_buffer.text(), "--- updated "); }))
      << out_buffer.text();
  sopd_->EndWatches();
  watcher.join();

  ASSERT_EQ(Run(lookup), 0) << err_.str();
  const std::string after = out_.str();
  ASSERT_NE(after, before);
  EXPECT_THAT(after, HasSubstr("orgs/default/sops/handoff"));
  EXPECT_EQ(exit_status, kExitOk);
  EXPECT_EQ(err_buffer.text(), "");
  const std::string text = out_buffer.text();
  ASSERT_THAT(text, StartsWith(before));
  const std::string rest = text.substr(before.size());
  EXPECT_THAT(rest.substr(0, rest.find('\n')),
              MatchesRegex("--- updated [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"));
  EXPECT_EQ(rest.substr(rest.find('\n') + 1), after);
  ASSERT_EQ(connection_->requests<v1::WatchSopsRequest>().size(), 1u);
  EXPECT_EQ(connection_->requests<v1::WatchSopsRequest>()[0].context().record_type(), "Lead");
}

TEST_F(CommandsTest, LookupWatchThatCannotOpenPrintsTheErrorAndFails) {
  connection_->Fail("WatchSops", "orgs/default", absl::UnavailableError("sopd went away"));
  EXPECT_EQ(Run({"lookup", "--record-type", "Lead", "--watch"}), kExitFailed);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(), "UNAVAILABLE: sopd went away\n");
}

TEST_F(CommandsTest, LookupWatchEndsWithUnauthenticatedOnceTheTokenIsRevoked) {
  const std::string sdr = Issue("default", "sdr@example.com", {v1::SDR});
  CallAs(sdr);
  absl::StatusOr<Invocation> invocation =
      ParseCommandLine({"lookup", "--record-type", "Lead", "--watch"},
                       [](const std::string& name) -> std::optional<std::string> {
                         if (name == "SOPCTL_TOKEN") return "sops_t0k3n";
                         return std::nullopt;
                       });
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  SharedOutput out_buffer;
  SharedOutput err_buffer;
  std::ostream out(&out_buffer);
  std::ostream err(&err_buffer);
  client::Client watch_client = client_;
  int exit_status = -1;
  std::thread watcher([&] { exit_status = RunCommand(*invocation, watch_client, out, err); });
  EXPECT_TRUE(WaitFor([&] { return sopd_->open_watches() == 1; }));
  // Revoked as a server admin would; the next re-run (on this publish) ends
  // the watch.
  absl::StatusOr<Caller> admin = sopd_->access().Authenticate(sopd_->admin_token());
  ASSERT_TRUE(admin.ok()) << admin.status();
  absl::StatusOr<Caller> sdr_caller = sopd_->access().Authenticate(sdr);
  ASSERT_TRUE(sdr_caller.ok()) << sdr_caller.status();
  v1::RevokeTokenRequest revoke;
  revoke.set_name(sdr_caller->token_name);
  ASSERT_TRUE(sopd_->access().RevokeToken(*admin, revoke).ok());
  CallAs(Issue("default", "ops@example.com", {v1::SALES_OPS}));
  EXPECT_EQ(Run({"apply", "-f", Write("handoff.yaml", kHandoff), "--publish"}), 0) << err_.str();
  watcher.join();
  EXPECT_EQ(exit_status, kExitFailed);
  EXPECT_EQ(out_buffer.text(), "No published SOP matches this record.\n");
  EXPECT_THAT(err_buffer.text(), StartsWith("UNAUTHENTICATED: "));
}

TEST_F(CommandsTest, HistoryAsksForTheBasicViewAndPrintsEveryPage) {
  const std::string path = Write("handoff.yaml", kHandoff);
  ASSERT_EQ(Run({"apply", "-f", path}), 0) << err_.str();
  Write("handoff.yaml", absl::StrReplaceAll(kHandoff, {{"Handoff", "Handoff v2"}}));
  ASSERT_EQ(Run({"apply", "-f", path}), 0) << err_.str();
  Write("handoff.yaml", absl::StrReplaceAll(kHandoff, {{"Sales Ops", "Revenue Ops"}}));
  ASSERT_EQ(Run({"apply", "-f", path}), 0) << err_.str();
  // Three revisions, two to a page.
  EXPECT_EQ(Run({"history", "handoff"}), 0) << err_.str();
  const std::vector<v1::ListSopRevisionsRequest> lists =
      connection_->requests<v1::ListSopRevisionsRequest>();
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_EQ(lists[0].view(), v1::SOP_VIEW_BASIC);
  EXPECT_EQ(lists[1].view(), v1::SOP_VIEW_BASIC);
  EXPECT_NE(lists[1].page_token(), "");
  EXPECT_THAT(out_.str(), HasSubstr("updated title, owner"));
  EXPECT_THAT(out_.str(), HasSubstr("updated title"));
  EXPECT_THAT(out_.str(), HasSubstr("created"));
}

TEST_F(CommandsTest, ListAsksForTheBasicViewAndForTheFullViewAsJson) {
  ASSERT_EQ(Run({"apply", "-f", Write("handoff.yaml", kHandoff)}), 0) << err_.str();
  EXPECT_EQ(Run({"list"}), 0) << err_.str();
  EXPECT_EQ(Run({"list", "-o", "json"}), 0) << err_.str();
  const std::vector<v1::ListSopsRequest> lists = connection_->requests<v1::ListSopsRequest>();
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_EQ(lists[0].view(), v1::SOP_VIEW_BASIC);
  EXPECT_EQ(lists[1].view(), v1::SOP_VIEW_FULL);
  EXPECT_THAT(out_.str(), HasSubstr("\"name\": \"orgs/default/sops/handoff\""));
}

TEST_F(CommandsTest, ListFollowsThePageTokensToTheLastPage) {
  for (const char* id : {"a", "b", "c"}) Write(absl::StrCat(id, ".yaml"), kHandoff);
  ASSERT_EQ(Run({"apply", "-f", dir_.string()}), 0) << err_.str();
  EXPECT_EQ(Run({"list"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("orgs/default/sops/a"));
  EXPECT_THAT(out_.str(), HasSubstr("orgs/default/sops/b"));
  EXPECT_THAT(out_.str(), HasSubstr("orgs/default/sops/c"));
  const std::vector<v1::ListSopsRequest> lists = connection_->requests<v1::ListSopsRequest>();
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_EQ(lists[0].page_token(), "");
  EXPECT_NE(lists[1].page_token(), "");
}

TEST_F(CommandsTest, LookupWithoutNearMissesShowsNoSection) {
  EXPECT_EQ(Run({"lookup", "--record-type", "Lead"}), 0) << err_.str();
  const std::vector<v1::LookupSopsRequest> lookups = connection_->requests<v1::LookupSopsRequest>();
  ASSERT_EQ(lookups.size(), 1u);
  EXPECT_FALSE(lookups[0].include_near_misses());
  EXPECT_EQ(out_.str(), "No published SOP matches this record.\n");
}

TEST_F(CommandsTest, LookupWithNearMissesAsJsonPrintsTheResponse) {
  ASSERT_EQ(Run({"apply", "-f", Write("x.yaml", kMqlSop), "--publish"}), 0) << err_.str();
  EXPECT_EQ(Run({"lookup", "--record-type", "Lead", "--field", "lead_status=MQL - New Handoff",
                 "--near-misses", "-o", "json"}),
            0)
      << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("\"near_misses\": ["));
  EXPECT_THAT(out_.str(), HasSubstr("\"failed_condition_index\": 0"));
}

TEST_F(CommandsTest, TokenCreatePrintsOnlyTheSecretOnStdout) {
  CallAs(sopd_->admin_token());
  ASSERT_EQ(Run({"org", "create", "acme"}), 0) << err_.str();
  EXPECT_EQ(Run({"token", "create", "--user", "dana@acme.com", "--role", "SDR", "--role", "ae",
                 "--org", "acme", "--expires", "30d"}),
            0)
      << err_.str();
  // The secret is dana's token in acme.
  const std::string secret(absl::StripSuffix(out_.str(), "\n"));
  EXPECT_EQ(out_.str(), absl::StrCat(secret, "\n"));
  absl::StatusOr<Caller> dana = sopd_->access().Authenticate(secret);
  ASSERT_TRUE(dana.ok()) << dana.status();
  EXPECT_EQ(dana->user_id, "dana@acme.com");
  EXPECT_EQ(dana->org, "acme");
  EXPECT_EQ(err_.str(), absl::StrCat("Created ", dana->token_name,
                                     " for dana@acme.com\n"
                                     "  roles:   SDR, AE\n"
                                     "  expires: 2024-05-31 08:00:00 UTC\n"
                                     "The secret (on stdout) is shown only this once.\n"));
  const std::vector<v1::CreateTokenRequest> creates =
      connection_->requests<v1::CreateTokenRequest>();
  ASSERT_EQ(creates.size(), 1u);
  EXPECT_EQ(creates[0].parent(), "orgs/acme");
  EXPECT_EQ(creates[0].ttl().seconds(), 30 * 86400);
}

TEST_F(CommandsTest, TokenCreateByACallerWithoutTheAdminRoleIsPermissionDenied) {
  EXPECT_EQ(Run({"token", "create", "--user", "dana", "--role", "SDR"}), kExitFailed);
  EXPECT_THAT(err_.str(), StartsWith("PERMISSION_DENIED: "));
  EXPECT_EQ(out_.str(), "");
}

TEST_F(CommandsTest, TokenCreateWithJsonPrintsTheWholeResponse) {
  CallAs(sopd_->admin_token());
  EXPECT_EQ(Run({"token", "create", "--user", "dana", "--role", "SDR", "-o", "json"}), 0)
      << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("\"secret\": \"sop_"));
  EXPECT_THAT(out_.str(), HasSubstr("\"name\": \"orgs/default/tokens/"));
  EXPECT_EQ(err_.str(), "");
}

TEST_F(CommandsTest, TokenListShowsStatusAndAskedForInactive) {
  CallAs(Issue("acme", "admin@acme.com", {v1::ADMIN}));
  ASSERT_EQ(Run({"token", "create", "--user", "dana", "--role", "SDR", "--org", "acme"}), 0)
      << err_.str();
  const std::string dana = sopd_->access().Authenticate(StripNewline(out_.str()))->token_name;
  ASSERT_EQ(Run({"token", "create", "--user", "lee", "--role", "ADMIN", "--org", "acme"}), 0)
      << err_.str();
  const std::string lee = sopd_->access().Authenticate(StripNewline(out_.str()))->token_name;
  ASSERT_EQ(Run({"token", "revoke", std::string(absl::StripPrefix(lee, "orgs/acme/tokens/")),
                 "--org", "acme"}),
            0)
      << err_.str();
  EXPECT_EQ(out_.str(), absl::StrCat("revoked ", lee, "\n"));
  EXPECT_EQ(Run({"token", "list", "--all", "--org", "acme"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), StartsWith("NAME "));
  EXPECT_THAT(out_.str(),
              MatchesRegex(absl::StrCat(
                  ".*\n", dana, " +dana +SDR +2024-05-01 08:00:00 UTC +never +active\n.*")));
  EXPECT_THAT(out_.str(),
              MatchesRegex(absl::StrCat(
                  ".*\n", lee, " +lee +ADMIN +2024-05-01 08:00:00 UTC +never +revoked\n.*")));
  const std::vector<v1::ListTokensRequest> lists = connection_->requests<v1::ListTokensRequest>();
  ASSERT_EQ(lists.size(), 1u);
  EXPECT_EQ(lists[0].parent(), "orgs/acme");
  EXPECT_TRUE(lists[0].show_inactive());
}

TEST_F(CommandsTest, TokenListFollowsEveryPage) {
  CallAs(sopd_->admin_token());
  // One more than a page (ListTokens' default page size is 50).
  for (int i = 0; i < 51; ++i) {
    ASSERT_TRUE(sopd_->IssueToken("default", absl::StrCat("rep", i, "@example.com"), {v1::SDR}).ok());
  }
  EXPECT_EQ(Run({"token", "list"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr(" rep0@example.com "));
  EXPECT_THAT(out_.str(), HasSubstr(" rep50@example.com "));
  const std::vector<v1::ListTokensRequest> lists = connection_->requests<v1::ListTokensRequest>();
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_FALSE(lists[1].page_token().empty());
  EXPECT_EQ(lists[1].parent(), "orgs/default");
}

TEST_F(CommandsTest, TokenGetShowsOneTokenByItsBareId) {
  CallAs(Issue("acme", "admin@acme.com", {v1::ADMIN}));
  ASSERT_EQ(Run({"token", "create", "--user", "dana", "--role", "SDR", "--org", "acme"}), 0)
      << err_.str();
  const std::string dana = sopd_->access().Authenticate(StripNewline(out_.str()))->token_name;
  EXPECT_EQ(Run({"token", "get", std::string(absl::StripPrefix(dana, "orgs/acme/tokens/")),
                 "--org", "acme"}),
            0)
      << err_.str();
  EXPECT_THAT(out_.str(), MatchesRegex(absl::StrCat(
                              "NAME +USER +ROLES +CREATED +EXPIRES +STATUS\n", dana,
                              " +dana +SDR +2024-05-01 08:00:00 UTC +never +active\n")));
  EXPECT_EQ(Run({"token", "get", "orgs/acme/tokens/nope"}), 1);
  EXPECT_EQ(err_.str(), "NOT_FOUND: token orgs/acme/tokens/nope not found\n");
}

TEST_F(CommandsTest, TokenRevokeOfAMissingTokenFails) {
  CallAs(sopd_->admin_token());
  EXPECT_EQ(Run({"token", "revoke", "orgs/default/tokens/nope"}), 1);
  EXPECT_EQ(err_.str(), "NOT_FOUND: token orgs/default/tokens/nope not found\n");
  EXPECT_EQ(out_.str(), "");
}

TEST_F(CommandsTest, WhoAmIPrintsTheCaller) {
  CallAs(Issue("acme", "dana@acme.com", {v1::ADMIN}));
  EXPECT_EQ(Run({"whoami"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("User:          dana@acme.com\n"));
  EXPECT_THAT(out_.str(), HasSubstr("Server admin:  no\n"));
}

TEST_F(CommandsTest, UnauthenticatedTellsCliUsersHowToPassAToken) {
  CallAs("sop_nosuchtoken_0123456789abcdef");
  EXPECT_EQ(Run({"whoami"}), kExitFailed);
  EXPECT_EQ(err_.str(),
            "UNAUTHENTICATED: missing or invalid credentials: pass a token with --token-file FILE "
            "(or set SOPCTL_TOKEN_FILE)\n");
  EXPECT_EQ(out_.str(), "");
}

TEST_F(CommandsTest, CommandWithoutATokenSaysSoAndCallsNothing) {
  EXPECT_EQ(Run({"whoami"}, /*with_token=*/false), kExitUsage);
  EXPECT_EQ(err_.str(),
            "sopctl: no access token: pass a token with --token-file FILE (or set "
            "SOPCTL_TOKEN_FILE)\n");
  EXPECT_THAT(connection_->calls(), IsEmpty());
}

TEST_F(CommandsTest, OrgCreateThenList) {
  CallAs(sopd_->admin_token());
  EXPECT_EQ(Run({"org", "create", "acme", "--display-name", "Acme Inc"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "created orgs/acme\n");
  EXPECT_EQ(Run({"org", "list"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "NAME          DISPLAY NAME  CREATED\n"
            "orgs/acme     Acme Inc      2024-05-01 08:00:00 UTC\n"
            "orgs/default  Default org   2024-05-01 08:00:00 UTC\n");
  EXPECT_THAT(connection_->calls(), ElementsAre("CreateOrg", "ListOrgs"));
}

TEST_F(CommandsTest, OrgListFollowsEveryPageAndOrgGetShowsOne) {
  CallAs(sopd_->admin_token());
  // With orgs/default, one more than a page (ListOrgs' default page size is 50).
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(Run({"org", "create", absl::StrCat("org-", i)}), 0) << err_.str();
  }
  EXPECT_EQ(Run({"org", "list"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("\norgs/org-0 "));
  EXPECT_THAT(out_.str(), HasSubstr("\norgs/org-49 "));
  EXPECT_THAT(out_.str(), HasSubstr("\norgs/default "));
  EXPECT_EQ(connection_->requests<v1::ListOrgsRequest>().size(), 2u);
  EXPECT_EQ(Run({"org", "get", "org-7"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "NAME        DISPLAY NAME  CREATED\n"
            "orgs/org-7  -             2024-05-01 08:00:00 UTC\n");
}

TEST_F(CommandsTest, OrgCreateByACallerWhoIsNoServerAdminIsPermissionDenied) {
  CallAs(Issue("acme", "dana@acme.com", {v1::ADMIN}));
  EXPECT_EQ(Run({"org", "create", "west"}), kExitFailed);
  EXPECT_THAT(err_.str(), StartsWith("PERMISSION_DENIED: "));
}

TEST_F(CommandsTest, TokenCreateForAnIntegrationSendsItsCrmAndDelegableRolesAndSaysThem) {
  const std::string secret = CreateSalesforceIntegration();
  const std::vector<v1::CreateTokenRequest> creates =
      connection_->requests<v1::CreateTokenRequest>();
  ASSERT_EQ(creates.size(), 1u);
  EXPECT_EQ(creates[0].token().crm(), "salesforce");
  EXPECT_THAT(creates[0].token().delegable_roles(), ElementsAre(v1::SDR, v1::AE));
  absl::StatusOr<Caller> integration = sopd_->access().Authenticate(secret);
  ASSERT_TRUE(integration.ok()) << integration.status();
  EXPECT_EQ(err_.str(), absl::StrCat("Created ", integration->token_name,
                                     " for salesforce-integration\n"
                                     "  roles:   INTEGRATION\n"
                                     "  crm:     salesforce\n"
                                     "  delegable roles: SDR, AE\n"
                                     "  expires: never\n"
                                     "The secret (on stdout) is shown only this once.\n"));

  ASSERT_EQ(Run({"token", "get", integration->token_name}), 0) << err_.str();
  EXPECT_THAT(out_.str(), StartsWith("NAME  "));
  EXPECT_THAT(out_.str(), HasSubstr("  ROLES        CRM         DELEGABLE  CREATED"));
  EXPECT_THAT(out_.str(), HasSubstr("  INTEGRATION  salesforce  SDR,AE     2024-05-01"));
}

TEST_F(CommandsTest, TokenCreateSendsTheHubSpotSecretReadFromItsFileTrimmed) {
  CallAs(sopd_->admin_token());
  const std::string file = Write("hubspot.secret", "  hs-client-secret\n");
  EXPECT_EQ(Run({"token", "create", "--user", "hubspot-integration", "--role", "INTEGRATION",
                 "--crm", "hubspot", "--delegable-roles", "SDR", "--hubspot-portal-id", "123456",
                 "--hubspot-client-secret-file", file}),
            0)
      << err_.str();
  const std::vector<v1::CreateTokenRequest> creates =
      connection_->requests<v1::CreateTokenRequest>();
  ASSERT_EQ(creates.size(), 1u);
  EXPECT_EQ(creates[0].hubspot_client_secret(), "hs-client-secret");
  EXPECT_EQ(creates[0].token().hubspot_portal_id(), "123456");
  EXPECT_THAT(err_.str(), HasSubstr("  crm:     hubspot"));
  EXPECT_THAT(err_.str(), Not(HasSubstr("hs-client-secret")));
}

TEST_F(CommandsTest, TokenCreateWithAnUnreadableSecretFileSendsNothing) {
  CallAs(sopd_->admin_token());
  const std::string missing = (dir_ / "missing.secret").string();
  EXPECT_EQ(Run({"token", "create", "--user", "hubspot-integration", "--role", "INTEGRATION",
                 "--crm", "hubspot", "--delegable-roles", "SDR", "--hubspot-portal-id", "1",
                 "--hubspot-client-secret-file", missing}),
            kExitFailed);
  EXPECT_EQ(err_.str(), absl::StrCat("INVALID_ARGUMENT: cannot read the "
                                     "--hubspot-client-secret-file \"",
                                     missing, "\": No such file or directory\n"));
  EXPECT_THAT(connection_->calls(), IsEmpty());
  const std::string blank = Write("blank.secret", " \n");
  EXPECT_EQ(Run({"token", "create", "--user", "hubspot-integration", "--role", "INTEGRATION",
                 "--crm", "hubspot", "--delegable-roles", "SDR", "--hubspot-portal-id", "1",
                 "--hubspot-client-secret-file", blank}),
            kExitFailed);
  EXPECT_THAT(err_.str(), HasSubstr("is empty"));
  EXPECT_THAT(connection_->calls(), IsEmpty());
}

TEST_F(CommandsTest, RoleMapSetReplacesTheMapAndGetPrintsItsEntries) {
  CallAs(Issue("default", "admin@example.com", {v1::ADMIN}));
  EXPECT_EQ(Run({"rolemap", "get", "salesforce"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "orgs/default/roleMaps/salesforce\n"
            "No entries: every viewer gets no role.\n");

  EXPECT_EQ(Run({"rolemap", "set", "salesforce", "--entry", "Inside Sales=SDR", "--entry",
                 "user:ae@example.com=AE,SDR", "--entry", "*=SDR"}),
            0)
      << err_.str();
  const std::string table =
      "CRM ROLE                 ROLES\n"
      "Inside Sales         ->  SDR\n"
      "user:ae@example.com  ->  AE, SDR\n"
      "*                    ->  SDR\n";
  EXPECT_EQ(out_.str(), absl::StrCat("orgs/default/roleMaps/salesforce\n"
                                     "Updated: 2024-05-01 08:00:00 UTC\n",
                                     table));
  ASSERT_EQ(Run({"rolemap", "get", "salesforce"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr(table));

  // Replaced, not merged.
  ASSERT_EQ(Run({"rolemap", "set", "salesforce", "--entry", "Account Executive=AE"}), 0)
      << err_.str();
  ASSERT_EQ(Run({"rolemap", "get", "salesforce", "-o", "json"}), 0) << err_.str();
  v1::RoleMap printed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(out_.str(), &printed).ok()) << out_.str();
  EXPECT_EQ(printed.name(), "orgs/default/roleMaps/salesforce");
  ASSERT_EQ(printed.entries_size(), 1);
  EXPECT_EQ(printed.entries(0).crm_role(), "Account Executive");
  EXPECT_THAT(printed.entries(0).roles(), ElementsAre(v1::AE));
}

TEST_F(CommandsTest, RoleMapSetByACallerWithoutTheAdminRoleIsPermissionDenied) {
  EXPECT_EQ(Run({"rolemap", "set", "salesforce", "--entry", "*=SDR"}), kExitFailed);
  EXPECT_THAT(err_.str(), StartsWith("PERMISSION_DENIED: "));
  EXPECT_EQ(out_.str(), "");
}

constexpr char kFieldMapYaml[] =
    "fields:\n"
    "  - {crm_field: Status, field: lead_status, type: string}\n"
    "  - {crm_field: MQL_Score__c, field: lead_score, type: FIELD_TYPE_NUMBER}\n"
    "record_types:\n"
    "  - {crm_object: \"0-1\", record_type: Lead}\n";

TEST_F(CommandsTest, FieldMapGetSaysTheDefaultMapUntilSetReplacesIt) {
  EXPECT_EQ(Run({"fieldmap", "get", "salesforce"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), StartsWith("orgs/default/fieldMaps/salesforce\n(default map)\n"
                                     "CRM FIELD "));
  EXPECT_THAT(out_.str(), MatchesRegex("(.|\n)*\nStatus +lead_status +STRING\n(.|\n)*"));

  EXPECT_EQ(Run({"fieldmap", "set", "salesforce", "--file", Write("map.yaml", kFieldMapYaml)}), 0)
      << err_.str();
  const std::string printed =
      "orgs/default/fieldMaps/salesforce\n"
      "Updated: 2024-05-01 08:00:00 UTC\n"
      "CRM FIELD     FIELD        TYPE\n"
      "Status        lead_status  STRING\n"
      "MQL_Score__c  lead_score   NUMBER\n"
      "\n"
      "CRM OBJECT  RECORD TYPE\n"
      "0-1         Lead\n";
  EXPECT_EQ(out_.str(), printed);
  const std::vector<v1::UpdateFieldMapRequest> updates =
      connection_->requests<v1::UpdateFieldMapRequest>();
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].field_map().name(), "orgs/default/fieldMaps/salesforce");
  EXPECT_EQ(Run({"fieldmap", "get", "salesforce"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), printed);
}

TEST_F(CommandsTest, FieldMapGetAsJsonSetsBackUnchanged) {
  ASSERT_EQ(Run({"fieldmap", "get", "hubspot", "-o", "json"}), 0) << err_.str();
  const std::string exported = out_.str();
  EXPECT_THAT(exported, HasSubstr("\"is_default\": true"));
  ASSERT_EQ(Run({"fieldmap", "set", "hubspot", "-f", Write("hubspot.json", exported), "-o",
                 "json"}),
            0)
      << err_.str();
  v1::FieldMap exported_map, stored;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(exported, &exported_map).ok());
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(out_.str(), &stored).ok());
  EXPECT_FALSE(stored.is_default());
  EXPECT_EQ(stored.fields_size(), exported_map.fields_size());
  EXPECT_EQ(stored.fields(0).DebugString(), exported_map.fields(0).DebugString());
}

TEST_F(CommandsTest, FieldMapSetWithABadTypeNamesTheFileAndEntryAndSendsNothing) {
  const std::string file =
      Write("map.yaml", "fields:\n  - {crm_field: Status, field: lead_status, type: TEXT}\n");
  EXPECT_EQ(Run({"fieldmap", "set", "salesforce", "-f", file}), kExitFailed);
  EXPECT_EQ(err_.str(),
            absl::StrCat(file,
                         ":2: fields[0].type: unknown type \"TEXT\"; expected one of STRING, "
                         "NUMBER, BOOL, TIMESTAMP, STRING_LIST\n"));
  EXPECT_THAT(connection_->calls(), IsEmpty());
}

TEST_F(CommandsTest, FieldMapSetTheServerRefusesPrintsTheEntryItNames) {
  const std::string file = Write("map.yaml",
                                 "fields:\n"
                                 "  - {crm_field: Status, field: lead_status, type: STRING}\n"
                                 "  - {crm_field: Status, field: status, type: STRING}\n");
  EXPECT_EQ(Run({"fieldmap", "set", "salesforce", "-f", file}), kExitFailed);
  EXPECT_EQ(err_.str(),
            "INVALID_ARGUMENT: field_map.fields[1].crm_field: \"Status\" is mapped twice\n");
  EXPECT_EQ(out_.str(), "");
}

TEST_F(CommandsTest, FieldMapSetOfAMissingFileFails) {
  EXPECT_EQ(Run({"fieldmap", "set", "salesforce", "-f", (dir_ / "nope.yaml").string()}),
            kExitFailed);
  EXPECT_THAT(err_.str(), StartsWith("NOT_FOUND: cannot read \""));
  EXPECT_THAT(connection_->calls(), IsEmpty());
}

TEST_F(CommandsTest, WhoAmIOfAViewerSaysWhichIntegrationActsForThem) {
  const std::string integration = CreateSalesforceIntegration();
  CallAs(Issue("default", "admin@example.com", {v1::ADMIN}));
  ASSERT_EQ(Run({"rolemap", "set", "salesforce", "--entry", "Inside Sales=SDR"}), 0)
      << err_.str();

  client::ConnectionOptions::Viewer viewer;
  viewer.id = "005A";
  viewer.name = "Dana Rep";
  viewer.crm_roles = {"Inside Sales"};
  CallAs(integration, viewer);
  EXPECT_EQ(Run({"whoami"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("User:          salesforce:005A\n"
                                    "Via:           salesforce-integration\n"
                                    "Display name:  Dana Rep\n"
                                    "Roles:         SDR\n"));

  // The integration's own calls name no one it acts through.
  CallAs(integration);
  EXPECT_EQ(Run({"whoami"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), Not(HasSubstr("Via:")));
}

TEST_F(CommandsTest, ViewerOfATokenThatIsNoIntegrationIsPermissionDenied) {
  client::ConnectionOptions::Viewer viewer;
  viewer.id = "005A";
  CallAs(Issue("default", "admin@example.com", {v1::ADMIN}), viewer);
  EXPECT_EQ(Run({"whoami"}), kExitFailed);
  EXPECT_THAT(err_.str(), StartsWith("PERMISSION_DENIED: "));
}

TEST_F(CommandsTest, LookupInSalesforceNamesSaysWhichCrmFieldEachConditionCameFrom) {
  ASSERT_EQ(Run({"apply", "-f", Write("x.yaml", kMqlSop), "--publish"}), 0) << err_.str();
  EXPECT_EQ(Run({"lookup", "--crm", "salesforce", "--record-type", "Lead", "--field",
                 "Status=MQL – New Handoff", "--field", "MQL_Score__c=82"}),
            0)
      << err_.str();
  const std::vector<v1::LookupSopsRequest> lookups = connection_->requests<v1::LookupSopsRequest>();
  ASSERT_EQ(lookups.size(), 1u);
  EXPECT_EQ(lookups[0].context().crm(), "salesforce");
  EXPECT_THAT(out_.str(),
              HasSubstr("lead_status = \"MQL – New Handoff\" (actual \"MQL – New Handoff\", "
                        "from Status)\n"));
  EXPECT_THAT(out_.str(), MatchesRegex("(.|\n)*\nfields from the CRM: [^\n]*lead_status \\(from "
                                       "Status\\)[^\n]*\n"));
  EXPECT_THAT(out_.str(), HasSubstr("lead_score (from MQL_Score__c)"));
}

TEST_F(CommandsTest, LookupWatchInSalesforceNamesWatchesTheMappedRecord) {
  ASSERT_EQ(Run({"apply", "-f", Write("x.yaml", kMqlSop), "--publish"}), 0) << err_.str();
  absl::StatusOr<Invocation> invocation = ParseCommandLine(
      {"lookup", "--crm", "salesforce", "--record-type", "Lead", "--field",
       "Status=MQL – New Handoff", "--watch"},
      [](const std::string& name) -> std::optional<std::string> {
        if (name == "SOPCTL_TOKEN") return "sops_t0k3n";
        return std::nullopt;
      });
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  SharedOutput out_buffer;
  SharedOutput err_buffer;
  std::ostream out(&out_buffer);
  std::ostream err(&err_buffer);
  client::Client watch_client = client_;
  int exit_status = -1;
  std::thread watcher([&] { exit_status = RunCommand(*invocation, watch_client, out, err); });
  EXPECT_TRUE(WaitFor([&] { return absl::StrContains(out_buffer.text(), "orgs/default/sops/x"); }))
      << out_buffer.text() << err_buffer.text();
  sopd_->EndWatches();
  watcher.join();
  EXPECT_EQ(exit_status, kExitOk);
  EXPECT_EQ(err_buffer.text(), "");
  EXPECT_EQ(connection_->requests<v1::WatchSopsRequest>().at(0).context().crm(), "salesforce");
}

// Governance (review, comments, audit). The first tests give the commands
// canned answers (FaultInjectingConnection::Respond) to check what they send
// and print; the ones ending in AgainstSopd run against sopd's own methods.

// handoff with an owner review every quarter and a sales manager's sign-off.
constexpr char kHandoffWithReview[] =
    "title: Handoff\nowner: Sales Ops\nreview_cycle: QUARTERLY\n"
    "required_approver_roles: [SALES_MANAGER]\ntargeting_rules:\n  - record_types: [Lead]\n";

// handoff with an owner review every quarter and no sign-offs required.
constexpr char kHandoffQuarterly[] =
    "title: Handoff\nowner: Sales Ops\nreview_cycle: QUARTERLY\n"
    "targeting_rules:\n  - record_types: [Lead]\n";

// What sopd says of handoff's title changed from revision 1 to its draft.
v1::SopDiff HandoffTitleDiff() {
  v1::SopDiff diff;
  diff.set_revision_a("orgs/default/sops/handoff/revisions/1");
  diff.set_revision_b("orgs/default/sops/handoff/revisions/3");
  v1::FieldChange& change = *diff.add_changes();
  change.set_section("title");
  change.set_path("title");
  change.set_kind(v1::FieldChange::CHANGED);
  change.set_before("\"Handoff\"");
  change.set_after("\"Handoff v2\"");
  return diff;
}

TEST_F(CommandsTest, DiffAsksForBothRevisionsAndPrintsTheChangesWithoutColourByDefault) {
  connection_->Respond("DiffSopRevisions", "orgs/default/sops/handoff/revisions/1",
                       HandoffTitleDiff());
  EXPECT_EQ(Run({"diff", "handoff", "1", "draft"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "diff orgs/default/sops/handoff/revisions/1 -> orgs/default/sops/handoff/revisions/3\n"
            "[title]\n"
            "changed title\n"
            "  - \"Handoff\"\n"
            "  + \"Handoff v2\"\n");
  const std::vector<v1::DiffSopRevisionsRequest> diffs =
      connection_->requests<v1::DiffSopRevisionsRequest>();
  ASSERT_EQ(diffs.size(), 1u);
  EXPECT_EQ(diffs[0].revision_b(), "orgs/default/sops/handoff/revisions/draft");
}

TEST_F(CommandsTest, DiffColoursItsLinesWhenTheInvocationSaysSo) {
  connection_->Respond("DiffSopRevisions", "orgs/default/sops/handoff/revisions/1",
                       HandoffTitleDiff());
  absl::StatusOr<Invocation> invocation = ParseCommandLine(
      {"--token", "t", "diff", "handoff", "1", "draft"},
      [](const std::string&) -> std::optional<std::string> { return std::nullopt; });
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  invocation->color = true;
  EXPECT_EQ(RunCommand(*invocation, client_, out_, err_), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("\x1b[31m  - \"Handoff\"\x1b[0m\n"
                                    "\x1b[32m  + \"Handoff v2\"\x1b[0m\n"));
}

TEST_F(CommandsTest, DiffAsJsonPrintsTheSopDiff) {
  connection_->Respond("DiffSopRevisions", "orgs/default/sops/handoff/revisions/1",
                       HandoffTitleDiff());
  EXPECT_EQ(Run({"diff", "handoff", "1", "live", "-o", "json"}), 0) << err_.str();
  v1::SopDiff printed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(out_.str(), &printed).ok()) << out_.str();
  EXPECT_EQ(printed.SerializeAsString(), HandoffTitleDiff().SerializeAsString());
}

TEST_F(CommandsTest, SubmitSendsTheCommentAndSaysTheRolesAwaited) {
  v1::Sop submitted;
  submitted.set_name("orgs/default/sops/handoff");
  submitted.mutable_review()->set_state(v1::DraftReview::IN_REVIEW);
  submitted.mutable_review()->add_awaiting_roles(v1::SALES_MANAGER);
  submitted.mutable_review()->add_awaiting_roles(v1::VP_SALES);
  connection_->Respond("SubmitSop", "orgs/default/sops/handoff", submitted);
  EXPECT_EQ(Run({"submit", "handoff", "--comment", "new SLA"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "submitted orgs/default/sops/handoff: IN_REVIEW (awaiting SALES_MANAGER, VP_SALES)\n");
  const std::vector<v1::SubmitSopRequest> submits = connection_->requests<v1::SubmitSopRequest>();
  ASSERT_EQ(submits.size(), 1u);
  EXPECT_EQ(submits[0].comment(), "new SLA");
}

TEST_F(CommandsTest, RejectSendsTheRoleAndTheReason) {
  v1::Sop rejected;
  rejected.set_name("orgs/default/sops/handoff");
  rejected.mutable_review()->set_state(v1::DraftReview::DRAFT);
  connection_->Respond("RejectSop", "orgs/default/sops/handoff", rejected);
  EXPECT_EQ(Run({"reject", "handoff", "--role", "sales_manager", "--comment", "step 2 is wrong"}),
            0)
      << err_.str();
  EXPECT_EQ(out_.str(), "rejected orgs/default/sops/handoff: DRAFT\n");
  const std::vector<v1::RejectSopRequest> rejects = connection_->requests<v1::RejectSopRequest>();
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_EQ(rejects[0].role(), v1::SALES_MANAGER);
  EXPECT_EQ(rejects[0].comment(), "step 2 is wrong");
}

TEST_F(CommandsTest, ApproveThatTheServerRefusesPrintsItsError) {
  connection_->Fail("ApproveSop", "orgs/default/sops/handoff",
                    absl::FailedPreconditionError("orgs/default/sops/handoff is DRAFT, not "
                                                  "IN_REVIEW: submit it first"));
  EXPECT_EQ(Run({"approve", "handoff"}), kExitFailed);
  EXPECT_EQ(err_.str(),
            "FAILED_PRECONDITION: orgs/default/sops/handoff is DRAFT, not IN_REVIEW: submit it "
            "first\n");
}

TEST_F(CommandsTest, EmergencyPublishSendsTheReason) {
  ASSERT_EQ(Run({"apply", "-f", Write("handoff.yaml", kHandoff)}), 0) << err_.str();
  CallAs(Issue("default", "admin@example.com", {v1::ADMIN}));
  Run({"publish", "handoff", "--emergency", "--reason", "pricing error live"});
  const std::vector<v1::PublishSopRequest> publishes =
      connection_->requests<v1::PublishSopRequest>();
  ASSERT_EQ(publishes.size(), 1u);
  EXPECT_EQ(publishes[0].name(), "orgs/default/sops/handoff");
  EXPECT_TRUE(publishes[0].emergency());
  EXPECT_EQ(publishes[0].reason(), "pricing error live");
}

TEST_F(CommandsTest, GetRevisionShowsThatRevisionsAuthorAndContent) {
  PublishThenEditAsOpsThenCallAsSdr();
  CallAs(Issue("default", "ops2@example.com", {v1::SALES_OPS}));
  EXPECT_EQ(Run({"get", "handoff", "--revision", "1"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), StartsWith("REVISION  TIME"));
  EXPECT_THAT(out_.str(), HasSubstr("\norgs/default/sops/handoff\n"));
  EXPECT_THAT(out_.str(), HasSubstr("  Title:"));
  EXPECT_THAT(out_.str(), HasSubstr("Handoff\n"));
  EXPECT_THAT(out_.str(), Not(HasSubstr("Handoff v2")));
  const std::vector<v1::GetSopRevisionRequest> gets =
      connection_->requests<v1::GetSopRevisionRequest>();
  ASSERT_EQ(gets.size(), 1u);
  EXPECT_EQ(gets[0].name(), "orgs/default/sops/handoff/revisions/1");
}

TEST_F(CommandsTest, CommentAddSendsTheStepAndPrintsTheCommentsName) {
  v1::Comment added;
  added.set_name("orgs/default/sops/handoff/comments/c1");
  connection_->Respond("AddComment", "orgs/default/sops/handoff", added);
  EXPECT_EQ(Run({"comment", "add", "handoff", "5 minutes?", "--step", "2"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "added orgs/default/sops/handoff/comments/c1\n");
  const std::vector<v1::AddCommentRequest> adds = connection_->requests<v1::AddCommentRequest>();
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_EQ(adds[0].comment().text(), "5 minutes?");
  EXPECT_EQ(adds[0].comment().step_ordinal(), 2);
}

TEST_F(CommandsTest, AuditListSendsTheFiltersAndPrintsTheEvents) {
  v1::ListAuditEventsResponse page;
  v1::AuditEvent& event = *page.add_events();
  event.set_sequence(1);
  event.mutable_time()->set_seconds(1714550400);
  event.set_actor("ops@example.com");
  event.set_action("sop.create");
  event.set_resource("orgs/default/sops/handoff");
  connection_->Respond("ListAuditEvents", "orgs/default", page);
  EXPECT_EQ(Run({"audit", "list", "--sop", "handoff", "--since", "2024-05-01T00:00:00Z"}), 0)
      << err_.str();
  EXPECT_EQ(out_.str(),
            "SEQ  TIME                     ACTOR            ACTION      RESOURCE                   "
            "DETAIL\n"
            "1    2024-05-01 08:00:00 UTC  ops@example.com  sop.create  orgs/default/sops/handoff  "
            "\n");
  const std::vector<v1::ListAuditEventsRequest> lists =
      connection_->requests<v1::ListAuditEventsRequest>();
  ASSERT_EQ(lists.size(), 1u);
  EXPECT_EQ(lists[0].resource(), "orgs/default/sops/handoff");
  EXPECT_EQ(lists[0].start_time().seconds(), 1714521600);
}

TEST_F(CommandsTest, AuditVerifyOfABrokenChainPrintsTheFirstBrokenSequenceAndExitsOne) {
  v1::VerifyAuditLogResponse broken;
  broken.set_intact(false);
  broken.set_events_checked(4);
  broken.set_first_broken_sequence(4);
  broken.set_problem("hash does not match the event");
  connection_->Respond("VerifyAuditLog", "orgs/default", broken);
  EXPECT_EQ(Run({"audit", "verify"}), kExitFailed);
  EXPECT_EQ(out_.str(),
            "BROKEN at sequence 4: hash does not match the event\n"
            "4 events checked\n");
}

TEST_F(CommandsTest, AuditVerifySendsTheHeadThatAuditHeadSavedAsJson) {
  v1::AuditHead head;
  head.set_org("orgs/default");
  head.set_sequence(7);
  head.set_hash(std::string(64, 'a'));
  connection_->Respond("GetAuditHead", "orgs/default", head);
  v1::VerifyAuditLogResponse intact;
  intact.set_intact(true);
  intact.set_events_checked(9);
  *intact.mutable_head() = head;
  intact.mutable_head()->set_sequence(9);
  connection_->Respond("VerifyAuditLog", "orgs/default", intact);

  ASSERT_EQ(Run({"audit", "head", "-o", "json"}), 0) << err_.str();
  const std::string file = Write("head.json", out_.str());
  EXPECT_EQ(Run({"audit", "verify", "--head-file", file}), 0) << err_.str();
  EXPECT_EQ(out_.str(), absl::StrCat("intact: 9 events checked, head at sequence 9 (hash ",
                                     std::string(64, 'a'), ")\n"));
  const std::vector<v1::VerifyAuditLogRequest> verifies =
      connection_->requests<v1::VerifyAuditLogRequest>();
  ASSERT_EQ(verifies.size(), 1u);
  EXPECT_EQ(verifies[0].expected_head().SerializeAsString(), head.SerializeAsString());
}

TEST_F(CommandsTest, AuditVerifyWithAHeadFileThatIsNoAuditHeadSendsNothing) {
  const std::string file = Write("head.json", "sequence 7\n");
  EXPECT_EQ(Run({"audit", "verify", "--head-file", file}), kExitFailed);
  EXPECT_THAT(err_.str(), StartsWith(absl::StrCat("INVALID_ARGUMENT: --head-file: \"", file,
                                                  "\" is not an audit head")));
  EXPECT_THAT(connection_->calls(), Not(Contains("VerifyAuditLog")));
  EXPECT_EQ(Run({"audit", "verify", "--head-file", (dir_ / "missing.json").string()}), kExitFailed);
  EXPECT_THAT(err_.str(), HasSubstr("--head-file: cannot read"));
  EXPECT_THAT(connection_->calls(), Not(Contains("VerifyAuditLog")));
}

TEST_F(CommandsTest, ReviewsDueSendsTheWindowAndPrintsEachSop) {
  v1::ListDueReviewsResponse page;
  v1::Sop& sop = *page.add_sops();
  sop.set_name("orgs/default/sops/handoff");
  sop.set_owner("Sales Ops");
  sop.set_title("Handoff");
  sop.mutable_next_review_time()->set_seconds(1714550400);
  connection_->Respond("ListDueReviews", "orgs/default", page);
  EXPECT_EQ(Run({"reviews", "due", "--within", "30d"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("orgs/default/sops/handoff  2024-05-01 08:00:00 UTC  overdue"));
  const std::vector<v1::ListDueReviewsRequest> lists =
      connection_->requests<v1::ListDueReviewsRequest>();
  ASSERT_EQ(lists.size(), 1u);
  EXPECT_EQ(lists[0].within().seconds(), 30 * 86400);
}

TEST_F(CommandsTest, LookupAsOfSendsTheTime) {
  // Half an hour after sopd's start, an hour later.
  sopd_->clock().Advance(absl::Hours(1));
  EXPECT_EQ(Run({"lookup", "--record-type", "Lead", "--as-of", "2024-05-01T08:30:00Z"}), 0)
      << err_.str();
  const std::vector<v1::LookupSopsRequest> lookups = connection_->requests<v1::LookupSopsRequest>();
  ASSERT_EQ(lookups.size(), 1u);
  EXPECT_EQ(lookups[0].as_of_time().seconds(), 1714552200);
}

// Against sopd's own methods (server/api/api_methods.h).

TEST_F(CommandsTest, SubmitApproveThenPublishAgainstSopd) {
  ASSERT_EQ(Run({"apply", "-f", Write("handoff.yaml", kHandoffWithReview)}), 0) << err_.str();
  EXPECT_EQ(Run({"submit", "handoff", "--comment", "ready"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "submitted orgs/default/sops/handoff: IN_REVIEW (awaiting SALES_MANAGER)\n");
  EXPECT_EQ(Run({"list"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("REVIEW"));
  EXPECT_THAT(out_.str(), HasSubstr("IN_REVIEW (awaiting SALES_MANAGER)"));

  CallAs(Issue("default", "manager@example.com", {v1::SALES_MANAGER}));
  EXPECT_EQ(Run({"approve", "handoff", "--comment", "ok"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "approved orgs/default/sops/handoff: APPROVED\n");

  CallAs(Issue("default", "ops2@example.com", {v1::SALES_OPS}));
  EXPECT_EQ(Run({"publish", "handoff"}), 0) << err_.str();
  EXPECT_EQ(Head("handoff")->state(), v1::Sop::PUBLISHED);
}

TEST_F(CommandsTest, PublishOfADraftNotApprovedIsRefusedAgainstSopd) {
  ASSERT_EQ(Run({"apply", "-f", Write("handoff.yaml", kHandoffWithReview)}), 0) << err_.str();
  EXPECT_EQ(Run({"publish", "handoff"}), kExitFailed);
  EXPECT_THAT(err_.str(), StartsWith("FAILED_PRECONDITION: "));
}

TEST_F(CommandsTest, RejectReturnsTheDraftToDraftAgainstSopd) {
  ASSERT_EQ(Run({"apply", "-f", Write("handoff.yaml", kHandoffWithReview)}), 0) << err_.str();
  ASSERT_EQ(Run({"submit", "handoff"}), 0) << err_.str();
  CallAs(Issue("default", "manager@example.com", {v1::SALES_MANAGER}));
  EXPECT_EQ(Run({"reject", "handoff", "--comment", "step 2 is wrong"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "rejected orgs/default/sops/handoff: DRAFT\n");
  EXPECT_EQ(Head("handoff")->review().state(), v1::DraftReview::DRAFT);
}

TEST_F(CommandsTest, DiffOfAnEditedTitleAgainstSopd) {
  const std::string path = Write("handoff.yaml", kHandoff);
  ASSERT_EQ(Run({"apply", "-f", path}), 0) << err_.str();
  Write("handoff.yaml", absl::StrReplaceAll(kHandoff, {{"Handoff", "Handoff v2"}}));
  ASSERT_EQ(Run({"apply", "-f", path}), 0) << err_.str();
  EXPECT_EQ(Run({"diff", "handoff", "1", "draft"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), StartsWith("diff orgs/default/sops/handoff/revisions/1 -> "
                                     "orgs/default/sops/handoff/revisions/2\n"));
  EXPECT_THAT(out_.str(), HasSubstr("[title]\n"
                                    "changed title\n"
                                    "  - \"Handoff\"\n"
                                    "  + \"Handoff v2\"\n"));
}

TEST_F(CommandsTest, RestoreMakesAnEarlierRevisionTheDraftAgainstSopd) {
  const std::string path = Write("handoff.yaml", kHandoff);
  ASSERT_EQ(Run({"apply", "-f", path}), 0) << err_.str();
  Write("handoff.yaml", absl::StrReplaceAll(kHandoff, {{"Handoff", "Handoff v2"}}));
  ASSERT_EQ(Run({"apply", "-f", path}), 0) << err_.str();
  EXPECT_EQ(Run({"restore", "handoff", "1"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "restored orgs/default/sops/handoff/revisions/1 as draft rev 3 of "
            "orgs/default/sops/handoff\n");
  EXPECT_EQ(Head("handoff")->title(), "Handoff");
}

TEST_F(CommandsTest, CommentAddListAndResolveAgainstSopd) {
  ASSERT_EQ(Run({"apply", "-f", Write("handoff.yaml", kHandoff)}), 0) << err_.str();
  ASSERT_EQ(Run({"comment", "add", "handoff", "Is 5 minutes right?"}), 0) << err_.str();
  ASSERT_THAT(out_.str(), StartsWith("added orgs/default/sops/handoff/comments/"));
  const std::string name(absl::StripSuffix(absl::StripPrefix(out_.str(), "added "), "\n"));
  EXPECT_EQ(Run({"comment", "list", "handoff"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("ops@example.com"));
  EXPECT_THAT(out_.str(), HasSubstr("open"));
  EXPECT_THAT(out_.str(), HasSubstr("Is 5 minutes right?"));
  const std::string id = name.substr(name.rfind('/') + 1);
  EXPECT_EQ(Run({"comment", "resolve", absl::StrCat("handoff/", id)}), 0) << err_.str();
  EXPECT_EQ(out_.str(), absl::StrCat("resolved ", name, "\n"));
  EXPECT_EQ(Run({"comment", "list", "handoff", "--unresolved"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "No comments.\n");
}

TEST_F(CommandsTest, AuditHeadThenVerifyWithItsFileIsIntactAgainstSopd) {
  ASSERT_EQ(Run({"apply", "-f", Write("handoff.yaml", kHandoff), "--publish"}), 0) << err_.str();
  EXPECT_EQ(Run({"audit", "list", "--sop", "handoff"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("sop.create"));
  EXPECT_THAT(out_.str(), HasSubstr("sop.publish"));
  ASSERT_EQ(Run({"audit", "head", "-o", "json"}), 0) << err_.str();
  const std::string file = Write("head.json", out_.str());
  ASSERT_EQ(Run({"apply", "-f", Write("other.yaml", kOther)}), 0) << err_.str();
  EXPECT_EQ(Run({"audit", "verify", "--head-file", file}), 0) << err_.str() << out_.str();
  EXPECT_THAT(out_.str(), StartsWith("intact: "));
}

TEST_F(CommandsTest, ReviewedAndReviewsDueAgainstSopd) {
  ASSERT_EQ(Run({"apply", "-f", Write("handoff.yaml", kHandoffQuarterly), "--publish"}), 0)
      << err_.str();
  EXPECT_EQ(Run({"reviews", "due"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "No reviews due.\n");
  EXPECT_EQ(Run({"reviews", "due", "--within", "100d"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("orgs/default/sops/handoff"));
  sopd_->clock().Advance(absl::Hours(24 * 100));
  EXPECT_EQ(Run({"reviews", "due"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("overdue"));
  EXPECT_EQ(Run({"reviewed", "handoff", "--comment", "still right"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), StartsWith("reviewed orgs/default/sops/handoff; next review "));
  EXPECT_EQ(Run({"reviews", "due"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "No reviews due.\n");
}

TEST_F(CommandsTest, LookupAsOfAnswersWithWhatWasPublishedThenAgainstSopd) {
  const std::string path = Write("handoff.yaml", kHandoff);
  ASSERT_EQ(Run({"apply", "-f", path, "--publish"}), 0) << err_.str();
  sopd_->clock().Advance(absl::Hours(1));
  Write("handoff.yaml", absl::StrReplaceAll(kHandoff, {{"Handoff", "Handoff v2"}}));
  ASSERT_EQ(Run({"apply", "-f", path, "--publish"}), 0) << err_.str();
  EXPECT_EQ(Run({"lookup", "--record-type", "Lead", "--as-of", "2024-05-01T08:30:00Z"}), 0)
      << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("1. Handoff  (orgs/default/sops/handoff @ rev 2)"));
  EXPECT_EQ(Run({"lookup", "--record-type", "Lead"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("1. Handoff v2  (orgs/default/sops/handoff @ rev 4)"));
}

// An MQL handoff with the first-contact SLA and disqualification codes.
constexpr char kSlaHandoff[] = R"(title: MQL handoff
owner: Sales Ops
anchor_field: status_changed_at
targeting_rules:
  - record_types: [Lead]
sla_terms:
  - name: first_contact_window
    duration: 300s
disqualification_codes:
  - {code: D-Budget, label: No budget}
  - {code: D-TooSmall, label: Company too small}
)";

TEST_F(CommandsTest, AnalyticsPrintsTheFiguresOfTheRecordedEventsAsATableAndAsCsv) {
  ASSERT_EQ(Run({"apply", "-f", Write("handoff.yaml", kSlaHandoff), "--publish"}), 0)
      << err_.str();
  const absl::Time now = sopd_->clock().Now();
  // Three leads, contacted 2, 3 and 7 minutes after the handoff; the late
  // Web lead is rejected for budget.
  v1::RecordEventsRequest record;
  record.set_parent("orgs/default");
  auto add = [&](const std::string& id, v1::Event::Type type, const std::string& lead,
                 const std::string& source, absl::Duration after) {
    v1::Event* event = record.add_events();
    event->set_event_id(id);
    event->set_type(type);
    *event->mutable_event_time() = ToProtoTimestamp(now - absl::Hours(1) + after);
    event->set_sop("orgs/default/sops/handoff");
    event->set_revision_id("2");
    event->mutable_context()->set_record_type("Lead");
    event->mutable_context()->set_record_id(lead);
    auto& fields = *event->mutable_context()->mutable_fields();
    fields["lead_source"].set_string_value(source);
    fields["status_changed_at"].set_string_value(
        absl::FormatTime(absl::RFC3339_full, now - absl::Hours(1), absl::UTCTimeZone()));
    return event;
  };
  add("a", v1::Event::FIRST_CONTACT, "00Q1", "Web", absl::Minutes(2));
  add("b", v1::Event::FIRST_CONTACT, "00Q2", "Partner Referral", absl::Minutes(3));
  add("c", v1::Event::FIRST_CONTACT, "00Q3", "Web", absl::Minutes(7));
  add("d", v1::Event::DISQUALIFIED, "00Q3", "Web", absl::Minutes(8))->set_code("D-Budget");
  CallAs(Issue("default", "sdr@example.com", {v1::SDR}));
  auto recorded = client_.RecordEvents(record);
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  EXPECT_EQ(recorded->recorded(), 4);

  CallAs(Issue("default", "marketing@example.com", {v1::MARKETING}));
  ASSERT_EQ(Run({"analytics", "sla", "--by", "source", "-o", "csv"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "lead_source,first_contacts,within_window,compliance,p50_ms,p90_ms\r\n"
            "Partner Referral,1,1,100.0%,180000,180000\r\n"
            "Web,2,1,50.0%,120000,420000\r\n");
  ASSERT_EQ(Run({"analytics", "codes", "--by", "source", "--source", "Web"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("LEAD_SOURCE  RECORDS  DISQUALIFIED  REJECTION_RATE  D-BUDGET\n"
                                    "Web          2        1             50.0%           1\n"));
  // The SDR's own figures only: all of them here; coverage is not theirs.
  CallAs(Issue("default", "other-sdr@example.com", {v1::SDR}));
  ASSERT_EQ(Run({"analytics", "sla"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("No figures for"));
  EXPECT_EQ(Run({"analytics", "coverage"}), 1);
  EXPECT_THAT(err_.str(), HasSubstr("PERMISSION_DENIED"));
}

TEST_F(CommandsTest, CsvIsOnlyForTheAnalyticsCommands) {
  absl::StatusOr<Invocation> invocation = ParseCommandLine(
      {"list", "-o", "csv"}, [](const std::string&) -> std::optional<std::string> { return "t"; });
  EXPECT_FALSE(invocation.ok());
  EXPECT_THAT(invocation.status().message(), HasSubstr("only the analytics commands"));
}

TEST_F(CommandsTest, SearchPrintsEachResultWithItsMatchesInBracketsAgainstSopd) {
  PublishExamplesAsAdmin();
  EXPECT_EQ(Run({"search", "round-robin calendar", "--limit", "1"}), 0) << err_.str();
  const std::vector<std::string> lines = absl::StrSplit(out_.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << out_.str();
  EXPECT_THAT(lines[0],
              HasSubstr("orgs/default/sops/demo-appointment-booking  Demo & Appointment Booking"));
  EXPECT_THAT(lines[1], HasSubstr("[calendar]"));
  EXPECT_THAT(lines[1], Not(HasSubstr("\x1b[")));

  EXPECT_EQ(Run({"search", "disqualifcation codes", "-o", "json"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("\"corrected_query\": \"disqualification codes\""));
  EXPECT_THAT(out_.str(), HasSubstr("\"highlighted\": true"));

  EXPECT_EQ(Run({"search", "zebra"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "No SOPs found.\n");
}

TEST_F(CommandsTest, SearchShowsAnSdrNoneOfTheAeOnlyPlaybook) {
  PublishExamplesAsAdmin();
  CallAs(Issue("default", "sam@example.com", {v1::SDR}));
  EXPECT_EQ(Run({"search", "pricing discount"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), Not(HasSubstr("pricing-discount-playbook")));
  CallAs(Issue("default", "ann@example.com", {v1::AE}));
  EXPECT_EQ(Run({"search", "pricing discount"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("orgs/default/sops/pricing-discount-playbook"));
}

TEST_F(CommandsTest, SearchLimitMustBePositive) {
  absl::StatusOr<Invocation> invocation =
      ParseCommandLine({"search", "lead", "--limit", "0"},
                       [](const std::string&) { return std::optional<std::string>(); });
  EXPECT_EQ(invocation.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(invocation.status().message(), HasSubstr("--limit"));
}

}  // namespace
}  // namespace sopsidebar::cli
