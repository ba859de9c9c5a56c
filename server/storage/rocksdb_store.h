// SopStore, AuthStore, EventStore, WebhookStore and TemplateStore on one RocksDB
// database: the durable store behind sopd.
//
// Key schema of the default column family (ids never contain '/'; user ids
// may, so they are escaped):
//   h/{org}/{sop}                    -> v1::Sop          (head)
//   r/{org}/{sop}/{revision:016d}    -> v1::SopRevision  (immutable)
//   c/{org}/{user}/{request_id}      -> SOP name         (idempotent creates,
//                                       per caller; {user} with '%' and '/'
//                                       percent-encoded)
//   t/{org}/{token}                  -> TokenRecord      (hash of the secret)
//   o/{org}                          -> v1::Org
//   m/{org}/{sop}/{comment}          -> v1::Comment
//   a/{org}/{sequence:020d}          -> v1::AuditEvent   (immutable; the
//                                       org's hash chain, written in the
//                                       batch of the change it records)
//   wh/{org}/{webhook}               -> v1::Webhook      (WebhookStore; its
//                                       secret included)
//   wd/{org}/{webhook}/{delivery}    -> v1::WebhookDelivery
//   wr/{org}/{sop}                   -> google.protobuf.Timestamp (the
//                                       review due time REVIEW_DUE was
//                                       last emitted for)
//   st/{org}/{template}              -> v1::SopTemplate
// and of the "events" column family (EventStore; times are Unix
// microseconds, written in decimal):
//   e/{org}/{event_time:020d}/{event_id} -> StoredEvent  (raw events, by time)
//   i/{org}/{event_id}               -> event time       (Seen's point lookup)
//   k/{org}/{mark}                   -> marks_time       ({mark} escaped as
//                                       {user} above)
//   g/{org}/{day:08d}/{dimensions}   -> EventAggregate   ({dimensions} the
//                                       serialized AggregateDimensions)
// g/ values are written only as merge operands, which a merge operator adds
// up (AddAggregate), so concurrent writers never read-modify-write them. A
// compaction filter drops the e/, i/ and k/ entries whose time is older than
// now - event_retention; g/ entries are kept for ever. A database from before
// the events column family opens and gains it.
//
// Every Write is one WriteBatch written with sync, so a change is either
// fully on disk when Write returns OK or not there at all after a crash.
// Recovery after a crash tolerates only an incomplete last record of the
// write-ahead log (the write that was not acknowledged); any other damage
// fails the open rather than dropping acknowledged writes. Every read
// verifies block checksums, and Open reads every table file once
// (Options::verify_checksums_at_open), so a corrupt block is reported, never
// served.
//
// Write path: when a write fails because the disk is full, the store stops
// writing (every write is RESOURCE_EXHAUSTED, reads go on) and retries on a
// thread of its own until the engine resumes: writes then succeed again
// without a restart (write_path_degraded() says which state it is in).
// Scans (ForEach*) bypass the block cache; ForEachHead parses ahead on a
// thread of its own when the process may use more than one CPU.
//
// Thread-safe.
#ifndef SOPSIDEBAR_SERVER_STORAGE_ROCKSDB_STORE_H_
#define SOPSIDEBAR_SERVER_STORAGE_ROCKSDB_STORE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/domain/store/auth_store.h"
#include "server/domain/store/checkpoint_store.h"
#include "server/domain/store/event_store.h"
#include "server/domain/store/sop_store.h"
#include "server/domain/store/template_store.h"
#include "server/domain/store/webhook_store.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class Env;
}  // namespace rocksdb

