#include "server/storage/rocksdb_store.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/errors.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "rocksdb/compaction_filter.h"
#include "rocksdb/db.h"
#include "rocksdb/listener.h"
#include "rocksdb/merge_operator.h"
#include "rocksdb/options.h"
#include "rocksdb/transaction_log.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/version.h"
#include "rocksdb/write_batch.h"

namespace sopsidebar {
namespace {

std::string HeadKey(absl::string_view org, absl::string_view sop) {
  return absl::StrCat("h/", org, "/", sop);
}
std::string HeadPrefix(absl::string_view org) { return absl::StrCat("h/", org, "/"); }
std::string TemplatePrefix(absl::string_view org) { return absl::StrCat("st/", org, "/"); }
std::string TemplateKey(const TemplateName& name) {
  return absl::StrCat(TemplatePrefix(name.org), name.template_id);
}

std::string RevisionPrefix(const SopName& sop) {
  return absl::StrCat("r/", sop.org, "/", sop.sop, "/");
}
std::string RevisionKey(const SopName& sop, int64_t revision) {
  return absl::StrCat(RevisionPrefix(sop), absl::StrFormat("%016d", revision));
}

// Appends `part` to `key` with '%' (the escape itself) and '/' written %25
// and %2F, so that a key holding it splits at '/' one way only.
void AppendEscaped(absl::string_view part, std::string& key) {
  for (char c : part) {
    if (c == '%') {
      key += "%25";
    } else if (c == '/') {
      key += "%2F";
    } else {
      key.push_back(c);
    }
  }
}

// c/{org}/{user}/{request_id}. The org holds no '/' and the user's are
// escaped, so the key splits one way only, whatever the request id holds.
// sopd 0.1 kept q/{org}/{request_id}, one id space per org; those keys are
// not read: they would let a user's id match another user's create.
std::string RequestKey(absl::string_view org, const CreateRequest& request) {
  std::string key = absl::StrCat("c/", org, "/");
  AppendEscaped(request.user_id, key);
  absl::StrAppend(&key, "/", request.request_id);
  return key;
}

std::string TokenKey(const TokenName& name) {
  return absl::StrCat("t/", name.org, "/", name.token);
}

std::string OrgKey(absl::string_view org) { return absl::StrCat("o/", org); }
std::string RoleMapKey(const CrmMapName& name) {
  return absl::StrCat("rm/", name.org, "/", name.crm);
}
std::string FieldMapKey(const CrmMapName& name) {
  return absl::StrCat("fm/", name.org, "/", name.crm);
}

std::string CommentPrefix(const SopName& sop) {
  return absl::StrCat("m/", sop.org, "/", sop.sop, "/");
}
std::string CommentKey(const CommentName& name) {
  return absl::StrCat(CommentPrefix(name.sop), name.comment);
}

std::string AuditPrefix(absl::string_view org) { return absl::StrCat("a/", org, "/"); }
std::string AuditKey(absl::string_view org, int64_t sequence) {
  return absl::StrCat(AuditPrefix(org), absl::StrFormat("%020d", sequence));
}

// The events column family (EventStore); the layout is in rocksdb_store.h.
constexpr char kEventsFamily[] = "events";

std::string EventTimeKey(absl::string_view org, int64_t micros) {
  return absl::StrCat("e/", org, "/", absl::StrFormat("%020d", micros));
}
std::string EventKey(absl::string_view org, int64_t micros, absl::string_view event_id) {
  return absl::StrCat(EventTimeKey(org, micros), "/", event_id);
}
std::string EventIdKey(absl::string_view org, absl::string_view event_id) {
  return absl::StrCat("i/", org, "/", event_id);
}
std::string MarkKey(absl::string_view org, absl::string_view mark) {
  std::string key = absl::StrCat("k/", org, "/");
  AppendEscaped(mark, key);
  return key;
}
std::string AggregatePrefix(absl::string_view org) { return absl::StrCat("g/", org, "/"); }
std::string AggregateDayKey(absl::string_view org, DayNumber day) {
  return absl::StrCat(AggregatePrefix(org), absl::StrFormat("%08d", day), "/");
}

int64_t EventMicros(const internal::v1::StoredEvent& event) {
  return absl::ToUnixMicros(FromProtoTimestamp(event.event().event_time()));
}

// The time an e/, i/ or k/ entry is kept by, Unix microseconds: from the
// key for e/ and from the value for the others. nullopt for g/ (kept for
// ever) and for anything that does not parse, which is kept too.
std::optional<int64_t> RetainedEntryMicros(absl::string_view key, absl::string_view value) {
  int64_t micros = 0;
  if (absl::StartsWith(key, "e/")) {
    const size_t org_end = key.find('/', 2);
    if (org_end == absl::string_view::npos) return std::nullopt;
    absl::string_view time = key.substr(org_end + 1);
    time = time.substr(0, time.find('/'));
    if (!absl::SimpleAtoi(time, &micros)) return std::nullopt;
    return micros;
  }
  if (absl::StartsWith(key, "i/") || absl::StartsWith(key, "k/")) {
    if (!absl::SimpleAtoi(value, &micros)) return std::nullopt;
    return micros;
  }
  return std::nullopt;
}

// Keeps g/ entries current: each operand is an EventAggregate delta, and
// merging is AddAggregate. Associative, so RocksDB may combine operands in
// any grouping. A value that does not parse fails the merge, which RocksDB
// reports as corruption (DATA_LOSS).
class AggregateMergeOperator : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice& /*key*/, const rocksdb::Slice* existing_value,
             const rocksdb::Slice& value, std::string* new_value,
             rocksdb::Logger* /*logger*/) const override {
    internal::v1::EventAggregate merged;
    if (existing_value != nullptr &&
        !merged.ParseFromArray(existing_value->data(), static_cast<int>(existing_value->size()))) {
      return false;
    }
    internal::v1::EventAggregate delta;
    if (!delta.ParseFromArray(value.data(), static_cast<int>(value.size()))) return false;
    AddAggregate(delta, &merged);
    return merged.SerializeToString(new_value);
  }
  // Recorded in the database's OPTIONS file: never rename.
  const char* Name() const override { return "sopsidebar.EventAggregateMerge"; }
};

// Drops the e/, i/ and k/ entries older than `cutoff_micros`.
class RetentionFilter : public rocksdb::CompactionFilter {
 public:
  explicit RetentionFilter(int64_t cutoff_micros) : cutoff_micros_(cutoff_micros) {}
  bool Filter(int /*level*/, const rocksdb::Slice& key, const rocksdb::Slice& value,
              std::string* /*new_value*/, bool* /*value_changed*/) const override {
    const std::optional<int64_t> micros = RetainedEntryMicros(
        absl::string_view(key.data(), key.size()), absl::string_view(value.data(), value.size()));
    return micros.has_value() && *micros < cutoff_micros_;
  }
  const char* Name() const override { return "sopsidebar.EventRetention"; }

