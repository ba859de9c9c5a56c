#include "server/storage/etcd/etcd_store.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/errors.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "server/storage/etcd/etcd_client.h"

namespace sopsidebar {
namespace {

using etcdserverpb::Compare;
using etcdserverpb::RangeRequest;
using etcdserverpb::TxnRequest;

// Values per read page: SOPs are a few KiB, at most about 700 KiB in etcd.
constexpr int64_t kPageSize = 32;

// '%' and '/' of a user id written %25 and %2F, as the RocksDB store does.
std::string Escaped(absl::string_view part) {
  std::string out;
  for (char c : part) {
    if (c == '%') {
      out += "%25";
    } else if (c == '/') {
      out += "%2F";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string RevisionRest(const SopName& sop, int64_t revision) {
  return absl::StrCat("r/", sop.sop, "/", absl::StrFormat("%016d", revision));
}
std::string AuditRest(int64_t sequence) {
  return absl::StrCat("a/", absl::StrFormat("%020d", sequence));
}

template <typename Message>
absl::StatusOr<Message> Decode(const std::string& bytes, absl::string_view key) {
  Message message;
  if (!message.ParseFromString(bytes)) {
    return error::CorruptRecord("value of", key, "does not parse");
  }
  return message;
}

// The values `request` finds, decoded, in its order.
template <typename Message>
absl::StatusOr<std::vector<Message>> RangeValues(const EtcdClient& client,
                                                 const RangeRequest& request) {
  SOP_ASSIGN_OR_RETURN(etcdserverpb::RangeResponse response, client.Range(request));
  std::vector<Message> out;
  out.reserve(response.kvs_size());
  for (const auto& kv : response.kvs()) {
    SOP_ASSIGN_OR_RETURN(Message message, Decode<Message>(kv.value(), kv.key()));
    out.push_back(std::move(message));
  }
  return out;
}

// Up to `limit` keys under `prefix` that follow prefix + start_after (from
// the first when start_after is empty), in key order.
RangeRequest PageAfter(const std::string& prefix, absl::string_view start_after, int limit) {
  RangeRequest request;
  request.set_key(start_after.empty() ? prefix
                                      : absl::StrCat(prefix, start_after, std::string(1, '\0')));
  request.set_range_end(EtcdPrefixEnd(prefix));
  request.set_limit(limit);
  return request;
}

// One change, sent as one transaction: every guarded key must not exist
// (its put creates it); the other puts and deletes go with them.
class Change {
 public:
  // Creates `key` with `value` only if it does not exist; `conflict` is the
  // error when another writer created it first.
  void Create(std::string key, std::string value, absl::Status conflict) {
    guards_.push_back({key, value, std::move(conflict)});
    Put(std::move(key), std::move(value));
  }
  void Put(std::string key, std::string value) {
    etcdserverpb::PutRequest* put = request_.add_success()->mutable_request_put();
    put->set_key(std::move(key));
    put->set_value(std::move(value));
  }
  void Delete(std::string key) {
    request_.add_success()->mutable_request_delete_range()->set_key(std::move(key));
  }
  void DeletePrefix(const std::string& prefix) {
    etcdserverpb::DeleteRangeRequest* range =
        request_.add_success()->mutable_request_delete_range();
    range->set_key(prefix);
    range->set_range_end(EtcdPrefixEnd(prefix));
  }

  // Sends the change. `field` names what made it too large, if it is.
  absl::Status Commit(const EtcdClient& client, size_t max_bytes, absl::string_view field,
                      std::atomic<int64_t>& last_revision) {
    for (const Guard& guard : guards_) {
      Compare* compare = request_.add_compare();
      compare->set_key(guard.key);
      compare->set_target(Compare::CREATE);
      compare->set_result(Compare::EQUAL);
      compare->set_create_revision(0);
      request_.add_failure()->mutable_request_range()->set_key(guard.key);
    }
    const size_t size = request_.ByteSizeLong();
    if (size > max_bytes) return error::ChangeTooLarge(field, size, max_bytes);
    SOP_ASSIGN_OR_RETURN(etcdserverpb::TxnResponse response, client.Txn(request_));
    last_revision.store(response.header().revision(), std::memory_order_relaxed);
    if (response.succeeded()) return absl::OkStatus();
    // A guard failed: another writer's key, or this change's own, applied
    // by an attempt whose answer was lost (then every guarded key holds
    // this change's value: a transaction is applied whole or not at all).
    // Guards are in order of precedence: the SOP's revision (a stale read)
    // before the audit sequence (a chain that moved on elsewhere).
    const Guard* taken = nullptr;
    bool all_ours = true;
    for (size_t i = 0; i < guards_.size(); ++i) {
      const auto& kvs = response.responses(static_cast<int>(i)).response_range().kvs();
      const bool ours = !kvs.empty() && kvs[0].value() == guards_[i].value;
      all_ours = all_ours && ours;
      if (!kvs.empty() && !ours && taken == nullptr) taken = &guards_[i];
    }
    if (all_ours) return absl::OkStatus();
    if (taken != nullptr) return taken->conflict;
    // The key that failed the compare is gone again (deleted meanwhile).
    return absl::AbortedError("storage: a concurrent change interfered; retry");
  }

 private:
  struct Guard {
    std::string key;
    std::string value;
    absl::Status conflict;
  };
  TxnRequest request_;
  std::vector<Guard> guards_;
};

}  // namespace

// ---------------------------------------------------------------------------
// The follower: snapshot, then watch.

class EtcdStore::Follower {
 public:
  Follower(const EtcdStore* store, StoreChangeListener* listener)
      : store_(store), listener_(listener) {
    thread_ = std::thread([this] { Run(); });
    ticker_ = std::thread([this] { Tick(); });
  }
  ~Follower() { Stop(); }

  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      stopping_ = true;
      if (stream_ != nullptr) stream_->Cancel();
    }
    thread_.join();
    ticker_.join();
  }

  StoreFollowState state() const {
    absl::MutexLock lock(&mu_);
    return state_;
  }
  int64_t revision() const { return revision_.load(std::memory_order_acquire); }

 private:
  // Sleeps up to `d`; false when stopping.
  bool Sleep(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), d);
    return !stopping_;
  }
  bool stopping() const {
    absl::MutexLock lock(&mu_);
    return stopping_;
  }

