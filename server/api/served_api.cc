#include "server/api/served_api.h"

#include <utility>
#include <vector>

#include "absl/time/clock.h"
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
  Gauge* catalog_changed = nullptr;
  if (options.metrics != nullptr) {
    api->metrics_ = std::make_unique<ApiMetrics>(options.metrics, ApiMethods::ServiceNames());
    options.dispatcher.metrics = api->metrics_.get();
    options.extras.metrics = api->metrics_.get();
    catalog_changed = options.metrics
                          ->AddGauge("sopd_index_last_change_timestamp_seconds",
                                     "When the published catalog (the lookup index) last changed, "
                                     "in Unix seconds; 0 before any change since start.")
                          ->Get({});
    options.metrics->AddCollector([registry, watches](MetricWriter& out) {
      const std::vector<PublishedSopPtr> sops = registry->PublishedSops();
      size_t rules = 0;
      for (const PublishedSopPtr& sop : sops) rules += sop->body.targeting_rules_size();
      out.Gauge("sopd_index_published_sops", "Published SOPs in the lookup index, all orgs.",
                static_cast<double>(sops.size()));
      out.Gauge("sopd_index_targeting_rules",
                "Targeting rules of the published SOPs in the lookup index.",
                static_cast<double>(rules));
      out.Gauge("sopd_watch_streams_open", "Open WatchSops streams, gRPC and Connect.",
                static_cast<double>(watches->open_watches()));
    });
  }
  // The registry holds one listener: it tells the hub and, when served,
  // search (neither blocks).
  SopSearch* const search = options.extras.search;
  registry->SetCatalogListener([watches, search, catalog_changed] {
    watches->CatalogChanged();
    if (search != nullptr) search->CatalogChanged();
    if (catalog_changed != nullptr)
      catalog_changed->Set(absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()));
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
