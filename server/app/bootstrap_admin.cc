#include "server/app/bootstrap_admin.h"

#include <filesystem>
#include <memory>
#include <system_error>

#include "common/errors.h"
#include "common/status_macros.h"
#include "server/app/data_dir.h"
#include "server/common/clock.h"
#include "server/domain/audit/audit_log.h"
#include "server/domain/auth/access_registry.h"
#include "server/storage/rocksdb_store.h"

namespace sopsidebar {

absl::StatusOr<std::string> BootstrapAdmin(const std::string& data_dir) {
  // A mistyped --data-dir must not become a new, empty database.
  const std::string db = DataDirPathsOf(data_dir).db;
  std::error_code ec;
  if (!std::filesystem::is_directory(db, ec)) return error::NoDatabase(db);
  SOP_ASSIGN_OR_RETURN(const DataDirPaths paths, PrepareDataDir(data_dir));
  SOP_ASSIGN_OR_RETURN(const DataDirFormat format, CheckDataFormat(paths));
  RocksDbStore::Options store_options;
  store_options.create_if_missing = false;
  absl::StatusOr<std::unique_ptr<RocksDbStore>> store = RocksDbStore::Open(paths.db, store_options);
  // The store's FAILED_PRECONDITION is its lock: another process has it open.
  if (store.status().code() == absl::StatusCode::kFailedPrecondition) {
    return error::DatabaseInUse(paths.db, store.status().message());
  }
  if (!store.ok()) return error::DatabaseUnusable(paths.db, store.status());
  SOP_RETURN_IF_ERROR(RecordDataFormat(paths, format));
  SOP_ASSIGN_OR_RETURN(std::unique_ptr<AccessRegistry> access,
                       AccessRegistry::Create(store->get(), &Clock::Real()));
  // The recovery token is in the org's audit trail like any other.
  AuditLog audit(store->get(), &Clock::Real());
  access->SetAuditLog(&audit);
  SOP_ASSIGN_OR_RETURN(const std::string secret, access->IssueRecoveryAdminToken());
  SOP_RETURN_IF_ERROR(WriteSecretFile(paths.admin_token, secret));
  return paths.admin_token;
}

}  // namespace sopsidebar
