// Orgs and access tokens: issuing, listing and revoking tokens, and turning
// a bearer secret into a Caller on every call.
//
// A token is "sop_<id>_<secret>"; only the SHA-256 of the whole string is
// stored. Tokens and orgs are few, so all of them are kept in memory and
// authentication costs one hash and one map look-up, no storage read.
//
// Server-admin tokens may administer every org. Only a server admin creates
// or revokes one, and the last active one without an expiry cannot be
// revoked, so sopd always keeps one; an operator who lost every one issues
// another with IssueRecoveryAdminToken (`sopd --bootstrap-admin`).
//
// ListTokens and ListOrgs page by name with signed page tokens
// (server/common/page_token.h): page_size 0 means 50, larger than 1000 means
// 1000, negative is INVALID_ARGUMENT; a page token not issued by this
// registry for the same request (parent and show_inactive for tokens) is
// INVALID_ARGUMENT naming page_token.
//
// Errors: UNAUTHENTICATED (Authenticate, same words for every reason);
// PERMISSION_DENIED (roles, server-admin tokens); NOT_FOUND (missing, or
// another org's); INVALID_ARGUMENT naming the field; ALREADY_EXISTS (orgs);
// FAILED_PRECONDITION (the last server-admin token); storage errors.
// Thread-safe: Authenticate takes a reader lock only.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_AUTH_ACCESS_REGISTRY_H_
#define SOPSIDEBAR_SERVER_DOMAIN_AUTH_ACCESS_REGISTRY_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/caller.h"
#include "server/common/clock.h"
#include "server/common/page_token.h"
#include "server/domain/audit/audit_log.h"
#include "server/domain/store/auth_store.h"
#include "sopsidebar/internal/v1/records.pb.h"
#include "sopsidebar/v1/admin_service.pb.h"

namespace sopsidebar {

class AccessRegistry {
 public:
  // Loads every org and token from `store`. `store` and `clock` must
  // outlive the registry.
  static absl::StatusOr<std::unique_ptr<AccessRegistry>> Create(AuthStore* store,
                                                                const Clock* clock);

  // Makes every token, org and CRM-independent write append to `audit`'s
  // chain, in the same store write (AuthStore::WriteAudited). Call before
  // serving; `audit` must outlive the registry. Without it nothing is
  // audited (tests over the in-memory store).
  void SetAuditLog(AuditLog* audit) { audit_ = audit; }

  // On a store without any token: creates orgs/default and a server-admin
  // ADMIN token in it, and returns its secret. Otherwise returns nullopt.
  absl::StatusOr<std::optional<std::string>> BootstrapAdminToken();

  // The operator's way back when no server-admin token is left: issues a new
  // server-admin ADMIN token in orgs/default (creating the org if missing),
  // whatever tokens exist, and returns its secret. Not an RPC: only whoever
  // can open the data dir (sopd stopped) may call it. Storage errors.
  absl::StatusOr<std::string> IssueRecoveryAdminToken();

  // The caller a bearer secret belongs to, or UNAUTHENTICATED.
  absl::StatusOr<Caller> Authenticate(absl::string_view secret) const;

  // A HubSpot integration: the caller of the active INTEGRATION token whose
  // hubspot_portal_id is `portal_id`, and its app's client secret, which
  // the caller must verify the request's signature with before acting on
  // it. UNAUTHENTICATED (the same words as Authenticate's) when there is
  // none.
  struct HubSpotIntegration {
    Caller caller;
    std::string client_secret;
  };
  absl::StatusOr<HubSpotIntegration> FindHubSpotIntegration(absl::string_view portal_id) const;

  // OK while the token `caller` authenticated with (Caller::token_name) is
  // still active; UNAUTHENTICATED (the same error as Authenticate's) once it
  // is revoked or expired, or for a name that is no token. For callers that
  // keep acting on one authentication (open watches). Reader lock only.
  absl::Status CheckActive(const Caller& caller) const;

