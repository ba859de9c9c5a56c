#include "server/domain/auth/access_registry.h"

#include <algorithm>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/auth/permissions.h"
#include "common/errors.h"
#include "common/ids.h"
#include "common/model/names.h"
#include "common/model/validation.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "server/common/crypto.h"

namespace sopsidebar {
namespace {

constexpr absl::string_view kSecretPrefix = "sop_";
constexpr absl::Duration kMaxTtl = absl::Hours(24 * 3650);
// The page sizes of SopService's lists (SopRegistry::Options).
constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 1000;

// The token id inside a secret "sop_<id>_<random>", or empty.
absl::string_view TokenIdOf(absl::string_view secret) {
  if (!absl::ConsumePrefix(&secret, kSecretPrefix)) return {};
  const size_t sep = secret.find('_');
  if (sep == absl::string_view::npos || sep + 1 == secret.size()) return {};
  return secret.substr(0, sep);
}

// Roles `caller` may put on a token: ADMIN (and a server admin) may grant
// any role, everyone else only the roles they hold.
RoleSet GrantableRoles(const Caller& caller) {
  return caller.server_admin || (caller.roles & RoleBit(v1::ADMIN)) ? kAllRoles : caller.roles;
}

// The roles at `field` as a set: each a known role, listed once, none of
// `never` (a viewer never gets those), and each one the issuer may `verb`
// (it is in `grantable`): INVALID_ARGUMENT naming the entry, or
// PERMISSION_DENIED.
absl::StatusOr<RoleSet> CheckRoleList(absl::string_view field,
                                      const google::protobuf::RepeatedField<int>& roles,
                                      RoleSet grantable, absl::string_view verb, RoleSet never) {
  RoleSet seen = 0;
  for (int i = 0; i < roles.size(); ++i) {
    const std::string entry = absl::StrCat(field, "[", i, "]");
    const int role = roles[i];
    if (!v1::Role_IsValid(role) || role == v1::ROLE_UNSPECIFIED) {
      return error::InvalidField(entry, absl::StrCat("unknown role ", role));
    }
    const RoleSet bit = RoleBit(static_cast<v1::Role>(role));
    if (never & bit) {
      return error::InvalidField(entry, absl::StrCat("a viewer never gets ", v1::Role_Name(role)));
    }
    if (seen & bit) {
      return error::InvalidField(entry, absl::StrCat("duplicate role ", v1::Role_Name(role)));
    }
    if (!(grantable & bit)) {
      return error::PermissionDenied(
          absl::StrCat(verb, " the role ", v1::Role_Name(role), ", which you do not hold"));
    }
    seen |= bit;
  }
  return seen;
}

// An INTEGRATION token holds no other role, names its CRM and the roles its
// viewers may get (never INTEGRATION or ADMIN, and only roles the issuer
// may grant); other tokens name neither.
absl::Status CheckIntegration(const v1::Token& token, RoleSet roles, RoleSet grantable) {
  if (!(roles & RoleBit(v1::INTEGRATION))) {
    if (!token.crm().empty()) {
      return error::InvalidField("token.crm", "only INTEGRATION tokens have a CRM");
    }
    if (!token.delegable_roles().empty()) {
      return error::InvalidField("token.delegable_roles",
                                 "only INTEGRATION tokens act for viewers");
    }
    return absl::OkStatus();
  }
  if (roles != RoleBit(v1::INTEGRATION)) {
    return error::InvalidField("token.roles", "INTEGRATION is a token's only role");
  }
  if (token.server_admin()) {
    return error::InvalidField("token.server_admin", "an INTEGRATION token is no server admin");
  }
  if (token.crm().empty()) return error::RequiredField("token.crm");
  SOP_RETURN_IF_ERROR(ValidateCrmName("token.crm", token.crm()));
  if (token.delegable_roles().empty()) return error::RequiredField("token.delegable_roles");
  return CheckRoleList("token.delegable_roles", token.delegable_roles(), grantable, "delegate",
                       RoleBit(v1::INTEGRATION) | RoleBit(v1::ADMIN))
      .status();
}

// A HubSpot app's portal id and client secret come together, on a
// HubSpot INTEGRATION token only.
absl::Status CheckHubSpotApp(const v1::CreateTokenRequest& request) {
  const std::string& portal = request.token().hubspot_portal_id();
  const std::string& secret = request.hubspot_client_secret();
  if (portal.empty()) {
    if (!secret.empty()) return error::RequiredField("token.hubspot_portal_id");
    return absl::OkStatus();
  }
  if (request.token().crm() != "hubspot") {
    return error::InvalidField("token.hubspot_portal_id",
                               "only an INTEGRATION token for the crm \"hubspot\" has one");
  }
  if (portal.size() > 20 ||
      !std::all_of(portal.begin(), portal.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return error::InvalidField("token.hubspot_portal_id", "is a HubSpot account id: digits");
  }
  if (secret.empty()) return error::RequiredField("hubspot_client_secret");
  return ValidateText("hubspot_client_secret", secret, 512, TextKind::kLine);
}

absl::Status CheckNewToken(const v1::Token& token, RoleSet grantable) {
  if (token.user_id().empty()) return error::RequiredField("token.user_id");
  SOP_RETURN_IF_ERROR(
      ValidateText("token.user_id", token.user_id(), Limits::kMaxUserId, TextKind::kLine));
  SOP_RETURN_IF_ERROR(ValidateText("token.display_name", token.display_name(),
                                   Limits::kMaxShortText, TextKind::kLine));
  if (token.roles().empty()) return error::RequiredField("token.roles");
  SOP_ASSIGN_OR_RETURN(const RoleSet roles,
                       CheckRoleList("token.roles", token.roles(), grantable, "grant", 0));
  return CheckIntegration(token, roles, grantable);
}

// The parsed name of a token read back from the store: DATA_LOSS naming it
// when it does not parse (the store's fault, not a caller's).
absl::StatusOr<TokenName> StoredTokenName(const v1::Token& token) {
  absl::StatusOr<TokenName> name = ParseTokenName("name", token.name());
  if (!name.ok()) return error::CorruptRecord("token", token.name(), name.status().message());
  return name;
}

// The entry of `tokens` (by id) for the token named `name`, or NOT_FOUND.
template <typename Tokens>
auto FindToken(Tokens& tokens, const TokenName& name, const std::string& full_name)
    -> absl::StatusOr<decltype(tokens.begin())> {
  auto it = tokens.find(name.token);
  if (it == tokens.end() || it->second.token().name() != full_name) {
    return error::TokenNotFound(full_name);
  }
  return it;
}

}  // namespace

absl::StatusOr<std::unique_ptr<AccessRegistry>> AccessRegistry::Create(AuthStore* store,
                                                                        const Clock* clock) {
  std::unique_ptr<AccessRegistry> registry(new AccessRegistry(store, clock));
  absl::MutexLock lock(&registry->mu_);
  SOP_RETURN_IF_ERROR(store->ForEachOrg([&](const v1::Org& org) -> absl::Status {
    absl::StatusOr<std::string> id = ParseOrgName("name", org.name());
    if (!id.ok()) return error::CorruptRecord("org", org.name(), id.status().message());
    registry->orgs_[*id] = org;
    return absl::OkStatus();
  }));
  SOP_RETURN_IF_ERROR(
      store->ForEachToken([&](const internal::v1::TokenRecord& record) -> absl::Status {
        SOP_ASSIGN_OR_RETURN(TokenName name, StoredTokenName(record.token()));
        registry->tokens_[name.token] = record;
        return absl::OkStatus();
      }));
  return registry;
}

void AccessRegistry::ApplyStoredToken(const internal::v1::TokenRecord& record) {
  absl::StatusOr<TokenName> name = StoredTokenName(record.token());
  if (!name.ok()) return;
  absl::MutexLock lock(&mu_);
  tokens_[name->token] = record;
}

void AccessRegistry::ApplyStoredOrg(const v1::Org& org) {
  absl::StatusOr<std::string> id = ParseOrgName("name", org.name());
  if (!id.ok()) return;
  absl::MutexLock lock(&mu_);
  orgs_[*id] = org;
}

absl::StatusOr<std::optional<std::string>> AccessRegistry::BootstrapAdminToken() {
  absl::MutexLock lock(&mu_);
  if (!tokens_.empty()) return std::nullopt;
  return IssueServerAdminLocked("Bootstrap admin", "sopd");
}

absl::StatusOr<std::string> AccessRegistry::IssueRecoveryAdminToken() {
  absl::MutexLock lock(&mu_);
  return IssueServerAdminLocked("Recovery admin", "sopd --bootstrap-admin");
}

absl::StatusOr<std::string> AccessRegistry::IssueServerAdminLocked(absl::string_view display_name,
                                                                   const std::string& creator) {
  const std::string org(kDefaultOrg);
  Caller issuer;
  issuer.org = org;
  issuer.user_id = creator;
  if (!orgs_.contains(org)) {
    v1::Org record;
    record.set_name(OrgName(org));
    record.set_display_name("Default org");
    *record.mutable_create_time() = ToProtoTimestamp(clock_->Now());
    AuthWrite write;
    write.org = record;
    SOP_RETURN_IF_ERROR(WriteLocked(
        issuer, org, AuditEntry{"org.create", record.name(), "", "created at first start"},
        std::move(write)));
    orgs_[org] = record;
  }
  v1::Token token;
  token.set_user_id("admin");
  token.set_display_name(std::string(display_name));
  token.add_roles(v1::ADMIN);
  token.set_server_admin(true);
  SOP_ASSIGN_OR_RETURN(v1::CreateTokenResponse issued,
                       IssueLocked(issuer, org, std::move(token), std::nullopt));
  return issued.secret();
}

bool AccessRegistry::IsActive(const v1::Token& token) const {
  if (token.has_revoke_time()) return false;
  return !token.has_expire_time() || clock_->Now() < FromProtoTimestamp(token.expire_time());
}

bool AccessRegistry::HasOtherLastingServerAdmin(absl::string_view token_id) const {
  for (const auto& [id, record] : tokens_) {
    const v1::Token& token = record.token();
    if (id != token_id && token.server_admin() && !token.has_expire_time() && IsActive(token)) {
      return true;
    }
  }
  return false;
}

absl::StatusOr<Caller> AccessRegistry::Authenticate(absl::string_view secret) const {
  const absl::string_view id = TokenIdOf(secret);
  if (id.empty()) return error::Unauthenticated();
  const std::string digest = Sha256(secret);
  absl::ReaderMutexLock lock(&mu_);
  auto it = tokens_.find(id);
  if (it == tokens_.end() || !ConstantTimeEquals(digest, it->second.secret_sha256()) ||
      !IsActive(it->second.token())) {
    return error::Unauthenticated();
  }
  return CallerOf(it->second.token());
}

absl::StatusOr<AccessRegistry::HubSpotIntegration> AccessRegistry::FindHubSpotIntegration(
    absl::string_view portal_id) const {
  if (portal_id.empty()) return error::Unauthenticated();
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [id, record] : tokens_) {
    if (record.token().hubspot_portal_id() != portal_id || !IsActive(record.token())) continue;
    SOP_ASSIGN_OR_RETURN(Caller caller, CallerOf(record.token()));
    return HubSpotIntegration{std::move(caller), record.hubspot_client_secret()};
  }
  return error::Unauthenticated();
}

absl::StatusOr<Caller> AccessRegistry::CallerOf(const v1::Token& token) {
  Caller caller;
  SOP_ASSIGN_OR_RETURN(TokenName name, StoredTokenName(token));
  caller.org = std::move(name.org);
  caller.user_id = token.user_id();
  caller.display_name = token.display_name();
  for (int role : token.roles()) caller.roles |= RoleBit(static_cast<v1::Role>(role));
  caller.server_admin = token.server_admin();
  caller.token_name = token.name();
  caller.crm = token.crm();
  for (int role : token.delegable_roles()) {
    caller.delegable_roles |= RoleBit(static_cast<v1::Role>(role));
  }
  return caller;
}

absl::Status AccessRegistry::CheckTokenAdmin(const Caller& caller, absl::string_view org) const {
  if (org != caller.org && !caller.server_admin) return error::OrgNotFound(OrgName(org));
  if (!orgs_.contains(org)) return error::OrgNotFound(OrgName(org));
  if (caller.server_admin) return absl::OkStatus();
  return Authorize(caller, Operation::kManageTokens);
}

absl::Status AccessRegistry::WriteLocked(const Caller& caller, absl::string_view org,
                                         AuditEntry entry, AuthWrite write) {
  if (audit_ == nullptr) {
    if (write.token) SOP_RETURN_IF_ERROR(store_->PutToken(*write.token));
    if (write.org) SOP_RETURN_IF_ERROR(store_->PutOrg(*write.org));
    return absl::OkStatus();
  }
  return audit_->Append(org, caller, std::move(entry), [&](const v1::AuditEvent& event) {
    write.audit = event;
    return store_->WriteAudited(write);
  });
}

absl::StatusOr<v1::CreateTokenResponse> AccessRegistry::IssueLocked(
    const Caller& issuer, const std::string& org, v1::Token token,
    std::optional<absl::Duration> ttl, const std::string& hubspot_client_secret) {
  const std::string& creator = issuer.user_id;
  const absl::Time now = clock_->Now();
  const std::string id = RandomId("tk", 14);
  token.set_name(TokenName{org, id}.Full());
  *token.mutable_create_time() = ToProtoTimestamp(now);
  if (ttl) *token.mutable_expire_time() = ToProtoTimestamp(now + *ttl);
  token.set_creator(creator);
  v1::CreateTokenResponse response;
  response.set_secret(absl::StrCat(kSecretPrefix, id, "_", RandomHexSecret(24)));
  internal::v1::TokenRecord record;
  *record.mutable_token() = token;
  record.set_secret_sha256(Sha256(response.secret()));
  record.set_hubspot_client_secret(hubspot_client_secret);
  std::vector<std::string> roles;
  for (int role : token.roles()) roles.push_back(v1::Role_Name(static_cast<v1::Role>(role)));
  AuthWrite write;
  write.token = record;
  SOP_RETURN_IF_ERROR(WriteLocked(
      issuer, org,
      AuditEntry{"token.create", token.name(), "",
                 absl::StrCat("for ", token.user_id(), " with roles ", absl::StrJoin(roles, ", "),
                              token.server_admin() ? " (server admin)" : "")},
      std::move(write)));
  tokens_[id] = std::move(record);
  *response.mutable_token() = std::move(token);
  return response;
}

absl::StatusOr<v1::CreateTokenResponse> AccessRegistry::CreateToken(
    const Caller& caller, const v1::CreateTokenRequest& request) {
  SOP_ASSIGN_OR_RETURN(std::string org, ParseOrgName("parent", request.parent()));
  std::optional<absl::Duration> ttl;
  if (request.has_ttl()) {
    ttl = FromProtoDuration(request.ttl());
    if (*ttl <= absl::ZeroDuration() || *ttl > kMaxTtl) {
      return error::InvalidField("ttl", "must be positive and at most 3650 days");
    }
  }
  absl::MutexLock lock(&mu_);
  SOP_RETURN_IF_ERROR(CheckTokenAdmin(caller, org));
  if (request.token().server_admin()) {
    SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kManageServerAdmins));
  }
  SOP_RETURN_IF_ERROR(CheckNewToken(request.token(), GrantableRoles(caller)));
  v1::Token token;
  token.set_user_id(request.token().user_id());
  token.set_display_name(request.token().display_name());
  *token.mutable_roles() = request.token().roles();
  token.set_server_admin(request.token().server_admin());
  token.set_crm(request.token().crm());
  *token.mutable_delegable_roles() = request.token().delegable_roles();
  SOP_RETURN_IF_ERROR(CheckHubSpotApp(request));
  token.set_hubspot_portal_id(request.token().hubspot_portal_id());
  if (!token.hubspot_portal_id().empty()) {
    for (const auto& [id, record] : tokens_) {
      if (record.token().hubspot_portal_id() == token.hubspot_portal_id() &&
          IsActive(record.token())) {
        return error::InvalidField(
            "token.hubspot_portal_id",
            absl::StrCat("HubSpot account ", token.hubspot_portal_id(), " already has ",
                         record.token().name(), "; revoke it first"));
      }
    }
  }
  return IssueLocked(caller, org, std::move(token), ttl, request.hubspot_client_secret());
}

