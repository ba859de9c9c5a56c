#include "server/app/data_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/errors.h"
#include "common/model/names.h"
#include "common/status_macros.h"
#include "server/app/sopd_server.h"
#include "server/common/crypto.h"
#include "server/common/log.h"

namespace sopsidebar {
namespace {

constexpr mode_t kOwnerOnlyDir = 0700;
constexpr mode_t kGroupOrOthers = S_IRWXG | S_IRWXO;
constexpr mode_t kWritableByGroupOrOthers = S_IWGRP | S_IWOTH;
constexpr absl::string_view kFormatLinePrefix = "sopd data dir format ";

absl::Status FileSystemError(absl::string_view what, absl::string_view path) {
  const int cause = errno;
  std::string detail = std::strerror(cause);
  if (cause == EACCES || cause == EPERM) {
    absl::StrAppend(&detail,
                    "; sopd did not start: give the user sopd runs as read and write "
                    "access to it (chown, then chmod 0700 for a dir, 0600 for a file)");
  }
  return error::Storage(absl::StatusCode::kFailedPrecondition, absl::StrCat(what, " ", path),
                        detail);
}

// The permission bits of the directory `dir`, creating it owner-only when
// missing.
absl::StatusOr<mode_t> EnsureDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), kOwnerOnlyDir) != 0 && errno != EEXIST) {
    return FileSystemError("create", dir);
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return FileSystemError("inspect", dir);
  if (!S_ISDIR(st.st_mode)) {
    return error::Storage(absl::StatusCode::kFailedPrecondition, dir, "not a directory");
  }
  return st.st_mode & 07777;
}

// Takes group and others' bits off the regular files directly in `dir`;
// returns how many it changed.
absl::StatusOr<int> TightenFiles(const std::string& dir) {
  DIR* entries = ::opendir(dir.c_str());
  if (entries == nullptr) return FileSystemError("list", dir);
  int tightened = 0;
  absl::Status status;
  while (const dirent* entry = ::readdir(entries)) {
    struct stat st;
    // lstat: a symlink's target is not ours to change.
    if (::fstatat(::dirfd(entries), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st.st_mode) || (st.st_mode & kGroupOrOthers) == 0) {
      continue;
    }
    if (::fchmodat(::dirfd(entries), entry->d_name, st.st_mode & S_IRWXU, 0) != 0) {
      status = FileSystemError("chmod", absl::StrCat(dir, "/", entry->d_name));
      break;
    }
    ++tightened;
  }
  ::closedir(entries);
  SOP_RETURN_IF_ERROR(status);
  return tightened;
}

// Creates `dir` or checks it (see PrepareDataDir); `what` names it in
// messages.
absl::Status SecureDir(absl::string_view what, const std::string& dir) {
  SOP_ASSIGN_OR_RETURN(const mode_t mode, EnsureDir(dir));
  if (mode & kWritableByGroupOrOthers) return error::DataDirWritableByOthers(what, dir, mode);
  if (mode & kGroupOrOthers) {
    if (::chmod(dir.c_str(), (mode & ~kGroupOrOthers) | kOwnerOnlyDir) != 0) {
      return FileSystemError("chmod", dir);
    }
    LogLine(
        absl::StrFormat("tightened %s from %04o to %04o: older sopd versions left it "
                        "readable by others",
                        dir, mode, (mode & ~kGroupOrOthers) | kOwnerOnlyDir));
  }
  SOP_ASSIGN_OR_RETURN(const int files, TightenFiles(dir));
  if (files > 0) {
    LogLine(absl::StrCat("tightened ", files, " file(s) in ", dir,
                         " to owner-only: older sopd versions left them readable by others"));
  }
  return absl::OkStatus();
}

}  // namespace

DataDirPaths DataDirPathsOf(const std::string& data_dir) {
  const std::filesystem::path dir(data_dir);
  return {data_dir,
          (dir / "db").string(),
          (dir / "admin.token").string(),
          (dir / "FORMAT").string(),
          (dir / "backup.tmp").string(),
          (dir / "node_id").string()};
}

