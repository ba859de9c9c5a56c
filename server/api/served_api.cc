#include "server/api/served_api.h"

#include <utility>

#include "server/domain/search/sop_search.h"

namespace sopsidebar {

absl::StatusOr<std::unique_ptr<ServedApi>> ServedApi::Create(SopRegistry* registry,
                                                             AccessRegistry* access,
                                                             CrmMaps* crm, Options options) {
  std::unique_ptr<ServedApi> api(new ServedApi(registry));
  api->watches_ = std::make_unique<LookupWatchHub>(
      registry, [access](const Caller& caller) { return access->CheckActive(caller); },
      options.watches);
  LookupWatchHub* const watches = api->watches_.get();
  // The registry holds one listener: it tells the hub and, when served,
  // search (neither blocks).
  SopSearch* const search = options.extras.search;
  registry->SetCatalogListener([watches, search] {
    watches->CatalogChanged();
    if (search != nullptr) search->CatalogChanged();
  });
  absl::StatusOr<std::unique_ptr<ApiMethods>> methods =
      ApiMethods::Create(registry, access, crm, watches, options.extras);
  if (!methods.ok()) return methods.status();
  api->methods_ = *std::move(methods);
  api->dispatcher_ = std::make_unique<Dispatcher>(access, crm, std::move(options.dispatcher));
  return api;
}

ServedApi::~ServedApi() {
  watches_->Shutdown();
  // Writes still queued in the dispatcher (destroyed first, below) find no
  // listener rather than a destroyed hub.
  registry_->SetCatalogListener(nullptr);
}

}  // namespace sopsidebar
