// Persistence of orgs, access tokens and the orgs' CRM role and field maps. Implementations: RocksDbStore and
// InMemoryAuthStore (tests). Thread-safe.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_STORE_AUTH_STORE_H_
#define SOPSIDEBAR_SERVER_DOMAIN_STORE_AUTH_STORE_H_

#include <functional>

#include "absl/status/status.h"
#include "sopsidebar/internal/v1/records.pb.h"
#include "sopsidebar/v1/admin_service.pb.h"

namespace sopsidebar {

class AuthStore {
 public:
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
