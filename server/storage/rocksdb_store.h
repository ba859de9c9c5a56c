// SopStore and AuthStore on one RocksDB database: the durable store behind
// sopd.
//
// Key schema (ids never contain '/'; user ids may, so they are escaped):
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
// Every Write is one WriteBatch written with sync, so a change is either
// fully on disk when Write returns OK or not there at all after a crash.
// Scans (ForEach*) bypass the block cache; ForEachHead parses ahead on a
// thread of its own when the process may use more than one CPU.
//
// Thread-safe.
#ifndef SOPSIDEBAR_SERVER_STORAGE_ROCKSDB_STORE_H_
#define SOPSIDEBAR_SERVER_STORAGE_ROCKSDB_STORE_H_

#include <memory>
#include <string>

#include "server/domain/store/auth_store.h"
#include "server/domain/store/sop_store.h"

namespace rocksdb {
class DB;
}

namespace sopsidebar {

class RocksDbStore : public SopStore, public AuthStore {
 public:
  struct Options {
    // Sync every write to disk before it returns (the server's durability
    // promise). Only a bulk loader that can start over turns it off.
    bool sync_writes = true;
  };

  // Opens (creating if missing, parents included) the database in `path`.
  // FAILED_PRECONDITION when another process holds it; DATA_LOSS when it is
  // corrupt; other storage errors as reported.
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
  absl::StatusOr<std::vector<v1::SopRevision>> ListRevisions(const SopName& sop,
                                                             int64_t before,
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
  RocksDbStore(std::unique_ptr<rocksdb::DB> db, Options options);

  // One synced put.
  absl::Status Put(const std::string& key, const google::protobuf::Message& value);

  std::unique_ptr<rocksdb::DB> db_;
  const Options options_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_STORAGE_ROCKSDB_STORE_H_