namespace sopsidebar {

class RocksDbStore : public SopStore,
                     public AuthStore,
                     public EventStore,
                     public CheckpointStore,
                     public WebhookStore,
                     public TemplateStore {
 public:
  struct Options {
    // Sync every write to disk before it returns (the server's durability
    // promise). Only a bulk loader that can start over turns it off.
    bool sync_writes = true;
    // Raw events, their ids and marks whose time is older than now minus
    // this are dropped when compaction next rewrites them (so Seen and
    // ForEachEvent may see them a while longer). Aggregates are kept.
    absl::Duration event_retention = absl::Hours(24 * 90);
    // The clock the retention is measured by (default absl::Now). RocksDB's
    // background threads call it too, so it must be thread-safe.
    std::function<absl::Time()> now = absl::Now;
    // The Env (file system) the database lives on; null (the default) is
    // the local file system. Tests inject a fault-injecting one
    // (power_cut_file_system.h); the store keeps it alive while open.
    std::shared_ptr<rocksdb::Env> env;
    // Create the database when `path` holds none. sopd turns it off for a
    // data dir that already held a database, so that a missing CURRENT file
    // fails the open instead of starting an empty database over the old one.
    bool create_if_missing = true;
    // Read every table file once at open, verifying each block's checksum
    // (DB::VerifyChecksum): a damaged block fails the open instead of being
    // found by a later read. Costs a read of the whole database.
    bool verify_checksums_at_open = true;
    // Called with true when the write path stops (a full disk) and with
    // false when it works again; on a storage thread, never with a store
    // lock held. May be empty.
    std::function<void(bool degraded, const absl::Status& cause)> on_write_path_change;
    // How often a stopped write path is retried.
    absl::Duration write_retry_interval = absl::Milliseconds(200);
  };

  // Opens (creating if missing and options.create_if_missing, parents
  // included) the database in `path`. FAILED_PRECONDITION when another
  // process holds it, when a file or dir is not readable and writable, when
  // it lacks its CURRENT file and may not be created, or when a newer RocksDB
  // than sopd's last wrote it (its OPTIONS file says); DATA_LOSS when it is
  // corrupt (the message names the file when RocksDB does); other storage
  // errors as reported.
  static absl::StatusOr<std::unique_ptr<RocksDbStore>> Open(const std::string& path,
                                                            Options options);
  static absl::StatusOr<std::unique_ptr<RocksDbStore>> Open(const std::string& path) {
    return Open(path, Options());
  }
  ~RocksDbStore() override;

  absl::StatusOr<v1::Sop> GetHead(const SopName& name) const override;
  absl::StatusOr<v1::SopRevision> GetRevision(const RevisionName& name) const override;
  absl::StatusOr<std::vector<v1::Sop>> ListHeads(absl::string_view org,
                                                 absl::string_view start_after,
                                                 int limit) const override;
  absl::StatusOr<std::vector<v1::SopRevision>> ListRevisions(const SopName& sop, int64_t before,
                                                             int limit) const override;
  absl::StatusOr<std::optional<std::string>> FindRequest(
      absl::string_view org, const CreateRequest& request) const override;
  absl::Status ForEachHead(const std::function<absl::Status(v1::Sop&&)>& fn) const override;
  absl::Status Write(const SopWrite& write) override;
  absl::StatusOr<v1::Comment> GetComment(const CommentName& name) const override;
  absl::StatusOr<std::vector<v1::Comment>> ListComments(const SopName& sop) const override;
  absl::Status WriteComment(const CommentWrite& write) override;
  absl::StatusOr<std::vector<v1::AuditEvent>> ListAuditEvents(absl::string_view org, int64_t after,
                                                              int limit) const override;
  absl::StatusOr<std::optional<v1::AuditEvent>> LastAuditEvent(
      absl::string_view org) const override;
  // Key and size estimates summed over the column families; background
  // errors, stopped writes and running compactions of the database.
  std::vector<std::pair<std::string, uint64_t>> EngineStats() const override;

  absl::Status WriteAudited(const AuthWrite& write) override;
  absl::Status PutToken(const internal::v1::TokenRecord& record) override;
  absl::Status ForEachToken(
      const std::function<absl::Status(const internal::v1::TokenRecord&)>& fn) const override;
  absl::Status PutOrg(const v1::Org& org) override;
  absl::Status ForEachOrg(const std::function<absl::Status(const v1::Org&)>& fn) const override;
  absl::Status PutRoleMap(const v1::RoleMap& map) override;
  absl::Status ForEachRoleMap(
      const std::function<absl::Status(const v1::RoleMap&)>& fn) const override;
  absl::Status PutFieldMap(const v1::FieldMap& map) override;
  absl::Status ForEachFieldMap(
      const std::function<absl::Status(const v1::FieldMap&)>& fn) const override;

  absl::StatusOr<std::vector<bool>> Seen(absl::string_view org,
                                         absl::Span<const std::string> keys) const override;
  absl::Status Write(const EventWrite& write) override;
  absl::Status ForEachAggregate(
      absl::string_view org, DayNumber first, DayNumber last,
      const std::function<absl::Status(DayNumber, const internal::v1::AggregateDimensions&,
                                       const internal::v1::EventAggregate&)>& fn) const override;
  absl::Status ForEachEvent(
      absl::string_view org, absl::Time since, absl::Time until,
      const std::function<absl::Status(const internal::v1::StoredEvent&)>& fn) const override;

  absl::Status PutWebhook(const v1::Webhook& webhook) override;
  absl::Status DeleteWebhook(absl::string_view name) override;
  absl::Status ForEachWebhook(
      const std::function<absl::Status(const v1::Webhook&)>& fn) const override;
  absl::Status WriteDeliveries(const std::vector<v1::WebhookDelivery>& put,
                               const std::vector<std::string>& erase) override;
  absl::Status ForEachDelivery(
      const std::function<absl::Status(const v1::WebhookDelivery&)>& fn) const override;
  absl::Status PutReviewDueMark(absl::string_view sop, absl::Time due) override;
  absl::Status ForEachReviewDueMark(
      const std::function<absl::Status(absl::string_view sop, absl::Time due)>& fn) const override;
  absl::StatusOr<v1::SopTemplate> GetTemplate(const TemplateName& name) const override;
  absl::StatusOr<std::vector<v1::SopTemplate>> ListTemplates(absl::string_view org,
                                                             absl::string_view start_after,
                                                             int limit) const override;
  absl::Status WriteTemplate(const TemplateWrite& write) override;

  // Whether writes are refused for now (the disk was full) while the store
  // retries them. Reads work either way.
  bool write_path_degraded() const;
  // A RocksDB checkpoint (rocksdb::Checkpoint, after a flush): sorted files
  // hard-linked where `dir` is on the same filesystem, copied otherwise,
  // with a MANIFEST and OPTIONS file; counted by opening it read-only.
  absl::StatusOr<v1::BackupContents> Checkpoint(const std::string& dir) override;

  // Test hook: compacts the whole events column family now (memtable
  // included), so the retention filter runs over every entry.
  absl::Status CompactEventsForTesting();

  // Test hooks for tamper tests: the key audit event `sequence` of `org` is
  // stored under, and raw puts and deletes that bypass every check, as
  // someone editing the database directly would.
  static std::string AuditKeyForTesting(absl::string_view org, int64_t sequence);
  absl::Status PutRawForTesting(const std::string& key, const std::string& value);
  absl::Status DeleteRawForTesting(const std::string& key);
  absl::StatusOr<std::string> GetRawForTesting(const std::string& key) const;

  // Test hooks: the latest sequence number, and the keys of each write batch
  // in the write-ahead log after `sequence`, one entry per batch.
  uint64_t LatestSequenceNumberForTesting() const;
  absl::StatusOr<std::vector<std::vector<std::string>>> BatchesSinceForTesting(
      uint64_t sequence) const;

 private:
  class WritePath;
  RocksDbStore(std::unique_ptr<rocksdb::DB> db, rocksdb::ColumnFamilyHandle* events,
               std::shared_ptr<WritePath> write_path, Options options);

  // One synced put.
  absl::Status Put(const std::string& key, const google::protobuf::Message& value);

  std::unique_ptr<rocksdb::DB> db_;
  // The "events" column family; owned, destroyed before db_ closes.
  rocksdb::ColumnFamilyHandle* const events_;
  const Options options_;
  // Shared with the listener RocksDB reports background errors to; its
  // thread resumes a stopped write path and ends before db_ closes.
  const std::shared_ptr<WritePath> write_path_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_STORAGE_ROCKSDB_STORE_H_