 private:
  const int64_t cutoff_micros_;
};

// One RetentionFilter per compaction, with the cutoff as of its start.
class RetentionFilterFactory : public rocksdb::CompactionFilterFactory {
 public:
  RetentionFilterFactory(absl::Duration retention, std::function<absl::Time()> now)
      : retention_(retention), now_(std::move(now)) {}
  std::unique_ptr<rocksdb::CompactionFilter> CreateCompactionFilter(
      const rocksdb::CompactionFilter::Context& /*context*/) override {
    return std::make_unique<RetentionFilter>(absl::ToUnixMicros(now_() - retention_));
  }
  const char* Name() const override { return "sopsidebar.EventRetention"; }

 private:
  const absl::Duration retention_;
  const std::function<absl::Time()> now_;
};

// The one mapping from RocksDB statuses to the project's.
absl::Status FromRocksDb(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  absl::StatusCode code = absl::StatusCode::kInternal;
  if (s.IsCorruption()) {
    code = absl::StatusCode::kDataLoss;
  } else if (s.IsBusy() || s.IsTryAgain()) {
    code = absl::StatusCode::kAborted;
  } else if (s.IsTimedOut()) {
    code = absl::StatusCode::kDeadlineExceeded;
  } else if (s.IsNoSpace()) {
    return error::DiskFull(what, s.ToString());
  } else if (s.IsIOError() && (absl::StrContains(s.ToString(), "/LOCK:") ||
                               absl::StrContains(s.ToString(), "Permission denied"))) {
    // Another process holds the database, or sopd may not use its files:
    // the operator fixes that, retrying does not.
    code = absl::StatusCode::kFailedPrecondition;
  } else if (s.IsInvalidArgument() && absl::StrContains(s.ToString(), "does not exist")) {
    // A database that must exist lacks its CURRENT file.
    code = absl::StatusCode::kFailedPrecondition;
  }
  return error::Storage(code, what, s.ToString());
}

template <typename Message>
absl::StatusOr<Message> Decode(const std::string& bytes, absl::string_view key) {
  Message message;
  if (!message.ParseFromString(bytes)) {
    return error::Storage(absl::StatusCode::kDataLoss, "decode", key);
  }
  return message;
}

// Parses `value` (stored under `key`) into `message`, replacing its contents;
// DATA_LOSS when it is not a Message.
template <typename Message>
absl::Status DecodeInto(const rocksdb::Slice& key, const rocksdb::Slice& value, Message& message) {
  if (!message.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return error::Storage(absl::StatusCode::kDataLoss, "decode", key.ToString());
  }
  return absl::OkStatus();
}

// Calls `visit(key, value)` with every entry of `family` with a key in
// [start, end), in key order, until it returns an error, which is returned.
// The slices are valid during the call only. A scan reads each block once,
// so it keeps them out of the block cache (where they would evict the blocks
// point reads use) and reads the files ahead in large chunks.
template <typename Visit>
absl::Status ScanRange(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* family,
                       absl::string_view start, absl::string_view end, const Visit& visit) {
  constexpr size_t kReadahead = 2 << 20;
  const rocksdb::Slice upper_bound(end.data(), end.size());
  rocksdb::ReadOptions options;
  options.fill_cache = false;
  options.readahead_size = kReadahead;
  options.iterate_upper_bound = &upper_bound;
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(options, family));
  for (it->Seek(rocksdb::Slice(start.data(), start.size())); it->Valid(); it->Next()) {
    SOP_RETURN_IF_ERROR(visit(it->key(), it->value()));
  }
  return FromRocksDb(it->status(), absl::StrCat("scan ", start));
}

// ScanRange over the default column family's keys that start with `prefix`
// (ending in '/').
template <typename Visit>
absl::Status Scan(rocksdb::DB& db, absl::string_view prefix, const Visit& visit) {
  std::string end(prefix);
  ++end.back();  // the first key past the prefix
  return ScanRange(db, db.DefaultColumnFamily(), prefix, end, visit);
}

// Calls `fn(Message&&)` with every value under `prefix`, decoded, on the
// calling thread. One message is reused, so when `fn` does not move from it
// the next parse reuses its allocations.
template <typename Message, typename Fn>
absl::Status ForEach(rocksdb::DB& db, absl::string_view prefix, const Fn& fn) {
  Message message;
  return Scan(db, prefix, [&](const rocksdb::Slice& key, const rocksdb::Slice& value) {
    SOP_RETURN_IF_ERROR(DecodeInto(key, value, message));
    return fn(std::move(message));
  });
}

// The number in a file name "OPTIONS-000123"; nullopt for other names.
std::optional<uint64_t> OptionsFileNumber(absl::string_view name) {
  constexpr absl::string_view kPrefix = "OPTIONS-";
  uint64_t number = 0;
  if (!absl::StartsWith(name, kPrefix) || !absl::SimpleAtoi(name.substr(kPrefix.size()), &number)) {
    return std::nullopt;
  }
  return number;
}

// Refuses a database whose latest OPTIONS file says a newer RocksDB (major
// and minor) than this one wrote it: its files may use formats this one
// cannot read, and opening it could rewrite them. A database without one
// (new, or damaged: the open reports that) passes.
absl::Status CheckWrittenByReadableRocksDb(const std::string& path) {
  std::error_code ec;
  std::optional<uint64_t> latest;
  std::filesystem::path latest_path;
  for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
    const std::optional<uint64_t> number = OptionsFileNumber(entry.path().filename().string());
    if (number && (!latest || *number > *latest)) {
      latest = number;
      latest_path = entry.path();
    }
  }
  if (!latest) return absl::OkStatus();
  std::ifstream in(latest_path);
  constexpr absl::string_view kVersionKey = "rocksdb_version=";
  for (std::string line; std::getline(in, line);) {
    absl::string_view text = absl::StripAsciiWhitespace(line);
    if (!absl::StartsWith(text, kVersionKey)) continue;
    text.remove_prefix(kVersionKey.size());
    const std::vector<absl::string_view> parts = absl::StrSplit(text, '.');
    int major = 0;
    int minor = 0;
    if (parts.size() < 2 || !absl::SimpleAtoi(parts[0], &major) ||
        !absl::SimpleAtoi(parts[1], &minor)) {
      return error::Storage(absl::StatusCode::kDataLoss,
                            absl::StrCat("read ", latest_path.string()),
                            absl::StrCat("unreadable rocksdb_version '", text, "'"));
    }
    if (std::make_pair(major, minor) > std::make_pair(ROCKSDB_MAJOR, ROCKSDB_MINOR)) {
      return error::Storage(
          absl::StatusCode::kFailedPrecondition, absl::StrCat("open ", path),
          absl::StrFormat("%s says RocksDB %s last wrote the database; this sopd uses RocksDB "
                          "%d.%d.%d, which may not read it: upgrade sopd or restore a backup",
                          latest_path.string(), text, ROCKSDB_MAJOR, ROCKSDB_MINOR, ROCKSDB_PATCH));
    }
    return absl::OkStatus();
  }
  return absl::OkStatus();
}

