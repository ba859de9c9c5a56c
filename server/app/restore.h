// `sopd --restore-from BACKUP`: puts a backup (sopctl admin backup's
// directory, common/backup/backup_files.h) in place as a data dir's
// database, with sopd stopped. A separate step, like etcd's `snapshot
// restore`: it restores and returns; the next start serves the restored
// database. Thread-compatible: one call at a time per data dir.
#ifndef SOPSIDEBAR_SERVER_APP_RESTORE_H_
#define SOPSIDEBAR_SERVER_APP_RESTORE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sopsidebar/v1/admin_service.pb.h"

namespace sopsidebar {

struct RestoreSummary {
  // The backup's manifest, as checked.
  v1::BackupManifest manifest;
  // Where the database now is (<data_dir>/db).
  std::string db;
  int64_t files = 0;
  int64_t bytes = 0;
  absl::Duration elapsed;
};

// Checks every file of `backup_dir` against its manifest before writing
// anything, then copies the database's files into a temporary dir beside
// <data_dir>/db (owner-only, each file's SHA-256 checked again as it is
// copied, everything fsynced) and renames it to <data_dir>/db. The data dir
// is created owner-only if missing (PrepareDataDir's rules).
// Errors, with nothing restored: those of VerifyBackup (NOT_A_BACKUP
// FAILED_PRECONDITION, BACKUP_CORRUPT DATA_LOSS naming the file);
// TARGET_NOT_EMPTY FAILED_PRECONDITION when <data_dir>/db exists and is not
// empty (a restore never replaces a database); PrepareDataDir's; INTERNAL
// when a file cannot be written.
absl::StatusOr<RestoreSummary> RestoreBackup(const std::string& backup_dir,
                                             const std::string& data_dir);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_APP_RESTORE_H_
