// The files of a sopd backup as they lie on disk, shared by the one who
// writes them (sopctl admin backup) and the one who reads them back
// (sopd --restore-from): the layout, the manifest file and the checks.
//
// A backup is a directory holding db/ (a RocksDB checkpoint: the files of
// the database at one point in time) and backup-manifest.json (the
// BackupManifest of admin_service.proto as JSON: every file's size and
// SHA-256, the format version, what the database held). Thread-safe (no
// state).
#ifndef SOPSIDEBAR_COMMON_BACKUP_BACKUP_FILES_H_
#define SOPSIDEBAR_COMMON_BACKUP_BACKUP_FILES_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sopsidebar/v1/admin_service.pb.h"

namespace sopsidebar {

// The layout this code writes, and the newest it restores.
inline constexpr int32_t kBackupFormatVersion = 1;
inline constexpr char kBackupManifestFile[] = "backup-manifest.json";
// Where the database's files lie inside a backup.
inline constexpr char kBackupDbDir[] = "db";
// The most bytes one BackupChunk carries.
inline constexpr size_t kBackupChunkBytes = 1 << 20;

// SHA-256 over bytes given piece by piece (OpenSSL). Thread-compatible.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;

  void Update(absl::string_view bytes);
  // The digest of everything given, as 64 lowercase hex digits. Call once.
  std::string HexDigest();

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

// OK when `path` may name a file of a backup: relative, '/'-separated, no
// empty, "." or ".." part, no NUL, so that joined to a backup's root it
// stays inside it. NotABackup naming `path` otherwise.
absl::Status CheckBackupPath(absl::string_view path);

// Writes `manifest` as JSON to root/backup-manifest.json (owner-only,
// fsynced). INTERNAL when it cannot be written.
absl::Status WriteBackupManifest(const std::string& root, const v1::BackupManifest& manifest);

// Reads root's manifest and checks every file it lists against it: present,
// of its size and SHA-256. Returns the manifest.
// Errors: NotABackup (FAILED_PRECONDITION) when root has no manifest, it
// does not parse, its format_version is newer than kBackupFormatVersion, it
// lists no file, or a path is unsafe (CheckBackupPath); BackupFileCorrupt
// (DATA_LOSS) naming the first file that is missing, of another size or
// another SHA-256.
absl::StatusOr<v1::BackupManifest> VerifyBackup(const std::string& root);

// fsyncs the file or directory at `path`. INTERNAL naming it on failure.
absl::Status SyncPath(const std::string& path);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_COMMON_BACKUP_BACKUP_FILES_H_
