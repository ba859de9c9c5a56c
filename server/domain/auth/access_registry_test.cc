#include "server/domain/auth/access_registry.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/domain/store/in_memory_auth_store.h"

namespace sopsidebar {
namespace {

using ::testing::HasSubstr;

class AccessRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_ = AccessRegistry::Create(&store_, &clock_).value();
    auto secret = registry_->BootstrapAdminToken();
    ASSERT_TRUE(secret.ok()) << secret.status();
    ASSERT_TRUE(secret->has_value());
    admin_secret_ = **secret;
    admin_ = registry_->Authenticate(admin_secret_).value();
  }

  absl::StatusOr<v1::CreateTokenResponse> Issue(const Caller& by, const std::string& org,
                                                std::initializer_list<v1::Role> roles,
                                                std::optional<absl::Duration> ttl = {}) {
    v1::CreateTokenRequest request;
    request.set_parent("orgs/" + org);
    request.mutable_token()->set_user_id("rep@example.com");
    for (v1::Role r : roles) request.mutable_token()->add_roles(r);
    if (ttl) request.mutable_ttl()->set_seconds(absl::ToInt64Seconds(*ttl));
    return registry_->CreateToken(by, request);
  }

  Caller Login(const std::string& secret) {
    auto caller = registry_->Authenticate(secret);
    EXPECT_TRUE(caller.ok()) << caller.status();
    return caller.value_or(Caller());
  }

  FakeClock clock_;
  InMemoryAuthStore store_;
  std::unique_ptr<AccessRegistry> registry_;
  std::string admin_secret_;
  Caller admin_;
};

TEST_F(AccessRegistryTest, BootstrapIssuesOneServerAdminTokenForTheDefaultOrg) {
  EXPECT_EQ(admin_.org, "default");
  EXPECT_TRUE(admin_.server_admin);
  EXPECT_EQ(admin_.roles, RoleBit(v1::ADMIN));
  EXPECT_FALSE(registry_->BootstrapAdminToken()->has_value());
}

TEST_F(AccessRegistryTest, IssuedTokenAuthenticatesWithItsRoles) {
  auto issued = Issue(admin_, "default", {v1::SDR, v1::AE});
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_THAT(issued->secret(), ::testing::StartsWith("sop_tk"));
  Caller rep = Login(issued->secret());
  EXPECT_EQ(rep.user_id, "rep@example.com");
  EXPECT_EQ(rep.roles, RoleBit(v1::SDR) | RoleBit(v1::AE));
  EXPECT_FALSE(rep.server_admin);
  EXPECT_EQ(rep.token_name, issued->token().name());
}

TEST_F(AccessRegistryTest, EveryBadCredentialGetsTheSameAnswer) {
  auto issued = Issue(admin_, "default", {v1::SDR}, absl::Hours(1));
  ASSERT_TRUE(issued.ok());
  const std::string good = issued->secret();
  std::string tampered = good;
  tampered.back() = tampered.back() == 'a' ? 'b' : 'a';
  v1::RevokeTokenRequest revoke;
  auto revoked_issue = Issue(admin_, "default", {v1::SDR});
  revoke.set_name(revoked_issue->token().name());
  ASSERT_TRUE(registry_->RevokeToken(admin_, revoke).ok());
  clock_.Advance(absl::Hours(2));  // `good` is now expired

  const absl::Status reference = registry_->Authenticate("").status();
  EXPECT_EQ(reference.code(), absl::StatusCode::kUnauthenticated);
  for (const std::string& bad : {std::string("garbage"), std::string("sop_tkx_y"), tampered, good,
                                 revoked_issue->secret()}) {
    EXPECT_EQ(registry_->Authenticate(bad).status(), reference) << bad;
  }
}

TEST_F(AccessRegistryTest, CheckActiveHoldsUntilTheTokenIsRevoked) {
  auto issued = Issue(admin_, "default", {v1::SDR});
  ASSERT_TRUE(issued.ok()) << issued.status();
  const Caller rep = Login(issued->secret());
  EXPECT_TRUE(registry_->CheckActive(rep).ok());
  v1::RevokeTokenRequest revoke;
  revoke.set_name(issued->token().name());
  ASSERT_TRUE(registry_->RevokeToken(admin_, revoke).ok());
  EXPECT_EQ(registry_->CheckActive(rep), error::Unauthenticated());
}

