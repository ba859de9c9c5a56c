#include "client/cli/commands.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace sopsidebar::cli {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

// An in-memory sopd good enough for apply, get, publish, check and lookup:
// revisions count up, etags change on every write, stale etags are ABORTED.
class FakeSopd : public client::Connection {
 public:
  std::map<std::string, v1::Sop> sops;
  std::vector<std::string> calls;
  std::vector<v1::CreateSopRequest> creates;
  // The ties of an SOP by name, as PublishSop and CheckTargeting report them.
  std::map<std::string, std::vector<v1::TargetingTie>> ties;
  // What LookupSops answers, and the requests it got.
  v1::LookupSopsResponse lookup_response;
  std::vector<v1::LookupSopsRequest> lookups;
  // Writes refused, by "<method> <SOP name>" (e.g. "PublishSop orgs/default/sops/b").
  std::map<std::string, absl::Status> refused;

  absl::Status Refusal(const std::string& method, const std::string& name) const {
    auto it = refused.find(absl::StrCat(method, " ", name));
    return it == refused.end() ? absl::OkStatus() : it->second;
  }

  absl::StatusOr<v1::Sop> CreateSop(const v1::CreateSopRequest& request) override {
    calls.push_back("CreateSop");
    creates.push_back(request);
    v1::Sop sop = request.sop();
    sop.set_name(absl::StrCat(request.parent(), "/sops/", request.sop_id()));
    if (absl::Status refusal = Refusal("CreateSop", sop.name()); !refusal.ok()) return refusal;
    sop.set_state(v1::Sop::DRAFT);
    return Write(std::move(sop));
  }
  absl::StatusOr<v1::Sop> GetSop(const v1::GetSopRequest& request) override {
    calls.push_back("GetSop");
    auto it = sops.find(request.name());
    if (it == sops.end())
      return absl::NotFoundError(absl::StrCat("SOP ", request.name(), " not found"));
    return it->second;
  }
  absl::StatusOr<v1::Sop> UpdateSop(const v1::UpdateSopRequest& request) override {
    calls.push_back("UpdateSop");
    if (absl::Status refusal = Refusal("UpdateSop", request.sop().name()); !refusal.ok()) {
      return refusal;
    }
    auto it = sops.find(request.sop().name());
    if (it == sops.end()) return absl::NotFoundError("missing");
    if (!request.sop().etag().empty() && request.sop().etag() != it->second.etag()) {
      return absl::AbortedError("etag mismatch");
    }
    v1::Sop sop = request.sop();
    sop.set_state(it->second.state());
    sop.set_published_revision_id(it->second.published_revision_id());
    return Write(std::move(sop));
  }
  absl::StatusOr<v1::PublishSopResponse> PublishSop(const v1::PublishSopRequest& request) override {
    calls.push_back("PublishSop");
    if (absl::Status refusal = Refusal("PublishSop", request.name()); !refusal.ok()) {
      return refusal;
    }
    v1::Sop& sop = sops.at(request.name());
    if (!request.etag().empty() && request.etag() != sop.etag()) return absl::AbortedError("etag");
    sop.set_state(v1::Sop::PUBLISHED);
    sop.set_published_revision_id(sop.revision_id());
    sop.set_etag(absl::StrCat("e", ++next_etag_));
    v1::PublishSopResponse response;
    *response.mutable_sop() = sop;
    for (const v1::TargetingTie& tie : ties[request.name()]) *response.add_ties() = tie;
    return response;
  }
  absl::StatusOr<v1::CheckTargetingResponse> CheckTargeting(
      const v1::CheckTargetingRequest& request) override {
    calls.push_back("CheckTargeting");
    if (sops.count(request.name()) == 0) {
      return absl::NotFoundError(absl::StrCat("SOP ", request.name(), " not found"));
    }
    v1::CheckTargetingResponse response;
    for (const v1::TargetingTie& tie : ties[request.name()]) *response.add_ties() = tie;
    return response;
  }
  // What ListSops and ListSopRevisions answer: page i for page token "p<i>"
  // (the first for none), and the requests they got.
  std::vector<v1::ListSopsResponse> sop_pages;
  std::vector<v1::ListSopsRequest> sop_lists;
  std::vector<v1::ListSopRevisionsResponse> revision_pages;
  std::vector<v1::ListSopRevisionsRequest> revision_lists;

  absl::StatusOr<v1::ListSopsResponse> ListSops(const v1::ListSopsRequest& request) override {
    calls.push_back("ListSops");
    sop_lists.push_back(request);
    return Page(sop_pages, request.page_token());
  }
  absl::StatusOr<v1::Sop> DeleteSop(const v1::DeleteSopRequest&) override {
    return Unexpected("DeleteSop");
  }
  absl::StatusOr<v1::Sop> UndeleteSop(const v1::UndeleteSopRequest&) override {
    return Unexpected("UndeleteSop");
  }
  absl::StatusOr<v1::ListSopRevisionsResponse> ListSopRevisions(
      const v1::ListSopRevisionsRequest& request) override {
    calls.push_back("ListSopRevisions");
    revision_lists.push_back(request);
    return Page(revision_pages, request.page_token());
  }
  absl::StatusOr<v1::SopRevision> GetSopRevision(const v1::GetSopRevisionRequest&) override {
    return Unexpected("GetSopRevision");
  }
  template <typename Response>
  static absl::StatusOr<Response> Page(const std::vector<Response>& pages,
                                       const std::string& token) {
    size_t i = 0;
    if (!token.empty()) i = std::stoul(token.substr(1));
    if (i >= pages.size()) return absl::InvalidArgumentError("page_token: no such page");
    return pages[i];
  }