absl::StatusOr<int> AccessRegistry::PageSize(int requested) {
  if (requested < 0) return error::InvalidField("page_size", "must not be negative");
  if (requested == 0) return kDefaultPageSize;
  return std::min(requested, kMaxPageSize);
}

absl::StatusOr<v1::ListTokensResponse> AccessRegistry::ListTokens(
    const Caller& caller, const v1::ListTokensRequest& request) const {
  SOP_ASSIGN_OR_RETURN(std::string org, ParseOrgName("parent", request.parent()));
  SOP_ASSIGN_OR_RETURN(const int page_size, PageSize(request.page_size()));
  // The parent holds no '|'.
  const std::string request_key =
      absl::StrCat("ListTokens|", request.parent(), "|", request.show_inactive());
  absl::ReaderMutexLock lock(&mu_);
  SOP_RETURN_IF_ERROR(CheckTokenAdmin(caller, org));
  // A page token is checked after authorization, so that it says nothing to
  // a caller who may not list the org.
  SOP_ASSIGN_OR_RETURN(const std::string after,
                       page_tokens_.Read(request.page_token(), request_key));
  // Token ids are unique across orgs, and within one org names sort as ids.
  std::vector<const v1::Token*> listed;
  const std::string prefix = absl::StrCat(OrgName(org), "/tokens/");
  for (const auto& [id, record] : tokens_) {
    if (id > after && absl::StartsWith(record.token().name(), prefix) &&
        (request.show_inactive() || IsActive(record.token()))) {
      listed.push_back(&record.token());
    }
  }
  std::sort(listed.begin(), listed.end(),
            [](const v1::Token* a, const v1::Token* b) { return a->name() < b->name(); });
  v1::ListTokensResponse response;
  for (const v1::Token* token : listed) {
    if (response.tokens_size() == page_size) {
      const std::string& last = response.tokens(page_size - 1).name();
      response.set_next_page_token(
          page_tokens_.Make(ParseTokenName("name", last).value().token, request_key));
      break;
    }
    *response.add_tokens() = *token;
  }
  return response;
}

