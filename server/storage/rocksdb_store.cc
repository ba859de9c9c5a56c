#include "server/storage/rocksdb_store.h"

#include <algorithm>
#include <cstdarg>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/errors.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "rocksdb/compaction_filter.h"
#include "rocksdb/db.h"
#include "rocksdb/merge_operator.h"
#include "rocksdb/options.h"
#include "rocksdb/transaction_log.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/write_batch.h"

namespace sopsidebar {
namespace {

std::string HeadKey(absl::string_view org, absl::string_view sop) {
  return absl::StrCat("h/", org, "/", sop);
}
std::string HeadPrefix(absl::string_view org) { return absl::StrCat("h/", org, "/"); }

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
    code = absl::StatusCode::kResourceExhausted;
  } else if (s.IsIOError() && absl::StrContains(s.ToString(), "lock")) {
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
    return error::Storage(absl::StatusCode::kFailedPrecondition,
                          absl::StrCat("create ", path), ec.message());
  }
  rocksdb::Options options;
  options.create_if_missing = true;
  // A database from before the events column family gains it.
  options.create_missing_column_families = true;
  options.paranoid_checks = true;
  rocksdb::ColumnFamilyOptions events_options(options);
  events_options.merge_operator = std::make_shared<AggregateMergeOperator>();
  events_options.compaction_filter_factory =
      std::make_shared<RetentionFilterFactory>(store_options.event_retention, store_options.now);
  const std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions(options)},
      {kEventsFamily, events_options}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  SOP_RETURN_IF_ERROR(
      FromRocksDb(rocksdb::DB::Open(rocksdb::DBOptions(options), path, families, &handles, &db),
                  absl::StrCat("open ", path)));
  std::unique_ptr<rocksdb::DB> owned(db);
  // The default family is reached through DefaultColumnFamily().
  SOP_RETURN_IF_ERROR(
      FromRocksDb(owned->DestroyColumnFamilyHandle(handles[0]), "release default family"));
  return std::unique_ptr<RocksDbStore>(
      new RocksDbStore(std::move(owned), handles[1], std::move(store_options)));
}

RocksDbStore::RocksDbStore(std::unique_ptr<rocksdb::DB> db, rocksdb::ColumnFamilyHandle* events,
                           Options options)
    : db_(std::move(db)), events_(events), options_(std::move(options)) {}

RocksDbStore::~RocksDbStore() {
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
    SOP_ASSIGN_OR_RETURN(v1::Sop head, Decode<v1::Sop>(it->value().ToString(),
                                                       it->key().ToString()));
    out.push_back(std::move(head));
  }
  SOP_RETURN_IF_ERROR(FromRocksDb(it->status(), "list heads"));
  return out;
}

absl::StatusOr<std::vector<v1::SopRevision>> RocksDbStore::ListRevisions(
    const SopName& sop, int64_t before, int limit) const {
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
  SOP_ASSIGN_OR_RETURN(CrmMapName name,
                       ParseCrmMapName("field_map.name", map.name(), kFieldMaps));
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
    return error::InvalidField("revision.name", "already exists; revisions are immutable");
  }
  if (!probe.IsNotFound()) SOP_RETURN_IF_ERROR(FromRocksDb(probe, "probe revision"));

  rocksdb::WriteBatch batch;
  SOP_RETURN_IF_ERROR(FromRocksDb(
      batch.Put(HeadKey(keys.sop.org, keys.sop.sop), write.head.SerializeAsString()),
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
  return FromRocksDb(db_->Write(options, &batch), "write comment");
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

}  // namespace sopsidebar
