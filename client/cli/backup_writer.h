// `sopctl admin backup DEST`: writes AdminService.CreateBackup's stream to a
// new directory, atomically: into a temporary sibling of DEST first, every
// file checked against the manifest (size and SHA-256) and fsynced, then
// renamed to DEST. Layout: common/backup/backup_files.h.
#ifndef SOPSIDEBAR_CLIENT_CLI_BACKUP_WRITER_H_
#define SOPSIDEBAR_CLIENT_CLI_BACKUP_WRITER_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/client.h"
#include "sopsidebar/v1/admin_service.pb.h"

namespace sopsidebar::cli {

struct WrittenBackup {
  v1::BackupManifest manifest;
  int64_t files = 0;
  int64_t bytes = 0;
  // From the call to the rename.
  absl::Duration elapsed;
};

// Streams a backup from `client` into `dest`, which must not exist or be an
// empty directory; its parent is created if missing. On any error nothing is
// left at `dest` (nor the temporary directory).
// Errors: TARGET_NOT_EMPTY (FAILED_PRECONDITION) for an existing `dest`
// that is a file or a non-empty directory, INVALID_ARGUMENT for a `dest`
// that names no directory ("/"), before any call; the call's
// (PERMISSION_DENIED without a server-admin token, UNAVAILABLE while another
// backup runs ...); DATA_LOSS when the stream breaks the layout (a chunk out
// of order or outside db/, no manifest at its end) or a file does not match
// the manifest (BACKUP_CORRUPT naming it); INTERNAL when a file cannot be
// written. Thread-compatible.
absl::StatusOr<WrittenBackup> WriteBackup(client::Client& client, const std::string& dest);

}  // namespace sopsidebar::cli

#endif  // SOPSIDEBAR_CLIENT_CLI_BACKUP_WRITER_H_
