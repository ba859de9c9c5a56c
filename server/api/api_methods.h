// Every method of sopsidebar.v1's SopService, ContextService and
// AdminService, bound to the domain once (api_method.h). The table is
// complete by construction: Create fails if a method of the three services
// has no binding, or a binding names no method or the wrong message types.
#ifndef SOPSIDEBAR_SERVER_API_API_METHODS_H_
#define SOPSIDEBAR_SERVER_API_API_METHODS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/api/api_method.h"
#include "server/domain/auth/access_registry.h"
#include "server/domain/crm/crm_maps.h"
#include "server/domain/registry/crm_lookup.h"
#include "server/domain/registry/lookup_watch.h"
#include "server/domain/registry/sop_registry.h"

namespace sopsidebar {

class Analytics;
class ApiMetrics;
class Authoring;
class BackupSource;
class ChangeEvents;
class SopSearch;
class TemplateRegistry;

// The parts of the API a server may go without: their methods answer
// UNIMPLEMENTED when absent (transport tests that do not need them).
struct ApiExtras {
  // AnalyticsService and ContextService.ValidateTransition.
  Analytics* analytics = nullptr;
  // SopService.SearchSops.
  SopSearch* search = nullptr;
  // Told of every lookup answered (counts of lookups and matches); null:
  // nothing counted.
  ApiMetrics* metrics = nullptr;
  // AdminService.CreateBackup.
  BackupSource* backups = nullptr;
  // AuthoringService.
  const Authoring* authoring = nullptr;
  // EventService (WatchChanges, webhooks and their deliveries).
  ChangeEvents* events = nullptr;
  // TemplateService.
  TemplateRegistry* templates = nullptr;
};

// Immutable after Create; thread-safe.
class ApiMethods final : public MethodLookup {
 public:
  // The services served, by full name.
  static const std::vector<std::string>& ServiceNames();

  // Binds the methods to `registry`, `access`, `crm` and `watches`, which
  // must outlive the table, as must the `extras`. Lookups and watches of a context in a CRM's
  // names (context.crm) are mapped to ours by `crm` first. INTERNAL when the
  // bindings and the protos disagree (a bug, caught by the table's own
  // test).
  static absl::StatusOr<std::unique_ptr<ApiMethods>> Create(SopRegistry* registry,
                                                            AccessRegistry* access, CrmMaps* crm,
                                                            LookupWatchHub* watches,
                                                            ApiExtras extras = {});

  // The method at `path` ("/sopsidebar.v1.SopService/CreateSop"), or null.
  const UnaryMethod* FindUnary(absl::string_view path) const override;
  const StreamMethod* FindStream(absl::string_view path) const override;

 private:
  ApiMethods() = default;
  absl::flat_hash_map<std::string, UnaryMethod> unary_;
  absl::flat_hash_map<std::string, StreamMethod> streams_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_API_API_METHODS_H_