// The write-ahead log files in `path` ("000015.log, 000019.log"), by name.
std::string WriteAheadLogsIn(const std::string& path) {
  std::vector<std::string> logs;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
    if (entry.path().extension() == ".log") logs.push_back(entry.path().filename().string());
  }
  std::sort(logs.begin(), logs.end());
  return logs.empty() ? "(none)" : absl::StrJoin(logs, ", ");
}

// RocksDB's info log, DIR/LOG (the previous run's kept as LOG.old), written
// with plain write(2) whose failures are ignored. RocksDB's own logger
// writes through a file writer that, once a write failed (a full disk),
// aborts the process at its next flush in Debian's build (assertions on).
// Thread-safe (one write(2) per line).
class InfoLogFile : public rocksdb::Logger {
 public:
  explicit InfoLogFile(const std::string& db_path) {
    const std::string path = db_path + "/LOG";
    ::rename(path.c_str(), (path + ".old").c_str());
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  }
  ~InfoLogFile() override {
    if (fd_ >= 0) ::close(fd_);
  }
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    if (fd_ < 0) return;
    char line[1024];
    const int prefix = static_cast<int>(
        absl::FormatTime("%Y/%m/%d-%H:%M:%E6S ", absl::Now(), absl::LocalTimeZone())
            .copy(line, 64));
    int n = std::vsnprintf(line + prefix, sizeof(line) - prefix - 1, format, ap);
    if (n < 0) return;
    n = std::min<int>(n, static_cast<int>(sizeof(line)) - prefix - 2);
    line[prefix + n] = '\n';
    if (::write(fd_, line, prefix + n + 1) < 0) return;  // a full disk loses log lines only
  }

 private:
  int fd_ = -1;
};

// A logger that drops every line: counting a checkpoint must not add a LOG
// file to it.
class SilentLogger final : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char* /*format*/, va_list /*ap*/) override {}
};

// Counts what the checkpoint in `dir` holds, reading it read-only.
absl::StatusOr<v1::BackupContents> CountCheckpoint(const std::string& dir) {
  rocksdb::Options options;
  options.info_log = std::make_shared<SilentLogger>();
  options.paranoid_checks = true;
  rocksdb::ColumnFamilyOptions events_options(options);
  events_options.merge_operator = std::make_shared<AggregateMergeOperator>();
  const std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions(options)},
      {kEventsFamily, events_options}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  SOP_RETURN_IF_ERROR(FromRocksDb(
      rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(options), dir, families, &handles, &raw),
      absl::StrCat("open checkpoint ", dir)));
  std::unique_ptr<rocksdb::DB> db(raw);
  v1::BackupContents contents;
  // Keys sort by org and sequence: the last audit entry seen of an org is
  // its head.
  std::map<std::string, std::string> last_audit;
  absl::Status counted = ScanRange(*db, handles[0], "", "\xff",
                                   [&](const rocksdb::Slice& key, const rocksdb::Slice& value) {
                                     const absl::string_view k(key.data(), key.size());
                                     if (absl::StartsWith(k, "h/")) {
                                       contents.set_sops(contents.sops() + 1);
                                     } else if (absl::StartsWith(k, "r/")) {
                                       contents.set_revisions(contents.revisions() + 1);
                                     } else if (absl::StartsWith(k, "t/")) {
                                       contents.set_tokens(contents.tokens() + 1);
                                     } else if (absl::StartsWith(k, "o/")) {
                                       contents.set_orgs(contents.orgs() + 1);
                                     } else if (absl::StartsWith(k, "m/")) {
                                       contents.set_comments(contents.comments() + 1);
                                     } else if (absl::StartsWith(k, "a/")) {
                                       contents.set_audit_events(contents.audit_events() + 1);
                                       const absl::string_view org = k.substr(2, k.rfind('/') - 2);
                                       last_audit[std::string(org)] = value.ToString();
                                     }
                                     return absl::OkStatus();
                                   });
  if (counted.ok()) {
    counted =
        ScanRange(*db, handles[1], "e/", "e0", [&](const rocksdb::Slice&, const rocksdb::Slice&) {
          contents.set_analytics_events(contents.analytics_events() + 1);
          return absl::OkStatus();
        });
  }
  for (rocksdb::ColumnFamilyHandle* handle : handles) {
    db->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  }
  db->Close().PermitUncheckedError();
  SOP_RETURN_IF_ERROR(counted);
  for (const auto& [org, value] : last_audit) {
    SOP_ASSIGN_OR_RETURN(v1::AuditEvent event,
                         Decode<v1::AuditEvent>(value, absl::StrCat("a/", org)));
    v1::AuditHead* head = contents.add_audit_heads();
    head->set_org(absl::StrCat("orgs/", org));
    head->set_sequence(event.sequence());
    head->set_hash(event.hash());
  }
  return contents;
}

}  // namespace

// Keeps writes off a full disk and tracks whether the write path is
// stopped. A write is refused (RESOURCE_EXHAUSTED) before it reaches RocksDB
// while the database's filesystem has less free space than a reserve (64 MiB,
// or a tenth of a smaller filesystem), kept for flushes and the write-ahead
// log, so that the engine itself rarely meets a full disk. When it does (a
// failed append or flush: a background error), writes stop too. While
// stopped, a thread of its own checks every retry interval for space again
// and calls DB::Resume, and clears the state when both succeed. RocksDB's own
// recovery is turned off, so that one retry loop, at a known pace, clears
// the state. Thread-safe.
class RocksDbStore::WritePath : public rocksdb::EventListener {
 public:
  WritePath(std::string path, std::function<void(bool, const absl::Status&)> on_change,
            absl::Duration retry)
      : path_(std::move(path)), on_change_(std::move(on_change)), retry_(retry) {}
  ~WritePath() override { Stop(); }

  // Starts the retry thread on the open `db`, which must outlive Stop().
  void Start(rocksdb::DB* db) {
    db_ = db;
    thread_ = std::thread([this] { Run(); });
  }