TEST_F(AccessRegistryTest, CheckActiveFailsOnceTheTokenExpires) {
  auto issued = Issue(admin_, "default", {v1::SDR}, absl::Hours(1));
  ASSERT_TRUE(issued.ok()) << issued.status();
  const Caller rep = Login(issued->secret());
  clock_.Advance(absl::Minutes(59));
  EXPECT_TRUE(registry_->CheckActive(rep).ok());
  clock_.Advance(absl::Minutes(2));
  EXPECT_EQ(registry_->CheckActive(rep), error::Unauthenticated());
}

TEST_F(AccessRegistryTest, CheckActiveRejectsANameThatIsNoToken) {
  Caller stranger = admin_;
  stranger.token_name = "orgs/default/tokens/tknotissued";
  EXPECT_EQ(registry_->CheckActive(stranger), error::Unauthenticated());
  stranger.token_name = "";
  EXPECT_EQ(registry_->CheckActive(stranger), error::Unauthenticated());
  // Another org's name for a real token id.
  stranger.token_name = absl::StrCat("orgs/acme/tokens/",
                                     absl::StripPrefix(admin_.token_name, "orgs/default/tokens/"));
  EXPECT_EQ(registry_->CheckActive(stranger), error::Unauthenticated());
  EXPECT_TRUE(registry_->CheckActive(admin_).ok());
}

TEST_F(AccessRegistryTest, OnlyAdminsIssueTokensAndOtherOrgsLookMissing) {
  auto sdr = Login(Issue(admin_, "default", {v1::SDR})->secret());
  auto denied = Issue(sdr, "default", {v1::SDR});
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied);

  v1::CreateOrgRequest org;
  org.set_org_id("acme");
  ASSERT_TRUE(registry_->CreateOrg(admin_, org).ok());
  auto acme_admin = Login(Issue(admin_, "acme", {v1::ADMIN})->secret());
  auto cross = Issue(acme_admin, "default", {v1::SDR});
  EXPECT_EQ(cross.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(cross.status().message(), "org orgs/default not found");
  // Another org and a missing one give the same answer.
  EXPECT_EQ(Issue(acme_admin, "nowhere", {v1::SDR}).status(), error::OrgNotFound("orgs/nowhere"));
}

TEST_F(AccessRegistryTest, MalformedTokenRequestsNameTheField) {
  v1::CreateTokenRequest request;
  request.set_parent("orgs/default");
  request.mutable_token()->add_roles(v1::SDR);
  EXPECT_THAT(registry_->CreateToken(admin_, request).status().message(),
              HasSubstr("token.user_id: is required"));
  request.mutable_token()->set_user_id("u");
  request.mutable_token()->add_roles(static_cast<v1::Role>(77));
  EXPECT_THAT(registry_->CreateToken(admin_, request).status().message(),
              HasSubstr("token.roles[1]: unknown role 77"));
  request.mutable_token()->set_roles(1, v1::SDR);
  EXPECT_THAT(registry_->CreateToken(admin_, request).status().message(),
              HasSubstr("token.roles[1]: duplicate role SDR"));
  request.mutable_token()->mutable_roles()->RemoveLast();
  request.mutable_ttl()->set_seconds(-5);
  EXPECT_THAT(registry_->CreateToken(admin_, request).status().message(), HasSubstr("ttl:"));
}

TEST_F(AccessRegistryTest, ListShowsActiveTokensWithoutSecrets) {
  auto kept = Issue(admin_, "default", {v1::AE});
  auto gone = Issue(admin_, "default", {v1::SDR});
  v1::RevokeTokenRequest revoke;
  revoke.set_name(gone->token().name());
  ASSERT_TRUE(registry_->RevokeToken(admin_, revoke).ok());
  v1::ListTokensRequest request;
  request.set_parent("orgs/default");
  auto active = registry_->ListTokens(admin_, request);
  ASSERT_TRUE(active.ok());
  EXPECT_EQ(active->tokens_size(), 2);  // bootstrap admin + kept
  request.set_show_inactive(true);
  EXPECT_EQ(registry_->ListTokens(admin_, request)->tokens_size(), 3);
  EXPECT_THAT(active->DebugString(), ::testing::Not(HasSubstr(kept->secret())));
}

