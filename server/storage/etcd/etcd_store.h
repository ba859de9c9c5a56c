// SopStore, AuthStore, TemplateStore and WebhookStore on an etcd v3 cluster
// (--store=etcd): one logical store that several sopd nodes share. Panel
// events are not here: each node keeps them in its own RocksDB store.
//
// Keys, all under the prefix P (--etcd-prefix, "/sopsidebar/"), one
// per-org prefix each ({user} escaped as in the RocksDB store):
//   P orgs/{org}/org                       -> v1::Org
//   P orgs/{org}/h/{sop}                   -> v1::Sop          (head)
//   P orgs/{org}/r/{sop}/{revision:016d}   -> v1::SopRevision
//   P orgs/{org}/c/{user}/{request_id}     -> SOP name
//   P orgs/{org}/t/{token}                 -> TokenRecord
//   P orgs/{org}/rm/{crm}, fm/{crm}        -> v1::RoleMap, v1::FieldMap
//   P orgs/{org}/m/{sop}/{comment}         -> v1::Comment
//   P orgs/{org}/a/{sequence:020d}         -> v1::AuditEvent
//   P orgs/{org}/st/{template}             -> v1::SopTemplate
//   P orgs/{org}/wh/{webhook}              -> v1::Webhook
//   P orgs/{org}/wd/{webhook}/{delivery}   -> v1::WebhookDelivery
//   P orgs/{org}/wr/{sop}                  -> google.protobuf.Timestamp
// Values are the messages' protobuf bytes.
//
// Every logical change is one etcd transaction that writes everything the
// change touches, its audit event included, or nothing; its compares make
// concurrent writers on different nodes safe:
//   - an SOP write creates revision key r/…/{n}, which must not exist: of
//     two writers that read the same head, exactly one creates revision n,
//     and the other gets ABORTED (error::EtagMismatch), exactly as a stale
//     etag on one node;
//   - every audited write creates a/{sequence}, which must not exist: a
//     writer whose view of the org's audit chain is behind another node's
//     gets error::AuditSequenceTaken, and AuditLog re-reads the chain and
//     tries again.
// A transaction whose answer was lost (the member went away) is sent to the
// next member; if it had been applied, its compares now fail, and the store
// recognises its own revision or audit event and reports success.
//
// Limits: etcd refuses requests over --max-request-bytes (1.5 MiB by
// default); a change larger than Options::max_change_bytes is
// INVALID_ARGUMENT (error::ChangeTooLarge) before anything is sent. An SOP
// travels twice in a write (head and revision), so SOPs of up to about
// 700 KiB fit the default.
//
// Errors: UNAVAILABLE (error::StoreUnavailable) while no member answers:
// nothing was written; DEADLINE_EXCEEDED (error::StoreTimedOut) when one
// answered too late; DATA_LOSS for a value that does not parse.
//
// Reads are linearizable (etcd's default): a read after a write
// acknowledged on any node sees it.
//
// Thread-safe.
#ifndef SOPSIDEBAR_SERVER_STORAGE_ETCD_ETCD_STORE_H_
#define SOPSIDEBAR_SERVER_STORAGE_ETCD_ETCD_STORE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "server/domain/store/auth_store.h"
#include "server/domain/store/sop_store.h"
#include "server/domain/store/store_changes.h"
#include "server/domain/store/template_store.h"
#include "server/domain/store/webhook_store.h"
#include "server/storage/etcd/etcd_options.h"

namespace sopsidebar {

class EtcdClient;

class EtcdStore : public SopStore, public AuthStore, public TemplateStore, public WebhookStore {
 public:
  struct Options {
    EtcdOptions etcd;
    // The largest transaction sent: etcd's default --max-request-bytes
    // (1.5 MiB) less room for the request's own framing.
    size_t max_change_bytes = 1536 * 1024 - 8 * 1024;
    // At start, an unreachable cluster is retried with backoff (100 ms
    // doubling to 2 s) for this long before Open gives up.
    absl::Duration connect_timeout = absl::Seconds(30);
    // Called on each failed attempt to reach etcd at start (for the log).
    std::function<void(const absl::Status&)> on_connect_retry;
  };

  // Connects and checks that the cluster answers (a read of P). INVALID_ARGUMENT
  // naming the flag for bad options; UNAVAILABLE when no member answered
  // within options.connect_timeout.
  static absl::StatusOr<std::unique_ptr<EtcdStore>> Open(Options options);
  ~EtcdStore() override;

  // SopStore.
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
  // "etcd.revision" (the cluster's, as last seen) and, while following,
  // "etcd.follow_revision" and "etcd.follow_behind".
  std::vector<std::pair<std::string, uint64_t>> EngineStats() const override;

  // AuthStore.
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

  // TemplateStore.
  absl::StatusOr<v1::SopTemplate> GetTemplate(const TemplateName& name) const override;
  absl::StatusOr<std::vector<v1::SopTemplate>> ListTemplates(absl::string_view org,
                                                             absl::string_view start_after,
                                                             int limit) const override;
  absl::Status WriteTemplate(const TemplateWrite& write) override;

  // WebhookStore.
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

  // Starts following the store on a thread of its own: watches every change
  // after the revision Open read at (what the caller loaded through this
  // store's reads is at least that current) and hands each changed head,
  // token, org and CRM map to `listener` as it comes. When etcd has
  // compacted the history the watch needs, it reads every such record at one
  // new revision R and watches from there. When the cluster is unreachable
  // it keeps trying (the node's state stays as it was, and follow_state()
  // says since when). Call once; `listener` must outlive the store or
  // StopFollowing.
  void StartFollowing(StoreChangeListener* listener);
  // Stops the follower and waits for its thread. Idempotent.
  void StopFollowing();
  StoreFollowState follow_state() const;
  // follow_state().revision, without a lock (lookups read it).
  int64_t follow_revision() const;

 private:
  class Follower;
  EtcdStore(Options options, std::unique_ptr<EtcdClient> client);

  std::string Key(absl::string_view org, absl::string_view rest) const;
  // Every value under `key_prefix` (a whole prefix), in key order, read in
  // pages at one revision; `fn` gets each key and value.
  absl::Status Scan(
      const std::string& key_prefix,
      const std::function<absl::Status(const std::string& key, const std::string& value)>& fn,
      int64_t revision = 0, int64_t* read_revision = nullptr) const;
  // The orgs that have any key, in order (a skip scan: one read per org).
  absl::StatusOr<std::vector<std::string>> Orgs(int64_t revision = 0) const;
  // Scan of orgs/{org}/{kind} for every org.
  template <typename Message>
  absl::Status ForEachOfKind(absl::string_view kind,
                             const std::function<absl::Status(Message&&)>& fn,
                             int64_t revision = 0) const;
  absl::StatusOr<std::optional<std::string>> Get(const std::string& key) const;
  absl::Status PutOne(const std::string& key, const google::protobuf::Message& value);

  const Options options_;
  const std::unique_ptr<EtcdClient> client_;
  mutable std::atomic<int64_t> last_revision_{0};
  // The cluster's revision when Open reached it: where following starts.
  int64_t open_revision_ = 0;
  std::unique_ptr<Follower> follower_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_STORAGE_ETCD_ETCD_STORE_H_
