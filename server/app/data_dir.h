// sopd's data dir: <dir>/db holds the RocksDB database, <dir>/admin.token
// the admin token sopd issues. Both hold secrets (token hashes, SOP drafts
// some roles may not see), so only the user sopd runs as may read them.
// Thread-compatible: call before the store is opened, from one thread.
#ifndef SOPSIDEBAR_SERVER_APP_DATA_DIR_H_
#define SOPSIDEBAR_SERVER_APP_DATA_DIR_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace sopsidebar {

struct DataDirPaths {
  std::string dir;          // <dir>
  std::string db;           // <dir>/db
  std::string admin_token;  // <dir>/admin.token
  std::string format;       // <dir>/FORMAT: "sopd data dir format N"
  // <dir>/backup.tmp: checkpoints while a backup streams (on the database's
  // filesystem, so they are hard links); emptied at start.
  std::string backup_scratch;
  // <dir>/node_id: the node's id in a cluster on etcd (docs/SCALING.md).
  std::string node_id;
};

// The data dir format this sopd writes and the newest it reads. Data dirs
// from before format versions (sopd 0.1, no FORMAT file) are format 1.
// Raise it when the layout changes in a way an older sopd must not open, and
// add the step that migrates the previous format to CheckDataFormat.
inline constexpr int kDataFormatVersion = 1;

// What CheckDataFormat found.
struct DataDirFormat {
  // The version <dir>/FORMAT states; nullopt when there is no FORMAT file
  // (a new data dir, or one from sopd 0.1).
  std::optional<int> version;
  // Whether the data dir already holds a database (a FORMAT file, or
  // anything in <dir>/db): the store must then open it, never create one.
  bool has_database = false;
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

// Reads the format version of the data dir `paths` (prepared by
// PrepareDataDir), before the store opens it. Changes nothing.
// FAILED_PRECONDITION, naming the dir and both versions, when a newer sopd
// wrote it ("data dir DIR was written by format version 3; this sopd 0.1.0
// reads up to 1: upgrade sopd or restore a backup"), and, naming the file,
// when the FORMAT file cannot be read or does not state a version.
absl::StatusOr<DataDirFormat> CheckDataFormat(const DataDirPaths& paths);

// After the store opened the data dir: brings `found` (CheckDataFormat's)
// up to kDataFormatVersion, writing <dir>/FORMAT (replaced atomically and
// synced) when it was missing or older, and logs what it did. OK without a
// write when it is current. FAILED_PRECONDITION when it cannot be written.
absl::Status RecordDataFormat(const DataDirPaths& paths, const DataDirFormat& found);

// Writes `secret` and a newline to `path`, replacing any file there, created
// readable and writable by the owner only (the mode is set at creation, so
// the secret is never exposed), and synced. FAILED_PRECONDITION when it
// cannot be written.
absl::Status WriteSecretFile(const std::string& path, const std::string& secret);

// The node id kept in `paths`.node_id, made ("node-" and 8 hex digits) and
// written there the first time: a node keeps its id, and so its place in
// reports, across restarts. FAILED_PRECONDITION naming the file when it
// cannot be read or written, or does not hold a valid id (error::Storage).
absl::StatusOr<std::string> LoadOrCreateNodeId(const DataDirPaths& paths);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_APP_DATA_DIR_H_
