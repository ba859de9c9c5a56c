// The API as the transports serve it, over a SopRegistry, an AccessRegistry
// and the orgs' CrmMaps: the watch hub (told of every catalog change, its tokens
// checked by the access registry; so is extras.search, when set), the method
// table bound to all three, and
// the dispatcher. sopd builds one; the transports' tests build one over
// in-memory stores, so that both wire it the same way.
#ifndef SOPSIDEBAR_SERVER_API_SERVED_API_H_
#define SOPSIDEBAR_SERVER_API_SERVED_API_H_

#include <memory>

#include "absl/status/statusor.h"
#include "server/api/api_methods.h"
#include "server/api/api_metrics.h"
#include "server/api/dispatcher.h"
#include "server/common/metrics.h"
#include "server/domain/auth/access_registry.h"
#include "server/domain/registry/lookup_watch.h"
#include "server/domain/registry/sop_registry.h"

namespace sopsidebar {

// Thread-safe. The registries must outlive it, and the transports serving
// it must be stopped before it is destroyed.
class ServedApi {
 public:
  struct Options {
    Dispatcher::Options dispatcher;
    LookupWatchHub::Options watches;
    ApiExtras extras;
    // Where the API's metrics go (api_metrics.h), and the index's and the
    // watches': published SOPs, targeting rules, open streams, the last
    // catalog change. Null: none. Must outlive the ServedApi.
    MetricsRegistry* metrics = nullptr;
  };

  // INTERNAL when the method bindings and the protos disagree (ApiMethods).
  static absl::StatusOr<std::unique_ptr<ServedApi>> Create(SopRegistry* registry,
                                                           AccessRegistry* access, CrmMaps* crm,
                                                           Options options);
  // Ends every watch and detaches the hub (and search) from the registry.
  ~ServedApi();

  const ApiMethods* methods() const { return methods_.get(); }
  Dispatcher* dispatcher() { return dispatcher_.get(); }
  LookupWatchHub* watches() { return watches_.get(); }

 private:
  explicit ServedApi(SopRegistry* registry) : registry_(registry) {}

  SopRegistry* const registry_;
  std::unique_ptr<ApiMetrics> metrics_;
  std::unique_ptr<LookupWatchHub> watches_;
  std::unique_ptr<ApiMethods> methods_;
  // Declared last: destroyed first, running the calls still queued while
  // the methods they call exist.
  std::unique_ptr<Dispatcher> dispatcher_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_API_SERVED_API_H_
