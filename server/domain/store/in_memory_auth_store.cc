#include "server/domain/store/in_memory_auth_store.h"

#include "common/model/names.h"
#include "common/status_macros.h"

namespace sopsidebar {
namespace {

// Copies under the lock, calls `fn` outside it.
template <typename Map, typename Fn>
absl::Status VisitCopy(absl::Mutex& mu, const Map& map, const Fn& fn) {
  Map copy;
  {
    absl::MutexLock lock(&mu);
    copy = map;
  }
  for (const auto& [key, value] : copy) SOP_RETURN_IF_ERROR(fn(value));
  return absl::OkStatus();
}

}  // namespace

absl::Status InMemoryAuthStore::PutToken(const internal::v1::TokenRecord& record) {
  SOP_RETURN_IF_ERROR(ParseTokenName("token.name", record.token().name()).status());
  absl::MutexLock lock(&mu_);
  tokens_[record.token().name()] = record;
  return absl::OkStatus();
}

absl::Status InMemoryAuthStore::ForEachToken(
    const std::function<absl::Status(const internal::v1::TokenRecord&)>& fn) const {
  return VisitCopy(mu_, tokens_, fn);
}

absl::Status InMemoryAuthStore::PutOrg(const v1::Org& org) {
  SOP_RETURN_IF_ERROR(ParseOrgName("org.name", org.name()).status());
  absl::MutexLock lock(&mu_);
  orgs_[org.name()] = org;
  return absl::OkStatus();
}

absl::Status InMemoryAuthStore::ForEachOrg(
    const std::function<absl::Status(const v1::Org&)>& fn) const {
  return VisitCopy(mu_, orgs_, fn);
}

absl::Status InMemoryAuthStore::PutRoleMap(const v1::RoleMap& map) {
  SOP_RETURN_IF_ERROR(ParseCrmMapName("role_map.name", map.name(), kRoleMaps).status());
  absl::MutexLock lock(&mu_);
  role_maps_[map.name()] = map;
  return absl::OkStatus();
}

absl::Status InMemoryAuthStore::ForEachRoleMap(
    const std::function<absl::Status(const v1::RoleMap&)>& fn) const {
  return VisitCopy(mu_, role_maps_, fn);
}

absl::Status InMemoryAuthStore::PutFieldMap(const v1::FieldMap& map) {
  SOP_RETURN_IF_ERROR(ParseCrmMapName("field_map.name", map.name(), kFieldMaps).status());
  absl::MutexLock lock(&mu_);
  field_maps_[map.name()] = map;
  return absl::OkStatus();
}

absl::Status InMemoryAuthStore::ForEachFieldMap(
    const std::function<absl::Status(const v1::FieldMap&)>& fn) const {
  return VisitCopy(mu_, field_maps_, fn);
}

absl::Status InMemoryAuthStore::WriteAudited(const AuthWrite& /*write*/) {
  return absl::UnimplementedError(
      "the in-memory auth store keeps no audit trail: run its registries without an AuditLog");
}

}  // namespace sopsidebar
