// The permission table: which roles may do what. Every authorization
// decision in sopd is made here, from the table, not by scattered ifs; the
// table is printed in docs/SECURITY.md. Thread-safe (pure).
#ifndef SOPSIDEBAR_COMMON_AUTH_PERMISSIONS_H_
#define SOPSIDEBAR_COMMON_AUTH_PERMISSIONS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/auth/caller.h"
#include "sopsidebar/v1/sop.pb.h"

namespace sopsidebar {

enum class Operation {
  kLookup,         // ContextService.LookupSops
  kReadPublished,  // Get/List of published SOPs
  kReadDrafts,     // drafts, unpublished changes, deleted SOPs
  kReadHistory,    // revisions
  kWriteSops,      // create, update, delete, undelete
  kPublishSops,
  kManageTokens,        // create, list, revoke tokens of the caller's org
  kManageOrgs,          // create and list orgs
  kManageServerAdmins,  // create and revoke server-admin tokens
  kDebugTargeting,      // near misses in lookups
  kPing,                // WhoAmI, Ping
  kManageRoleMaps,      // read and replace the org's CRM role maps
  kManageFieldMaps,     // read and replace the org's CRM field maps
  kSubmitSops,          // send a draft for review; record an owner review
  kSignOffSops,         // approve or reject a draft under review
  kEmergencyPublish,    // publish without the required sign-offs
  kComment,             // add and resolve comments on SOPs
  kReadAudit,           // list and verify the org's audit trail
  kManageOrgSettings,   // change the org's settings
  kRecordEvents,        // record what the panel showed and the rep did
  kReadOwnAnalytics,    // analytics figures of the caller's own work
  kReadAllAnalytics,    // every rep's figures and coverage gaps
  kTakeBackups,         // stream a backup of every org's data
  kPreviewTargeting,    // preview what publishing a draft changes for CRM records
  kManageWebhooks,      // create, list and delete the org's webhooks; replay deliveries
};

struct Permission {
  Operation operation;
  // Completes "your roles do not allow you to ...".
  absl::string_view description;
  // Roles allowed everywhere in their org.
  RoleSet roles;
  // Also allowed, on an SOP the caller's roles see (VisibleToRoles): its
  // owner (IsOwner), and holders of its required approver roles.
  bool owners;
  bool approvers;
  // Only server admins, whatever their roles.
  bool server_admin_only;
};

// One row per Operation.
absl::Span<const Permission> PermissionTable();

// What the table needs to know of an SOP for the owner and approver rules,
// without its body (sopd keeps it in memory for every SOP).
struct SopAccess {
  // VisibleToRoles of the SOP.
  RoleSet visible_to = kAllRoles;
  // Its required approver roles.
  RoleSet approvers = 0;
  // Its owner_user_id; empty: nobody owns it. A view: the string it shows
  // must outlive the SopAccess.
  absl::string_view owner_user_id;
};

// The SopAccess of `sop`, valid while `sop` is.
SopAccess AccessOf(const v1::Sop& sop);

// Whether `caller` may perform `operation`; `sop` (may be null) is the SOP
// it concerns, for the owner and approver rules.
bool IsAllowed(const Caller& caller, Operation operation, const v1::Sop* sop = nullptr);
// The same decision from the SOP's SopAccess.
bool IsAllowed(const Caller& caller, Operation operation, const SopAccess& sop);

// OK or PERMISSION_DENIED naming the operation.
absl::Status Authorize(const Caller& caller, Operation operation, const v1::Sop* sop = nullptr);

// Whether `caller` is the owner of `sop`: its owner_user_id is set and is
// exactly the caller's user id. The free-text Sop.owner never makes an owner.
bool IsOwner(const Caller& caller, const v1::Sop& sop);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_COMMON_AUTH_PERMISSIONS_H_
