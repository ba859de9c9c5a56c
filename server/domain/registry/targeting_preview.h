// SopService.PreviewTargeting: what publishing a draft would change for a
// set of CRM records, before it is submitted. Read only: nothing is stored,
// the published catalog is not touched.
//
// One request builds two matchers: "before" is the published catalog's
// current snapshot, exactly as LookupSops matches it; "after" is that
// snapshot with the subject's draft standing in for its SOP's published
// revision (or added, for an SOP that is not published), derived with
// SopMatcher::WithChanges (incremental for the indexed engine). Every record
// is matched against both for the caller's roles (so an SOP the caller may
// not see never shows, as in lookups), with SOPs overdue past the org's
// stale_review_cutoff left out as lookups leave them out, and classified by
// the draft's 1-based rank among the record's matches before and after:
//   GAINED       the draft is top after and was not before
//   LOST         the draft was top before and is not after
//   RERANKED     otherwise, the draft's rank differs (a match that appears or
//                disappears below the top counts here too)
//   UNCHANGED    the draft matches at the same rank both times
//   NOT_MATCHED  the draft matches neither time
// The current and preview step of a record are those LookupSops gives for
// its top match: the first step, in ordinal order, whose conditions hold.
//
// The subject is `sop` (orgs/{org}/sops/{sop}: its current draft; the caller
// needs draft access to it, as CheckTargeting) or `draft` (an unsaved SOP,
// validated as CreateSop validates a body; its name, when it names an SOP,
// makes it stand in for that SOP, else it is a new SOP, previewed as
// orgs/{org}/sops/_draft when it has no name). Records are CrmContexts as
// LookupSops takes them: with `crm` set they are mapped by the org's field
// map (CrmMaps::Translate) first.
//
// Errors, in this order: INVALID_ARGUMENT for a missing or malformed parent,
// NOT_FOUND for another org; PERMISSION_DENIED unless the caller holds
// SALES_OPS, ADMIN, SALES_MANAGER or MARKETING; INVALID_ARGUMENT naming
// `records` for none or more than kMaxPreviewRecords, `records[i]...` for a
// record LookupSops would refuse (NOT_FOUND for a record of another org);
// INVALID_ARGUMENT naming `sop` or `draft...` for a missing or invalid
// subject; NOT_FOUND for a `sop` that is missing or hidden from the caller,
// PERMISSION_DENIED without draft access to it, FAILED_PRECONDITION for a
// deleted one.
//
// Thread-safe: holds only pointers to the thread-safe registry and maps.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_TARGETING_PREVIEW_H_
#define SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_TARGETING_PREVIEW_H_

#include "absl/status/statusor.h"
#include "common/auth/caller.h"
#include "server/domain/crm/crm_maps.h"
#include "server/domain/registry/sop_registry.h"
#include "sopsidebar/v1/sop_service.pb.h"

namespace sopsidebar {

// At most this many records per request.
inline constexpr int kMaxPreviewRecords = 10000;

// The id an unsaved draft without a name is previewed under: no SOP id can
// take it ('_' is not allowed in ids), so it never replaces one.
inline constexpr char kUnsavedDraftId[] = "_draft";

class TargetingPreview {
 public:
  // `registry` and `maps` must outlive the preview.
  TargetingPreview(const SopRegistry* registry, const CrmMaps* maps)
      : registry_(registry), maps_(maps) {}

  absl::StatusOr<v1::PreviewTargetingResponse> Preview(
      const Caller& caller, const v1::PreviewTargetingRequest& request) const;

 private:
  const SopRegistry* const registry_;
  const CrmMaps* const maps_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_TARGETING_PREVIEW_H_
