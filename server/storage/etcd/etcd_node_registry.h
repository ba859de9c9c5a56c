// The sopd nodes of a cluster on etcd (docs/SCALING.md, Reports over every
// node). Keys under the prefix P (--etcd-prefix):
//   P nodes/{id}          -> internal::v1::NodeRecord: the node belongs to the
//                            cluster, running or not (removed by hand, when
//                            a node is retired: docs/OPERATIONS.md)
//   P live/{id}           -> "" under a lease the node renews: it runs
//   P cluster/peer_secret -> the secret nodes show each other (PeerService),
//                            made by the first node that needs it
// A node that stops cleanly revokes its lease; one that dies stops being
// live when its lease expires (Options::lease_ttl).
//
// Errors: the etcd store's (UNAVAILABLE while no member answers).
// Thread-safe.
#ifndef SOPSIDEBAR_SERVER_STORAGE_ETCD_ETCD_NODE_REGISTRY_H_
#define SOPSIDEBAR_SERVER_STORAGE_ETCD_ETCD_NODE_REGISTRY_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "server/domain/store/cluster_nodes.h"
#include "server/storage/etcd/etcd_options.h"

namespace sopsidebar {

class EtcdClient;

class EtcdNodeRegistry : public ClusterNodes {
 public:
  struct Options {
    EtcdOptions etcd;
    // How long after its last renewal a node that died stops being live; it
    // renews every third of it.
    absl::Duration lease_ttl = absl::Seconds(10);
  };

  // Connects, and reads the cluster's peer secret or makes it. INVALID_ARGUMENT
  // naming the flag for bad options; the store's errors.
  static absl::StatusOr<std::unique_ptr<EtcdNodeRegistry>> Open(Options options);
  // Stops renewing and revokes the lease: the node is no longer live.
  ~EtcdNodeRegistry() override;

  // Registers this node as `self` (its NodeRecord, and its live key on a
  // new lease) and starts renewing the lease on a thread of its own; a lease
  // that expired while etcd was out of reach is replaced. Call once, when
  // the node serves. INVALID_ARGUMENT for an invalid id or an empty
  // address; the store's errors.
  absl::Status Register(ClusterNode self);

  absl::StatusOr<std::vector<ClusterNode>> List() const override;

  // The secret every node of the cluster shows the others.
  const std::string& peer_secret() const { return peer_secret_; }

 private:
  EtcdNodeRegistry(Options options, std::unique_ptr<EtcdClient> client);
  // Grants a lease and puts the live key on it.
  absl::Status GoLive();
  void RenewLoop();

  const Options options_;
  const std::unique_ptr<EtcdClient> client_;
  ClusterNode self_;  // set by Register
  std::string peer_secret_;
  // Only the renewing thread changes it after Register.
  std::atomic<int64_t> lease_{0};
  absl::Notification stop_;
  std::thread renewer_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_STORAGE_ETCD_ETCD_NODE_REGISTRY_H_
