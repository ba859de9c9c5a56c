#include "server/app/restore.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <system_error>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/backup/backup_files.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "server/app/data_dir.h"

namespace sopsidebar {
namespace {

namespace fs = std::filesystem;

absl::Status WriteError(const std::string& path, absl::string_view what) {
  return absl::InternalError(absl::StrCat("restore: cannot ", what, " ", path));
}

// Copies `from` to `to` (created owner-only), checking it against `listed`.
absl::Status CopyChecked(const std::string& from, const std::string& to,
                         const v1::BackupFile& listed) {
  std::ifstream in(from, std::ios::binary);
  if (!in) return error::BackupFileCorrupt(from, "is missing or unreadable");
  const int fd = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return WriteError(to, "create");
  Sha256Stream sha;
  int64_t size = 0;
  std::vector<char> buffer(kBackupChunkBytes);
  absl::Status status;
  while (status.ok() && in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const std::streamsize got = in.gcount();
    if (got <= 0) break;
    sha.Update(absl::string_view(buffer.data(), static_cast<size_t>(got)));
    size += got;
    for (std::streamsize done = 0; done < got && status.ok();) {
      const ssize_t wrote = ::write(fd, buffer.data() + done, static_cast<size_t>(got - done));
      if (wrote <= 0) {
        status = WriteError(to, "write");
      } else {
        done += wrote;
      }
    }
  }
  if (status.ok() && ::fsync(fd) != 0) status = WriteError(to, "sync");
  ::close(fd);
  SOP_RETURN_IF_ERROR(status);
  if (in.bad() || size != listed.size_bytes() || sha.HexDigest() != listed.sha256()) {
    return error::BackupFileCorrupt(from, "changed while it was restored");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RestoreSummary> RestoreBackup(const std::string& backup_dir,
                                             const std::string& data_dir) {
  const absl::Time start = absl::Now();
  SOP_ASSIGN_OR_RETURN(v1::BackupManifest manifest, VerifyBackup(backup_dir));
  const DataDirPaths paths = DataDirPathsOf(data_dir);
  std::error_code ec;
  if (fs::exists(paths.db, ec) && !fs::is_empty(paths.db, ec)) {
    return error::TargetNotEmpty("the database dir", paths.db);
  }
  SOP_RETURN_IF_ERROR(PrepareDataDir(data_dir).status());
  const std::string staging = absl::StrCat(paths.db, ".restoring");
  fs::remove_all(staging, ec);
  if (!fs::create_directory(staging, ec) || ec) return WriteError(staging, "create");
  fs::permissions(staging, fs::perms::owner_all, ec);

  RestoreSummary summary;
  const std::string prefix = absl::StrCat(kBackupDbDir, "/");
  absl::Status copied;
  for (const v1::BackupFile& file : manifest.files()) {
    if (!absl::StartsWith(file.path(), prefix) ||
        file.path().find('/', prefix.size()) != std::string::npos) {
      copied = error::NotABackup(file.path(), "a database file must lie directly in db/");
      break;
    }
    copied = CopyChecked((fs::path(backup_dir) / file.path()).string(),
                         (fs::path(staging) / file.path().substr(prefix.size())).string(), file);
    if (!copied.ok()) break;
    ++summary.files;
    summary.bytes += file.size_bytes();
  }
  if (copied.ok()) copied = SyncPath(staging);
  if (copied.ok()) {
    // PrepareDataDir made an empty db dir; the restored one replaces it.
    fs::remove(paths.db, ec);
    fs::rename(staging, paths.db, ec);
    if (ec) copied = WriteError(paths.db, "rename the restored database to");
  }
  if (copied.ok()) copied = SyncPath(data_dir);
  // The restored database is of this sopd's data format: a backup of a newer
  // one is refused by its manifest's format version above.
  if (copied.ok()) copied = RecordDataFormat(paths, DataDirFormat{});
  if (!copied.ok()) {
    fs::remove_all(staging, ec);
    return copied;
  }
  summary.manifest = std::move(manifest);
  summary.db = paths.db;
  summary.elapsed = absl::Now() - start;
  return summary;
}

}  // namespace sopsidebar