  // Hands `key`'s record to the listener, if it is one the node keeps.
  absl::Status Apply(absl::string_view key, const std::string& value) {
    absl::string_view rest = key;
    if (!absl::ConsumePrefix(&rest, store_->options_.etcd.prefix) ||
        !absl::ConsumePrefix(&rest, "orgs/")) {
      return absl::OkStatus();
    }
    const size_t slash = rest.find('/');
    if (slash == absl::string_view::npos) return absl::OkStatus();
    rest.remove_prefix(slash + 1);
    if (absl::StartsWith(rest, "h/")) {
      SOP_ASSIGN_OR_RETURN(v1::Sop head, Decode<v1::Sop>(value, key));
      listener_->HeadStored(std::move(head));
    } else if (absl::StartsWith(rest, "t/")) {
      SOP_ASSIGN_OR_RETURN(auto token, Decode<internal::v1::TokenRecord>(value, key));
      listener_->TokenStored(token);
    } else if (rest == "org") {
      SOP_ASSIGN_OR_RETURN(v1::Org org, Decode<v1::Org>(value, key));
      listener_->OrgStored(org);
    } else if (absl::StartsWith(rest, "rm/")) {
      SOP_ASSIGN_OR_RETURN(v1::RoleMap map, Decode<v1::RoleMap>(value, key));
      listener_->RoleMapStored(map);
    } else if (absl::StartsWith(rest, "fm/")) {
      SOP_ASSIGN_OR_RETURN(v1::FieldMap map, Decode<v1::FieldMap>(value, key));
      listener_->FieldMapStored(map);
    }
    return absl::OkStatus();
  }

  // Reads every kept record at one revision; returns that revision.
  absl::StatusOr<int64_t> Snapshot() {
    int64_t revision = 0;
    SOP_ASSIGN_OR_RETURN(std::vector<std::string> orgs, store_->Orgs());
    for (const std::string& org : orgs) {
      for (absl::string_view kind : {"org", "t/", "rm/", "fm/", "h/"}) {
        int64_t read = 0;
        SOP_RETURN_IF_ERROR(store_->Scan(
            store_->Key(org, kind),
            [&](const std::string& key, const std::string& value) { return Apply(key, value); },
            revision, &read));
        if (revision == 0) revision = read;
      }
    }
    if (revision == 0) {
      RangeRequest probe;
      probe.set_key(store_->options_.etcd.prefix);
      probe.set_count_only(true);
      SOP_ASSIGN_OR_RETURN(etcdserverpb::RangeResponse response, store_->client_->Range(probe));
      revision = response.header().revision();
    }
    return revision;
  }

