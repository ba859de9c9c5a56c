// Applies SOP files to the registry and publishes them (sopd --import).
#ifndef SOPSIDEBAR_SERVER_APP_SOP_IMPORT_H_
#define SOPSIDEBAR_SERVER_APP_SOP_IMPORT_H_

#include <string>

#include "absl/status/statusor.h"
#include "server/domain/registry/sop_registry.h"

namespace sopsidebar {

struct ImportSummary {
  int created = 0;
  int updated = 0;
  int unchanged = 0;
  int published = 0;
};

// Loads every SOP file under `path` (a file or a directory) first, so a bad
// file stops the import before anything is written; then creates or updates
// each SOP in orgs/default and publishes it, as the SALES_OPS user
// "sopd --import". A file naming another org fails with NOT_FOUND.
absl::StatusOr<ImportSummary> ImportSopFiles(SopRegistry& registry, const std::string& path);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_APP_SOP_IMPORT_H_