  absl::StatusOr<v1::LookupSopsResponse> LookupSops(const v1::LookupSopsRequest& request) override {
    calls.push_back("LookupSops");
    lookups.push_back(request);
    return lookup_response;
  }

  // Admin: answers from `who`, `tokens` and `orgs`.
  v1::WhoAmIResponse who;
  // WhoAmI fails with this unless it is OK.
  absl::Status who_status;
  std::vector<v1::Token> tokens;
  std::vector<v1::Org> orgs;
  // ListTokens and ListOrgs pages hold at most this many items.
  size_t list_page_size = 1000;
  std::vector<v1::CreateTokenRequest> token_creates;
  std::vector<v1::ListTokensRequest> token_lists;

  absl::StatusOr<v1::WhoAmIResponse> WhoAmI(const v1::WhoAmIRequest&) override {
    calls.push_back("WhoAmI");
    if (!who_status.ok()) return who_status;
    return who;
  }
  absl::StatusOr<v1::CreateTokenResponse> CreateToken(
      const v1::CreateTokenRequest& request) override {
    calls.push_back("CreateToken");
    token_creates.push_back(request);
    v1::CreateTokenResponse response;
    *response.mutable_token() = request.token();
    response.mutable_token()->set_name(absl::StrCat(request.parent(), "/tokens/t", tokens.size()));
    response.mutable_token()->mutable_create_time()->set_seconds(1714550400);
    if (request.has_ttl()) {
      response.mutable_token()->mutable_expire_time()->set_seconds(1714550400 +
                                                                   request.ttl().seconds());
    }
    response.set_secret("sops_s3cr3t");
    tokens.push_back(response.token());
    return response;
  }
  absl::StatusOr<v1::ListTokensResponse> ListTokens(const v1::ListTokensRequest& request) override {
    calls.push_back("ListTokens");
    token_lists.push_back(request);
    v1::ListTokensResponse response;
    response.set_next_page_token(ListPage(tokens, request.page_token(), response.mutable_tokens()));
    return response;
  }
  absl::StatusOr<v1::Token> GetToken(const v1::GetTokenRequest& request) override {
    calls.push_back("GetToken");
    for (const v1::Token& token : tokens) {
      if (token.name() == request.name()) return token;
    }
    return absl::NotFoundError(absl::StrCat("token ", request.name(), " not found"));
  }
  absl::StatusOr<v1::Token> RevokeToken(const v1::RevokeTokenRequest& request) override {
    calls.push_back("RevokeToken");
    for (v1::Token& token : tokens) {
      if (token.name() != request.name()) continue;
      token.mutable_revoke_time()->set_seconds(1714550500);
      return token;
    }
    return absl::NotFoundError(absl::StrCat("token ", request.name(), " not found"));
  }
  absl::StatusOr<v1::Org> CreateOrg(const v1::CreateOrgRequest& request) override {
    calls.push_back("CreateOrg");
    v1::Org org = request.org();
    org.set_name(absl::StrCat("orgs/", request.org_id()));
    orgs.push_back(org);
    return org;
  }
  absl::StatusOr<v1::ListOrgsResponse> ListOrgs(const v1::ListOrgsRequest& request) override {
    calls.push_back("ListOrgs");
    v1::ListOrgsResponse response;
    response.set_next_page_token(ListPage(orgs, request.page_token(), response.mutable_orgs()));
    return response;
  }
  absl::StatusOr<v1::Org> GetOrg(const v1::GetOrgRequest& request) override {
    calls.push_back("GetOrg");
    for (const v1::Org& org : orgs) {
      if (org.name() == request.name()) return org;
    }
    return absl::NotFoundError(absl::StrCat("org ", request.name(), " not found"));
  }
  // Adds the page of `all` that `token` starts (the index of its first
  // item) to `page`; returns the next page's token, empty after the last.
  template <typename Item>
  std::string ListPage(const std::vector<Item>& all, const std::string& token,
                       google::protobuf::RepeatedPtrField<Item>* page) const {
    size_t i = token.empty() ? 0 : std::stoul(token);
    for (; i < all.size() && static_cast<size_t>(page->size()) < list_page_size; ++i) {
      *page->Add() = all[i];
    }
    return i < all.size() ? absl::StrCat(i) : "";
  }
  absl::StatusOr<v1::PingResponse> Ping(const v1::PingRequest&) override {
    return Unexpected("Ping");
  }

 private:
  v1::Sop Write(v1::Sop sop) {
    sop.set_revision_id(absl::StrCat(++next_revision_));
    sop.set_etag(absl::StrCat("e", ++next_etag_));
    sops[sop.name()] = sop;
    return sop;
  }
  absl::Status Unexpected(const std::string& method) {
    calls.push_back(method);
    return absl::UnimplementedError(method);
  }