  void Contact(int64_t revision, int64_t cluster_revision) {
    absl::MutexLock lock(&mu_);
    if (revision > 0) {
      state_.revision = revision;
      revision_.store(revision, std::memory_order_release);
    }
    state_.behind = std::max<int64_t>(0, cluster_revision - state_.revision);
    state_.last_contact = absl::Now();
    state_.connected = true;
  }
  void Lost() {
    absl::MutexLock lock(&mu_);
    state_.connected = false;
  }

  void Run() {
    // The registries loaded after Open read the store at revision
    // open_revision_ or later: watching from just after it hands over
    // every later change (again, for those they saw: applying is
    // idempotent) without reading everything a second time. Only when
    // etcd has compacted past it is a snapshot needed.
    bool need_snapshot = store_->open_revision_ == 0;
    if (!need_snapshot) Contact(store_->open_revision_, store_->open_revision_);
    absl::Duration backoff = absl::Milliseconds(100);
    while (!stopping()) {
      if (need_snapshot) {
        absl::StatusOr<int64_t> revision = Snapshot();
        if (!revision.ok()) {
          Lost();
          if (!Sleep(backoff)) return;
          backoff = std::min(backoff * 2, absl::Seconds(2));
          continue;
        }
        Contact(*revision, *revision);
        need_snapshot = false;
      }
      etcdserverpb::WatchCreateRequest create;
      create.set_key(store_->options_.etcd.prefix);
      create.set_range_end(EtcdPrefixEnd(store_->options_.etcd.prefix));
      create.set_start_revision(state().revision + 1);
      create.set_progress_notify(true);
      absl::StatusOr<std::unique_ptr<EtcdClient::WatchStream>> opened =
          store_->client_->Watch(create);
      if (!opened.ok()) {
        if (opened.status().code() == absl::StatusCode::kOutOfRange) {
          need_snapshot = true;  // compacted past where this node is
          continue;
        }
        Lost();
        if (!Sleep(backoff)) return;
        backoff = std::min(backoff * 2, absl::Seconds(2));
        continue;
      }
      backoff = absl::Milliseconds(100);
      EtcdClient::WatchStream* stream = opened->get();
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) return;
        stream_ = stream;
      }
      etcdserverpb::WatchResponse response;
      while (stream->Next(&response)) {
        if (response.compact_revision() != 0) {
          need_snapshot = true;
          break;
        }
        if (response.canceled()) break;
        for (const auto& event : response.events()) {
          if (event.type() != mvccpb::Event::PUT) continue;
          // A record that does not parse is left out (the store's other
          // readers report it); the follower goes on.
          Apply(event.kv().key(), event.kv().value()).IgnoreError();
        }
        Contact(response.header().revision(), response.header().revision());
      }
      {
        absl::MutexLock lock(&mu_);
        stream_ = nullptr;
      }
      opened->reset();
      if (!need_snapshot) {
        Lost();
        if (!Sleep(backoff)) return;
      }
    }
  }

  // Twice a second, asks etcd where the cluster is: with an idle watch, the
  // answer shows this node is current (and the time it last heard so).
  void Tick() {
    while (Sleep(absl::Milliseconds(500))) {
      RangeRequest probe;
      probe.set_key(store_->options_.etcd.prefix);
      probe.set_count_only(true);
      absl::StatusOr<etcdserverpb::RangeResponse> response = store_->client_->Range(probe);
      if (!response.ok()) continue;
      store_->last_revision_.store(response->header().revision(), std::memory_order_relaxed);
      absl::MutexLock lock(&mu_);
      if (!state_.connected) continue;
      state_.behind = std::max<int64_t>(0, response->header().revision() - state_.revision);
      // Every change up to where the watch is has been applied; a quiet
      // prefix moves the cluster's revision without events for this node.
      if (state_.behind > 0 && stream_ != nullptr) stream_->RequestProgress();
      state_.last_contact = absl::Now();
    }
  }

  const EtcdStore* const store_;
  StoreChangeListener* const listener_;
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  EtcdClient::WatchStream* stream_ ABSL_GUARDED_BY(mu_) = nullptr;
  StoreFollowState state_ ABSL_GUARDED_BY(mu_);
  // state_.revision, for lookups to read without the lock.
  std::atomic<int64_t> revision_{0};
  std::thread thread_;
  std::thread ticker_;
};

