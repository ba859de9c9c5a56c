#include "server/domain/auth/access_registry.h"

#include <algorithm>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/common/crypto.h"
#include "server/common/errors.h"
#include "server/common/ids.h"
#include "server/common/proto_time.h"
#include "server/common/status_macros.h"
#include "server/domain/auth/permissions.h"
#include "server/domain/model/names.h"
#include "server/domain/model/validation.h"

namespace sopsidebar {
namespace {

constexpr absl::string_view kSecretPrefix = "sop_";
constexpr absl::Duration kMaxTtl = absl::Hours(24 * 3650);

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

absl::Status CheckNewToken(const v1::Token& token, RoleSet grantable) {
  if (token.user_id().empty()) return error::RequiredField("token.user_id");
  SOP_RETURN_IF_ERROR(
      ValidateText("token.user_id", token.user_id(), Limits::kMaxUserId, TextKind::kLine));
  SOP_RETURN_IF_ERROR(ValidateText("token.display_name", token.display_name(),
                                   Limits::kMaxShortText, TextKind::kLine));
  if (token.roles().empty()) return error::RequiredField("token.roles");
  RoleSet seen = 0;
  for (int i = 0; i < token.roles_size(); ++i) {
    const std::string field = absl::StrCat("token.roles[", i, "]");
    const int role = token.roles(i);
    if (!v1::Role_IsValid(role) || role == v1::ROLE_UNSPECIFIED) {
      return error::InvalidField(field, absl::StrCat("unknown role ", role));
    }
    const RoleSet bit = RoleBit(static_cast<v1::Role>(role));
    if (seen & bit) {
      return error::InvalidField(field, absl::StrCat("duplicate role ", v1::Role_Name(role)));
    }
    if (!(grantable & bit)) {
      return error::PermissionDenied(absl::StrCat("grant the role ", v1::Role_Name(role),
                                                  ", which you do not hold"));
    }
    seen |= bit;
  }
  return absl::OkStatus();
}

// The parsed name of a token read back from the store: DATA_LOSS naming it
// when it does not parse (the store's fault, not a caller's).
absl::StatusOr<TokenName> StoredTokenName(const v1::Token& token) {
  absl::StatusOr<TokenName> name = ParseTokenName("name", token.name());
  if (!name.ok()) return error::CorruptRecord("token", token.name(), name.status().message());
  return name;
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
  if (!orgs_.contains(org)) {
    v1::Org record;
    record.set_name(OrgName(org));
    record.set_display_name("Default org");
    *record.mutable_create_time() = ToProtoTimestamp(clock_->Now());
    SOP_RETURN_IF_ERROR(store_->PutOrg(record));
    orgs_[org] = record;
  }
  v1::Token token;
  token.set_user_id("admin");
  token.set_display_name(std::string(display_name));
  token.add_roles(v1::ADMIN);
  token.set_server_admin(true);
  SOP_ASSIGN_OR_RETURN(v1::CreateTokenResponse issued,
                       IssueLocked(org, std::move(token), std::nullopt, creator));
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
  const v1::Token& token = it->second.token();
  Caller caller;
  SOP_ASSIGN_OR_RETURN(TokenName name, StoredTokenName(token));
  caller.org = std::move(name.org);
  caller.user_id = token.user_id();
  caller.display_name = token.display_name();
  for (int role : token.roles()) caller.roles |= RoleBit(static_cast<v1::Role>(role));
  caller.server_admin = token.server_admin();
  caller.token_name = token.name();
  return caller;
}

absl::Status AccessRegistry::CheckTokenAdmin(const Caller& caller, absl::string_view org) const {
  if (org != caller.org && !caller.server_admin) return error::OrgNotFound(OrgName(org));
  if (!orgs_.contains(org)) return error::OrgNotFound(OrgName(org));
  if (caller.server_admin) return absl::OkStatus();
  return Authorize(caller, Operation::kManageTokens);
}

absl::StatusOr<v1::CreateTokenResponse> AccessRegistry::IssueLocked(
    const std::string& org, v1::Token token, std::optional<absl::Duration> ttl,
    const std::string& creator) {
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
  SOP_RETURN_IF_ERROR(store_->PutToken(record));
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
  return IssueLocked(org, std::move(token), ttl, caller.user_id);
}

absl::StatusOr<v1::ListTokensResponse> AccessRegistry::ListTokens(
    const Caller& caller, const v1::ListTokensRequest& request) const {
  SOP_ASSIGN_OR_RETURN(std::string org, ParseOrgName("parent", request.parent()));
  absl::ReaderMutexLock lock(&mu_);
  SOP_RETURN_IF_ERROR(CheckTokenAdmin(caller, org));
  v1::ListTokensResponse response;
  const std::string prefix = absl::StrCat(OrgName(org), "/tokens/");
  for (const auto& [id, record] : tokens_) {
    if (absl::StartsWith(record.token().name(), prefix) &&
        (request.show_inactive() || IsActive(record.token()))) {
      *response.add_tokens() = record.token();
    }
  }
  std::sort(response.mutable_tokens()->begin(), response.mutable_tokens()->end(),
            [](const v1::Token& a, const v1::Token& b) { return a.name() < b.name(); });
  return response;
}

absl::StatusOr<v1::Token> AccessRegistry::RevokeToken(const Caller& caller,
                                                      const v1::RevokeTokenRequest& request) {
  SOP_ASSIGN_OR_RETURN(TokenName name, ParseTokenName("name", request.name()));
  absl::MutexLock lock(&mu_);
  SOP_RETURN_IF_ERROR(CheckTokenAdmin(caller, name.org));
  auto it = tokens_.find(name.token);
  if (it == tokens_.end() || it->second.token().name() != request.name()) {
    return error::TokenNotFound(request.name());
  }
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
  SOP_RETURN_IF_ERROR(store_->PutToken(record));
  it->second = std::move(record);
  return it->second.token();
}

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
  SOP_RETURN_IF_ERROR(store_->PutOrg(org));
  orgs_[request.org_id()] = org;
  return org;
}

absl::StatusOr<v1::ListOrgsResponse> AccessRegistry::ListOrgs(const Caller& caller) const {
  SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kManageOrgs));
  absl::ReaderMutexLock lock(&mu_);
  v1::ListOrgsResponse response;
  for (const auto& [id, org] : orgs_) *response.add_orgs() = org;
  std::sort(response.mutable_orgs()->begin(), response.mutable_orgs()->end(),
            [](const v1::Org& a, const v1::Org& b) { return a.name() < b.name(); });
  return response;
}

v1::WhoAmIResponse AccessRegistry::WhoAmI(const Caller& caller) const {
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
  return response;
}

}  // namespace sopsidebar