  int next_revision_ = 0;
  int next_etag_ = 0;
};

class CommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("sopctl_", ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    // Sales Ops, who may write and publish; tests of other roles change it.
    sopd_->who.set_org("orgs/default");
    sopd_->who.set_user_id("ops@example.com");
    sopd_->who.add_roles(v1::SALES_OPS);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& contents) {
    std::ofstream(dir_ / name) << contents;
    return (dir_ / name).string();
  }

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
  std::shared_ptr<FakeSopd> sopd_ = std::make_shared<FakeSopd>();
  client::Client client_{sopd_};
  std::ostringstream out_;
  std::ostringstream err_;
};

constexpr char kHandoff[] =
    "title: Handoff\nowner: Sales Ops\ntargeting_rules:\n  - record_types: [Lead]\n";

// A tie with orgs/default/sops/other on a Lead in "SQL – Accepted".
v1::TargetingTie TieWithOther(int rule_index, int other_rule_index) {
  v1::TargetingTie tie;
  tie.set_sop("orgs/default/sops/other");
  tie.set_revision_id("4");
  tie.set_rule_index(rule_index);
  tie.set_other_rule_index(other_rule_index);
  tie.set_priority(100);
  tie.set_specificity(2);
  tie.mutable_example_context()->set_org("orgs/default");
  tie.mutable_example_context()->set_record_type("Lead");
  (*tie.mutable_example_context()->mutable_fields())["lead_status"].set_string_value(
      "SQL – Accepted");
  return tie;
}

constexpr char kTieWarning[] =
    "warning: ties with orgs/default/sops/other (rule 1 vs its rule 2, priority 100, "
    "specificity 2), e.g. record_type=Lead lead_status=\"SQL – Accepted\"\n";