  // Ends the retry thread. Idempotent.
  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    if (thread_.joinable()) thread_.join();
  }

  bool degraded() const {
    absl::MutexLock lock(&mu_);
    return degraded_;
  }

  // OK when a write may go to RocksDB; RESOURCE_EXHAUSTED (and the write
  // path degraded) when the disk is too full for it.
  absl::Status BeforeWrite() {
    absl::Status space = FreeSpace();
    if (!space.ok()) Degrade(space);
    return space;
  }

  void OnBackgroundError(rocksdb::BackgroundErrorReason /*reason*/,
                         rocksdb::Status* error) override {
    if (error == nullptr || error->ok()) return;
    Degrade(FromRocksDb(*error, "background write"));
  }

  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason /*reason*/, rocksdb::Status /*error*/,
                            bool* auto_recovery) override {
    *auto_recovery = false;
  }

 private:
  static constexpr uint64_t kMaxReserve = 64 << 20;

  // RESOURCE_EXHAUSTED when path_'s filesystem has less free space than the
  // reserve; OK when it has enough or cannot say.
  absl::Status FreeSpace() const {
    struct statvfs fs;
    if (::statvfs(path_.c_str(), &fs) != 0) return absl::OkStatus();
    const uint64_t size = static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize;
    const uint64_t free = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
    const uint64_t reserve = std::min(kMaxReserve, size / 10);
    if (free >= reserve) return absl::OkStatus();
    return error::DiskFull("write", absl::StrFormat("%d bytes free on the filesystem of %s, below "
                                                    "the %d bytes the database keeps in reserve",
                                                    free, path_, reserve));
  }

  void Degrade(const absl::Status& cause) {
    {
      absl::MutexLock lock(&mu_);
      if (degraded_) return;
      degraded_ = true;
    }
    if (on_change_) on_change_(true, cause);
  }

  void Run() {
    absl::MutexLock lock(&mu_);
    while (true) {
      mu_.Await(absl::Condition(this, &WritePath::DegradedOrStopping));
      if (stopping_) return;
      // Wait a retry interval (or until Stop) between attempts.
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), retry_);
      if (stopping_) return;
      mu_.Unlock();
      const bool resumed = FreeSpace().ok() && db_->Resume().ok();
      mu_.Lock();
      if (!resumed) continue;
      degraded_ = false;
      mu_.Unlock();
      if (on_change_) on_change_(false, absl::OkStatus());
      mu_.Lock();
    }
  }

  bool DegradedOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return degraded_ || stopping_;
  }

  const std::string path_;
  const std::function<void(bool, const absl::Status&)> on_change_;
  const absl::Duration retry_;
  rocksdb::DB* db_ = nullptr;
  std::thread thread_;
  mutable absl::Mutex mu_;
  bool degraded_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

absl::StatusOr<v1::BackupContents> RocksDbStore::Checkpoint(const std::string& dir) {
  if (std::filesystem::exists(dir)) {
    return error::Storage(absl::StatusCode::kFailedPrecondition, "checkpoint",
                          absl::StrCat(dir, " exists already"));
  }
  rocksdb::Checkpoint* raw = nullptr;
  SOP_RETURN_IF_ERROR(FromRocksDb(rocksdb::Checkpoint::Create(db_.get(), &raw), "checkpoint"));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // Flushes the memtables first (log_size_for_flush 0), so the copy is
  // sorted files and a MANIFEST naming them, consistent across both column
  // families.
  SOP_RETURN_IF_ERROR(FromRocksDb(checkpoint->CreateCheckpoint(dir, /*log_size_for_flush=*/0),
                                  absl::StrCat("checkpoint ", dir)));
  return CountCheckpoint(dir);
}

absl::StatusOr<std::unique_ptr<RocksDbStore>> RocksDbStore::Open(const std::string& path,
                                                                 Options store_options) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) {
    return error::Storage(absl::StatusCode::kFailedPrecondition, absl::StrCat("create ", path),
                          ec.message());
  }
  SOP_RETURN_IF_ERROR(CheckWrittenByReadableRocksDb(path));
  auto write_path = std::make_shared<WritePath>(path, store_options.on_write_path_change,
                                                store_options.write_retry_interval);
  rocksdb::Options options;
  options.create_if_missing = store_options.create_if_missing;
  // A database from before the events column family gains it.
  options.create_missing_column_families = true;
  options.paranoid_checks = true;
  if (store_options.env != nullptr) options.env = store_options.env.get();
  // Every write is synced before it is acknowledged, so only the record
  // being written when the process or machine died can be incomplete: that
  // one is dropped (it was never acknowledged). Damage anywhere else fails
  // the open: kPointInTimeRecovery (the default) would instead stop at it
  // and start without every acknowledged write after it, silently.
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  options.listeners.push_back(write_path);
  options.info_log = std::make_shared<InfoLogFile>(path);
  rocksdb::ColumnFamilyOptions events_options(options);
  events_options.merge_operator = std::make_shared<AggregateMergeOperator>();
  events_options.compaction_filter_factory =
      std::make_shared<RetentionFilterFactory>(store_options.event_retention, store_options.now);
  const std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions(options)},
      {kEventsFamily, events_options}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  const rocksdb::Status opened =
      rocksdb::DB::Open(rocksdb::DBOptions(options), path, families, &handles, &db);
  if (opened.IsCorruption() && !absl::StrContains(opened.ToString(), path)) {
    // RocksDB names the table file or MANIFEST it found damaged, but not the
    // write-ahead log it was replaying.
    return error::Storage(absl::StatusCode::kDataLoss, absl::StrCat("open ", path),
                          absl::StrCat(opened.ToString(), " in the write-ahead log ",
                                       WriteAheadLogsIn(path), " or the MANIFEST"));
  }
  SOP_RETURN_IF_ERROR(FromRocksDb(opened, absl::StrCat("open ", path)));
  std::unique_ptr<rocksdb::DB> owned(db);
  // The default family is reached through DefaultColumnFamily().
  SOP_RETURN_IF_ERROR(
      FromRocksDb(owned->DestroyColumnFamilyHandle(handles[0]), "release default family"));
  write_path->Start(owned.get());
  auto store = std::unique_ptr<RocksDbStore>(new RocksDbStore(
      std::move(owned), handles[1], std::move(write_path), std::move(store_options)));
  if (store->options_.verify_checksums_at_open) {
    // Reads bypass the block cache: the blocks are read once.
    rocksdb::ReadOptions read_options;
    read_options.fill_cache = false;
    read_options.readahead_size = 2 << 20;
    SOP_RETURN_IF_ERROR(
        FromRocksDb(store->db_->VerifyChecksum(read_options), absl::StrCat("verify ", path)));
  }
  return store;
}

RocksDbStore::RocksDbStore(std::unique_ptr<rocksdb::DB> db, rocksdb::ColumnFamilyHandle* events,
                           std::shared_ptr<WritePath> write_path, Options options)
    : db_(std::move(db)),
      events_(events),
      options_(std::move(options)),
      write_path_(std::move(write_path)) {}

bool RocksDbStore::write_path_degraded() const { return write_path_->degraded(); }

RocksDbStore::~RocksDbStore() {
  write_path_->Stop();
  // A bulk load (unsynced writes) ends with its data in sorted files, so the
  // next open need not replay a large write-ahead log.
  if (!options_.sync_writes) {
    db_->Flush(rocksdb::FlushOptions(), {db_->DefaultColumnFamily(), events_})
        .PermitUncheckedError();
  }
  db_->DestroyColumnFamilyHandle(events_).PermitUncheckedError();
  // Close explicitly so background work stops before the handle goes.
  db_->Close().PermitUncheckedError();
}