// ---------------------------------------------------------------------------

EtcdStore::EtcdStore(Options options, std::unique_ptr<EtcdClient> client)
    : options_(std::move(options)), client_(std::move(client)) {}

EtcdStore::~EtcdStore() { StopFollowing(); }

absl::StatusOr<std::unique_ptr<EtcdStore>> EtcdStore::Open(Options options) {
  if (options.etcd.prefix.empty() || options.etcd.prefix.back() != '/') {
    return error::InvalidField("--etcd-prefix", "must end with '/'");
  }
  SOP_ASSIGN_OR_RETURN(std::unique_ptr<EtcdClient> client, EtcdClient::Create(options.etcd));
  std::unique_ptr<EtcdStore> store(new EtcdStore(std::move(options), std::move(client)));
  const absl::Time give_up = absl::Now() + store->options_.connect_timeout;
  absl::Duration backoff = absl::Milliseconds(100);
  while (true) {
    RangeRequest probe;
    probe.set_key(store->options_.etcd.prefix);
    probe.set_count_only(true);
    absl::StatusOr<etcdserverpb::RangeResponse> response = store->client_->Range(probe);
    if (response.ok()) {
      store->open_revision_ = response->header().revision();
      store->last_revision_.store(store->open_revision_);
      return store;
    }
    const bool retry = response.status().code() == absl::StatusCode::kUnavailable ||
                       response.status().code() == absl::StatusCode::kDeadlineExceeded;
    if (!retry || absl::Now() + backoff > give_up) return response.status();
    if (store->options_.on_connect_retry) store->options_.on_connect_retry(response.status());
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(2));
  }
}

void EtcdStore::StartFollowing(StoreChangeListener* listener) {
  follower_ = std::make_unique<Follower>(this, listener);
}

void EtcdStore::StopFollowing() {
  if (follower_ != nullptr) follower_->Stop();
}

int64_t EtcdStore::follow_revision() const {
  return follower_ == nullptr ? 0 : follower_->revision();
}

StoreFollowState EtcdStore::follow_state() const {
  if (follower_ == nullptr) return {};
  return follower_->state();
}

std::string EtcdStore::Key(absl::string_view org, absl::string_view rest) const {
  return absl::StrCat(options_.etcd.prefix, "orgs/", org, "/", rest);
}

absl::Status EtcdStore::Scan(
    const std::string& key_prefix,
    const std::function<absl::Status(const std::string&, const std::string&)>& fn, int64_t revision,
    int64_t* read_revision) const {
  RangeRequest request;
  request.set_key(key_prefix);
  request.set_range_end(EtcdPrefixEnd(key_prefix));
  request.set_limit(kPageSize);
  request.set_revision(revision);
  while (true) {
    SOP_ASSIGN_OR_RETURN(etcdserverpb::RangeResponse response, client_->Range(request));
    if (request.revision() == 0) {
      request.set_revision(response.header().revision());
      if (read_revision != nullptr) *read_revision = response.header().revision();
    }
    for (const auto& kv : response.kvs()) SOP_RETURN_IF_ERROR(fn(kv.key(), kv.value()));
    if (!response.more() || response.kvs().empty()) return absl::OkStatus();
    request.set_key(response.kvs().rbegin()->key() + std::string(1, '\0'));
  }
}

absl::StatusOr<std::vector<std::string>> EtcdStore::Orgs(int64_t revision) const {
  const std::string orgs_prefix = absl::StrCat(options_.etcd.prefix, "orgs/");
  std::vector<std::string> orgs;
  RangeRequest request;
  request.set_key(orgs_prefix);
  request.set_range_end(EtcdPrefixEnd(orgs_prefix));
  request.set_limit(1);
  request.set_keys_only(true);
  request.set_revision(revision);
  while (true) {
    SOP_ASSIGN_OR_RETURN(etcdserverpb::RangeResponse response, client_->Range(request));
    if (request.revision() == 0) request.set_revision(response.header().revision());
    if (response.kvs().empty()) return orgs;
    absl::string_view rest = response.kvs(0).key();
    rest.remove_prefix(orgs_prefix.size());
    const std::string org(rest.substr(0, rest.find('/')));
    orgs.push_back(org);
    // '0' follows '/': the first key of the next org.
    request.set_key(absl::StrCat(orgs_prefix, org, "0"));
  }
}