absl::StatusOr<DataDirFormat> CheckDataFormat(const DataDirPaths& paths) {
  DataDirFormat found;
  std::ifstream in(paths.format);
  if (!in) {
    if (errno != ENOENT) return error::BadDataFormat(paths.format, std::strerror(errno));
    std::error_code ec;
    found.has_database = !std::filesystem::is_empty(paths.db, ec);
    if (ec) return error::BadDataFormat(paths.db, ec.message());
    return found;
  }
  std::string line;
  std::getline(in, line);
  absl::string_view text = absl::StripAsciiWhitespace(line);
  int version = 0;
  if (!absl::ConsumePrefix(&text, kFormatLinePrefix) || !absl::SimpleAtoi(text, &version) ||
      version < 1) {
    return error::BadDataFormat(paths.format,
                                absl::StrCat("does not say 'sopd data dir format N' (it says ",
                                             error::QuoteInput(line), ")"));
  }
  if (version > kDataFormatVersion) {
    return error::NewerDataFormat(paths.dir, version, kDataFormatVersion, kSopdVersion);
  }
  found.version = version;
  found.has_database = true;
  return found;
}

absl::Status RecordDataFormat(const DataDirPaths& paths, const DataDirFormat& found) {
  if (found.version == kDataFormatVersion) return absl::OkStatus();
  // Steps from older formats go here, one per version, before the new
  // version is written: none yet, format 1 being the first.
  const std::string temporary = paths.format + ".tmp";
  SOP_RETURN_IF_ERROR(
      WriteSecretFile(temporary, absl::StrCat(kFormatLinePrefix, kDataFormatVersion)));
  if (::rename(temporary.c_str(), paths.format.c_str()) != 0) {
    return FileSystemError("rename to", paths.format);
  }
  // The rename is durable once the dir is synced.
  const int dir = ::open(paths.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return FileSystemError("open", paths.dir);
  const bool synced = ::fsync(dir) == 0;
  ::close(dir);
  if (!synced) return FileSystemError("sync", paths.dir);
  if (found.has_database) {
    LogLine(absl::StrCat("data dir ", paths.dir,
                         " had no format version (sopd 0.1): marked as format ", kDataFormatVersion,
                         " in ", paths.format));
  }
  return absl::OkStatus();
}

absl::StatusOr<DataDirPaths> PrepareDataDir(const std::string& data_dir) {
  const std::filesystem::path parent = std::filesystem::path(data_dir).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) {
    return error::Storage(absl::StatusCode::kFailedPrecondition,
                          absl::StrCat("create ", parent.string()), ec.message());
  }
  DataDirPaths paths = DataDirPathsOf(data_dir);
  SOP_RETURN_IF_ERROR(SecureDir("data dir", data_dir));
  SOP_RETURN_IF_ERROR(SecureDir("database dir", paths.db));
  return paths;
}

absl::Status WriteSecretFile(const std::string& path, const std::string& secret) {
  ::unlink(path.c_str());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return FileSystemError("create", path);
  const std::string line = secret + "\n";
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  const bool synced = written && ::fsync(fd) == 0;
  absl::Status status = synced ? absl::OkStatus() : FileSystemError("write", path);
  ::close(fd);
  return status;
}

absl::StatusOr<std::string> LoadOrCreateNodeId(const DataDirPaths& paths) {
  std::ifstream in(paths.node_id);
  if (!in) {
    if (errno != ENOENT) {
      return error::Storage(absl::StatusCode::kFailedPrecondition,
                            absl::StrCat("reading ", paths.node_id), std::strerror(errno));
    }
    const std::string id = absl::StrCat("node-", RandomHexSecret(4));
    SOP_RETURN_IF_ERROR(WriteSecretFile(paths.node_id, id));
    LogLine(absl::StrCat("this node's id is ", id, " (", paths.node_id, ")"));
    return id;
  }
  std::string id;
  std::getline(in, id);
  if (!IsValidResourceId(id)) {
    return error::Storage(absl::StatusCode::kFailedPrecondition, paths.node_id,
                          "does not hold a node id (like node-1a2b3c4d)");
  }
  return id;
}

}  // namespace sopsidebar
