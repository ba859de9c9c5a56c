#include "server/storage/rocksdb_store.h"

#include <filesystem>
#include <memory>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/transaction_log.h"
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

// c/{org}/{user}/{request_id}. The org holds no '/' and the user's are
// escaped (with '%', the escape itself), so the key splits one way only,
// whatever the request id holds. sopd 0.1 kept q/{org}/{request_id}, one id
// space per org; those keys are not read: they would let a user's id match
// another user's create.
std::string RequestKey(absl::string_view org, const CreateRequest& request) {
  std::string key = absl::StrCat("c/", org, "/");
  for (char c : request.user_id) {
    if (c == '%') {
      key += "%25";
    } else if (c == '/') {
      key += "%2F";
    } else {
      key.push_back(c);
    }
  }
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

// Calls `visit(key, value)` with every entry whose key starts with `prefix`
// (non-empty), in key order, until it returns an error, which is returned.
// The slices are valid during the call only. A scan reads each block once,
// so it keeps them out of the block cache (where they would evict the blocks
// point reads use) and reads the files ahead in large chunks.
template <typename Visit>
absl::Status Scan(rocksdb::DB& db, absl::string_view prefix, const Visit& visit) {
  constexpr size_t kReadahead = 2 << 20;
  std::string end(prefix);
  ++end.back();  // the first key past the prefix (prefixes end in '/')
  const rocksdb::Slice start(prefix.data(), prefix.size());
  const rocksdb::Slice upper_bound(end);
  rocksdb::ReadOptions options;
  options.fill_cache = false;
  options.readahead_size = kReadahead;
  options.iterate_upper_bound = &upper_bound;
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(options));
  for (it->Seek(start); it->Valid(); it->Next()) {
    SOP_RETURN_IF_ERROR(visit(it->key(), it->value()));
  }
  return FromRocksDb(it->status(), absl::StrCat("scan ", prefix));
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

}  // namespace

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
  options.paranoid_checks = true;
  rocksdb::DB* db = nullptr;
  SOP_RETURN_IF_ERROR(FromRocksDb(rocksdb::DB::Open(options, path, &db),
                                  absl::StrCat("open ", path)));
  return std::unique_ptr<RocksDbStore>(
      new RocksDbStore(std::unique_ptr<rocksdb::DB>(db), store_options));
}

RocksDbStore::RocksDbStore(std::unique_ptr<rocksdb::DB> db, Options options)
    : db_(std::move(db)), options_(options) {}

RocksDbStore::~RocksDbStore() {
  // A bulk load (unsynced writes) ends with its data in sorted files, so the
  // next open need not replay a large write-ahead log.
  if (!options_.sync_writes) db_->Flush(rocksdb::FlushOptions()).PermitUncheckedError();
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
  // Collects the keys a batch puts.
  struct KeyCollector : rocksdb::WriteBatch::Handler {
    std::vector<std::string> keys;
    void Put(const rocksdb::Slice& key, const rocksdb::Slice&) override {
      keys.push_back(key.ToString());
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