absl::Status AccessRegistry::CheckActive(const Caller& caller) const {
  absl::StatusOr<TokenName> name = ParseTokenName("token_name", caller.token_name);
  if (!name.ok()) return error::Unauthenticated();
  absl::ReaderMutexLock lock(&mu_);
  auto it = tokens_.find(name->token);
  if (it == tokens_.end() || it->second.token().name() != caller.token_name ||
      !IsActive(it->second.token())) {
    return error::Unauthenticated();
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Token> AccessRegistry::GetToken(const Caller& caller,
                                                   const v1::GetTokenRequest& request) const {
  SOP_ASSIGN_OR_RETURN(TokenName name, ParseTokenName("name", request.name()));
  absl::ReaderMutexLock lock(&mu_);
  SOP_RETURN_IF_ERROR(CheckTokenAdmin(caller, name.org));
  SOP_ASSIGN_OR_RETURN(auto it, FindToken(tokens_, name, request.name()));
  return it->second.token();
}

absl::StatusOr<v1::Token> AccessRegistry::RevokeToken(const Caller& caller,
                                                      const v1::RevokeTokenRequest& request) {
  SOP_ASSIGN_OR_RETURN(TokenName name, ParseTokenName("name", request.name()));
  absl::MutexLock lock(&mu_);
  SOP_RETURN_IF_ERROR(CheckTokenAdmin(caller, name.org));
  SOP_ASSIGN_OR_RETURN(auto it, FindToken(tokens_, name, request.name()));
  if (it->second.token().has_revoke_time()) return it->second.token();
  if (it->second.token().server_admin()) {
    // An org ADMIN must not lock every server admin out; and sopd must
    // keep one server admin that neither expires nor is revoked.
    SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kManageServerAdmins));
    if (IsActive(it->second.token()) && !it->second.token().has_expire_time() &&
        !HasOtherLastingServerAdmin(name.token)) {
      return error::LastServerAdminToken(request.name());
    }
  }
  internal::v1::TokenRecord record = it->second;
  *record.mutable_token()->mutable_revoke_time() = ToProtoTimestamp(clock_->Now());
  AuthWrite write;
  write.token = record;
  SOP_RETURN_IF_ERROR(WriteLocked(
      caller, name.org,
      AuditEntry{"token.revoke", request.name(), "", absl::StrCat("of ", record.token().user_id())},
      std::move(write)));
  it->second = std::move(record);
  return it->second.token();
}

