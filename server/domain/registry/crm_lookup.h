// LookupSops and WatchSops as every transport serves them: a context in a
// CRM's names (context.crm set) is turned into ours by the org's field map
// (CrmMaps::Translate) before the registry or the watch hub sees it, and a
// lookup's response gets the field_sources saying where each field came
// from. A context in our names goes straight through, without a copy (the
// lookup hot path). sopd's method table and sopctl's in-process sopd both
// call these. Errors: Translate's, then LookupSops' or Watch's. Thread-safe
// as the registry, the hub and the maps are.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_CRM_LOOKUP_H_
#define SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_CRM_LOOKUP_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/auth/caller.h"
#include "server/common/message_stream.h"
#include "server/domain/crm/crm_maps.h"
#include "server/domain/registry/lookup_watch.h"
#include "server/domain/registry/sop_registry.h"

namespace sopsidebar {

// Told of the lookups that matched no SOP (coverage gaps): a rep's plain
// lookup, not near-miss debugging nor an as_of replay. Called on the
// lookup's thread with the context in our field names: it must be cheap
// and thread-safe.
class UnmatchedLookupSink {
 public:
  virtual ~UnmatchedLookupSink() = default;
  virtual void Unmatched(absl::string_view org, const v1::CrmContext& context) = 0;
};

// SopRegistry::LookupSopsWire of `request`, mapped; appends to `out` and
// sets `matches` (when not null) to the number of matches. Tells `unmatched`
// (when not null) of a lookup that matched nothing.
absl::Status LookupSopsWire(const SopRegistry& registry, const CrmMaps& maps, const Caller& caller,
                            const v1::LookupSopsRequest& request, std::string* out,
                            UnmatchedLookupSink* unmatched = nullptr, int* matches = nullptr);

// LookupWatchHub::Watch of `request`, mapped.
absl::StatusOr<std::unique_ptr<MessageSubscription>> WatchSops(LookupWatchHub& watches,
                                                               const CrmMaps& maps,
                                                               const Caller& caller,
                                                               const v1::WatchSopsRequest& request,
                                                               std::shared_ptr<MessageSink> sink);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_CRM_LOOKUP_H_
