#include "server/storage/etcd/etcd_node_registry.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/errors.h"
#include "common/model/names.h"
#include "common/status_macros.h"
#include "server/common/crypto.h"
#include "server/storage/etcd/etcd_client.h"

namespace sopsidebar {
namespace {

using etcdserverpb::Compare;
using etcdserverpb::RangeRequest;
using etcdserverpb::TxnRequest;

// Every key under `prefix`, without their values when `keys_only`. Few:
// one per node.
absl::StatusOr<etcdserverpb::RangeResponse> RangeOf(const EtcdClient& client,
                                                    const std::string& prefix, bool keys_only) {
  RangeRequest request;
  request.set_key(prefix);
  request.set_range_end(EtcdPrefixEnd(prefix));
  request.set_keys_only(keys_only);
  return client.Range(request);
}

}  // namespace

EtcdNodeRegistry::EtcdNodeRegistry(Options options, std::unique_ptr<EtcdClient> client)
    : options_(std::move(options)), client_(std::move(client)) {}

absl::StatusOr<std::unique_ptr<EtcdNodeRegistry>> EtcdNodeRegistry::Open(Options options) {
  if (options.etcd.prefix.empty() || options.etcd.prefix.back() != '/') {
    return error::InvalidField("--etcd-prefix", "must end with '/'");
  }
  if (options.lease_ttl < absl::Seconds(3)) {
    return error::InvalidField("lease_ttl", "must be at least 3 s");
  }
  SOP_ASSIGN_OR_RETURN(std::unique_ptr<EtcdClient> client, EtcdClient::Create(options.etcd));
  std::unique_ptr<EtcdNodeRegistry> registry(
      new EtcdNodeRegistry(std::move(options), std::move(client)));
  // The secret is made by whichever node gets there first, and read by all.
  const std::string key = absl::StrCat(registry->options_.etcd.prefix, "cluster/peer_secret");
  TxnRequest txn;
  Compare* absent = txn.add_compare();
  absent->set_key(key);
  absent->set_target(Compare::CREATE);
  absent->set_result(Compare::EQUAL);
  absent->set_create_revision(0);
  etcdserverpb::PutRequest* make = txn.add_success()->mutable_request_put();
  make->set_key(key);
  make->set_value(RandomHexSecret(32));
  txn.add_success()->mutable_request_range()->set_key(key);
  txn.add_failure()->mutable_request_range()->set_key(key);
  SOP_ASSIGN_OR_RETURN(etcdserverpb::TxnResponse answer, registry->client_->Txn(txn));
  for (const etcdserverpb::ResponseOp& op : answer.responses()) {
    if (op.has_response_range() && op.response_range().kvs_size() == 1) {
      registry->peer_secret_ = op.response_range().kvs(0).value();
    }
  }
  if (registry->peer_secret_.empty()) return error::CorruptRecord("value of", key, "is empty");
  return registry;
}

absl::Status EtcdNodeRegistry::Register(ClusterNode self) {
  if (!IsValidResourceId(self.id)) return error::InvalidField("node_id", "is not a valid id");
  if (self.address.empty()) return error::RequiredField("--advertise-address");
  self_ = std::move(self);
  internal::v1::NodeRecord record;
  record.set_id(self_.id);
  record.set_address(self_.address);
  TxnRequest txn;
  etcdserverpb::PutRequest* put = txn.add_success()->mutable_request_put();
  put->set_key(absl::StrCat(options_.etcd.prefix, "nodes/", self_.id));
  put->set_value(record.SerializeAsString());
  SOP_RETURN_IF_ERROR(client_->Txn(txn).status());
  SOP_RETURN_IF_ERROR(GoLive());
  renewer_ = std::thread([this] { RenewLoop(); });
  return absl::OkStatus();
}

EtcdNodeRegistry::~EtcdNodeRegistry() {
  stop_.Notify();
  if (renewer_.joinable()) renewer_.join();
  // Best effort: a lease left behind expires on its own.
  if (lease_.load() != 0) client_->LeaseRevoke(lease_.load()).IgnoreError();
}

absl::Status EtcdNodeRegistry::GoLive() {
  SOP_ASSIGN_OR_RETURN(etcdserverpb::LeaseGrantResponse lease,
                       client_->LeaseGrant(absl::ToInt64Seconds(options_.lease_ttl)));
  TxnRequest txn;
  etcdserverpb::PutRequest* put = txn.add_success()->mutable_request_put();
  put->set_key(absl::StrCat(options_.etcd.prefix, "live/", self_.id));
  put->set_lease(lease.id());
  SOP_RETURN_IF_ERROR(client_->Txn(txn).status());
  lease_.store(lease.id());
  return absl::OkStatus();
}

void EtcdNodeRegistry::RenewLoop() {
  while (!stop_.WaitForNotificationWithTimeout(options_.lease_ttl / 3)) {
    const absl::Status renewed = client_->LeaseKeepAlive(lease_.load());
    // Expired while etcd was out of reach: live again on a new lease. Other
    // failures are tried again at the next renewal.
    if (absl::IsNotFound(renewed)) GoLive().IgnoreError();
  }
}

absl::StatusOr<std::vector<ClusterNode>> EtcdNodeRegistry::List() const {
  const std::string& prefix = options_.etcd.prefix;
  const std::string live_prefix = absl::StrCat(prefix, "live/");
  SOP_ASSIGN_OR_RETURN(etcdserverpb::RangeResponse live, RangeOf(*client_, live_prefix, true));
  absl::flat_hash_set<std::string> live_ids;
  for (const auto& kv : live.kvs()) {
    live_ids.insert(std::string(absl::StripPrefix(kv.key(), live_prefix)));
  }
  SOP_ASSIGN_OR_RETURN(etcdserverpb::RangeResponse registered,
                       RangeOf(*client_, absl::StrCat(prefix, "nodes/"), false));
  std::vector<ClusterNode> nodes;
  for (const auto& kv : registered.kvs()) {
    internal::v1::NodeRecord record;
    if (!record.ParseFromString(kv.value())) {
      return error::CorruptRecord("value of", kv.key(), "does not parse");
    }
    nodes.push_back({record.id(), record.address(), live_ids.contains(record.id())});
  }
  return nodes;
}

}  // namespace sopsidebar
