// A test-only rocksdb::FileSystem over the local one that simulates a power
// cut, as RocksDB's own FaultInjectionTestFS does for db_crashtest: it
// remembers, for every file written through it, how many bytes were synced
// (Sync/Fsync) and which directory entries were created or renamed since
// their directory was last fsynced. After a cut, DropUnsyncedData() makes
// the disk look as it would after the machine lost power: each file cut back
// to its last synced size, each file whose directory entry was never made
// durable deleted (or, if it replaced a file by a rename, that file's
// previous contents put back).
//
// Files the database wrote before this file system was created count as
// durable. Range syncs (sync_file_range) count as not durable. Reads are
// never affected.
//
// Thread-safe: every operation takes one mutex (tests only; it serialises
// all writes and syncs).
#ifndef SOPSIDEBAR_SERVER_STORAGE_POWER_CUT_FILE_SYSTEM_H_
#define SOPSIDEBAR_SERVER_STORAGE_POWER_CUT_FILE_SYSTEM_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace sopsidebar {

class PowerCutFileSystem : public rocksdb::FileSystemWrapper {
 public:
  // What DropUnsyncedData undid.
  struct Losses {
    // Bytes written but never synced, cut off the ends of files.
    uint64_t bytes_dropped = 0;
    // Files whose creation was never made durable, deleted.
    int files_deleted = 0;
    // Files replaced by a rename that was never made durable, restored.
    int files_restored = 0;
  };

  // Over the local file system (rocksdb::FileSystem::Default()).
  PowerCutFileSystem();

  // An Env for RocksDbStore::Options::env that reaches the disk through `fs`.
  static std::shared_ptr<rocksdb::Env> NewEnv(const std::shared_ptr<PowerCutFileSystem>& fs);

  // The power goes after `operations` more writing operations (appends,
  // syncs, file creations, renames, deletions, directory fsyncs): that one
  // and every later one fails with an IOError and changes nothing on disk.
  void CutPowerAfter(int64_t operations);
  // The power goes now.
  void CutPower();
  bool powered() const;

  // Once the database on this file system is closed: undoes everything a
  // power cut would have lost (see above), then forgets what it tracked and
  // powers up again. INTERNAL naming the file when one cannot be cut back,
  // deleted or restored.
  absl::StatusOr<Losses> DropUnsyncedData();

  const char* Name() const override { return "PowerCutFileSystem"; }

  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& fname,
                                       const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& options,
                                 std::unique_ptr<rocksdb::FSDirectory>* result,
                                 rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& fname, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& src, const std::string& target,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LinkFile(const std::string& src, const std::string& target,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;

 private:
  class File;
  class Directory;

  struct FileState {
    uint64_t size = 0;
    uint64_t synced = 0;
  };
  // A directory entry created since its directory's last fsync, and what the
  // entry held before (when a rename replaced a durable file).
  struct NewEntry {
    std::optional<std::string> previous_contents;
  };

  // Counts one writing operation; false (with the power now off) once the
  // power is cut.
  bool Tick() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AddNewEntry(const std::string& fname, NewEntry entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  bool powered_ ABSL_GUARDED_BY(mu_) = true;
  // Writing operations left before the cut; negative: no cut planned.
  int64_t countdown_ ABSL_GUARDED_BY(mu_) = -1;
  // By path, every file created or reopened through this file system.
  std::map<std::string, FileState> files_ ABSL_GUARDED_BY(mu_);
  // By directory, then by path.
  std::map<std::string, std::map<std::string, NewEntry>> new_entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_STORAGE_POWER_CUT_FILE_SYSTEM_H_
