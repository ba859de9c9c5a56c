// Applies SOP files to the registry and publishes them (sopd --import).
#ifndef SOPSIDEBAR_SERVER_APP_SOP_IMPORT_H_
#define SOPSIDEBAR_SERVER_APP_SOP_IMPORT_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/sopfile/sop_apply.h"
#include "server/domain/registry/sop_registry.h"

namespace sopsidebar {

struct ImportSummary {
  int created = 0;
  int updated = 0;
  int unchanged = 0;
  // Existing SOPs left alone (ExistingSop::kKeep).
  int kept = 0;
  int published = 0;
};

// Loads every SOP file under `path` (a file or a directory) first, so a bad
// file stops the import before anything is written; then creates and
// publishes each missing SOP in orgs/default, as the SALES_OPS and ADMIN
// user "sopd --import", without the files' sign-offs (an emergency publish
// whose reason names the import, in the audit trail). An existing SOP is kept as it is (the
// default: edits made since an earlier import survive a restart) or, with ExistingSop::kUpdate,
// updated to the file and published. A file naming another org fails with
// NOT_FOUND.
absl::StatusOr<ImportSummary> ImportSopFiles(SopRegistry& registry, const std::string& path,
                                             ExistingSop existing = ExistingSop::kKeep);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_APP_SOP_IMPORT_H_