TEST_F(CommandsTest, ApplyCreatesMissingSopWithRequestId) {
  const std::string path = Write("handoff.yaml", kHandoff);
  EXPECT_EQ(Run({"apply", "-f", path}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "created orgs/default/sops/handoff\n");
  ASSERT_EQ(sopd_->creates.size(), 1u);
  EXPECT_EQ(sopd_->creates[0].parent(), "orgs/default");
  EXPECT_EQ(sopd_->creates[0].sop_id(), "handoff");
  EXPECT_THAT(sopd_->creates[0].request_id(), StartsWith("apply-"));
  EXPECT_EQ(sopd_->sops.at("orgs/default/sops/handoff").title(), "Handoff");
}

TEST_F(CommandsTest, ApplyTwiceLeavesTheSopUnchanged) {
  const std::string path = Write("handoff.yaml", kHandoff);
  ASSERT_EQ(Run({"apply", "-f", path}), 0) << err_.str();
  EXPECT_EQ(Run({"apply", "-f", path}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "unchanged orgs/default/sops/handoff\n");
  EXPECT_THAT(sopd_->calls, ElementsAre("WhoAmI", "GetSop", "CreateSop", "WhoAmI", "GetSop"));
}

TEST_F(CommandsTest, ApplyUpdatesAChangedSop) {
  const std::string path = Write("handoff.yaml", kHandoff);
  ASSERT_EQ(Run({"apply", "-f", path}), 0) << err_.str();
  Write("handoff.yaml", absl::StrReplaceAll(kHandoff, {{"Handoff", "Handoff v2"}}));
  EXPECT_EQ(Run({"apply", "-f", path}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "updated orgs/default/sops/handoff\n");
  EXPECT_EQ(sopd_->sops.at("orgs/default/sops/handoff").title(), "Handoff v2");
}

TEST_F(CommandsTest, ApplyWithPublishPublishesOnlyDraftsAhead) {
  const std::string path = Write("handoff.yaml", kHandoff);
  EXPECT_EQ(Run({"apply", "-f", path, "--publish"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "created orgs/default/sops/handoff\npublished orgs/default/sops/handoff\n");
  EXPECT_EQ(Run({"apply", "-f", path, "--publish"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "unchanged orgs/default/sops/handoff\n");
}

TEST_F(CommandsTest, ApplyWithPublishWarnsAboutEachPublishedSopsTies) {
  Write("a.yaml", kHandoff);
  Write("b.yaml", kHandoff);
  sopd_->ties["orgs/default/sops/a"] = {TieWithOther(0, 1)};
  EXPECT_EQ(Run({"apply", "-f", dir_.string(), "--publish"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "created orgs/default/sops/a\npublished orgs/default/sops/a\n"
            "created orgs/default/sops/b\npublished orgs/default/sops/b\n");
  // Only a's tie, once: b's publish reported none.
  EXPECT_EQ(err_.str(), kTieWarning);
}

TEST_F(CommandsTest, ApplyToAnotherOrgThanTheTokensWritesNothing) {
  Write("a.yaml", kHandoff);
  const std::string other = Write("b.yaml", "name: orgs/acme/sops/b\ntitle: T\nowner: O\n");
  EXPECT_EQ(Run({"apply", "-f", dir_.string()}), 1);
  EXPECT_EQ(err_.str(), absl::StrCat("NOT_FOUND: ", other,
                                     ": org orgs/acme not found\n"
                                     "nothing applied: 1 of 2 SOPs cannot be applied\n"));
  EXPECT_THAT(sopd_->calls, Not(Contains("CreateSop")));
}

TEST_F(CommandsTest, ApplyUsesTheOrgOfTheNameInTheFile) {
  sopd_->who.set_org("orgs/acme");
  const std::string path =
      Write("x.yaml", "name: orgs/acme/sops/handoff\ntitle: T\nowner: O\nstate: PUBLISHED\n");
  EXPECT_EQ(Run({"apply", "-f", path}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "created orgs/acme/sops/handoff\n");
  ASSERT_EQ(sopd_->creates.size(), 1u);
  EXPECT_EQ(sopd_->creates[0].parent(), "orgs/acme");
  EXPECT_EQ(sopd_->creates[0].sop().name(), "");
  EXPECT_EQ(sopd_->creates[0].sop().state(), v1::Sop::STATE_UNSPECIFIED);
}

TEST_F(CommandsTest, ApplyOfAnyBadFileSendsNothing) {
  Write("a.yaml", kHandoff);
  Write("b.yaml", "title: T\nowner: O\nsteps:\n  - ordinal: 0\n    title: S\n");
  EXPECT_EQ(Run({"apply", "-f", dir_.string()}), 1);
  EXPECT_EQ(err_.str(),
            absl::StrCat((dir_ / "b.yaml").string(), ":4: steps[0].ordinal: must be positive\n"));
  EXPECT_THAT(sopd_->calls, IsEmpty());
  EXPECT_EQ(out_.str(), "");
}

TEST_F(CommandsTest, ApplyPrintsEveryErrorOfEveryFileOnItsOwnLine) {
  const std::string a = Write("a.yaml", "title: T\nsteps:\n  - ordinal: 0\n    title: S\n");
  const std::string b = Write("b.yaml", "owner: O\n");
  EXPECT_EQ(Run({"apply", "-f", dir_.string()}), 1);
  EXPECT_EQ(err_.str(), absl::StrCat(a, ":1: owner: is required\n", a,
                                     ":3: steps[0].ordinal: must be positive\n", b,
                                     ":1: title: is required\n"));
  EXPECT_THAT(sopd_->calls, IsEmpty());
}

TEST_F(CommandsTest, ApplyWarnsAboutOutputOnlyKeysAndAppliesTheRest) {
  const std::string path = Write("handoff.yaml", "title: Handoff\nowner: O\nstate: PUBLISHED\n");
  EXPECT_EQ(Run({"apply", "-f", path}), 0) << err_.str();
  EXPECT_EQ(err_.str(), absl::StrCat(path,
                                     ":3: warning: state: is output-only and ignored; the server "
                                     "sets it (apply --publish publishes)\n"));
  EXPECT_EQ(out_.str(), "created orgs/default/sops/handoff\n");
  EXPECT_EQ(sopd_->sops.at("orgs/default/sops/handoff").state(), v1::Sop::DRAFT);
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
  EXPECT_THAT(sopd_->calls, ElementsAre("WhoAmI", "GetSop", "GetSop", "GetSop"));
}

TEST_F(CommandsTest, ApplyStoppedByTheServerNamesWhatWasAppliedWhatFailedAndWhatWasNotAttempted) {
  Write("a.yaml", kHandoff);
  const std::string b = Write("b.yaml", kHandoff);
  Write("c.yaml", kHandoff);
  sopd_->refused["PublishSop orgs/default/sops/b"] = absl::UnavailableError("sopd went away");
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
  EXPECT_EQ(sopd_->sops.count("orgs/default/sops/c"), 0u);
}

TEST_F(CommandsTest, ApplyDryRunPrintsWhatItWouldDoAndWritesNothing) {
  Write("a.yaml", kHandoff);
  Write("b.yaml", kHandoff);
  ASSERT_EQ(Run({"apply", "-f", dir_.string(), "--publish"}), 0) << err_.str();
  Write("b.yaml", absl::StrReplaceAll(kHandoff, {{"Handoff", "Handoff v2"}}));
  Write("c.yaml", kHandoff);
  const std::map<std::string, v1::Sop> before = sopd_->sops;
  sopd_->calls.clear();
  EXPECT_EQ(Run({"apply", "-f", dir_.string(), "--publish", "--dry-run"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "unchanged orgs/default/sops/a\n"
            "would update orgs/default/sops/b\nwould publish orgs/default/sops/b\n"
            "would create orgs/default/sops/c\nwould publish orgs/default/sops/c\n"
            "dry run: nothing written\n");
  EXPECT_THAT(sopd_->calls, ElementsAre("WhoAmI", "GetSop", "GetSop", "GetSop"));
  EXPECT_EQ(sopd_->sops.size(), before.size());
  for (const auto& [name, sop] : before) EXPECT_EQ(sopd_->sops.at(name).etag(), sop.etag());
}

TEST_F(CommandsTest, ApplyDryRunReportsWhatARealApplyWouldRefuse) {
  const std::string b = Write("b.yaml", "title: B\nowner: Ops\n");
  EXPECT_EQ(Run({"apply", "-f", dir_.string(), "--publish", "--dry-run"}), 1);
  const std::string dry_err = err_.str();
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(Run({"apply", "-f", dir_.string(), "--publish"}), 1);
  EXPECT_EQ(err_.str(), dry_err);
  EXPECT_THAT(dry_err, HasSubstr("cannot be published"));
  EXPECT_THAT(sopd_->calls, Not(Contains("CreateSop")));
}

// An SDR sees the published revision 2 of an SOP whose draft (3) is ahead.
void SeeAsSdr(FakeSopd& sopd, const std::string& title) {
  v1::Sop published;
  published.set_name("orgs/default/sops/handoff");
  published.set_title(title);
  published.set_owner("Sales Ops");
  published.add_targeting_rules()->add_record_types("Lead");
  published.set_state(v1::Sop::PUBLISHED);
  published.set_revision_id("2");
  published.set_published_revision_id("2");
  sopd.sops[published.name()] = published;
  sopd.who.clear_roles();
  sopd.who.add_roles(v1::SDR);
}

TEST_F(CommandsTest, ApplyByACallerWhoCannotReadDraftsSaysItComparedWithThePublishedRevision) {
  SeeAsSdr(*sopd_, "Handoff");
  EXPECT_EQ(Run({"apply", "-f", Write("handoff.yaml", kHandoff), "--publish"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "unchanged orgs/default/sops/handoff (compared with published revision 2: your roles "
            "cannot read drafts)\n");
}

TEST_F(CommandsTest, ApplyOfAChangedFileByACallerWhoMayNotWriteIsPermissionDeniedBeforeAnyWrite) {
  SeeAsSdr(*sopd_, "Handoff");
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
  EXPECT_THAT(sopd_->calls, ElementsAre("WhoAmI", "GetSop", "GetSop"));
}

TEST_F(CommandsTest, ValidateOfValidFilesNamesEachSopAndCallsNoServer) {
  const std::string a = Write("a.yaml", "name: orgs/acme/sops/handoff\ntitle: T\nowner: O\n");
  const std::string b = Write("b.yaml", kHandoff);
  EXPECT_EQ(Run({"validate", "-f", dir_.string(), "--org", "west"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), absl::StrCat("valid ", a, ": orgs/acme/sops/handoff\nvalid ", b,
                                     ": orgs/west/sops/b\n"));
  EXPECT_EQ(err_.str(), "");
  EXPECT_THAT(sopd_->calls, IsEmpty());
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
  EXPECT_EQ(RunValidate(*invocation, out, err), kExitFailed);
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
  EXPECT_EQ(Run({"apply", "-f", exported}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "unchanged orgs/default/sops/handoff\n");
}

TEST_F(CommandsTest, ApplyOfAStaleExportIsAborted) {
  ASSERT_EQ(Run({"apply", "-f", Write("handoff.yaml", kHandoff)}), 0) << err_.str();
  ASSERT_EQ(Run({"get", "handoff", "-o", "json"}), 0) << err_.str();
  std::string exported = out_.str();
  exported.replace(exported.find("Handoff"), 7, "Handoff (edited)");
  const std::string path = Write("exported.json", exported);
  // Someone else changes the SOP after the export.
  ASSERT_EQ(Run({"apply", "-f", Write("handoff.yaml", "title: Other\nowner: O\n")}), 0);
  sopd_->calls.clear();

  EXPECT_EQ(Run({"apply", "-f", path}), 1);
  EXPECT_EQ(err_.str(), absl::StrCat("ABORTED: ", path,
                                     ": SOP orgs/default/sops/handoff was changed since the etag "
                                     "was read; get it again and retry\n"
                                     "nothing applied: 1 of 1 SOPs cannot be applied\n"));
  EXPECT_THAT(sopd_->calls, Not(Contains("UpdateSop")));
  EXPECT_EQ(sopd_->sops.at("orgs/default/sops/handoff").title(), "Other");
}

TEST_F(CommandsTest, RpcErrorPrintsCodeAndMessage) {
  EXPECT_EQ(Run({"get", "missing"}), 1);
  EXPECT_EQ(err_.str(), "NOT_FOUND: SOP orgs/default/sops/missing not found\n");
  EXPECT_EQ(out_.str(), "");
}

TEST_F(CommandsTest, RpcErrorMessageIsEscaped) {
  EXPECT_EQ(Run({"get", "orgs/default/sops/x\x1b[2J"}), 1);
  EXPECT_EQ(err_.str(), "NOT_FOUND: SOP orgs/default/sops/x\\x1b[2J not found\n");
}

TEST_F(CommandsTest, GetEscapesControlCharactersInText) {
  v1::Sop sop;
  sop.set_name("orgs/default/sops/evil");
  sop.set_title("Evil\x1b]0;owned\a");
  sopd_->sops[sop.name()] = sop;
  EXPECT_EQ(Run({"get", "evil"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("Title:  Evil\\x1b]0;owned\\x07\n"));
  EXPECT_EQ(Run({"get", "evil", "-o", "json"}), 0) << err_.str();
  v1::Sop printed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(out_.str(), &printed).ok()) << out_.str();
  EXPECT_EQ(printed.title(), sop.title());
}

TEST_F(CommandsTest, GetPrintsASummary) {
  ASSERT_EQ(Run({"apply", "-f", Write("handoff.yaml", kHandoff)}), 0) << err_.str();
  EXPECT_EQ(Run({"get", "orgs/default/sops/handoff"}), 0) << err_.str();
  EXPECT_THAT(out_.str(),
              StartsWith("orgs/default/sops/handoff\n  Title:  Handoff\n  Owner:  Sales Ops\n"));
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
                                     "  Title:       Handoff\n"
                                     "  Owner:       Sales Ops\n"
                                     "  Owner user:  dana@acme.com\n"));
}

TEST_F(CommandsTest, PublishWithoutTiesWarnsAboutNothing) {
  ASSERT_EQ(Run({"apply", "-f", Write("handoff.yaml", kHandoff)}), 0) << err_.str();
  EXPECT_EQ(Run({"publish", "handoff"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "published orgs/default/sops/handoff (rev 1)\n");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(CommandsTest, PublishWarnsAboutEachTieOnStderrAndSucceeds) {
  ASSERT_EQ(Run({"apply", "-f", Write("handoff.yaml", kHandoff)}), 0) << err_.str();
  sopd_->ties["orgs/default/sops/handoff"] = {TieWithOther(0, 1), TieWithOther(2, 0)};
  EXPECT_EQ(Run({"publish", "handoff"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "published orgs/default/sops/handoff (rev 1)\n");
  EXPECT_EQ(err_.str(), absl::StrCat(kTieWarning,
                                     "warning: ties with orgs/default/sops/other (rule 3 vs its "
                                     "rule 1, priority 100, specificity 2), e.g. "
                                     "record_type=Lead lead_status=\"SQL – Accepted\"\n"));
  EXPECT_EQ(sopd_->sops.at("orgs/default/sops/handoff").state(), v1::Sop::PUBLISHED);
}

TEST_F(CommandsTest, PublishWithJsonPrintsTheWholeResponseAndNoWarnings) {
  ASSERT_EQ(Run({"apply", "-f", Write("handoff.yaml", kHandoff)}), 0) << err_.str();
  sopd_->ties["orgs/default/sops/handoff"] = {TieWithOther(0, 1)};
  EXPECT_EQ(Run({"publish", "handoff", "-o", "json"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), StartsWith("{\n \"sop\": {"));
  EXPECT_THAT(out_.str(), HasSubstr("\"published_revision_id\": \"1\""));
  EXPECT_THAT(out_.str(), HasSubstr("\"ties\": ["));
  EXPECT_THAT(out_.str(), HasSubstr("\"other_rule_index\": 1"));
  EXPECT_EQ(err_.str(), "");
}

TEST_F(CommandsTest, CheckWithoutTiesSaysSo) {
  ASSERT_EQ(Run({"apply", "-f", Write("handoff.yaml", kHandoff)}), 0) << err_.str();
  EXPECT_EQ(Run({"check", "handoff", "--fail-on-ties"}), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(), "no ties\n");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(CommandsTest, CheckPrintsTiesAndSucceedsWithoutFailOnTies) {
  ASSERT_EQ(Run({"apply", "-f", Write("handoff.yaml", kHandoff)}), 0) << err_.str();
  sopd_->ties["orgs/default/sops/handoff"] = {TieWithOther(0, 1)};
  EXPECT_EQ(Run({"check", "handoff"}), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(),
            "ties with orgs/default/sops/other (rev 4)\n"
            "  rules:        this SOP's rule 1 vs its rule 2\n"
            "  priority:     100\n"
            "  specificity:  2\n"
            "  example:      record_type=Lead lead_status=\"SQL – Accepted\"\n");
  EXPECT_EQ(err_.str(), "");
  // Checking publishes nothing.
  EXPECT_EQ(sopd_->sops.at("orgs/default/sops/handoff").state(), v1::Sop::DRAFT);
}

TEST_F(CommandsTest, CheckWithFailOnTiesExitsThreeWhenThereAreTies) {
  ASSERT_EQ(Run({"apply", "-f", Write("handoff.yaml", kHandoff)}), 0) << err_.str();
  sopd_->ties["orgs/default/sops/handoff"] = {TieWithOther(0, 1)};
  EXPECT_EQ(Run({"check", "handoff", "--fail-on-ties"}), kExitTiesFound);
  EXPECT_THAT(out_.str(), StartsWith("ties with orgs/default/sops/other (rev 4)\n"));
  EXPECT_EQ(Run({"check", "handoff", "--fail-on-ties", "-o", "json"}), kExitTiesFound);
  EXPECT_THAT(out_.str(), StartsWith("{\n \"ties\": ["));
  EXPECT_THAT(out_.str(), HasSubstr("\"sop\": \"orgs/default/sops/other\""));
}

TEST_F(CommandsTest, CheckOfAMissingSopFails) {
  EXPECT_EQ(Run({"check", "missing", "--fail-on-ties"}), kExitFailed);
  EXPECT_EQ(err_.str(), "NOT_FOUND: SOP orgs/default/sops/missing not found\n");
  EXPECT_EQ(out_.str(), "");
}

TEST_F(CommandsTest, LookupWithNearMissesAsksForThemAndListsThemAfterTheMatches) {
  v1::NearMiss& miss = *sopd_->lookup_response.add_near_misses();
  miss.set_sop("orgs/default/sops/x");
  miss.set_priority(100);
  miss.mutable_failed_condition()->set_field("lead_status");
  miss.mutable_failed_condition()->mutable_equals()->set_string_value("MQL – New Handoff");
  miss.mutable_actual()->set_string_value("MQL - New Handoff");
  EXPECT_EQ(Run({"lookup", "--record-type", "Lead", "--near-misses"}), 0) << err_.str();
  ASSERT_EQ(sopd_->lookups.size(), 1u);
  EXPECT_TRUE(sopd_->lookups[0].include_near_misses());
  EXPECT_EQ(out_.str(),
            "No published SOP matches this record.\n"
            "near misses:\n"
            "  orgs/default/sops/x rule 1 (priority 100): failed lead_status = \"MQL – New "
            "Handoff\" (actual \"MQL - New Handoff\")\n");
}

v1::SopRevision Revision(int number, const std::string& change) {
  v1::SopRevision revision;
  revision.set_name(absl::StrCat("orgs/default/sops/handoff/revisions/", number));
  revision.set_author("dana@example.com");
  revision.set_change_summary(change);
  return revision;
}

TEST_F(CommandsTest, HistoryAsksForTheBasicViewAndPrintsEveryPage) {
  sopd_->revision_pages.resize(2);
  *sopd_->revision_pages[0].add_revisions() = Revision(2, "updated title");
  sopd_->revision_pages[0].set_next_page_token("p1");
  *sopd_->revision_pages[1].add_revisions() = Revision(1, "created");
  EXPECT_EQ(Run({"history", "handoff"}), 0) << err_.str();
  ASSERT_EQ(sopd_->revision_lists.size(), 2u);
  EXPECT_EQ(sopd_->revision_lists[0].view(), v1::SOP_VIEW_BASIC);
  EXPECT_EQ(sopd_->revision_lists[1].view(), v1::SOP_VIEW_BASIC);
  EXPECT_EQ(sopd_->revision_lists[1].page_token(), "p1");
  EXPECT_THAT(out_.str(), HasSubstr("updated title"));
  EXPECT_THAT(out_.str(), HasSubstr("created"));
}

TEST_F(CommandsTest, ListAsksForTheBasicViewAndForTheFullViewAsJson) {
  sopd_->sop_pages.resize(1);
  sopd_->sop_pages[0].add_sops()->set_name("orgs/default/sops/handoff");
  EXPECT_EQ(Run({"list"}), 0) << err_.str();
  EXPECT_EQ(Run({"list", "-o", "json"}), 0) << err_.str();
  ASSERT_EQ(sopd_->sop_lists.size(), 2u);
  EXPECT_EQ(sopd_->sop_lists[0].view(), v1::SOP_VIEW_BASIC);
  EXPECT_EQ(sopd_->sop_lists[1].view(), v1::SOP_VIEW_FULL);
}

TEST_F(CommandsTest, LookupWithoutNearMissesShowsNoSection) {
  EXPECT_EQ(Run({"lookup", "--record-type", "Lead"}), 0) << err_.str();
  ASSERT_EQ(sopd_->lookups.size(), 1u);
  EXPECT_FALSE(sopd_->lookups[0].include_near_misses());
  EXPECT_EQ(out_.str(), "No published SOP matches this record.\n");
}

TEST_F(CommandsTest, LookupWithNearMissesAsJsonPrintsTheResponse) {
  sopd_->lookup_response.add_near_misses()->set_sop("orgs/default/sops/x");
  EXPECT_EQ(Run({"lookup", "--record-type", "Lead", "--near-misses", "-o", "json"}), 0)
      << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("\"near_misses\": ["));
  EXPECT_THAT(out_.str(), HasSubstr("\"failed_condition_index\": 0"));
}

TEST_F(CommandsTest, TokenCreatePrintsOnlyTheSecretOnStdout) {
  EXPECT_EQ(Run({"token", "create", "--user", "dana@acme.com", "--role", "SDR", "--role", "ae",
                 "--org", "acme", "--expires", "30d"}),
            0)
      << err_.str();
  EXPECT_EQ(out_.str(), "sops_s3cr3t\n");
  EXPECT_EQ(err_.str(),
            "Created orgs/acme/tokens/t0 for dana@acme.com\n"
            "  roles:   SDR, AE\n"
            "  expires: 2024-05-31 08:00:00 UTC\n"
            "The secret (on stdout) is shown only this once.\n");
  ASSERT_EQ(sopd_->token_creates.size(), 1u);
  EXPECT_EQ(sopd_->token_creates[0].parent(), "orgs/acme");
  EXPECT_EQ(sopd_->token_creates[0].ttl().seconds(), 30 * 86400);
}

TEST_F(CommandsTest, TokenCreateWithJsonPrintsTheWholeResponse) {
  EXPECT_EQ(Run({"token", "create", "--user", "dana", "--role", "SDR", "-o", "json"}), 0)
      << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("\"secret\": \"sops_s3cr3t\""));
  EXPECT_THAT(out_.str(), HasSubstr("\"name\": \"orgs/default/tokens/t0\""));
  EXPECT_EQ(err_.str(), "");
}

TEST_F(CommandsTest, TokenListShowsStatusAndAskedForInactive) {
  ASSERT_EQ(Run({"token", "create", "--user", "dana", "--role", "SDR"}), 0) << err_.str();
  ASSERT_EQ(Run({"token", "create", "--user", "lee", "--role", "ADMIN"}), 0) << err_.str();
  ASSERT_EQ(Run({"token", "revoke", "t1"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "revoked orgs/default/tokens/t1\n");
  EXPECT_EQ(Run({"token", "list", "--all"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "NAME                    USER  ROLES  CREATED                  EXPIRES  STATUS\n"
            "orgs/default/tokens/t0  dana  SDR    2024-05-01 08:00:00 UTC  never    active\n"
            "orgs/default/tokens/t1  lee   ADMIN  2024-05-01 08:00:00 UTC  never    revoked\n");
  ASSERT_EQ(sopd_->token_lists.size(), 1u);
  EXPECT_EQ(sopd_->token_lists[0].parent(), "orgs/default");
  EXPECT_TRUE(sopd_->token_lists[0].show_inactive());
}

TEST_F(CommandsTest, TokenListFollowsEveryPage) {
  ASSERT_EQ(Run({"token", "create", "--user", "dana", "--role", "SDR"}), 0) << err_.str();
  ASSERT_EQ(Run({"token", "create", "--user", "lee", "--role", "AE"}), 0) << err_.str();
  ASSERT_EQ(Run({"token", "create", "--user", "kim", "--role", "AE"}), 0) << err_.str();
  sopd_->list_page_size = 2;
  EXPECT_EQ(Run({"token", "list"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("orgs/default/tokens/t0  dana"));
  EXPECT_THAT(out_.str(), HasSubstr("orgs/default/tokens/t2  kim"));
  ASSERT_EQ(sopd_->token_lists.size(), 2u);
  EXPECT_EQ(sopd_->token_lists[1].page_token(), "2");
  EXPECT_EQ(sopd_->token_lists[1].parent(), "orgs/default");
}

TEST_F(CommandsTest, TokenGetShowsOneTokenByItsBareId) {
  ASSERT_EQ(Run({"token", "create", "--user", "dana", "--role", "SDR", "--org", "acme"}), 0)
      << err_.str();
  EXPECT_EQ(Run({"token", "get", "t0", "--org", "acme"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "NAME                 USER  ROLES  CREATED                  EXPIRES  STATUS\n"
            "orgs/acme/tokens/t0  dana  SDR    2024-05-01 08:00:00 UTC  never    active\n");
  EXPECT_EQ(Run({"token", "get", "orgs/acme/tokens/nope"}), 1);
  EXPECT_EQ(err_.str(), "NOT_FOUND: token orgs/acme/tokens/nope not found\n");
}

TEST_F(CommandsTest, TokenRevokeOfAMissingTokenFails) {
  EXPECT_EQ(Run({"token", "revoke", "orgs/acme/tokens/nope"}), 1);
  EXPECT_EQ(err_.str(), "NOT_FOUND: token orgs/acme/tokens/nope not found\n");
  EXPECT_EQ(out_.str(), "");
}

TEST_F(CommandsTest, WhoAmIPrintsTheCaller) {
  sopd_->who.set_org("orgs/acme");
  sopd_->who.set_user_id("dana@acme.com");
  sopd_->who.add_roles(v1::ADMIN);
  sopd_->who.set_token("orgs/acme/tokens/t0");
  EXPECT_EQ(Run({"whoami"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("User:          dana@acme.com\n"));
  EXPECT_THAT(out_.str(), HasSubstr("Server admin:  no\n"));
}

TEST_F(CommandsTest, UnauthenticatedTellsCliUsersHowToPassAToken) {
  sopd_->who_status = absl::UnauthenticatedError(
      "missing or invalid credentials: send \"authorization: Bearer <token>\"");
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
  EXPECT_THAT(sopd_->calls, IsEmpty());
}

TEST_F(CommandsTest, OrgCreateThenList) {
  EXPECT_EQ(Run({"org", "create", "acme", "--display-name", "Acme Inc"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "created orgs/acme\n");
  EXPECT_EQ(Run({"org", "list"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "NAME       DISPLAY NAME  CREATED\n"
            "orgs/acme  Acme Inc      -\n");
  EXPECT_THAT(sopd_->calls, ElementsAre("CreateOrg", "ListOrgs"));
}

TEST_F(CommandsTest, OrgListFollowsEveryPageAndOrgGetShowsOne) {
  ASSERT_EQ(Run({"org", "create", "acme"}), 0) << err_.str();
  ASSERT_EQ(Run({"org", "create", "globex", "--display-name", "Globex"}), 0) << err_.str();
  sopd_->list_page_size = 1;
  EXPECT_EQ(Run({"org", "list"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "NAME         DISPLAY NAME  CREATED\n"
            "orgs/acme    -             -\n"
            "orgs/globex  Globex        -\n");
  EXPECT_EQ(Run({"org", "get", "globex"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "NAME         DISPLAY NAME  CREATED\n"
            "orgs/globex  Globex        -\n");
  EXPECT_THAT(sopd_->calls,
              ElementsAre("CreateOrg", "CreateOrg", "ListOrgs", "ListOrgs", "GetOrg"));
}

}  // namespace
}  // namespace sopsidebar::cli
