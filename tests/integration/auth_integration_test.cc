// Identity end to end against a real sopd: tokens at rest, revocation, the
// BOLA check on the AE-only pricing SOP, token and org reads and their
// pages, plaintext refusal, TLS and mTLS with certificates generated at test
// time by openssl.
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/sopd_fixture.h"

namespace sopsidebar {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

class AuthIntegrationTest : public test::SopdFixture {};

TEST_F(AuthIntegrationTest, AdminTokenFileIsOwnerOnlyAndWorks) {
  StartServer();
  ASSERT_FALSE(server_->admin_token_path().empty());
  struct stat st;
  ASSERT_EQ(::stat(server_->admin_token_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto me = ClientFor(admin_token_).WhoAmI(v1::WhoAmIRequest());
  ASSERT_TRUE(me.ok()) << me.status();
  EXPECT_EQ(me->org(), "orgs/default");
  EXPECT_TRUE(me->server_admin());
}

TEST_F(AuthIntegrationTest, DataDirHoldsNoIssuedToken) {
  StartServer();
  std::vector<std::string> secrets = {admin_token_};
  for (v1::Role role : {v1::SDR, v1::AE, v1::ADMIN}) {
    secrets.push_back(IssueToken(admin_token_, "user-" + v1::Role_Name(role), {role}));
  }
  const std::string data_dir = options_.data_dir;
  StopServer();  // flushes memtables into SST files as well as the WAL
  int files = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(std::filesystem::path(data_dir) / "db")) {
    if (!entry.is_regular_file()) continue;
    ++files;
    const std::string bytes = ReadFile(entry.path());
    for (const std::string& secret : secrets) {
      ASSERT_FALSE(secret.empty());
      // The random part alone must not be there either.
      const std::string random_part = secret.substr(secret.rfind('_') + 1);
      EXPECT_EQ(bytes.find(random_part), std::string::npos)
          << entry.path() << " holds an issued token";
    }
  }
  EXPECT_GT(files, 3);
}

TEST_F(AuthIntegrationTest, MissingBadAndRevokedTokensAreRejectedAlike) {
  StartServer();
  const std::string sdr = IssueToken(admin_token_, "sam", {v1::SDR});
  ASSERT_TRUE(ClientFor(sdr).WhoAmI(v1::WhoAmIRequest()).ok());
  v1::ListTokensRequest list;
  list.set_parent("orgs/default");
  std::string sdr_name;
  auto tokens = ClientFor(admin_token_).ListTokens(list);
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  for (const v1::Token& t : tokens->tokens()) {
    if (t.user_id() == "sam") sdr_name = t.name();
  }
  ASSERT_TRUE(ClientFor(admin_token_).RevokeToken(sdr_name).ok());

  const absl::Status none = ClientFor("").WhoAmI(v1::WhoAmIRequest()).status();
  EXPECT_EQ(none.code(), absl::StatusCode::kUnauthenticated);
  for (const std::string& bad : {sdr, std::string("sop_tkunknown_abc"), std::string("nonsense"),
                                 admin_token_ + "x"}) {
    EXPECT_EQ(ClientFor(bad).WhoAmI(v1::WhoAmIRequest()).status(), none) << bad;
  }
}

TEST_F(AuthIntegrationTest, SdrSeesTheAeOnlyPricingSopExactlyLikeAMissingOne) {
  options_.import_dir = SOP_EXAMPLES_DIR;
  StartServer();
  client::Client sdr = ClientFor(IssueToken(admin_token_, "sam", {v1::SDR}));
  client::Client ae = ClientFor(IssueToken(admin_token_, "alex", {v1::AE}));
  const std::string pricing = "orgs/default/sops/pricing-discount-playbook";
  const std::string ghost = "orgs/default/sops/no-such-playbook";
  // The same status, and the same message but for the name.
  auto same_as_missing = [&](const absl::Status& hidden, const absl::Status& missing) {
    EXPECT_EQ(hidden.code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(hidden.code(), missing.code());
    EXPECT_EQ(absl::StrReplaceAll(hidden.message(), {{pricing, "X"}}),
              absl::StrReplaceAll(missing.message(), {{ghost, "X"}}));
  };
  same_as_missing(sdr.GetSop(pricing).status(), sdr.GetSop(ghost).status());
  v1::ListSopRevisionsRequest history;
  history.set_name(pricing);
  v1::ListSopRevisionsRequest ghost_history;
  ghost_history.set_name(ghost);
  same_as_missing(sdr.ListSopRevisions(history).status(),
                  sdr.ListSopRevisions(ghost_history).status());
  v1::GetSopRevisionRequest revision;
  revision.set_name(pricing + "/revisions/1");
  v1::GetSopRevisionRequest ghost_revision;
  ghost_revision.set_name(ghost + "/revisions/1");
  same_as_missing(sdr.GetSopRevision(revision).status(),
                  sdr.GetSopRevision(ghost_revision).status());

  v1::LookupSopsRequest lookup;
  lookup.mutable_context()->set_org("orgs/default");
  lookup.mutable_context()->set_record_type("Opportunity");
  (*lookup.mutable_context()->mutable_fields())["stage_name"].set_string_value(
      "Negotiation/Review");
  auto sdr_matches = sdr.LookupSops(lookup);
  ASSERT_TRUE(sdr_matches.ok()) << sdr_matches.status();
  for (const v1::SopMatch& m : sdr_matches->matches()) EXPECT_NE(m.sop(), pricing);
  v1::ListSopsRequest list;
  list.set_parent("orgs/default");
  auto listed = sdr.ListAllSops(list);
  ASSERT_TRUE(listed.ok()) << listed.status();
  for (const v1::Sop& s : *listed) EXPECT_NE(s.name(), pricing);

  auto ae_matches = ae.LookupSops(lookup);
  ASSERT_TRUE(ae_matches.ok());
  ASSERT_GE(ae_matches->matches_size(), 1);
  EXPECT_EQ(ae_matches->matches(0).sop(), pricing);
  EXPECT_TRUE(ae.GetSop(pricing).ok());
}

TEST_F(AuthIntegrationTest, ListTokensPagesThroughEveryTokenByName) {
  StartServer();
  for (int i = 0; i < 4; ++i) IssueToken(admin_token_, absl::StrCat("rep-", i), {v1::SDR});
  client::Client admin = ClientFor(admin_token_);
  v1::ListTokensRequest request;
  request.set_parent("orgs/default");
  request.set_page_size(2);
  std::vector<std::string> paged;
  int pages = 0;
  for (;;) {
    auto page = admin.ListTokens(request);
    ASSERT_TRUE(page.ok()) << page.status();
    ++pages;
    EXPECT_LE(page->tokens_size(), 2);
    for (const v1::Token& token : page->tokens()) paged.push_back(token.name());
    if (page->next_page_token().empty()) break;
    request.set_page_token(page->next_page_token());
  }
  EXPECT_EQ(pages, 3);  // the bootstrap admin and four reps
  ASSERT_EQ(paged.size(), 5u);
  EXPECT_TRUE(std::is_sorted(paged.begin(), paged.end()));
  request.set_page_size(0);
  request.clear_page_token();
  auto all = admin.ListTokens(request);
  ASSERT_TRUE(all.ok()) << all.status();
  std::vector<std::string> unpaged;
  for (const v1::Token& token : all->tokens()) unpaged.push_back(token.name());
  EXPECT_EQ(paged, unpaged);
  EXPECT_EQ(all->next_page_token(), "");
}

TEST_F(AuthIntegrationTest, ListTokensPageTokenOfOtherParametersIsInvalidArgument) {
  StartServer();
  for (int i = 0; i < 2; ++i) IssueToken(admin_token_, absl::StrCat("rep-", i), {v1::SDR});
  client::Client admin = ClientFor(admin_token_);
  v1::ListTokensRequest request;
  request.set_parent("orgs/default");
  request.set_page_size(1);
  auto first = admin.ListTokens(request);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_FALSE(first->next_page_token().empty());
  request.set_page_token(first->next_page_token());
  request.set_show_inactive(true);
  auto other = admin.ListTokens(request);
  EXPECT_EQ(other.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(other.status().message(), HasSubstr("page_token"));
  request.set_show_inactive(false);
  request.set_page_size(-1);
  auto negative = admin.ListTokens(request);
  EXPECT_EQ(negative.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(negative.status().message(), HasSubstr("page_size"));
}

TEST_F(AuthIntegrationTest, ListOrgsPagesThroughEveryOrgByName) {
  StartServer();
  client::Client admin = ClientFor(admin_token_);
  for (const char* id : {"globex", "acme", "initech"}) {
    v1::CreateOrgRequest create;
    create.set_org_id(id);
    ASSERT_TRUE(admin.CreateOrg(create).ok());
  }
  v1::ListOrgsRequest request;
  request.set_page_size(3);
  auto first = admin.ListOrgs(request);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->orgs_size(), 3);
  ASSERT_FALSE(first->next_page_token().empty());
  request.set_page_token(first->next_page_token());
  auto second = admin.ListOrgs(request);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->next_page_token(), "");
  std::vector<std::string> names;
  for (const auto* page : {&*first, &*second}) {
    for (const v1::Org& org : page->orgs()) names.push_back(org.name());
  }
  EXPECT_THAT(names, ElementsAre("orgs/acme", "orgs/default", "orgs/globex", "orgs/initech"));
  auto all = admin.ListAllOrgs(v1::ListOrgsRequest());
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->size(), 4u);
}

TEST_F(AuthIntegrationTest, GetTokenShowsAnyTokenOfTheOrgWithoutItsSecret) {
  StartServer();
  client::Client admin = ClientFor(admin_token_);
  v1::CreateTokenRequest create;
  create.set_parent("orgs/default");
  create.mutable_token()->set_user_id("dana@example.com");
  create.mutable_token()->add_roles(v1::AE);
  auto issued = admin.CreateToken(create);
  ASSERT_TRUE(issued.ok()) << issued.status();
  ASSERT_TRUE(admin.RevokeToken(issued->token().name()).ok());
  auto got = admin.GetToken(issued->token().name());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->name(), issued->token().name());
  EXPECT_EQ(got->user_id(), "dana@example.com");
  EXPECT_TRUE(got->has_revoke_time());
  EXPECT_EQ(got->SerializeAsString().find(issued->secret()), std::string::npos);
  auto missing = admin.GetToken("orgs/default/tokens/tknope");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(admin.GetToken("orgs/default/nottokens/x").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(AuthIntegrationTest, GetTokenAndGetOrgOfAnotherOrgAreNotFoundLikeMissingOnes) {
  StartServer();
  client::Client admin = ClientFor(admin_token_);
  v1::CreateOrgRequest org;
  org.set_org_id("acme");
  org.mutable_org()->set_display_name("Acme Inc");
  ASSERT_TRUE(admin.CreateOrg(org).ok());
  const std::string acme_admin = IssueToken(admin_token_, "acme-admin", {v1::ADMIN}, "acme");
  auto me = admin.WhoAmI(v1::WhoAmIRequest());
  ASSERT_TRUE(me.ok()) << me.status();
  client::Client acme = ClientFor(acme_admin);
  const absl::Status other = acme.GetToken(me->token()).status();
  const absl::Status missing = acme.GetToken("orgs/default/tokens/tknope").status();
  EXPECT_EQ(other.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(acme.GetOrg("orgs/default").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(acme.GetOrg("orgs/acme").status().code(), absl::StatusCode::kPermissionDenied);
  auto got = admin.GetOrg("orgs/acme");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->display_name(), "Acme Inc");
  EXPECT_TRUE(got->has_create_time());
  EXPECT_EQ(admin.GetOrg("orgs/nope").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(AuthIntegrationTest, PlaintextOnANonLoopbackAddressIsRefusedUnlessAllowed) {
  options_.listen_address = "0.0.0.0:0";
  auto refused = SopdServer::Start(options_);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("--insecure-listen-any"));
  options_.insecure_listen_any = true;
  auto allowed = SopdServer::Start(options_);
  EXPECT_TRUE(allowed.ok()) << allowed.status();
}

// A CA, a server certificate for 127.0.0.1 and a client certificate, made
// with the openssl command line.
class TlsTest : public test::SopdFixture {
 protected:
  void SetUp() override {
    dir_ = options_.data_dir + "-certs";
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    const std::string script = absl::StrCat(
        "set -e; cd '", dir_, "'; exec >openssl.log 2>&1\n",
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=test-ca "
        "-keyout ca.key -out ca.pem\n",
        "openssl req -newkey rsa:2048 -nodes -subj /CN=sopd -keyout server.key -out server.csr\n",
        "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost' > san.ext\n",
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 "
        "-extfile san.ext -out server.pem\n",
        "openssl req -newkey rsa:2048 -nodes -subj /CN=crm-plugin -keyout client.key "
        "-out client.csr\n",
        "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 "
        "-out client.pem\n");
    ASSERT_EQ(std::system(script.c_str()), 0) << ReadFile(dir_ + "/openssl.log");
    options_.tls_cert_file = dir_ + "/server.pem";
    options_.tls_key_file = dir_ + "/server.key";
  }

  client::ConnectionOptions Tls(const std::string& token, bool with_client_cert) {
    client::ConnectionOptions options = ConnectionTo(token);
    options.tls.enabled = true;
    options.tls.root_ca_pem = ReadFile(dir_ + "/ca.pem");
    if (with_client_cert) {
      options.tls.client_cert_pem = ReadFile(dir_ + "/client.pem");
      options.tls.client_key_pem = ReadFile(dir_ + "/client.key");
    }
    return options;
  }

  absl::Status WhoAmI(const client::ConnectionOptions& options) {
    client::ConnectionOptions quick = options;
    quick.retry.max_attempts = 1;
    quick.timeout = absl::Seconds(5);
    return client::Client(client::MakeGrpcConnection(quick)).WhoAmI(v1::WhoAmIRequest()).status();
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
};

TEST_F(TlsTest, TlsServesVerifiedClientsAndRefusesPlaintext) {
  StartServer();
  EXPECT_STREQ(server_->transport(), "tls");
  EXPECT_TRUE(WhoAmI(Tls(admin_token_, false)).ok());
  EXPECT_EQ(WhoAmI(ConnectionTo(admin_token_)).code(), absl::StatusCode::kUnavailable);
  client::ConnectionOptions wrong_ca = Tls(admin_token_, false);
  wrong_ca.tls.root_ca_pem = ReadFile(dir_ + "/client.pem");  // not a CA of the server
  EXPECT_EQ(WhoAmI(wrong_ca).code(), absl::StatusCode::kUnavailable);
}

TEST_F(TlsTest, MutualTlsRequiresAClientCertificateAndStillAToken) {
  options_.tls_client_ca_file = dir_ + "/ca.pem";
  StartServer();
  EXPECT_STREQ(server_->transport(), "mtls");
  EXPECT_TRUE(WhoAmI(Tls(admin_token_, true)).ok());
  EXPECT_EQ(WhoAmI(Tls(admin_token_, false)).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(WhoAmI(Tls("", true)).code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(TlsTest, HalfGivenTlsFlagsAreRejected) {
  options_.tls_key_file.clear();
  EXPECT_EQ(SopdServer::Start(options_).status().code(), absl::StatusCode::kInvalidArgument);
}

// Token, org and CRM map changes join the SOP changes in the org's audit
// chain, each written with its event, and the chain verifies.
TEST_F(AuthIntegrationTest, TokenOrgAndMapChangesAreInTheAuditChain) {
  StartServer();
  client::Client admin = ClientFor(admin_token_);
  const std::string rep = IssueToken(admin_token_, "sam@example.com", {v1::SDR});
  v1::ListTokensRequest tokens;
  tokens.set_parent("orgs/default");
  absl::StatusOr<std::vector<v1::Token>> all = admin.ListAllTokens(tokens);
  ASSERT_TRUE(all.ok()) << all.status();
  std::string sam;
  for (const v1::Token& token : *all) {
    if (token.user_id() == "sam@example.com") sam = token.name();
  }
  ASSERT_TRUE(admin.RevokeToken(sam).ok());
  MapRoles(admin_token_, "salesforce", {{"Inside Sales", v1::SDR}});
  v1::UpdateOrgRequest org;
  org.mutable_org()->set_name("orgs/default");
  org.mutable_org()->mutable_stale_review_cutoff()->set_seconds(7 * 86400);
  ASSERT_TRUE(admin.UpdateOrg(org).ok());

  v1::ListAuditEventsRequest list;
  list.set_parent("orgs/default");
  absl::StatusOr<std::vector<v1::AuditEvent>> events = admin.ListAllAuditEvents(list);
  ASSERT_TRUE(events.ok()) << events.status();
  std::vector<std::string> seen;
  for (const v1::AuditEvent& event : *events) {
    seen.push_back(absl::StrCat(event.action(), " ", event.actor()));
  }
  // The first start made the org and the bootstrap admin token.
  EXPECT_THAT(seen, ElementsAre("org.create sopd", "token.create sopd", "token.create admin",
                                "token.revoke admin", "rolemap.update admin", "org.update admin"));
  EXPECT_EQ((*events)[2].resource(), sam);
  EXPECT_THAT((*events)[2].client(), ::testing::StartsWith("grpc "));

  v1::VerifyAuditLogRequest verify;
  verify.set_parent("orgs/default");
  absl::StatusOr<v1::VerifyAuditLogResponse> verified = admin.VerifyAuditLog(verify);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_TRUE(verified->intact()) << verified->problem();
  EXPECT_EQ(verified->events_checked(), 6);
}

}  // namespace
}  // namespace sopsidebar
