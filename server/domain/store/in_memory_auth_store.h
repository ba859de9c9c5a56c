// An AuthStore in memory, for tests of the layers above storage.
// Thread-safe.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_STORE_IN_MEMORY_AUTH_STORE_H_
#define SOPSIDEBAR_SERVER_DOMAIN_STORE_IN_MEMORY_AUTH_STORE_H_

#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/domain/store/auth_store.h"

namespace sopsidebar {

class InMemoryAuthStore : public AuthStore {
 public:
  // UNIMPLEMENTED: the in-memory stores keep the audit trail in
  // InMemorySopStore, which an AuditLog reads; registries over this store
  // run without an AuditLog.
  absl::Status WriteAudited(const AuthWrite& write) override;
  absl::Status PutToken(const internal::v1::TokenRecord& record) override;
  absl::Status ForEachToken(
      const std::function<absl::Status(const internal::v1::TokenRecord&)>& fn) const override;
  absl::Status PutOrg(const v1::Org& org) override;
  absl::Status ForEachOrg(const std::function<absl::Status(const v1::Org&)>& fn) const override;
  absl::Status PutRoleMap(const v1::RoleMap& map) override;
  absl::Status ForEachRoleMap(
      const std::function<absl::Status(const v1::RoleMap&)>& fn) const override;
  absl::Status PutFieldMap(const v1::FieldMap& map) override;
  absl::Status ForEachFieldMap(
      const std::function<absl::Status(const v1::FieldMap&)>& fn) const override;

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, internal::v1::TokenRecord> tokens_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::Org> orgs_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::RoleMap> role_maps_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::FieldMap> field_maps_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_STORE_IN_MEMORY_AUTH_STORE_H_
