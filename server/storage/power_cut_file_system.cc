#include "server/storage/power_cut_file_system.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sopsidebar {
namespace {

rocksdb::IOStatus PowerIsOff() { return rocksdb::IOStatus::IOError("simulated power cut"); }

// Paths as RocksDB spells them, so that a file's directory and the name
// given to NewDirectory compare equal.
std::string Normal(const std::string& path) {
  std::string normal = std::filesystem::path(path).lexically_normal().string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal;
}

std::string DirectoryOf(const std::string& path) {
  return std::filesystem::path(path).parent_path().string();
}

}  // namespace

// Counts what is appended and what is synced; refuses everything but Close
// once the power is off.
class PowerCutFileSystem::File : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  File(PowerCutFileSystem* fs, std::string path, std::unique_ptr<rocksdb::FSWritableFile> target)
      : FSWritableFileOwnerWrapper(std::move(target)), fs_(fs), path_(std::move(path)) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    absl::MutexLock lock(&fs_->mu_);
    if (!fs_->Tick()) return PowerIsOff();
    rocksdb::IOStatus s = target()->Append(data, options, dbg);
    if (s.ok()) fs_->files_[path_].size += data.size();
    return s;
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo&,
                           rocksdb::IODebugContext* dbg) override {
    return Append(data, options, dbg);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    absl::MutexLock lock(&fs_->mu_);
    if (!fs_->Tick()) return PowerIsOff();
    rocksdb::IOStatus s = target()->PositionedAppend(data, offset, options, dbg);
    if (s.ok()) {
      FileState& state = fs_->files_[path_];
      state.size = std::max<uint64_t>(state.size, offset + data.size());
    }
    return s;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo&,
                                     rocksdb::IODebugContext* dbg) override {
    return PositionedAppend(data, offset, options, dbg);
  }
  rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
    absl::MutexLock lock(&fs_->mu_);
    if (!fs_->Tick()) return PowerIsOff();
    rocksdb::IOStatus s = target()->Truncate(size, options, dbg);
    if (s.ok()) {
      FileState& state = fs_->files_[path_];
      state.size = size;
      state.synced = std::min(state.synced, size);
    }
    return s;
  }
  rocksdb::IOStatus Flush(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    absl::MutexLock lock(&fs_->mu_);
    if (!fs_->powered_) return PowerIsOff();
    return target()->Flush(options, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    absl::MutexLock lock(&fs_->mu_);
    if (!fs_->Tick()) return PowerIsOff();
    rocksdb::IOStatus s = target()->Sync(options, dbg);
    if (s.ok()) {
      FileState& state = fs_->files_[path_];
      state.synced = state.size;
    }
    return s;
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    return Sync(options, dbg);
  }
  // Starts write-back without waiting for it: promises nothing.
  rocksdb::IOStatus RangeSync(uint64_t, uint64_t, const rocksdb::IOOptions&,
                              rocksdb::IODebugContext*) override {
    absl::MutexLock lock(&fs_->mu_);
    return fs_->powered_ ? rocksdb::IOStatus::OK() : PowerIsOff();
  }

 private:
  PowerCutFileSystem* const fs_;
  const std::string path_;
};

// Makes the entries created in it durable when fsynced.
class PowerCutFileSystem::Directory : public rocksdb::FSDirectoryWrapper {
 public:
  Directory(PowerCutFileSystem* fs, std::string path, std::unique_ptr<rocksdb::FSDirectory> target)
      : FSDirectoryWrapper(std::move(target)), fs_(fs), path_(std::move(path)) {}

  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    return FsyncWithDirOptions(options, dbg, rocksdb::DirFsyncOptions());
  }
  rocksdb::IOStatus FsyncWithDirOptions(const rocksdb::IOOptions& options,
                                        rocksdb::IODebugContext* dbg,
                                        const rocksdb::DirFsyncOptions& dir_options) override {
    absl::MutexLock lock(&fs_->mu_);
    if (!fs_->Tick()) return PowerIsOff();
    rocksdb::IOStatus s = FSDirectoryWrapper::FsyncWithDirOptions(options, dbg, dir_options);
    if (s.ok()) fs_->new_entries_.erase(path_);
    return s;
  }

 private:
  PowerCutFileSystem* const fs_;
  const std::string path_;
};

PowerCutFileSystem::PowerCutFileSystem() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}

std::shared_ptr<rocksdb::Env> PowerCutFileSystem::NewEnv(
    const std::shared_ptr<PowerCutFileSystem>& fs) {
  return rocksdb::NewCompositeEnv(fs);
}

void PowerCutFileSystem::CutPowerAfter(int64_t operations) {
  absl::MutexLock lock(&mu_);
  countdown_ = std::max<int64_t>(operations, 0);
}

void PowerCutFileSystem::CutPower() {
  absl::MutexLock lock(&mu_);
  powered_ = false;
}

bool PowerCutFileSystem::powered() const {
  absl::MutexLock lock(&mu_);
  return powered_;
}

bool PowerCutFileSystem::Tick() {
  if (!powered_) return false;
  if (countdown_ == 0) {
    powered_ = false;
    return false;
  }
  if (countdown_ > 0) --countdown_;
  return true;
}

void PowerCutFileSystem::AddNewEntry(const std::string& fname, NewEntry entry) {
  const std::string path = Normal(fname);
  new_entries_[DirectoryOf(path)].insert_or_assign(path, std::move(entry));
}

rocksdb::IOStatus PowerCutFileSystem::NewWritableFile(
    const std::string& fname, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  absl::MutexLock lock(&mu_);
  if (!Tick()) return PowerIsOff();
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = target()->NewWritableFile(fname, options, &file, dbg);
  if (!s.ok()) return s;
  const std::string path = Normal(fname);
  files_[path] = FileState();
  AddNewEntry(path, NewEntry());
  *result = std::make_unique<File>(this, path, std::move(file));
  return s;
}