TEST_F(AccessRegistryTest, StoreKeepsOnlyAHashAndTokensSurviveAReload) {
  auto issued = Issue(admin_, "default", {v1::SDR});
  ASSERT_TRUE(store_
                  .ForEachToken([&](const internal::v1::TokenRecord& record) {
                    EXPECT_THAT(record.SerializeAsString(),
                                ::testing::Not(HasSubstr(issued->secret())));
                    EXPECT_EQ(record.secret_sha256().size(), 32u);
                    return absl::OkStatus();
                  })
                  .ok());
  registry_ = AccessRegistry::Create(&store_, &clock_).value();
  EXPECT_EQ(Login(issued->secret()).roles, RoleBit(v1::SDR));
}

TEST_F(AccessRegistryTest, OrgsNeedAServerAdmin) {
  auto org_admin = Login(Issue(admin_, "default", {v1::ADMIN})->secret());
  v1::CreateOrgRequest request;
  request.set_org_id("acme");
  EXPECT_EQ(registry_->CreateOrg(org_admin, request).status().code(),
            absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(registry_->CreateOrg(admin_, request).ok());
  EXPECT_EQ(registry_->CreateOrg(admin_, request).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(registry_->ListOrgs(admin_, v1::ListOrgsRequest())->orgs_size(), 2);
  EXPECT_EQ(registry_->ListOrgs(org_admin, v1::ListOrgsRequest()).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(AccessRegistryTest, ListTokensPageTokenOfAnotherOrgIsInvalidArgument) {
  v1::CreateOrgRequest acme;
  acme.set_org_id("acme");
  ASSERT_TRUE(registry_->CreateOrg(admin_, acme).ok());
  ASSERT_TRUE(Issue(admin_, "default", {v1::SDR}).ok());
  ASSERT_TRUE(Issue(admin_, "acme", {v1::SDR}).ok());
  ASSERT_TRUE(Issue(admin_, "acme", {v1::AE}).ok());
  v1::ListTokensRequest request;
  request.set_parent("orgs/default");
  request.set_page_size(1);
  auto first = registry_->ListTokens(admin_, request);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_FALSE(first->next_page_token().empty());
  request.set_parent("orgs/acme");
  request.set_page_token(first->next_page_token());
  auto other = registry_->ListTokens(admin_, request);
  EXPECT_EQ(other.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(other.status().message(), HasSubstr("page_token"));
}

TEST_F(AccessRegistryTest, ListOrgsPageSizeAboveTheMaximumIsCutToAThousand) {
  for (int i = 0; i < 1001; ++i) {
    v1::CreateOrgRequest create;
    create.set_org_id(absl::StrCat("org-", i));
    ASSERT_TRUE(registry_->CreateOrg(admin_, create).ok());
  }
  v1::ListOrgsRequest request;
  request.set_page_size(5000);
  auto first = registry_->ListOrgs(admin_, request);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->orgs_size(), 1000);
  ASSERT_FALSE(first->next_page_token().empty());
  request.set_page_token(first->next_page_token());
  auto rest = registry_->ListOrgs(admin_, request);
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(rest->orgs_size(), 2);  // orgs/default is among the 1002
  EXPECT_EQ(rest->next_page_token(), "");
  EXPECT_LT(first->orgs(999).name(), rest->orgs(0).name());
}

TEST_F(AccessRegistryTest, OnlyAServerAdminRevokesAServerAdminToken) {
  const Caller org_admin = Login(Issue(admin_, "default", {v1::ADMIN})->secret());
  ASSERT_FALSE(org_admin.server_admin);
  v1::RevokeTokenRequest revoke;
  revoke.set_name(admin_.token_name);
  EXPECT_EQ(registry_->RevokeToken(org_admin, revoke).status(),
            error::PermissionDenied("manage server-admin tokens"));
  EXPECT_TRUE(registry_->Authenticate(admin_secret_).ok());
  // The org admin still revokes the org's other tokens.
  revoke.set_name(Issue(admin_, "default", {v1::SDR})->token().name());
  EXPECT_TRUE(registry_->RevokeToken(org_admin, revoke).ok());
}

TEST_F(AccessRegistryTest, LastActiveNonExpiringServerAdminTokenCannotBeRevoked) {
  v1::RevokeTokenRequest revoke;
  revoke.set_name(admin_.token_name);
  const absl::Status last = registry_->RevokeToken(admin_, revoke).status();
  EXPECT_EQ(last.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(last.message(),
              HasSubstr(absl::StrCat("token ", admin_.token_name,
                                     " is the last active server-admin token without an "
                                     "expiry")));
  EXPECT_THAT(last.message(), HasSubstr("sopctl token create --server-admin"));
  EXPECT_TRUE(registry_->Authenticate(admin_secret_).ok());

  // An expiring server-admin token does not keep sopd administrable.
  v1::CreateTokenRequest expiring;
  expiring.set_parent("orgs/default");
  expiring.mutable_token()->set_user_id("ops-lead");
  expiring.mutable_token()->add_roles(v1::ADMIN);
  expiring.mutable_token()->set_server_admin(true);
  expiring.mutable_ttl()->set_seconds(3600);
  auto temporary = registry_->CreateToken(admin_, expiring);
  ASSERT_TRUE(temporary.ok()) << temporary.status();
  EXPECT_EQ(registry_->RevokeToken(admin_, revoke).status().code(),
            absl::StatusCode::kFailedPrecondition);

  // With a second non-expiring one, the first may go, and then the second
  // is the last.
  v1::CreateTokenRequest lasting = expiring;
  lasting.clear_ttl();
  auto second = registry_->CreateToken(admin_, lasting);
  ASSERT_TRUE(second.ok()) << second.status();
  auto revoked = registry_->RevokeToken(admin_, revoke);
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_TRUE(revoked->has_revoke_time());
  const Caller successor = Login(second->secret());
  revoke.set_name(second->token().name());
  EXPECT_EQ(registry_->RevokeToken(successor, revoke).status().code(),
            absl::StatusCode::kFailedPrecondition);
  revoke.set_name(temporary->token().name());
  EXPECT_TRUE(registry_->RevokeToken(successor, revoke).ok());
}

TEST_F(AccessRegistryTest, ServerAdminTokensAreCreatedByServerAdminsOnly) {
  v1::CreateTokenRequest request;
  request.set_parent("orgs/default");
  request.mutable_token()->set_user_id("ops-lead");
  request.mutable_token()->add_roles(v1::ADMIN);
  request.mutable_token()->set_server_admin(true);
  const Caller org_admin = Login(Issue(admin_, "default", {v1::ADMIN})->secret());
  EXPECT_EQ(registry_->CreateToken(org_admin, request).status(),
            error::PermissionDenied("manage server-admin tokens"));

  auto issued = registry_->CreateToken(admin_, request);
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_TRUE(issued->token().server_admin());
  const Caller successor = Login(issued->secret());
  EXPECT_TRUE(successor.server_admin);
  EXPECT_EQ(successor.user_id, "ops-lead");
  v1::CreateOrgRequest org;
  org.set_org_id("acme");
  EXPECT_TRUE(registry_->CreateOrg(successor, org).ok());
}

TEST_F(AccessRegistryTest, RecoveryIssuesAnotherServerAdminToken) {
  auto recovered = registry_->IssueRecoveryAdminToken();
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  const Caller admin = Login(*recovered);
  EXPECT_EQ(admin.org, "default");
  EXPECT_TRUE(admin.server_admin);
  EXPECT_EQ(admin.roles, RoleBit(v1::ADMIN));
  EXPECT_NE(admin.token_name, admin_.token_name);
  EXPECT_TRUE(registry_->Authenticate(admin_secret_).ok());
  // It is stored: a reload authenticates it.
  registry_ = AccessRegistry::Create(&store_, &clock_).value();
  EXPECT_TRUE(Login(*recovered).server_admin);
}

TEST(AccessRegistryRecoveryTest, RecoveryCreatesTheDefaultOrgWhenMissing) {
  FakeClock clock;
  InMemoryAuthStore store;
  v1::Org acme;
  acme.set_name("orgs/acme");
  ASSERT_TRUE(store.PutOrg(acme).ok());
  auto registry = AccessRegistry::Create(&store, &clock).value();
  auto recovered = registry->IssueRecoveryAdminToken();
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  auto admin = registry->Authenticate(*recovered);
  ASSERT_TRUE(admin.ok()) << admin.status();
  auto orgs = registry->ListOrgs(*admin, v1::ListOrgsRequest());
  ASSERT_TRUE(orgs.ok()) << orgs.status();
  ASSERT_EQ(orgs->orgs_size(), 2);
  EXPECT_EQ(orgs->orgs(0).name(), "orgs/acme");
  EXPECT_EQ(orgs->orgs(1).name(), "orgs/default");
}

TEST_F(AccessRegistryTest, WhoAmIReportsTheCaller) {
  absl::StatusOr<v1::WhoAmIResponse> found = registry_->WhoAmI(admin_);
  ASSERT_TRUE(found.ok()) << found.status();
  const v1::WhoAmIResponse& me = *found;
  EXPECT_EQ(me.org(), "orgs/default");
  EXPECT_EQ(me.user_id(), "admin");
  ASSERT_EQ(me.roles_size(), 1);
  EXPECT_EQ(me.roles(0), v1::ADMIN);
  EXPECT_TRUE(me.server_admin());
}

TEST_F(AccessRegistryTest, TokenUserAndDisplayNameRejectControlCharacters) {
  v1::CreateTokenRequest request;
  request.set_parent("orgs/default");
  request.mutable_token()->add_roles(v1::SDR);
  request.mutable_token()->set_user_id("rep\x1b[2J@example.com");
  absl::Status s = registry_->CreateToken(admin_, request).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "token.user_id: control character U+001B at position 3 is not allowed");
  request.mutable_token()->set_user_id("rep@example.com");
  request.mutable_token()->set_display_name("Rep\nadmin");
  s = registry_->CreateToken(admin_, request).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "token.display_name: control character U+000A at position 3 is not allowed");
}

TEST_F(AccessRegistryTest, TokenUserLimitCountsCharacters) {
  std::string user;
  for (int i = 0; i < 256; ++i) user += "\u00e9";
  v1::CreateTokenRequest request;
  request.set_parent("orgs/default");
  request.mutable_token()->add_roles(v1::SDR);
  request.mutable_token()->set_user_id(user);
  auto issued = registry_->CreateToken(admin_, request);
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_EQ(issued->token().user_id(), user);
  request.mutable_token()->set_user_id(user + "\u00e9");
  absl::Status s = registry_->CreateToken(admin_, request).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "token.user_id: longer than the limit of 256 characters");
}

TEST_F(AccessRegistryTest, OrgDisplayNameRejectsControlCharacters) {
  v1::CreateOrgRequest request;
  request.set_org_id("acme");
  request.mutable_org()->set_display_name("Acme\a");
  absl::Status s = registry_->CreateOrg(admin_, request).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "org.display_name: control character U+0007 at position 4 is not allowed");
  EXPECT_EQ(registry_->ListOrgs(admin_, v1::ListOrgsRequest())->orgs_size(), 1);
}

// An INTEGRATION token request for `crm` with `delegable` roles.
v1::CreateTokenRequest IntegrationRequest(const std::string& crm,
                                          std::initializer_list<v1::Role> delegable) {
  v1::CreateTokenRequest request;
  request.set_parent("orgs/default");
  request.mutable_token()->set_user_id("crm-integration");
  request.mutable_token()->add_roles(v1::INTEGRATION);
  request.mutable_token()->set_crm(crm);
  for (v1::Role r : delegable) request.mutable_token()->add_delegable_roles(r);
  return request;
}

TEST_F(AccessRegistryTest, IntegrationTokenCarriesItsCrmAndDelegableRoles) {
  auto issued = registry_->CreateToken(admin_, IntegrationRequest("salesforce", {v1::SDR, v1::AE}));
  ASSERT_TRUE(issued.ok()) << issued.status();
  Caller caller = Login(issued->secret());
  EXPECT_EQ(caller.roles, RoleBit(v1::INTEGRATION));
  EXPECT_EQ(caller.crm, "salesforce");
  EXPECT_EQ(caller.delegable_roles, RoleBit(v1::SDR) | RoleBit(v1::AE));
}

TEST_F(AccessRegistryTest, IntegrationTokensAreRefusedWhatWouldWidenThem) {
  struct Case {
    const char* why;
    v1::CreateTokenRequest request;
    const char* field;
  };
  std::vector<Case> cases;
  cases.push_back({"no crm", IntegrationRequest("", {v1::SDR}), "token.crm"});
  cases.push_back({"unknown crm", IntegrationRequest("pipedrive", {v1::SDR}), "token.crm"});
  cases.push_back({"no delegable roles", IntegrationRequest("salesforce", {}),
                   "token.delegable_roles"});
  cases.push_back({"delegates ADMIN", IntegrationRequest("salesforce", {v1::ADMIN}),
                   "token.delegable_roles[0]"});
  v1::CreateTokenRequest mixed = IntegrationRequest("salesforce", {v1::SDR});
  mixed.mutable_token()->add_roles(v1::SDR);
  cases.push_back({"another role too", mixed, "token.roles"});
  v1::CreateTokenRequest person;
  person.set_parent("orgs/default");
  person.mutable_token()->set_user_id("rep");
  person.mutable_token()->add_roles(v1::SDR);
  person.mutable_token()->add_delegable_roles(v1::SDR);
  cases.push_back({"a person's token delegating", person, "token.delegable_roles"});
  v1::CreateTokenRequest portal = IntegrationRequest("salesforce", {v1::SDR});
  portal.mutable_token()->set_hubspot_portal_id("123");
  portal.set_hubspot_client_secret("s");
  cases.push_back({"a HubSpot portal on a Salesforce token", portal, "token.hubspot_portal_id"});
  v1::CreateTokenRequest no_secret = IntegrationRequest("hubspot", {v1::SDR});
  no_secret.mutable_token()->set_hubspot_portal_id("123");
  cases.push_back({"a portal without its secret", no_secret, "hubspot_client_secret"});
  for (const Case& c : cases) {
    absl::Status refused = registry_->CreateToken(admin_, c.request).status();
    EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument) << c.why << ": " << refused;
    EXPECT_THAT(refused.message(), HasSubstr(c.field)) << c.why;
  }
}