namespace {

absl::Status CheckStaleReviewCutoff(const v1::Org& org, absl::string_view field) {
  if (!org.has_stale_review_cutoff()) return absl::OkStatus();
  if (FromProtoDuration(org.stale_review_cutoff()) < absl::Hours(24)) {
    return error::InvalidField(field, "must be at least one day (86400s)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::Org> AccessRegistry::CreateOrg(const Caller& caller,
                                                  const v1::CreateOrgRequest& request) {
  SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kManageOrgs));
  if (!IsValidResourceId(request.org_id())) {
    return error::InvalidField(
        "org_id", absl::StrCat(error::QuoteInput(request.org_id()),
                               " is not a valid id: 1-63 of [a-z0-9-], starting with a letter"));
  }
  SOP_RETURN_IF_ERROR(
      ValidateText("org.display_name", request.org().display_name(), Limits::kMaxShortText,
                   TextKind::kLine));
  absl::MutexLock lock(&mu_);
  if (orgs_.contains(request.org_id())) {
    return error::OrgAlreadyExists(OrgName(request.org_id()));
  }
  v1::Org org;
  org.set_name(OrgName(request.org_id()));
  org.set_display_name(request.org().display_name());
  *org.mutable_create_time() = ToProtoTimestamp(clock_->Now());
  SOP_RETURN_IF_ERROR(CheckStaleReviewCutoff(request.org(), "org.stale_review_cutoff"));
  if (request.org().has_stale_review_cutoff()) {
    *org.mutable_stale_review_cutoff() = request.org().stale_review_cutoff();
  }
  AuthWrite write;
  write.org = org;
  SOP_RETURN_IF_ERROR(WriteLocked(caller, request.org_id(),
                                  AuditEntry{"org.create", org.name(), "", "created"},
                                  std::move(write)));
  orgs_[request.org_id()] = org;
  return org;
}

absl::StatusOr<v1::Org> AccessRegistry::UpdateOrg(const Caller& caller,
                                                  const v1::UpdateOrgRequest& request) {
  SOP_ASSIGN_OR_RETURN(std::string id, ParseOrgName("org.name", request.org().name()));
  if (!caller.server_admin) {
    if (id != caller.org) return error::OrgNotFound(request.org().name());
    SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kManageOrgSettings));
  }
  std::vector<std::string> paths(request.update_mask().paths().begin(),
                                 request.update_mask().paths().end());
  if (paths.empty()) {
    if (!request.org().display_name().empty()) paths.push_back("display_name");
    if (request.org().has_stale_review_cutoff()) paths.push_back("stale_review_cutoff");
  }
  for (size_t i = 0; i < paths.size(); ++i) {
    if (paths[i] != "display_name" && paths[i] != "stale_review_cutoff") {
      return error::InvalidField(absl::StrCat("update_mask.paths[", i, "]"),
                                 absl::StrCat(error::QuoteInput(paths[i]),
                                              " is not a setting (display_name, "
                                              "stale_review_cutoff)"));
    }
  }
  SOP_RETURN_IF_ERROR(ValidateText("org.display_name", request.org().display_name(),
                                   Limits::kMaxShortText, TextKind::kLine));
  SOP_RETURN_IF_ERROR(CheckStaleReviewCutoff(request.org(), "org.stale_review_cutoff"));
  absl::MutexLock lock(&mu_);
  auto it = orgs_.find(id);
  if (it == orgs_.end()) return error::OrgNotFound(request.org().name());
  v1::Org org = it->second;
  for (const std::string& path : paths) {
    if (path == "display_name") org.set_display_name(request.org().display_name());
    if (path == "stale_review_cutoff") {
      if (request.org().has_stale_review_cutoff()) {
        *org.mutable_stale_review_cutoff() = request.org().stale_review_cutoff();
      } else {
        org.clear_stale_review_cutoff();
      }
    }
  }
  AuthWrite write;
  write.org = org;
  SOP_RETURN_IF_ERROR(WriteLocked(caller, id,
                                  AuditEntry{"org.update", org.name(), "",
                                             absl::StrCat("updated ", absl::StrJoin(paths, ", "))},
                                  std::move(write)));
  it->second = org;
  return org;
}