rocksdb::IOStatus PowerCutFileSystem::ReopenWritableFile(
    const std::string& fname, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  absl::MutexLock lock(&mu_);
  if (!Tick()) return PowerIsOff();
  const std::string path = Normal(fname);
  std::error_code ec;
  const bool existed = std::filesystem::exists(path, ec);
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = target()->ReopenWritableFile(fname, options, &file, dbg);
  if (!s.ok()) return s;
  if (!files_.count(path)) {
    // What was there before counts as durable.
    const uint64_t size = existed ? std::filesystem::file_size(path, ec) : 0;
    files_[path] = FileState{size, size};
    if (!existed) AddNewEntry(path, NewEntry());
  }
  *result = std::make_unique<File>(this, path, std::move(file));
  return s;
}

rocksdb::IOStatus PowerCutFileSystem::ReuseWritableFile(const std::string&, const std::string&,
                                                        const rocksdb::FileOptions&,
                                                        std::unique_ptr<rocksdb::FSWritableFile>*,
                                                        rocksdb::IODebugContext*) {
  // Only recycled logs reuse files, and the store never recycles them.
  return rocksdb::IOStatus::NotSupported("PowerCutFileSystem does not reuse files");
}

rocksdb::IOStatus PowerCutFileSystem::NewDirectory(const std::string& name,
                                                   const rocksdb::IOOptions& options,
                                                   std::unique_ptr<rocksdb::FSDirectory>* result,
                                                   rocksdb::IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSDirectory> directory;
  rocksdb::IOStatus s = target()->NewDirectory(name, options, &directory, dbg);
  if (!s.ok()) return s;
  *result = std::make_unique<Directory>(this, Normal(name), std::move(directory));
  return s;
}

rocksdb::IOStatus PowerCutFileSystem::DeleteFile(const std::string& fname,
                                                 const rocksdb::IOOptions& options,
                                                 rocksdb::IODebugContext* dbg) {
  absl::MutexLock lock(&mu_);
  if (!Tick()) return PowerIsOff();
  rocksdb::IOStatus s = target()->DeleteFile(fname, options, dbg);
  if (s.ok()) {
    const std::string path = Normal(fname);
    files_.erase(path);
    auto dir = new_entries_.find(DirectoryOf(path));
    if (dir != new_entries_.end()) dir->second.erase(path);
  }
  return s;
}

rocksdb::IOStatus PowerCutFileSystem::RenameFile(const std::string& src, const std::string& target,
                                                 const rocksdb::IOOptions& options,
                                                 rocksdb::IODebugContext* dbg) {
  absl::MutexLock lock(&mu_);
  if (!Tick()) return PowerIsOff();
  const std::string from = Normal(src);
  const std::string to = Normal(target);
  // Until the directory is fsynced the rename may be undone; what `to` held
  // (if durable) comes back then.
  NewEntry entry;
  auto to_dir = new_entries_.find(DirectoryOf(to));
  const bool to_is_new = to_dir != new_entries_.end() && to_dir->second.count(to);
  if (to_is_new) {
    entry = to_dir->second[to];
  } else if (std::ifstream in(to, std::ios::binary); in) {
    entry.previous_contents.emplace(std::istreambuf_iterator<char>(in),
                                    std::istreambuf_iterator<char>());
  }
  rocksdb::IOStatus s = this->target()->RenameFile(src, target, options, dbg);
  if (!s.ok()) return s;
  auto state = files_.find(from);
  if (state != files_.end()) {
    files_[to] = state->second;
    files_.erase(state);
  } else {
    files_.erase(to);
  }
  auto from_dir = new_entries_.find(DirectoryOf(from));
  if (from_dir != new_entries_.end()) from_dir->second.erase(from);
  AddNewEntry(to, std::move(entry));
  return s;
}

rocksdb::IOStatus PowerCutFileSystem::LinkFile(const std::string&, const std::string&,
                                               const rocksdb::IOOptions&,
                                               rocksdb::IODebugContext*) {
  // Hard links (checkpoints) would share a file's durable size between two
  // names; nothing under this file system makes them.
  return rocksdb::IOStatus::NotSupported("PowerCutFileSystem does not link files");
}

absl::StatusOr<PowerCutFileSystem::Losses> PowerCutFileSystem::DropUnsyncedData() {
  absl::MutexLock lock(&mu_);
  Losses losses;
  for (const auto& [path, state] : files_) {
    std::error_code ec;
    const uint64_t size = std::filesystem::file_size(path, ec);
    if (ec) continue;  // Renamed or deleted behind our back: nothing to cut.
    if (size > state.synced) {
      std::filesystem::resize_file(path, state.synced, ec);
      if (ec) return absl::InternalError(absl::StrCat("cut back ", path, ": ", ec.message()));
      losses.bytes_dropped += size - state.synced;
    }
  }
  for (const auto& [dir, entries] : new_entries_) {
    for (const auto& [path, entry] : entries) {
      if (entry.previous_contents.has_value()) {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << *entry.previous_contents;
        if (!out.flush()) return absl::InternalError(absl::StrCat("restore ", path));
        ++losses.files_restored;
      } else {
        std::error_code ec;
        if (std::filesystem::remove(path, ec)) ++losses.files_deleted;
        if (ec) return absl::InternalError(absl::StrCat("delete ", path, ": ", ec.message()));
      }
    }
  }
  files_.clear();
  new_entries_.clear();
  powered_ = true;
  countdown_ = -1;
  return losses;
}

}  // namespace sopsidebar