absl::StatusOr<v1::Sop> RocksDbStore::GetHead(const SopName& name) const {
  const std::string key = HeadKey(name.org, name.sop);
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), key, &value);
  if (s.IsNotFound()) return error::SopNotFound(name.Full());
  SOP_RETURN_IF_ERROR(FromRocksDb(s, "get head"));
  return Decode<v1::Sop>(value, key);
}

absl::StatusOr<v1::SopRevision> RocksDbStore::GetRevision(const RevisionName& name) const {
  const std::string key = RevisionKey(name.sop, name.revision);
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), key, &value);
  if (s.IsNotFound()) return error::RevisionNotFound(name.Full());
  SOP_RETURN_IF_ERROR(FromRocksDb(s, "get revision"));
  return Decode<v1::SopRevision>(value, key);
}

absl::StatusOr<std::vector<v1::Sop>> RocksDbStore::ListHeads(absl::string_view org,
                                                             absl::string_view start_after,
                                                             int limit) const {
  const std::string prefix = HeadPrefix(org);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  std::vector<v1::Sop> out;
  if (start_after.empty()) {
    it->Seek(prefix);
  } else {
    // Seek to the first key after start_after's key.
    it->Seek(HeadKey(org, start_after));
    if (it->Valid() && it->key() == HeadKey(org, start_after)) it->Next();
  }
  for (; it->Valid() && it->key().starts_with(prefix) && static_cast<int>(out.size()) < limit;
       it->Next()) {
    SOP_ASSIGN_OR_RETURN(v1::Sop head,
                         Decode<v1::Sop>(it->value().ToString(), it->key().ToString()));
    out.push_back(std::move(head));
  }
  SOP_RETURN_IF_ERROR(FromRocksDb(it->status(), "list heads"));
  return out;
}

absl::StatusOr<std::vector<v1::SopRevision>> RocksDbStore::ListRevisions(const SopName& sop,
                                                                         int64_t before,
                                                                         int limit) const {
  const std::string prefix = RevisionPrefix(sop);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  std::vector<v1::SopRevision> out;
  if (before > 0) {
    it->SeekForPrev(RevisionKey(sop, before - 1));
  } else {
    // '0' follows '/', so this lands just past the last revision key.
    it->SeekForPrev(absl::StrCat(prefix, "~"));
  }
  for (; it->Valid() && it->key().starts_with(prefix) && static_cast<int>(out.size()) < limit;
       it->Prev()) {
    SOP_ASSIGN_OR_RETURN(v1::SopRevision revision,
                         Decode<v1::SopRevision>(it->value().ToString(), it->key().ToString()));
    out.push_back(std::move(revision));
  }
  SOP_RETURN_IF_ERROR(FromRocksDb(it->status(), "list revisions"));
  return out;
}

absl::StatusOr<std::optional<std::string>> RocksDbStore::FindRequest(
    absl::string_view org, const CreateRequest& request) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), RequestKey(org, request), &value);
  if (s.IsNotFound()) return std::nullopt;
  SOP_RETURN_IF_ERROR(FromRocksDb(s, "find request"));
  return value;
}

absl::Status RocksDbStore::Put(const std::string& key, const google::protobuf::Message& value) {
  rocksdb::WriteOptions options;
  options.sync = options_.sync_writes;
  SOP_RETURN_IF_ERROR(write_path_->BeforeWrite());
  return FromRocksDb(db_->Put(options, key, value.SerializeAsString()), "put");
}

absl::Status RocksDbStore::ForEachHead(const std::function<absl::Status(v1::Sop&&)>& fn) const {
  return ForEach<v1::Sop>(*db_, "h/", fn);
}

absl::Status RocksDbStore::PutToken(const internal::v1::TokenRecord& record) {
  SOP_ASSIGN_OR_RETURN(TokenName name, ParseTokenName("token.name", record.token().name()));
  return Put(TokenKey(name), record);
}

absl::Status RocksDbStore::ForEachToken(
    const std::function<absl::Status(const internal::v1::TokenRecord&)>& fn) const {
  return ForEach<internal::v1::TokenRecord>(*db_, "t/", fn);
}

absl::Status RocksDbStore::PutOrg(const v1::Org& org) {
  SOP_ASSIGN_OR_RETURN(std::string id, ParseOrgName("org.name", org.name()));
  return Put(OrgKey(id), org);
}

absl::Status RocksDbStore::ForEachOrg(const std::function<absl::Status(const v1::Org&)>& fn) const {
  return ForEach<v1::Org>(*db_, "o/", fn);
}

absl::Status RocksDbStore::PutRoleMap(const v1::RoleMap& map) {
  SOP_ASSIGN_OR_RETURN(CrmMapName name, ParseCrmMapName("role_map.name", map.name(), kRoleMaps));
  return Put(RoleMapKey(name), map);
}

absl::Status RocksDbStore::ForEachRoleMap(
    const std::function<absl::Status(const v1::RoleMap&)>& fn) const {
  return ForEach<v1::RoleMap>(*db_, "rm/", fn);
}

absl::Status RocksDbStore::PutFieldMap(const v1::FieldMap& map) {
  SOP_ASSIGN_OR_RETURN(CrmMapName name, ParseCrmMapName("field_map.name", map.name(), kFieldMaps));
  return Put(FieldMapKey(name), map);
}

absl::Status RocksDbStore::ForEachFieldMap(
    const std::function<absl::Status(const v1::FieldMap&)>& fn) const {
  return ForEach<v1::FieldMap>(*db_, "fm/", fn);
}

absl::Status RocksDbStore::Write(const SopWrite& write) {
  SOP_ASSIGN_OR_RETURN(SopWriteKeys keys, CheckSopWrite(write));
  const std::string revision_key = RevisionKey(keys.sop, keys.revision.revision);
  std::string existing;
  rocksdb::Status probe = db_->Get(rocksdb::ReadOptions(), revision_key, &existing);
  if (probe.ok()) {
    // Another writer made this revision since the head was read.
    return error::EtagMismatch(keys.sop.Full());
  }
  if (!probe.IsNotFound()) SOP_RETURN_IF_ERROR(FromRocksDb(probe, "probe revision"));

  rocksdb::WriteBatch batch;
  SOP_RETURN_IF_ERROR(
      FromRocksDb(batch.Put(HeadKey(keys.sop.org, keys.sop.sop), write.head.SerializeAsString()),
                  "batch head"));
  SOP_RETURN_IF_ERROR(
      FromRocksDb(batch.Put(revision_key, write.revision.SerializeAsString()), "batch revision"));
  if (write.request) {
    SOP_RETURN_IF_ERROR(FromRocksDb(
        batch.Put(RequestKey(keys.sop.org, *write.request), write.head.name()), "batch request"));
  }
  if (write.audit) {
    SOP_RETURN_IF_ERROR(FromRocksDb(batch.Put(AuditKey(keys.sop.org, write.audit->sequence()),
                                              write.audit->SerializeAsString()),
                                    "batch audit event"));
  }
  rocksdb::WriteOptions options;
  options.sync = options_.sync_writes;
  SOP_RETURN_IF_ERROR(write_path_->BeforeWrite());
  return FromRocksDb(db_->Write(options, &batch), "write");
}