template <typename Message>
absl::Status EtcdStore::ForEachOfKind(absl::string_view kind,
                                      const std::function<absl::Status(Message&&)>& fn,
                                      int64_t revision) const {
  SOP_ASSIGN_OR_RETURN(std::vector<std::string> orgs, Orgs(revision));
  for (const std::string& org : orgs) {
    SOP_RETURN_IF_ERROR(Scan(Key(org, kind), [&](const std::string& key, const std::string& value) {
      SOP_ASSIGN_OR_RETURN(Message message, Decode<Message>(value, key));
      return fn(std::move(message));
    }));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> EtcdStore::Get(const std::string& key) const {
  RangeRequest request;
  request.set_key(key);
  SOP_ASSIGN_OR_RETURN(etcdserverpb::RangeResponse response, client_->Range(request));
  last_revision_.store(response.header().revision(), std::memory_order_relaxed);
  if (response.kvs().empty()) return std::nullopt;
  return std::move(*response.mutable_kvs(0)->mutable_value());
}

absl::Status EtcdStore::PutOne(const std::string& key, const google::protobuf::Message& value) {
  Change change;
  change.Put(key, value.SerializeAsString());
  return change.Commit(*client_, options_.max_change_bytes, "value", last_revision_);
}

// --- SopStore --------------------------------------------------------------

absl::StatusOr<v1::Sop> EtcdStore::GetHead(const SopName& name) const {
  const std::string key = Key(name.org, absl::StrCat("h/", name.sop));
  SOP_ASSIGN_OR_RETURN(std::optional<std::string> value, Get(key));
  if (!value) return error::SopNotFound(name.Full());
  return Decode<v1::Sop>(*value, key);
}

absl::StatusOr<v1::SopRevision> EtcdStore::GetRevision(const RevisionName& name) const {
  const std::string key = Key(name.sop.org, RevisionRest(name.sop, name.revision));
  SOP_ASSIGN_OR_RETURN(std::optional<std::string> value, Get(key));
  if (!value) return error::RevisionNotFound(name.Full());
  return Decode<v1::SopRevision>(*value, key);
}

absl::StatusOr<std::vector<v1::Sop>> EtcdStore::ListHeads(absl::string_view org,
                                                          absl::string_view start_after,
                                                          int limit) const {
  return RangeValues<v1::Sop>(*client_, PageAfter(Key(org, "h/"), start_after, limit));
}

absl::StatusOr<std::vector<v1::SopRevision>> EtcdStore::ListRevisions(const SopName& sop,
                                                                      int64_t before,
                                                                      int limit) const {
  const std::string prefix = Key(sop.org, absl::StrCat("r/", sop.sop, "/"));
  RangeRequest request;
  request.set_key(prefix);
  request.set_range_end(before > 0 ? Key(sop.org, RevisionRest(sop, before))
                                   : EtcdPrefixEnd(prefix));
  request.set_limit(limit);
  request.set_sort_order(RangeRequest::DESCEND);
  request.set_sort_target(RangeRequest::KEY);
  return RangeValues<v1::SopRevision>(*client_, request);
}

absl::StatusOr<std::optional<std::string>> EtcdStore::FindRequest(
    absl::string_view org, const CreateRequest& request) const {
  return Get(Key(org, absl::StrCat("c/", Escaped(request.user_id), "/", request.request_id)));
}

absl::Status EtcdStore::ForEachHead(const std::function<absl::Status(v1::Sop&&)>& fn) const {
  return ForEachOfKind<v1::Sop>("h/", fn);
}

absl::Status EtcdStore::Write(const SopWrite& write) {
  SOP_ASSIGN_OR_RETURN(SopWriteKeys keys, CheckSopWrite(write));
  const std::string& org = keys.sop.org;
  Change change;
  change.Put(Key(org, absl::StrCat("h/", keys.sop.sop)), write.head.SerializeAsString());
  change.Create(Key(org, RevisionRest(keys.sop, keys.revision.revision)),
                write.revision.SerializeAsString(), error::EtagMismatch(keys.sop.Full()));
  if (write.request) {
    change.Put(Key(org, absl::StrCat("c/", Escaped(write.request->user_id), "/",
                                     write.request->request_id)),
               write.head.name());
  }
  if (write.audit) {
    change.Create(Key(org, AuditRest(write.audit->sequence())), write.audit->SerializeAsString(),
                  error::AuditSequenceTaken(org, write.audit->sequence()));
  }
  return change.Commit(*client_, options_.max_change_bytes, "sop", last_revision_);
}

absl::StatusOr<v1::Comment> EtcdStore::GetComment(const CommentName& name) const {
  const std::string key = Key(name.sop.org, absl::StrCat("m/", name.sop.sop, "/", name.comment));
  SOP_ASSIGN_OR_RETURN(std::optional<std::string> value, Get(key));
  if (!value) return error::CommentNotFound(name.Full());
  return Decode<v1::Comment>(*value, key);
}

absl::StatusOr<std::vector<v1::Comment>> EtcdStore::ListComments(const SopName& sop) const {
  std::vector<v1::Comment> out;
  SOP_RETURN_IF_ERROR(Scan(Key(sop.org, absl::StrCat("m/", sop.sop, "/")),
                           [&](const std::string& key, const std::string& value) {
                             SOP_ASSIGN_OR_RETURN(v1::Comment c, Decode<v1::Comment>(value, key));
                             out.push_back(std::move(c));
                             return absl::OkStatus();
                           }));
  return out;
}

absl::Status EtcdStore::WriteComment(const CommentWrite& write) {
  SOP_ASSIGN_OR_RETURN(CommentName name, ParseCommentName("comment.name", write.comment.name()));
  SOP_ASSIGN_OR_RETURN(std::string org, CheckAuditEvent(write.audit));
  if (org != name.sop.org) return error::InvalidField("audit.name", "is not in the comment's org");
  Change change;
  change.Put(Key(org, absl::StrCat("m/", name.sop.sop, "/", name.comment)),
             write.comment.SerializeAsString());
  change.Create(Key(org, AuditRest(write.audit.sequence())), write.audit.SerializeAsString(),
                error::AuditSequenceTaken(org, write.audit.sequence()));
  return change.Commit(*client_, options_.max_change_bytes, "comment", last_revision_);
}

absl::StatusOr<std::vector<v1::AuditEvent>> EtcdStore::ListAuditEvents(absl::string_view org,
                                                                       int64_t after,
                                                                       int limit) const {
  RangeRequest request;
  request.set_key(Key(org, AuditRest(after + 1)));
  request.set_range_end(EtcdPrefixEnd(Key(org, "a/")));
  request.set_limit(limit);
  return RangeValues<v1::AuditEvent>(*client_, request);
}

absl::StatusOr<std::optional<v1::AuditEvent>> EtcdStore::LastAuditEvent(
    absl::string_view org) const {
  const std::string prefix = Key(org, "a/");
  RangeRequest request;
  request.set_key(prefix);
  request.set_range_end(EtcdPrefixEnd(prefix));
  request.set_limit(1);
  request.set_sort_order(RangeRequest::DESCEND);
  request.set_sort_target(RangeRequest::KEY);
  SOP_ASSIGN_OR_RETURN(std::vector<v1::AuditEvent> last,
                       RangeValues<v1::AuditEvent>(*client_, request));
  if (last.empty()) return std::nullopt;
  return std::move(last.front());
}

std::vector<std::pair<std::string, uint64_t>> EtcdStore::EngineStats() const {
  std::vector<std::pair<std::string, uint64_t>> stats;
  stats.emplace_back("etcd.revision", static_cast<uint64_t>(last_revision_.load()));
  if (follower_ != nullptr) {
    const StoreFollowState state = follower_->state();
    stats.emplace_back("etcd.follow_revision", static_cast<uint64_t>(state.revision));
    stats.emplace_back("etcd.follow_behind", static_cast<uint64_t>(state.behind));
  }
  return stats;
}

// --- AuthStore -------------------------------------------------------------

absl::Status EtcdStore::WriteAudited(const AuthWrite& write) {
  SOP_ASSIGN_OR_RETURN(std::string audit_org, CheckAuditEvent(write.audit));
  Change change;
  if (write.token) {
    SOP_ASSIGN_OR_RETURN(TokenName name, ParseTokenName("token.name", write.token->token().name()));
    change.Put(Key(name.org, absl::StrCat("t/", name.token)), write.token->SerializeAsString());
  }
  if (write.org) {
    SOP_ASSIGN_OR_RETURN(std::string id, ParseOrgName("org.name", write.org->name()));
    change.Put(Key(id, "org"), write.org->SerializeAsString());
  }
  if (write.role_map) {
    SOP_ASSIGN_OR_RETURN(CrmMapName name,
                         ParseCrmMapName("role_map.name", write.role_map->name(), kRoleMaps));
    change.Put(Key(name.org, absl::StrCat("rm/", name.crm)), write.role_map->SerializeAsString());
  }
  if (write.field_map) {
    SOP_ASSIGN_OR_RETURN(CrmMapName name,
                         ParseCrmMapName("field_map.name", write.field_map->name(), kFieldMaps));
    change.Put(Key(name.org, absl::StrCat("fm/", name.crm)), write.field_map->SerializeAsString());
  }
  change.Create(Key(audit_org, AuditRest(write.audit.sequence())), write.audit.SerializeAsString(),
                error::AuditSequenceTaken(audit_org, write.audit.sequence()));
  return change.Commit(*client_, options_.max_change_bytes, "value", last_revision_);
}

absl::Status EtcdStore::PutToken(const internal::v1::TokenRecord& record) {
  SOP_ASSIGN_OR_RETURN(TokenName name, ParseTokenName("token.name", record.token().name()));
  return PutOne(Key(name.org, absl::StrCat("t/", name.token)), record);
}

absl::Status EtcdStore::ForEachToken(
    const std::function<absl::Status(const internal::v1::TokenRecord&)>& fn) const {
  return ForEachOfKind<internal::v1::TokenRecord>(
      "t/", [&](internal::v1::TokenRecord&& record) { return fn(record); });
}

absl::Status EtcdStore::PutOrg(const v1::Org& org) {
  SOP_ASSIGN_OR_RETURN(std::string id, ParseOrgName("org.name", org.name()));
  return PutOne(Key(id, "org"), org);
}

absl::Status EtcdStore::ForEachOrg(const std::function<absl::Status(const v1::Org&)>& fn) const {
  SOP_ASSIGN_OR_RETURN(std::vector<std::string> orgs, Orgs());
  for (const std::string& id : orgs) {
    const std::string key = Key(id, "org");
    SOP_ASSIGN_OR_RETURN(std::optional<std::string> value, Get(key));
    if (!value) continue;  // an org with SOPs but no record (tests)
    SOP_ASSIGN_OR_RETURN(v1::Org org, Decode<v1::Org>(*value, key));
    SOP_RETURN_IF_ERROR(fn(org));
  }
  return absl::OkStatus();
}

absl::Status EtcdStore::PutRoleMap(const v1::RoleMap& map) {
  SOP_ASSIGN_OR_RETURN(CrmMapName name, ParseCrmMapName("role_map.name", map.name(), kRoleMaps));
  return PutOne(Key(name.org, absl::StrCat("rm/", name.crm)), map);
}

absl::Status EtcdStore::ForEachRoleMap(
    const std::function<absl::Status(const v1::RoleMap&)>& fn) const {
  return ForEachOfKind<v1::RoleMap>("rm/", [&](v1::RoleMap&& map) { return fn(map); });
}

absl::Status EtcdStore::PutFieldMap(const v1::FieldMap& map) {
  SOP_ASSIGN_OR_RETURN(CrmMapName name, ParseCrmMapName("field_map.name", map.name(), kFieldMaps));
  return PutOne(Key(name.org, absl::StrCat("fm/", name.crm)), map);
}

absl::Status EtcdStore::ForEachFieldMap(
    const std::function<absl::Status(const v1::FieldMap&)>& fn) const {
  return ForEachOfKind<v1::FieldMap>("fm/", [&](v1::FieldMap&& map) { return fn(map); });
}

// --- TemplateStore ---------------------------------------------------------

absl::StatusOr<v1::SopTemplate> EtcdStore::GetTemplate(const TemplateName& name) const {
  const std::string key = Key(name.org, absl::StrCat("st/", name.template_id));
  SOP_ASSIGN_OR_RETURN(std::optional<std::string> value, Get(key));
  if (!value) return error::TemplateNotFound(name.Full());
  return Decode<v1::SopTemplate>(*value, key);
}

absl::StatusOr<std::vector<v1::SopTemplate>> EtcdStore::ListTemplates(absl::string_view org,
                                                                      absl::string_view start_after,
                                                                      int limit) const {
  return RangeValues<v1::SopTemplate>(*client_, PageAfter(Key(org, "st/"), start_after, limit));
}

absl::Status EtcdStore::WriteTemplate(const TemplateWrite& write) {
  SOP_ASSIGN_OR_RETURN(TemplateName name, CheckTemplateWrite(write));
  const std::string key = Key(name.org, absl::StrCat("st/", name.template_id));
  Change change;
  if (write.put) {
    change.Put(key, write.put->SerializeAsString());
  } else {
    change.Delete(key);
  }
  change.Create(Key(name.org, AuditRest(write.audit.sequence())), write.audit.SerializeAsString(),
                error::AuditSequenceTaken(name.org, write.audit.sequence()));
  return change.Commit(*client_, options_.max_change_bytes, "template", last_revision_);
}

// --- WebhookStore ----------------------------------------------------------

absl::Status EtcdStore::PutWebhook(const v1::Webhook& webhook) {
  WebhookKeyParts parts;
  SOP_RETURN_IF_ERROR(SplitWebhookName("webhook.name", webhook.name(), &parts));
  if (!parts.delivery.empty()) {
    return error::InvalidResourceName("webhook.name", webhook.name(),
                                      "orgs/{org}/webhooks/{webhook}");
  }
  return PutOne(Key(parts.org, absl::StrCat("wh/", parts.webhook)), webhook);
}

absl::Status EtcdStore::DeleteWebhook(absl::string_view name) {
  WebhookKeyParts parts;
  SOP_RETURN_IF_ERROR(SplitWebhookName("name", name, &parts));
  Change change;
  change.Delete(Key(parts.org, absl::StrCat("wh/", parts.webhook)));
  change.DeletePrefix(Key(parts.org, absl::StrCat("wd/", parts.webhook, "/")));
  return change.Commit(*client_, options_.max_change_bytes, "webhook", last_revision_);
}

absl::Status EtcdStore::ForEachWebhook(
    const std::function<absl::Status(const v1::Webhook&)>& fn) const {
  return ForEachOfKind<v1::Webhook>("wh/", [&](v1::Webhook&& w) { return fn(w); });
}

absl::Status EtcdStore::WriteDeliveries(const std::vector<v1::WebhookDelivery>& put,
                                        const std::vector<std::string>& erase) {
  Change change;
  WebhookKeyParts parts;
  for (const std::string& name : erase) {
    SOP_RETURN_IF_ERROR(SplitWebhookName("delivery.name", name, &parts));
    change.Delete(Key(parts.org, absl::StrCat("wd/", parts.webhook, "/", parts.delivery)));
  }
  for (const v1::WebhookDelivery& delivery : put) {
    SOP_RETURN_IF_ERROR(SplitWebhookName("delivery.name", delivery.name(), &parts));
    if (parts.delivery.empty()) {
      return error::InvalidResourceName("delivery.name", delivery.name(),
                                        "orgs/{org}/webhooks/{webhook}/deliveries/{delivery}");
    }
    change.Put(Key(parts.org, absl::StrCat("wd/", parts.webhook, "/", parts.delivery)),
               delivery.SerializeAsString());
  }
  return change.Commit(*client_, options_.max_change_bytes, "deliveries", last_revision_);
}

absl::Status EtcdStore::ForEachDelivery(
    const std::function<absl::Status(const v1::WebhookDelivery&)>& fn) const {
  return ForEachOfKind<v1::WebhookDelivery>("wd/", [&](v1::WebhookDelivery&& d) { return fn(d); });
}

absl::Status EtcdStore::PutReviewDueMark(absl::string_view sop, absl::Time due) {
  SOP_ASSIGN_OR_RETURN(SopName name, ParseSopName("sop", sop));
  return PutOne(Key(name.org, absl::StrCat("wr/", name.sop)), ToProtoTimestamp(due));
}

absl::Status EtcdStore::ForEachReviewDueMark(
    const std::function<absl::Status(absl::string_view sop, absl::Time due)>& fn) const {
  SOP_ASSIGN_OR_RETURN(std::vector<std::string> orgs, Orgs());
  for (const std::string& org : orgs) {
    const std::string prefix = Key(org, "wr/");
    SOP_RETURN_IF_ERROR(Scan(prefix, [&](const std::string& key, const std::string& value) {
      SOP_ASSIGN_OR_RETURN(google::protobuf::Timestamp time,
                           Decode<google::protobuf::Timestamp>(value, key));
      return fn(SopName{org, key.substr(prefix.size())}.Full(), FromProtoTimestamp(time));
    }));
  }
  return absl::OkStatus();
}

}  // namespace sopsidebar
