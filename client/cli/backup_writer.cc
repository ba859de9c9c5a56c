#include "client/cli/backup_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/backup/backup_files.h"
#include "common/errors.h"
#include "common/status_macros.h"

namespace sopsidebar::cli {
namespace {

namespace fs = std::filesystem;

absl::Status FileError(const std::string& what, const std::string& path) {
  return absl::InternalError(absl::StrCat("cannot ", what, " ", path, ": ", std::strerror(errno)));
}

// The files of one stream, written as their chunks arrive: each file's
// chunks in order, one file after the other.
class ChunkWriter {
 public:
  explicit ChunkWriter(std::string root) : root_(std::move(root)) {}
  ~ChunkWriter() { CloseCurrent().IgnoreError(); }

  absl::Status Write(const v1::BackupChunk& chunk) {
    SOP_RETURN_IF_ERROR(CheckBackupPath(chunk.path()));
    if (!absl::StartsWith(chunk.path(), absl::StrCat(kBackupDbDir, "/")) ||
        chunk.path().find('/', sizeof(kBackupDbDir)) != std::string::npos) {
      return absl::DataLossError(
          absl::StrCat("the backup stream sent ", chunk.path(), ", outside ", kBackupDbDir, "/"));
    }
    if (chunk.path() != current_) {
      SOP_RETURN_IF_ERROR(CloseCurrent());
      if (!written_.insert(chunk.path()).second) {
        return absl::DataLossError(
            absl::StrCat("the backup stream came back to ", chunk.path(), " after another file"));
      }
      current_ = chunk.path();
      const std::string path = (fs::path(root_) / current_).string();
      fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd_ < 0) return FileError("create", path);
      size_ = 0;
    }
    if (chunk.offset() != size_) {
      return absl::DataLossError(absl::StrCat("the backup stream sent ", chunk.path(),
                                              " at offset ", chunk.offset(), ", expected ", size_));
    }
    const std::string& data = chunk.data();
    for (size_t done = 0; done < data.size();) {
      const ssize_t wrote = ::write(fd_, data.data() + done, data.size() - done);
      if (wrote <= 0) return FileError("write", current_);
      done += static_cast<size_t>(wrote);
    }
    size_ += static_cast<int64_t>(data.size());
    return absl::OkStatus();
  }

  // Syncs and closes the file being written.
  absl::Status CloseCurrent() {
    if (fd_ < 0) return absl::OkStatus();
    const bool synced = ::fsync(fd_) == 0;
    ::close(fd_);
    fd_ = -1;
    return synced ? absl::OkStatus() : FileError("sync", current_);
  }

  const std::set<std::string>& written() const { return written_; }

 private:
  const std::string root_;
  std::set<std::string> written_;
  std::string current_;
  int fd_ = -1;
  int64_t size_ = 0;
};

// Streams into `partial` (an empty directory) and checks what arrived.
absl::StatusOr<v1::BackupManifest> Receive(client::Client& client, const std::string& partial) {
  std::error_code ec;
  fs::create_directory(fs::path(partial) / kBackupDbDir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", partial, ": ", ec.message()));
  ChunkWriter writer(partial);
  std::optional<v1::BackupManifest> manifest;
  absl::Status broken;
  const absl::Status streamed =
      client.CreateBackup(v1::CreateBackupRequest(), [&](const v1::CreateBackupResponse& message) {
        if (manifest.has_value()) {
          broken = absl::DataLossError("the backup stream went on after its manifest");
        } else if (message.has_chunk()) {
          broken = writer.Write(message.chunk());
        } else if (message.has_manifest()) {
          manifest = message.manifest();
        } else {
          broken = absl::DataLossError("the backup stream sent an empty message");
        }
        return broken.ok();
      });
  SOP_RETURN_IF_ERROR(broken);
  SOP_RETURN_IF_ERROR(streamed);
  SOP_RETURN_IF_ERROR(writer.CloseCurrent());
  if (!manifest.has_value()) {
    return absl::DataLossError("the backup stream ended without its manifest");
  }
  std::set<std::string> listed;
  for (const v1::BackupFile& file : manifest->files()) listed.insert(file.path());
  if (listed != writer.written()) {
    return absl::DataLossError("the backup's files and its manifest's list differ");
  }
  SOP_RETURN_IF_ERROR(WriteBackupManifest(partial, *manifest));
  // Reads every file back: what is on disk is what the server hashed.
  SOP_RETURN_IF_ERROR(VerifyBackup(partial).status());
  SOP_RETURN_IF_ERROR(SyncPath((fs::path(partial) / kBackupDbDir).string()));
  SOP_RETURN_IF_ERROR(SyncPath(partial));
  return *std::move(manifest);
}

}  // namespace

absl::StatusOr<WrittenBackup> WriteBackup(client::Client& client, const std::string& dest) {
  const absl::Time start = absl::Now();
  std::error_code ec;
  fs::path target = fs::absolute(dest, ec).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();  // "DEST/"
  if (ec || target == target.root_path()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the backup destination ", dest, " must name a new directory"));
  }
  const bool exists = fs::exists(target, ec);
  if (exists && (!fs::is_directory(target, ec) || !fs::is_empty(target, ec))) {
    return error::TargetNotEmpty("the backup destination", dest);
  }
  fs::create_directories(target.parent_path(), ec);
  const std::string partial = absl::StrCat(target.string(), ".partial-", ::getpid());
  fs::remove_all(partial, ec);
  if (!fs::create_directory(partial, ec) || ec) {
    return absl::InternalError(absl::StrCat("cannot create ", partial, ": ", ec.message()));
  }
  fs::permissions(partial, fs::perms::owner_all, ec);
  absl::StatusOr<v1::BackupManifest> manifest = Receive(client, partial);
  absl::Status placed = manifest.status();
  if (placed.ok()) {
    if (exists) fs::remove(target, ec);
    fs::rename(partial, target, ec);
    if (ec) {
      placed = absl::InternalError(
          absl::StrCat("cannot rename ", partial, " to ", dest, ": ", ec.message()));
    }
  }
  if (placed.ok()) placed = SyncPath(target.parent_path().string());
  if (!placed.ok()) {
    fs::remove_all(partial, ec);
    return placed;
  }
  WrittenBackup written;
  for (const v1::BackupFile& file : manifest->files()) {
    ++written.files;
    written.bytes += file.size_bytes();
  }
  written.manifest = *std::move(manifest);
  written.elapsed = absl::Now() - start;
  return written;
}

}  // namespace sopsidebar::cli