absl::StatusOr<v1::Comment> RocksDbStore::GetComment(const CommentName& name) const {
  const std::string key = CommentKey(name);
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), key, &value);
  if (s.IsNotFound()) return error::CommentNotFound(name.Full());
  SOP_RETURN_IF_ERROR(FromRocksDb(s, "get comment"));
  return Decode<v1::Comment>(value, key);
}

absl::StatusOr<std::vector<v1::Comment>> RocksDbStore::ListComments(const SopName& sop) const {
  std::vector<v1::Comment> out;
  SOP_RETURN_IF_ERROR(ForEach<v1::Comment>(*db_, CommentPrefix(sop), [&](v1::Comment&& c) {
    out.push_back(std::move(c));
    return absl::OkStatus();
  }));
  return out;
}

absl::Status RocksDbStore::WriteComment(const CommentWrite& write) {
  SOP_ASSIGN_OR_RETURN(CommentName name, ParseCommentName("comment.name", write.comment.name()));
  SOP_ASSIGN_OR_RETURN(std::string org, CheckAuditEvent(write.audit));
  if (org != name.sop.org) return error::InvalidField("audit.name", "is not in the comment's org");
  rocksdb::WriteBatch batch;
  SOP_RETURN_IF_ERROR(
      FromRocksDb(batch.Put(CommentKey(name), write.comment.SerializeAsString()), "batch comment"));
  SOP_RETURN_IF_ERROR(
      FromRocksDb(batch.Put(AuditKey(org, write.audit.sequence()), write.audit.SerializeAsString()),
                  "batch audit event"));
  rocksdb::WriteOptions options;
  options.sync = options_.sync_writes;
  SOP_RETURN_IF_ERROR(write_path_->BeforeWrite());
  return FromRocksDb(db_->Write(options, &batch), "write comment");
}

absl::StatusOr<v1::SopTemplate> RocksDbStore::GetTemplate(const TemplateName& name) const {
  const std::string key = TemplateKey(name);
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), key, &value);
  if (s.IsNotFound()) return error::TemplateNotFound(name.Full());
  SOP_RETURN_IF_ERROR(FromRocksDb(s, "get template"));
  return Decode<v1::SopTemplate>(value, key);
}

absl::StatusOr<std::vector<v1::SopTemplate>> RocksDbStore::ListTemplates(
    absl::string_view org, absl::string_view start_after, int limit) const {
  const std::string prefix = TemplatePrefix(org);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  std::vector<v1::SopTemplate> out;
  const std::string start = absl::StrCat(prefix, start_after);
  it->Seek(start);
  if (!start_after.empty() && it->Valid() && it->key() == start) it->Next();
  for (; it->Valid() && it->key().starts_with(prefix) && static_cast<int>(out.size()) < limit;
       it->Next()) {
    SOP_ASSIGN_OR_RETURN(v1::SopTemplate tmpl,
                         Decode<v1::SopTemplate>(it->value().ToString(), it->key().ToString()));
    out.push_back(std::move(tmpl));
  }
  SOP_RETURN_IF_ERROR(FromRocksDb(it->status(), "list templates"));
  return out;
}

absl::Status RocksDbStore::WriteTemplate(const TemplateWrite& write) {
  SOP_ASSIGN_OR_RETURN(TemplateName name, CheckTemplateWrite(write));
  rocksdb::WriteBatch batch;
  if (write.put) {
    SOP_RETURN_IF_ERROR(FromRocksDb(batch.Put(TemplateKey(name), write.put->SerializeAsString()),
                                    "batch template"));
  } else {
    SOP_RETURN_IF_ERROR(FromRocksDb(batch.Delete(TemplateKey(name)), "batch template delete"));
  }
  SOP_RETURN_IF_ERROR(FromRocksDb(
      batch.Put(AuditKey(name.org, write.audit.sequence()), write.audit.SerializeAsString()),
      "batch audit event"));
  rocksdb::WriteOptions options;
  options.sync = options_.sync_writes;
  SOP_RETURN_IF_ERROR(write_path_->BeforeWrite());
  return FromRocksDb(db_->Write(options, &batch), "write template");
}

absl::StatusOr<std::vector<v1::AuditEvent>> RocksDbStore::ListAuditEvents(absl::string_view org,
                                                                          int64_t after,
                                                                          int limit) const {
  const std::string prefix = AuditPrefix(org);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  std::vector<v1::AuditEvent> out;
  it->Seek(AuditKey(org, after + 1));
  for (; it->Valid() && it->key().starts_with(prefix) && static_cast<int>(out.size()) < limit;
       it->Next()) {
    SOP_ASSIGN_OR_RETURN(v1::AuditEvent event,
                         Decode<v1::AuditEvent>(it->value().ToString(), it->key().ToString()));
    out.push_back(std::move(event));
  }
  SOP_RETURN_IF_ERROR(FromRocksDb(it->status(), "list audit events"));
  return out;
}

absl::StatusOr<std::optional<v1::AuditEvent>> RocksDbStore::LastAuditEvent(
    absl::string_view org) const {
  const std::string prefix = AuditPrefix(org);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  // '~' follows every digit: this lands on the org's last event, if any.
  it->SeekForPrev(absl::StrCat(prefix, "~"));
  if (!it->Valid() || !it->key().starts_with(prefix)) {
    SOP_RETURN_IF_ERROR(FromRocksDb(it->status(), "last audit event"));
    return std::nullopt;
  }
  return Decode<v1::AuditEvent>(it->value().ToString(), it->key().ToString());
}

absl::StatusOr<std::vector<bool>> RocksDbStore::Seen(absl::string_view org,
                                                     absl::Span<const std::string> keys) const {
  // Each key's id key, then its mark key.
  std::vector<std::string> lookups;
  lookups.reserve(2 * keys.size());
  for (const std::string& key : keys) {
    lookups.push_back(EventIdKey(org, key));
    lookups.push_back(MarkKey(org, key));
  }
  const std::vector<rocksdb::Slice> slices(lookups.begin(), lookups.end());
  const std::vector<rocksdb::ColumnFamilyHandle*> families(lookups.size(), events_);
  std::vector<std::string> values;
  const std::vector<rocksdb::Status> statuses =
      db_->MultiGet(rocksdb::ReadOptions(), families, slices, &values);
  std::vector<bool> seen(keys.size(), false);
  for (size_t i = 0; i < statuses.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    SOP_RETURN_IF_ERROR(FromRocksDb(statuses[i], "seen"));
    seen[i / 2] = true;
  }
  return seen;
}