  // token.user_id (required) and token.display_name: at most 256 characters
  // without control characters, else INVALID_ARGUMENT naming the field.
  // request.token.server_admin makes a server-admin token: PERMISSION_DENIED
  // unless the caller is a server admin.
  absl::StatusOr<v1::CreateTokenResponse> CreateToken(const Caller& caller,
                                                      const v1::CreateTokenRequest& request);
  // One page of the org's tokens by name. Authorized as CreateToken.
  absl::StatusOr<v1::ListTokensResponse> ListTokens(const Caller& caller,
                                                    const v1::ListTokensRequest& request) const;
  // One token, active or not. Authorized as ListTokens: NOT_FOUND for
  // another org's token (unless a server admin asks), exactly as for a
  // missing one.
  absl::StatusOr<v1::Token> GetToken(const Caller& caller,
                                     const v1::GetTokenRequest& request) const;
  // Revoking a revoked token returns it unchanged. A server-admin token:
  // PERMISSION_DENIED unless the caller is a server admin, and
  // FAILED_PRECONDITION when it is the last active one without an expiry.
  absl::StatusOr<v1::Token> RevokeToken(const Caller& caller,
                                        const v1::RevokeTokenRequest& request);
  // org.display_name: at most 256 characters without control characters.
  absl::StatusOr<v1::Org> CreateOrg(const Caller& caller, const v1::CreateOrgRequest& request);
  // One page of every org by name. Server admins only (PERMISSION_DENIED).
  absl::StatusOr<v1::ListOrgsResponse> ListOrgs(const Caller& caller,
                                                const v1::ListOrgsRequest& request) const;
  // One org. Server admins only, as ListOrgs; another org than the caller's
  // is NOT_FOUND before that, exactly as a missing one.
  absl::StatusOr<v1::Org> GetOrg(const Caller& caller, const v1::GetOrgRequest& request) const;
  // The org's ADMIN (of that org) or a server admin. INVALID_ARGUMENT for a
  // field the mask may not name or a stale_review_cutoff under one day.
  absl::StatusOr<v1::Org> UpdateOrg(const Caller& caller, const v1::UpdateOrgRequest& request);
  // When `org` was created and its stale_review_cutoff (unset: none), for
  // SopRegistry's OrgPolicy. False for an org that does not exist. Cheap:
  // lookups call it.
  bool OrgSettings(absl::string_view org, absl::Time* create_time,
                   std::optional<absl::Duration>* stale_review_cutoff) const;
  // Who the caller is (org, user, roles, token). Any authenticated caller
  // (permission kPing); PERMISSION_DENIED otherwise.
  // Takes a token or an org as another node stored it (a shared store's
  // follower calls these, in store order): replaces this registry's copy.
  // A record that does not parse is left out.
  void ApplyStoredToken(const internal::v1::TokenRecord& record);
  void ApplyStoredOrg(const v1::Org& org);

  absl::StatusOr<v1::WhoAmIResponse> WhoAmI(const Caller& caller) const;
  // Ping's answer, the request's payload echoed: it only authenticates, as
  // WhoAmI. The floor lookups are measured against.
  absl::StatusOr<v1::PingResponse> Ping(const Caller& caller, const v1::PingRequest& request) const;

 private:
  AccessRegistry(AuthStore* store, const Clock* clock) : store_(store), clock_(clock) {}

  // The page size a request gets: 0 means kDefaultPageSize, larger sizes
  // are cut to kMaxPageSize; negative is INVALID_ARGUMENT.
  static absl::StatusOr<int> PageSize(int requested);

  // OK when `caller` may manage tokens of `org`; NOT_FOUND for an org it may
  // not see or that does not exist; PERMISSION_DENIED for its own org
  // without the role.
  absl::Status CheckTokenAdmin(const Caller& caller, absl::string_view org) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  bool IsActive(const v1::Token& token) const;
  // The caller a stored token makes (DATA_LOSS for a name that does not
  // parse).
  static absl::StatusOr<Caller> CallerOf(const v1::Token& token);
  // Whether an active server-admin token without an expiry other than the
  // one with id `token_id` exists.
  bool HasOtherLastingServerAdmin(absl::string_view token_id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Creates orgs/default if missing and issues a server-admin ADMIN token
  // in it, created by `creator`.
  absl::StatusOr<std::string> IssueServerAdminLocked(absl::string_view display_name,
                                                     const std::string& creator)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes `write` (its token or org) with the audit event of `entry` done
  // by `caller` in `org`'s chain, when an AuditLog is set; else without one.
  absl::Status WriteLocked(const Caller& caller, absl::string_view org, AuditEntry entry,
                           AuthWrite write) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Issues `token` in `org`, created by `issuer` (its user id is the
  // token's creator).
  absl::StatusOr<v1::CreateTokenResponse> IssueLocked(const Caller& issuer, const std::string& org,
                                                      v1::Token token,
                                                      std::optional<absl::Duration> ttl,
                                                      const std::string& hubspot_client_secret = "")
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  AuthStore* const store_;
  const Clock* const clock_;
  // Set before serving (SetAuditLog); null: writes are not audited.
  AuditLog* audit_ = nullptr;
  // Signs ListTokens' and ListOrgs' page tokens under a key of this
  // registry's own.
  const PageTokenCodec page_tokens_;
  mutable absl::Mutex mu_;
  // By token id (the {token} part of the name).
  absl::flat_hash_map<std::string, internal::v1::TokenRecord> tokens_ ABSL_GUARDED_BY(mu_);
  // By org id.
  absl::flat_hash_map<std::string, v1::Org> orgs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_AUTH_ACCESS_REGISTRY_H_
