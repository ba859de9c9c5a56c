// Persistence of orgs, access tokens and the orgs' CRM role and field maps. Implementations: RocksDbStore and
// InMemoryAuthStore (tests). Thread-safe.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_STORE_AUTH_STORE_H_
#define SOPSIDEBAR_SERVER_DOMAIN_STORE_AUTH_STORE_H_

#include <functional>
#include <optional>

#include "absl/status/status.h"
#include "sopsidebar/internal/v1/records.pb.h"
#include "sopsidebar/v1/admin_service.pb.h"

namespace sopsidebar {

// One change to an org, a token or a CRM map, with the audit event recording
// it (complete, from AuditLog): written atomically, all of it or nothing.
struct AuthWrite {
  std::optional<internal::v1::TokenRecord> token;
  std::optional<v1::Org> org;
  std::optional<v1::RoleMap> role_map;
  std::optional<v1::FieldMap> field_map;
  v1::AuditEvent audit;
};

class AuthStore {
 public:
  // Creates or replaces what `write` holds and appends its audit event,
  // atomically and durably. INVALID_ARGUMENT for a bad name or an audit
  // event that is not well formed (CheckAuditEvent, sop_store.h);
  // UNIMPLEMENTED for a store that keeps no audit trail.
  virtual absl::Status WriteAudited(const AuthWrite& write) = 0;

  virtual ~AuthStore() = default;

  // Creates or replaces the token record named record.token().name()
  // (orgs/{org}/tokens/{token}), durably. INVALID_ARGUMENT for a bad name.
  virtual absl::Status PutToken(const internal::v1::TokenRecord& record) = 0;
  // Calls `fn` for every token of every org; stops at the first error.
  virtual absl::Status ForEachToken(
      const std::function<absl::Status(const internal::v1::TokenRecord&)>& fn) const = 0;

  // Creates or replaces org.name() (orgs/{org}), durably.
  virtual absl::Status PutOrg(const v1::Org& org) = 0;
  virtual absl::Status ForEachOrg(const std::function<absl::Status(const v1::Org&)>& fn) const = 0;

  // Creates or replaces map.name() (orgs/{org}/roleMaps/{crm}), durably.
  virtual absl::Status PutRoleMap(const v1::RoleMap& map) = 0;
  virtual absl::Status ForEachRoleMap(
      const std::function<absl::Status(const v1::RoleMap&)>& fn) const = 0;
  // Creates or replaces map.name() (orgs/{org}/fieldMaps/{crm}), durably.
  virtual absl::Status PutFieldMap(const v1::FieldMap& map) = 0;
  virtual absl::Status ForEachFieldMap(
      const std::function<absl::Status(const v1::FieldMap&)>& fn) const = 0;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_STORE_AUTH_STORE_H_
