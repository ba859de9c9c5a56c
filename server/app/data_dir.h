// sopd's data dir: <dir>/db holds the RocksDB database, <dir>/admin.token
// the admin token sopd issues. Both hold secrets (token hashes, SOP drafts
// some roles may not see), so only the user sopd runs as may read them.
// Thread-compatible: call before the store is opened, from one thread.
#ifndef SOPSIDEBAR_SERVER_APP_DATA_DIR_H_
#define SOPSIDEBAR_SERVER_APP_DATA_DIR_H_

#include <string>

#include "absl/status/statusor.h"

namespace sopsidebar {

struct DataDirPaths {
  std::string db;           // <dir>/db
  std::string admin_token;  // <dir>/admin.token
  // <dir>/backup.tmp: checkpoints while a backup streams (on the database's
  // filesystem, so they are hard links); emptied at start.
  std::string backup_scratch;
};

// The paths under `data_dir`, touching nothing.
DataDirPaths DataDirPathsOf(const std::string& data_dir);

// Makes `data_dir` and its db dir safe to hold sopd's data, before the
// store opens them:
//  - creates missing ones owner-only (0700), parents of `data_dir` as usual;
//  - tightens ones group or others may read or enter (sopd 0.1 made them
//    0755 and their files 0644) to 0700, and the files directly in them to
//    owner-only, and logs what it changed;
//  - refuses, with FAILED_PRECONDITION naming the dir, its mode and the
//    chmod to run, a dir group or others may write: someone else may already
//    have changed what is in it, which tightening would not undo.
// FAILED_PRECONDITION also when a dir cannot be created, inspected or
// changed, or is not a directory.
absl::StatusOr<DataDirPaths> PrepareDataDir(const std::string& data_dir);

// Writes `secret` and a newline to `path`, replacing any file there, created
// readable and writable by the owner only (the mode is set at creation, so
// the secret is never exposed), and synced. FAILED_PRECONDITION when it
// cannot be written.
absl::Status WriteSecretFile(const std::string& path, const std::string& secret);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_APP_DATA_DIR_H_
