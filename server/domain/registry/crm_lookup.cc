#include "server/domain/registry/crm_lookup.h"

#include <utility>

#include "common/status_macros.h"

namespace sopsidebar {

namespace {

// The registry's lookup, setting `matches` and telling `unmatched` when it
// matched nothing (near-miss debugging and as_of replays aside).
absl::Status ObservedLookup(const SopRegistry& registry, const Caller& caller,
                            const v1::LookupSopsRequest& request, std::string* out,
                            UnmatchedLookupSink* unmatched, int* matches) {
  int count = 0;
  SOP_RETURN_IF_ERROR(registry.LookupSopsWire(caller, request, out, &count));
  if (matches != nullptr) *matches = count;
  if (unmatched != nullptr && count == 0 && !request.include_near_misses() &&
      !request.has_as_of_time()) {
    unmatched->Unmatched(caller.org, request.context());
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status LookupSopsWire(const SopRegistry& registry, const CrmMaps& maps, const Caller& caller,
                            const v1::LookupSopsRequest& request, std::string* out,
                            UnmatchedLookupSink* unmatched, int* matches) {
  if (request.context().crm().empty()) {
    return ObservedLookup(registry, caller, request, out, unmatched, matches);
  }
  SOP_ASSIGN_OR_RETURN(CrmMaps::Translated mapped,
                       maps.Translate(caller, request.context(), "context"));
  v1::LookupSopsRequest ours = request;
  *ours.mutable_context() = std::move(mapped.context);
  SOP_RETURN_IF_ERROR(ObservedLookup(registry, caller, ours, out, unmatched, matches));
  // A response with only field_sources serialises to exactly their fields.
  v1::LookupSopsResponse sources;
  for (v1::FieldSource& source : mapped.sources) *sources.add_field_sources() = std::move(source);
  sources.AppendToString(out);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<MessageSubscription>> WatchSops(LookupWatchHub& watches,
                                                               const CrmMaps& maps,
                                                               const Caller& caller,
                                                               const v1::WatchSopsRequest& request,
                                                               std::shared_ptr<MessageSink> sink) {
  if (request.context().crm().empty()) return watches.Watch(caller, request, std::move(sink));
  SOP_ASSIGN_OR_RETURN(CrmMaps::Translated mapped,
                       maps.Translate(caller, request.context(), "context"));
  v1::WatchSopsRequest ours = request;
  *ours.mutable_context() = std::move(mapped.context);
  return watches.Watch(caller, ours, std::move(sink));
}

}  // namespace sopsidebar