absl::Status RocksDbStore::Write(const EventWrite& write) {
  SOP_RETURN_IF_ERROR(CheckEventWrite(write));
  rocksdb::WriteBatch batch;
  for (const internal::v1::StoredEvent& event : write.events) {
    const int64_t micros = EventMicros(event);
    const std::string& id = event.event().event_id();
    SOP_RETURN_IF_ERROR(
        FromRocksDb(batch.Put(events_, EventKey(write.org, micros, id), event.SerializeAsString()),
                    "batch event"));
    SOP_RETURN_IF_ERROR(FromRocksDb(
        batch.Put(events_, EventIdKey(write.org, id), absl::StrCat(micros)), "batch event id"));
  }
  const std::string marks_micros = absl::StrCat(absl::ToUnixMicros(write.marks_time));
  for (const std::string& mark : write.marks) {
    SOP_RETURN_IF_ERROR(
        FromRocksDb(batch.Put(events_, MarkKey(write.org, mark), marks_micros), "batch mark"));
  }
  for (const AggregateDelta& delta : write.deltas) {
    SOP_RETURN_IF_ERROR(FromRocksDb(batch.Merge(events_,
                                                absl::StrCat(AggregateDayKey(write.org, delta.day),
                                                             delta.dimensions.SerializeAsString()),
                                                delta.delta.SerializeAsString()),
                                    "batch aggregate"));
  }
  rocksdb::WriteOptions options;
  options.sync = options_.sync_writes;
  SOP_RETURN_IF_ERROR(write_path_->BeforeWrite());
  return FromRocksDb(db_->Write(options, &batch), "write events");
}

absl::Status RocksDbStore::ForEachAggregate(
    absl::string_view org, DayNumber first, DayNumber last,
    const std::function<absl::Status(DayNumber, const internal::v1::AggregateDimensions&,
                                     const internal::v1::EventAggregate&)>& fn) const {
  // Keys hold days in [0, kLastDayNumber] (CheckEventWrite).
  first = std::max<DayNumber>(first, 0);
  last = std::min<DayNumber>(last, kLastDayNumber);
  if (last < first) return absl::OkStatus();
  const std::string prefix = AggregatePrefix(org);
  std::string end = last < kLastDayNumber ? AggregateDayKey(org, last + 1) : prefix;
  if (last == kLastDayNumber) ++end.back();  // past the org's g/ keys
  const size_t day_start = prefix.size();
  constexpr size_t kDayDigits = 8;
  internal::v1::AggregateDimensions dimensions;
  internal::v1::EventAggregate aggregate;
  return ScanRange(
      *db_, events_, AggregateDayKey(org, first), end,
      [&](const rocksdb::Slice& key, const rocksdb::Slice& value) -> absl::Status {
        const absl::string_view k(key.data(), key.size());
        DayNumber day = 0;
        if (k.size() < day_start + kDayDigits + 1 ||
            !absl::SimpleAtoi(k.substr(day_start, kDayDigits), &day)) {
          return error::Storage(absl::StatusCode::kDataLoss, "decode", key.ToString());
        }
        const absl::string_view serialized = k.substr(day_start + kDayDigits + 1);
        if (!dimensions.ParseFromArray(serialized.data(), static_cast<int>(serialized.size()))) {
          return error::Storage(absl::StatusCode::kDataLoss, "decode", key.ToString());
        }
        SOP_RETURN_IF_ERROR(DecodeInto(key, value, aggregate));
        return fn(day, dimensions, aggregate);
      });
}

absl::Status RocksDbStore::ForEachEvent(
    absl::string_view org, absl::Time since, absl::Time until,
    const std::function<absl::Status(const internal::v1::StoredEvent&)>& fn) const {
  // Keys hold times from 1970 on (CheckEventWrite).
  const int64_t since_micros = std::max<int64_t>(absl::ToUnixMicros(since), 0);
  const int64_t until_micros = absl::ToUnixMicros(until);
  if (until_micros <= since_micros) return absl::OkStatus();
  internal::v1::StoredEvent event;
  return ScanRange(*db_, events_, EventTimeKey(org, since_micros), EventTimeKey(org, until_micros),
                   [&](const rocksdb::Slice& key, const rocksdb::Slice& value) -> absl::Status {
                     SOP_RETURN_IF_ERROR(DecodeInto(key, value, event));
                     return fn(event);
                   });
}

absl::Status RocksDbStore::CompactEventsForTesting() {
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  return FromRocksDb(db_->CompactRange(options, events_, nullptr, nullptr), "compact events");
}

std::string RocksDbStore::AuditKeyForTesting(absl::string_view org, int64_t sequence) {
  return AuditKey(org, sequence);
}

absl::Status RocksDbStore::PutRawForTesting(const std::string& key, const std::string& value) {
  rocksdb::WriteOptions options;
  options.sync = true;
  return FromRocksDb(db_->Put(options, key, value), "raw put");
}

absl::Status RocksDbStore::DeleteRawForTesting(const std::string& key) {
  rocksdb::WriteOptions options;
  options.sync = true;
  return FromRocksDb(db_->Delete(options, key), "raw delete");
}

absl::StatusOr<std::string> RocksDbStore::GetRawForTesting(const std::string& key) const {
  std::string value;
  SOP_RETURN_IF_ERROR(FromRocksDb(db_->Get(rocksdb::ReadOptions(), key, &value), "raw get"));
  return value;
}

absl::Status RocksDbStore::WriteAudited(const AuthWrite& write) {
  SOP_ASSIGN_OR_RETURN(std::string audit_org, CheckAuditEvent(write.audit));
  rocksdb::WriteBatch batch;
  auto put = [&batch](const std::string& key, const google::protobuf::Message& value) {
    return FromRocksDb(batch.Put(key, value.SerializeAsString()), "batch");
  };
  if (write.token) {
    SOP_ASSIGN_OR_RETURN(TokenName name, ParseTokenName("token.name", write.token->token().name()));
    SOP_RETURN_IF_ERROR(put(TokenKey(name), *write.token));
  }
  if (write.org) {
    SOP_ASSIGN_OR_RETURN(std::string id, ParseOrgName("org.name", write.org->name()));
    SOP_RETURN_IF_ERROR(put(OrgKey(id), *write.org));
  }
  if (write.role_map) {
    SOP_ASSIGN_OR_RETURN(CrmMapName name,
                         ParseCrmMapName("role_map.name", write.role_map->name(), kRoleMaps));
    SOP_RETURN_IF_ERROR(put(RoleMapKey(name), *write.role_map));
  }
  if (write.field_map) {
    SOP_ASSIGN_OR_RETURN(CrmMapName name,
                         ParseCrmMapName("field_map.name", write.field_map->name(), kFieldMaps));
    SOP_RETURN_IF_ERROR(put(FieldMapKey(name), *write.field_map));
  }
  SOP_RETURN_IF_ERROR(put(AuditKey(audit_org, write.audit.sequence()), write.audit));
  rocksdb::WriteOptions options;
  options.sync = options_.sync_writes;
  SOP_RETURN_IF_ERROR(write_path_->BeforeWrite());
  return FromRocksDb(db_->Write(options, &batch), "write");
}

