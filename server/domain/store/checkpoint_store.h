// What an online backup needs from persistence: a consistent copy of the
// whole database, taken while it serves. Implementation: RocksDbStore (a
// RocksDB checkpoint, hard links where the filesystem allows). Thread-safe.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_STORE_CHECKPOINT_STORE_H_
#define SOPSIDEBAR_SERVER_DOMAIN_STORE_CHECKPOINT_STORE_H_

#include <string>

#include "absl/status/statusor.h"
#include "sopsidebar/v1/admin_service.pb.h"

namespace sopsidebar {

class CheckpointStore {
 public:
  virtual ~CheckpointStore() = default;

  // Writes a copy of the database as of one point in time (every column
  // family, every write acknowledged before the call began) into `dir`,
  // which must not exist yet (its parent must), and returns what the copy
  // holds, counted in the copy itself. Writes may go on meanwhile; the copy
  // has each of them entirely or not at all. The caller deletes `dir`.
  // Errors: FAILED_PRECONDITION when `dir` exists; RESOURCE_EXHAUSTED when
  // the disk is full; other storage errors as reported.
  virtual absl::StatusOr<v1::BackupContents> Checkpoint(const std::string& dir) = 0;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_STORE_CHECKPOINT_STORE_H_