bool AccessRegistry::OrgSettings(absl::string_view org, absl::Time* create_time,
                                 std::optional<absl::Duration>* stale_review_cutoff) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = orgs_.find(org);
  if (it == orgs_.end()) return false;
  *create_time = FromProtoTimestamp(it->second.create_time());
  if (it->second.has_stale_review_cutoff()) {
    *stale_review_cutoff = FromProtoDuration(it->second.stale_review_cutoff());
  } else {
    stale_review_cutoff->reset();
  }
  return true;
}

absl::StatusOr<v1::ListOrgsResponse> AccessRegistry::ListOrgs(
    const Caller& caller, const v1::ListOrgsRequest& request) const {
  SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kManageOrgs));
  SOP_ASSIGN_OR_RETURN(const int page_size, PageSize(request.page_size()));
  constexpr absl::string_view kRequestKey = "ListOrgs";
  SOP_ASSIGN_OR_RETURN(const std::string after,
                       page_tokens_.Read(request.page_token(), kRequestKey));
  absl::ReaderMutexLock lock(&mu_);
  // Org names sort as their ids.
  std::vector<const std::pair<const std::string, v1::Org>*> listed;
  for (const auto& entry : orgs_) {
    if (entry.first > after) listed.push_back(&entry);
  }
  std::sort(listed.begin(), listed.end(), [](const auto* a, const auto* b) {
    return a->first < b->first;
  });
  v1::ListOrgsResponse response;
  for (const auto* entry : listed) {
    if (response.orgs_size() == page_size) {
      response.set_next_page_token(page_tokens_.Make(listed[page_size - 1]->first, kRequestKey));
      break;
    }
    *response.add_orgs() = entry->second;
  }
  return response;
}

