// What an org says about its CRMs: role maps (a CRM user's profile, role or
// team names -> our roles, for the viewers an INTEGRATION token acts for) and
// field maps (a CRM record's API names and object names -> our context
// field names and record types), one of each per org and CRM
// ("salesforce", "hubspot"), kept in memory and persisted in the AuthStore.
//
// Delegation (ActFor): only an INTEGRATION token may state a viewer. The
// viewer gets the union of the roles of the role map entries that match
// them ("*", one of their CRM role names, or "user:" + their id or email),
// cut to the token's delegable_roles; no entry matching gives no role at
// all (the viewer may then call only WhoAmI and Ping), never a default
// one. The viewer's user id is "<crm>:<id>", so a CRM user id never equals
// a token's user id or an SOP's owner_user_id written for a person with a
// token.
//
// Field maps (Translate): a CRM field the map lists becomes our field, its
// value read as the entry's FieldType; fields the map does not list are
// dropped; an object the map lists becomes its record type. A CRM without
// a stored field map uses the default map shipped for it
// (DefaultFieldMap); one without a stored role map has no entries.
//
// Errors: PERMISSION_DENIED (ViewerNotAllowed; the roles for map methods);
// NOT_FOUND for another org's map, as for a missing org; INVALID_ARGUMENT
// naming the field, the metadata or the map entry; storage errors.
// Thread-safe: ActFor and Translate take a reader lock only.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_CRM_CRM_MAPS_H_
#define SOPSIDEBAR_SERVER_DOMAIN_CRM_CRM_MAPS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/caller.h"
#include "server/common/clock.h"
#include "server/domain/audit/audit_log.h"
#include "server/domain/store/auth_store.h"
#include "sopsidebar/v1/admin_service.pb.h"
#include "sopsidebar/v1/context_service.pb.h"

namespace sopsidebar {

// The metadata (gRPC) and headers (HTTP) an integration states its viewer
// in. Names and roles are percent-encoded UTF-8 ('+' is a space).
inline constexpr char kViewerIdHeader[] = "sop-viewer-id";
inline constexpr char kViewerNameHeader[] = "sop-viewer-name";
inline constexpr char kViewerRolesHeader[] = "sop-viewer-crm-roles";

// The viewer an integration says it acts for, decoded.
struct ViewerClaim {
  // The CRM user id (Salesforce 005..., HubSpot user id).
  std::string id;
  std::string display_name;
  // Their CRM profile / role / team names, as the CRM spells them.
  std::vector<std::string> crm_roles;
  // HubSpot viewers: their email, which "user:" entries also match.
  std::string email;
};

// Decodes the three headers (absent ones empty): INVALID_ARGUMENT naming
// the header for bad percent-encoding, invalid UTF-8, control characters,
// or more than 100 roles. Pure.
absl::StatusOr<ViewerClaim> ParseViewerHeaders(absl::string_view id, absl::string_view name,
                                               absl::string_view crm_roles);

// The field map sopd ships for `crm` (a name in kCrmNames), marked
// is_default, named in `org`.
v1::FieldMap DefaultFieldMap(absl::string_view org, absl::string_view crm);

class CrmMaps {
 public:
  // Loads every stored map. `store` and `clock` must outlive it.
  static absl::StatusOr<std::unique_ptr<CrmMaps>> Create(AuthStore* store, const Clock* clock);

  // Makes every map update append to `audit`'s chain, in the same store
  // write (AuthStore::WriteAudited). Call before serving; `audit` must
  // outlive the maps. Without it nothing is audited.
  void SetAuditLog(AuditLog* audit) { audit_ = audit; }

  // The caller `integration` becomes when it acts for `viewer`: the
  // viewer's org-scoped identity with the roles described above, the
  // integration's token, deadline and, in `via`, its user id.
  // PERMISSION_DENIED (ViewerNotAllowed) unless `integration` holds
  // INTEGRATION; INVALID_ARGUMENT for a missing or invalid viewer id.
  absl::StatusOr<Caller> ActFor(const Caller& integration, const ViewerClaim& viewer) const;

  // A lookup context whose crm is set, in our names, and where each field
  // came from. `path` prefixes error paths ("context"). INVALID_ARGUMENT
  // for a value the map's type cannot read, naming the CRM field.
  struct Translated {
    v1::CrmContext context;
    std::vector<v1::FieldSource> sources;
  };
  absl::StatusOr<Translated> Translate(const Caller& caller, const v1::CrmContext& context,
                                       absl::string_view path) const;

  // Takes a map as another node stored it (a shared store's follower
  // calls these, in store order): replaces this registry's copy.
  void ApplyStoredRoleMap(const v1::RoleMap& map);
  void ApplyStoredFieldMap(const v1::FieldMap& map);

  absl::StatusOr<v1::RoleMap> GetRoleMap(const Caller& caller,
                                         const v1::GetRoleMapRequest& request) const;
  absl::StatusOr<v1::RoleMap> UpdateRoleMap(const Caller& caller,
                                            const v1::UpdateRoleMapRequest& request);
  absl::StatusOr<v1::FieldMap> GetFieldMap(const Caller& caller,
                                           const v1::GetFieldMapRequest& request) const;
  absl::StatusOr<v1::FieldMap> UpdateFieldMap(const Caller& caller,
                                              const v1::UpdateFieldMapRequest& request);

 private:
  CrmMaps(AuthStore* store, const Clock* clock) : store_(store), clock_(clock) {}

  // A field map as Translate reads it: by CRM field and by CRM object.
  struct CompiledFieldMap {
    explicit CompiledFieldMap(v1::FieldMap map);
    v1::FieldMap map;
    absl::flat_hash_map<std::string, const v1::FieldMapEntry*> fields;
    absl::flat_hash_map<std::string, std::string> record_types;
  };
  // The stored field map of `org` for `crm`, or the default one; shared, so
  // Translate holds it without the lock.
  std::shared_ptr<const CompiledFieldMap> FieldMapOf(absl::string_view org,
                                                     absl::string_view crm) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  // Writes `write` (its role or field map) with the audit event of a map
  // update by `caller`, when an AuditLog is set; else without one.
  absl::Status WriteLocked(const Caller& caller, const CrmMapName& name, AuthWrite write)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  AuthStore* const store_;
  const Clock* const clock_;
  // Set before serving; null: updates are not audited.
  AuditLog* audit_ = nullptr;
  mutable absl::Mutex mu_;
  // By full name.
  absl::flat_hash_map<std::string, v1::RoleMap> role_maps_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::shared_ptr<const CompiledFieldMap>> field_maps_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_CRM_CRM_MAPS_H_
