#include "server/domain/backup/backup_source.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/auth/permissions.h"
#include "common/errors.h"
#include "common/proto_time.h"
#include "server/common/log.h"

namespace sopsidebar {

namespace fs = std::filesystem;

// One backup being streamed: its thread, and the flag that stops it.
class BackupSource::Run final : public MessageSubscription {
 public:
  Run(BackupSource* source, std::string dir, std::shared_ptr<MessageSink> sink)
      : source_(source), dir_(std::move(dir)), sink_(std::move(sink)) {
    thread_ = std::thread([this] { Stream(); });
  }

  ~Run() override {
    stop_ = true;
    thread_.join();
  }

 private:
  void Stream() {
    const absl::Time start = absl::Now();
    absl::StatusOr<v1::BackupManifest> manifest = StreamFiles();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
    // Free before the client hears the end, so that it may start the next.
    source_->busy_ = false;
    if (manifest.ok()) {
      int64_t bytes = 0;
      for (const v1::BackupFile& file : manifest->files()) bytes += file.size_bytes();
      LogLine(absl::StrCat("backup streamed: ", manifest->files_size(), " files, ", bytes,
                           " bytes, ", manifest->contents().sops(), " SOPs, ",
                           manifest->contents().audit_events(), " audit events in ",
                           absl::ToInt64Milliseconds(absl::Now() - start), " ms"));
      v1::CreateBackupResponse last;
      *last.mutable_manifest() = *std::move(manifest);
      sink_->Send(last.SerializeAsString());
      sink_->Close(absl::OkStatus());
    } else {
      if (!stop_) LogLine(absl::StrCat("backup failed: ", manifest.status().ToString()));
      sink_->Close(manifest.status());
    }
  }

  // Checkpoints, then sends every file's chunks; the manifest to close with.
  absl::StatusOr<v1::BackupManifest> StreamFiles() {
    v1::BackupManifest manifest;
    manifest.set_format_version(kBackupFormatVersion);
    manifest.set_sopd_version(source_->options_.sopd_version);
    *manifest.mutable_create_time() = ToProtoTimestamp(absl::Now());
    absl::StatusOr<v1::BackupContents> contents = source_->store_->Checkpoint(dir_);
    if (!contents.ok()) return contents.status();
    *manifest.mutable_contents() = *std::move(contents);
    std::vector<std::string> names;
    for (const fs::directory_entry& entry : fs::directory_iterator(dir_)) {
      if (entry.is_regular_file()) names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    std::string buffer(source_->options_.chunk_bytes, '\0');
    for (const std::string& name : names) {
      const std::string path = absl::StrCat(kBackupDbDir, "/", name);
      std::ifstream in(fs::path(dir_) / name, std::ios::binary);
      if (!in) return error::Storage(absl::StatusCode::kInternal, "backup", "cannot read " + name);
      Sha256Stream sha;
      int64_t offset = 0;
      while (true) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        const std::streamsize got = in.gcount();
        if (got <= 0) break;
        if (stop_ || !sink_->AwaitRoom(source_->options_.max_waiting)) {
          return absl::CancelledError("the client went away");
        }
        v1::CreateBackupResponse message;
        v1::BackupChunk* chunk = message.mutable_chunk();
        chunk->set_path(path);
        chunk->set_offset(offset);
        chunk->set_data(buffer.data(), static_cast<size_t>(got));
        sha.Update(chunk->data());
        offset += got;
        sink_->Send(message.SerializeAsString());
      }
      if (in.bad()) {
        return error::Storage(absl::StatusCode::kInternal, "backup", "cannot read " + name);
      }
      v1::BackupFile* file = manifest.add_files();
      file->set_path(path);
      file->set_size_bytes(offset);
      file->set_sha256(sha.HexDigest());
    }
    if (stop_ || !sink_->AwaitRoom(source_->options_.max_waiting)) {
      return absl::CancelledError("the client went away");
    }
    return manifest;
  }

  BackupSource* const source_;
  const std::string dir_;
  const std::shared_ptr<MessageSink> sink_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

absl::StatusOr<std::unique_ptr<BackupSource>> BackupSource::Create(CheckpointStore* store,
                                                                   Options options) {
  std::error_code ec;
  fs::remove_all(options.scratch_dir, ec);
  if (!ec) fs::create_directories(options.scratch_dir, ec);
  if (!ec) fs::permissions(options.scratch_dir, fs::perms::owner_all, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("backup scratch dir ", options.scratch_dir, ": ", ec.message()));
  }
  options.chunk_bytes = std::clamp<size_t>(options.chunk_bytes, 1, kBackupChunkBytes);
  options.max_waiting = std::max<size_t>(options.max_waiting, 1);
  return std::unique_ptr<BackupSource>(new BackupSource(store, std::move(options)));
}

BackupSource::~BackupSource() = default;

absl::StatusOr<std::unique_ptr<MessageSubscription>> BackupSource::CreateBackup(
    const Caller& caller, const v1::CreateBackupRequest& /*request*/,
    std::shared_ptr<MessageSink> sink) {
  if (absl::Status allowed = Authorize(caller, Operation::kTakeBackups); !allowed.ok()) {
    return allowed;
  }
  if (busy_.exchange(true)) return error::BackupInProgress();
  std::string dir =
      (fs::path(options_.scratch_dir) / absl::StrCat("checkpoint-", next_id_++)).string();
  return std::unique_ptr<MessageSubscription>(new Run(this, std::move(dir), std::move(sink)));
}

}  // namespace sopsidebar