uint64_t RocksDbStore::LatestSequenceNumberForTesting() const {
  return db_->GetLatestSequenceNumber();
}

absl::StatusOr<std::vector<std::vector<std::string>>> RocksDbStore::BatchesSinceForTesting(
    uint64_t sequence) const {
  // Collects the keys a batch puts or merges, in any column family.
  struct KeyCollector : rocksdb::WriteBatch::Handler {
    std::vector<std::string> keys;
    rocksdb::Status PutCF(uint32_t, const rocksdb::Slice& key, const rocksdb::Slice&) override {
      keys.push_back(key.ToString());
      return rocksdb::Status::OK();
    }
    rocksdb::Status MergeCF(uint32_t, const rocksdb::Slice& key, const rocksdb::Slice&) override {
      keys.push_back(key.ToString());
      return rocksdb::Status::OK();
    }
  };
  std::unique_ptr<rocksdb::TransactionLogIterator> it;
  SOP_RETURN_IF_ERROR(FromRocksDb(db_->GetUpdatesSince(sequence + 1, &it), "read wal"));
  std::vector<std::vector<std::string>> batches;
  for (; it->Valid(); it->Next()) {
    rocksdb::BatchResult result = it->GetBatch();
    KeyCollector collector;
    SOP_RETURN_IF_ERROR(FromRocksDb(result.writeBatchPtr->Iterate(&collector), "iterate wal"));
    batches.push_back(std::move(collector.keys));
  }
  return batches;
}

std::vector<std::pair<std::string, uint64_t>> RocksDbStore::EngineStats() const {
  std::vector<std::pair<std::string, uint64_t>> stats;
  for (const char* name :
       {"rocksdb.estimate-num-keys", "rocksdb.total-sst-files-size", "rocksdb.live-sst-files-size",
        "rocksdb.cur-size-all-mem-tables", "rocksdb.estimate-pending-compaction-bytes"}) {
    uint64_t value = 0;
    if (db_->GetAggregatedIntProperty(name, &value)) stats.emplace_back(name, value);
  }
  for (const char* name : {"rocksdb.background-errors", "rocksdb.is-write-stopped",
                           "rocksdb.num-running-compactions", "rocksdb.num-running-flushes"}) {
    uint64_t value = 0;
    if (db_->GetIntProperty(name, &value)) stats.emplace_back(name, value);
  }
  return stats;
}

namespace {

std::string WebhookKey(const WebhookKeyParts& p) {
  return absl::StrCat("wh/", p.org, "/", p.webhook);
}
std::string DeliveryKey(const WebhookKeyParts& p) {
  return absl::StrCat("wd/", p.org, "/", p.webhook, "/", p.delivery);
}

}  // namespace

absl::Status RocksDbStore::PutWebhook(const v1::Webhook& webhook) {
  WebhookKeyParts parts;
  SOP_RETURN_IF_ERROR(SplitWebhookName("webhook.name", webhook.name(), &parts));
  if (!parts.delivery.empty()) {
    return error::InvalidResourceName("webhook.name", webhook.name(),
                                      "orgs/{org}/webhooks/{webhook}");
  }
  return Put(WebhookKey(parts), webhook);
}

absl::Status RocksDbStore::DeleteWebhook(absl::string_view name) {
  WebhookKeyParts parts;
  SOP_RETURN_IF_ERROR(SplitWebhookName("name", name, &parts));
  parts.delivery.clear();
  rocksdb::WriteBatch batch;
  SOP_RETURN_IF_ERROR(FromRocksDb(batch.Delete(WebhookKey(parts)), "batch webhook"));
  const std::string prefix = absl::StrCat("wd/", parts.org, "/", parts.webhook, "/");
  SOP_RETURN_IF_ERROR(Scan(*db_, prefix, [&](const rocksdb::Slice& key, const rocksdb::Slice&) {
    return FromRocksDb(batch.Delete(key), "batch delivery");
  }));
  rocksdb::WriteOptions options;
  options.sync = options_.sync_writes;
  SOP_RETURN_IF_ERROR(write_path_->BeforeWrite());
  return FromRocksDb(db_->Write(options, &batch), "delete webhook");
}

absl::Status RocksDbStore::ForEachWebhook(
    const std::function<absl::Status(const v1::Webhook&)>& fn) const {
  return ForEach<v1::Webhook>(*db_, "wh/", fn);
}

absl::Status RocksDbStore::WriteDeliveries(const std::vector<v1::WebhookDelivery>& put,
                                           const std::vector<std::string>& erase) {
  rocksdb::WriteBatch batch;
  WebhookKeyParts parts;
  for (const std::string& name : erase) {
    SOP_RETURN_IF_ERROR(SplitWebhookName("delivery.name", name, &parts));
    SOP_RETURN_IF_ERROR(FromRocksDb(batch.Delete(DeliveryKey(parts)), "batch delivery"));
  }
  for (const v1::WebhookDelivery& delivery : put) {
    SOP_RETURN_IF_ERROR(SplitWebhookName("delivery.name", delivery.name(), &parts));
    if (parts.delivery.empty()) {
      return error::InvalidResourceName("delivery.name", delivery.name(),
                                        "orgs/{org}/webhooks/{webhook}/deliveries/{delivery}");
    }
    SOP_RETURN_IF_ERROR(
        FromRocksDb(batch.Put(DeliveryKey(parts), delivery.SerializeAsString()), "batch delivery"));
  }
  rocksdb::WriteOptions options;
  options.sync = options_.sync_writes;
  SOP_RETURN_IF_ERROR(write_path_->BeforeWrite());
  return FromRocksDb(db_->Write(options, &batch), "write deliveries");
}

absl::Status RocksDbStore::ForEachDelivery(
    const std::function<absl::Status(const v1::WebhookDelivery&)>& fn) const {
  return ForEach<v1::WebhookDelivery>(*db_, "wd/", fn);
}

absl::Status RocksDbStore::PutReviewDueMark(absl::string_view sop, absl::Time due) {
  SOP_ASSIGN_OR_RETURN(SopName name, ParseSopName("sop", sop));
  return Put(absl::StrCat("wr/", name.org, "/", name.sop), ToProtoTimestamp(due));
}

absl::Status RocksDbStore::ForEachReviewDueMark(
    const std::function<absl::Status(absl::string_view sop, absl::Time due)>& fn) const {
  google::protobuf::Timestamp time;
  return Scan(*db_, "wr/", [&](const rocksdb::Slice& key, const rocksdb::Slice& value) {
    SOP_RETURN_IF_ERROR(DecodeInto(key, value, time));
    const absl::string_view k(key.data(), key.size());
    const size_t slash = k.find('/', 3);
    if (slash == absl::string_view::npos) {
      return error::Storage(absl::StatusCode::kDataLoss, "decode", key.ToString());
    }
    return fn(SopName{std::string(k.substr(3, slash - 3)), std::string(k.substr(slash + 1))}.Full(),
              FromProtoTimestamp(time));
  });
}

}  // namespace sopsidebar
