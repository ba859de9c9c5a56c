// Online backups (AdminService.CreateBackup): a consistent checkpoint of the
// whole database, taken while sopd serves, streamed file by file in chunks
// and closed by a manifest (every file's size and SHA-256, the format
// version, what the database held), then deleted. The files are laid out as
// common/backup/backup_files.h describes, so that what the client writes is
// what `sopd --restore-from` reads.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_BACKUP_BACKUP_SOURCE_H_
#define SOPSIDEBAR_SERVER_DOMAIN_BACKUP_BACKUP_SOURCE_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/auth/caller.h"
#include "common/backup/backup_files.h"
#include "server/common/message_stream.h"
#include "server/domain/store/checkpoint_store.h"
#include "sopsidebar/v1/admin_service.pb.h"

namespace sopsidebar {

// Thread-safe. Must outlive every subscription CreateBackup returned.
class BackupSource {
 public:
  struct Options {
    // Where checkpoints are made while they stream, one subdirectory each.
    // On the database's filesystem, so that a checkpoint's sorted files are
    // hard links, not copies. Created owner-only (0700) if missing; what an
    // interrupted earlier backup left in it is deleted by Create.
    std::string scratch_dir;
    // BackupManifest.sopd_version.
    std::string sopd_version;
    // Bytes per chunk (at most kBackupChunkBytes, the default).
    size_t chunk_bytes = kBackupChunkBytes;
    // Chunks a slow client may leave unwritten before the stream waits for
    // it: bounds the memory a backup holds to about this many chunks.
    size_t max_waiting = 4;
  };

  // INTERNAL when the scratch dir cannot be created or emptied.
  static absl::StatusOr<std::unique_ptr<BackupSource>> Create(CheckpointStore* store,
                                                              Options options);
  ~BackupSource();

  // Starts one backup for `caller`, streamed to `sink` (Delivery::
  // kEveryMessage) from a thread of its own: chunks of each file in order,
  // the manifest last, then Close(OK), or Close with the checkpoint's error
  // (RESOURCE_EXHAUSTED on a full disk ...). Destroying the subscription
  // stops the stream and deletes the checkpoint. Errors, before any
  // message: PERMISSION_DENIED unless the caller is a server admin;
  // UNAVAILABLE (BackupInProgress) while another backup streams.
  absl::StatusOr<std::unique_ptr<MessageSubscription>> CreateBackup(
      const Caller& caller, const v1::CreateBackupRequest& request,
      std::shared_ptr<MessageSink> sink);

 private:
  class Run;
  BackupSource(CheckpointStore* store, Options options)
      : store_(store), options_(std::move(options)) {}

  CheckpointStore* const store_;
  const Options options_;
  // Set while a backup streams; one at a time.
  std::atomic<bool> busy_{false};
  std::atomic<int> next_id_{0};
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_BACKUP_BACKUP_SOURCE_H_