absl::StatusOr<v1::Org> AccessRegistry::GetOrg(const Caller& caller,
                                               const v1::GetOrgRequest& request) const {
  SOP_ASSIGN_OR_RETURN(std::string id, ParseOrgName("name", request.name()));
  if (id != caller.org && !caller.server_admin) return error::OrgNotFound(request.name());
  SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kManageOrgs));
  absl::ReaderMutexLock lock(&mu_);
  auto it = orgs_.find(id);
  if (it == orgs_.end()) return error::OrgNotFound(request.name());
  return it->second;
}

absl::StatusOr<v1::WhoAmIResponse> AccessRegistry::WhoAmI(const Caller& caller) const {
  SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kPing));
  v1::WhoAmIResponse response;
  response.set_org(OrgName(caller.org));
  response.set_user_id(caller.user_id);
  response.set_display_name(caller.display_name);
  for (int r = v1::Role_MIN + 1; r <= v1::Role_MAX; ++r) {
    if (caller.roles & RoleBit(static_cast<v1::Role>(r))) {
      response.add_roles(static_cast<v1::Role>(r));
    }
  }
  response.set_token(caller.token_name);
  response.set_server_admin(caller.server_admin);
  response.set_via(caller.via);
  return response;
}

absl::StatusOr<v1::PingResponse> AccessRegistry::Ping(const Caller& caller,
                                                     const v1::PingRequest& request) const {
  SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kPing));
  v1::PingResponse pong;
  pong.set_payload(request.payload());
  return pong;
}

}  // namespace sopsidebar