TEST_F(AccessRegistryTest, AHubSpotPortalFindsItsActiveTokenAndSecretOnly) {
  v1::CreateTokenRequest request = IntegrationRequest("hubspot", {v1::SDR});
  request.mutable_token()->set_hubspot_portal_id("4455");
  request.set_hubspot_client_secret("app-secret");
  auto issued = registry_->CreateToken(admin_, request);
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_EQ(issued->token().hubspot_portal_id(), "4455");
  auto found = registry_->FindHubSpotIntegration("4455");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->client_secret, "app-secret");
  EXPECT_EQ(found->caller.crm, "hubspot");
  EXPECT_EQ(found->caller.token_name, issued->token().name());
  EXPECT_EQ(registry_->FindHubSpotIntegration("9999").status().code(),
            absl::StatusCode::kUnauthenticated);
  // One active token per portal; once revoked, another may take it.
  EXPECT_EQ(registry_->CreateToken(admin_, request).status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::RevokeTokenRequest revoke;
  revoke.set_name(issued->token().name());
  ASSERT_TRUE(registry_->RevokeToken(admin_, revoke).ok());
  EXPECT_EQ(registry_->FindHubSpotIntegration("4455").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(registry_->CreateToken(admin_, request).ok());
  // The secret is never in what the API returns of a token.
  v1::GetTokenRequest get;
  get.set_name(issued->token().name());
  auto token = registry_->GetToken(admin_, get);
  ASSERT_TRUE(token.ok());
  EXPECT_THAT(token->DebugString(), ::testing::Not(HasSubstr("app-secret")));
}

}  // namespace
}  // namespace sopsidebar
