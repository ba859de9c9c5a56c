#include "common/backup/backup_files.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "google/protobuf/util/json_util.h"

namespace sopsidebar {

struct Sha256Stream::Context {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Context() { EVP_MD_CTX_free(ctx); }
};

Sha256Stream::Sha256Stream() : context_(std::make_unique<Context>()) {
  EVP_DigestInit_ex(context_->ctx, EVP_sha256(), nullptr);
}

Sha256Stream::~Sha256Stream() = default;

void Sha256Stream::Update(absl::string_view bytes) {
  EVP_DigestUpdate(context_->ctx, bytes.data(), bytes.size());
}

std::string Sha256Stream::HexDigest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_DigestFinal_ex(context_->ctx, digest, &size);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), size));
}

absl::Status CheckBackupPath(absl::string_view path) {
  if (path.empty() || path.front() == '/' || path.find('\0') != absl::string_view::npos) {
    return error::NotABackup(path, "a file path must be relative");
  }
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part.empty() || part == "." || part == "..") {
      return error::NotABackup(path, "a file path must stay inside the backup");
    }
  }
  return absl::OkStatus();
}

absl::Status SyncPath(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    return absl::InternalError(absl::StrCat("cannot sync ", path, ": ", std::strerror(err)));
  }
  ::close(fd);
  return absl::OkStatus();
}

absl::Status WriteBackupManifest(const std::string& root, const v1::BackupManifest& manifest) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(manifest, &json, options).ok()) {
    return absl::InternalError("cannot write the backup manifest as JSON");
  }
  const std::string path = (std::filesystem::path(root) / kBackupManifestFile).string();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << json;
    if (!out.flush()) return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  ::chmod(path.c_str(), 0600);
  return SyncPath(path);
}

namespace {

// The size and SHA-256 of the file at `path`, or why it cannot be read.
absl::StatusOr<v1::BackupFile> Describe(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("is missing or unreadable");
  Sha256Stream sha;
  std::vector<char> buffer(kBackupChunkBytes);
  int64_t size = 0;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const std::streamsize got = in.gcount();
    if (got <= 0) break;
    sha.Update(absl::string_view(buffer.data(), static_cast<size_t>(got)));
    size += got;
  }
  if (in.bad()) return absl::DataLossError("cannot be read to its end");
  v1::BackupFile file;
  file.set_size_bytes(size);
  file.set_sha256(sha.HexDigest());
  return file;
}

}  // namespace

absl::StatusOr<v1::BackupManifest> VerifyBackup(const std::string& root) {
  const std::string manifest_path = (std::filesystem::path(root) / kBackupManifestFile).string();
  std::ifstream in(manifest_path, std::ios::binary);
  if (!in) return error::NotABackup(root, absl::StrCat("it has no ", kBackupManifestFile));
  std::stringstream json;
  json << in.rdbuf();
  v1::BackupManifest manifest;
  if (!google::protobuf::util::JsonStringToMessage(json.str(), &manifest).ok()) {
    return error::NotABackup(manifest_path, "the manifest does not parse");
  }
  if (manifest.format_version() < 1 || manifest.format_version() > kBackupFormatVersion) {
    return error::NotABackup(
        manifest_path,
        absl::StrCat("format_version ", manifest.format_version(), " (this sopd restores 1 to ",
                     kBackupFormatVersion, "; a newer sopd wrote it: restore with that one)"));
  }
  if (manifest.files().empty()) return error::NotABackup(manifest_path, "it lists no file");
  for (const v1::BackupFile& listed : manifest.files()) {
    SOP_RETURN_IF_ERROR(CheckBackupPath(listed.path()));
    const std::string path = (std::filesystem::path(root) / listed.path()).string();
    absl::StatusOr<v1::BackupFile> found = Describe(path);
    if (!found.ok()) return error::BackupFileCorrupt(path, found.status().message());
    if (found->size_bytes() != listed.size_bytes()) {
      return error::BackupFileCorrupt(
          path, absl::StrCat("has ", found->size_bytes(), " bytes, the manifest says ",
                             listed.size_bytes()));
    }
    if (found->sha256() != listed.sha256()) {
      return error::BackupFileCorrupt(path, "does not match its SHA-256 in the manifest");
    }
  }
  return manifest;
}

}  // namespace sopsidebar
