// What reports need of a cluster of sopd nodes that share an etcd store
// (docs/SCALING.md, Reports over every node): each node keeps the panel
// events it received in its own RocksDB, so a report asks every other node
// for its day aggregates and adds them to its own.
//
// Two ports: ClusterNodes, which nodes the cluster has (EtcdNodeRegistry,
// server/storage/etcd), and PeerAggregates, one node's aggregates
// (PeerClient, server/service). Implementations are thread-safe.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_STORE_CLUSTER_NODES_H_
#define SOPSIDEBAR_SERVER_DOMAIN_STORE_CLUSTER_NODES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/domain/store/event_store.h"
#include "sopsidebar/internal/v1/records.pb.h"

namespace sopsidebar {

struct ClusterNode {
  std::string id;
  // host:port of its gRPC port, as it registered it.
  std::string address;
  // Whether it is running: it holds a lease it keeps renewing.
  bool live = false;
};

class ClusterNodes {
 public:
  virtual ~ClusterNodes() = default;
  // Every node that registered and was not removed, running or not, this
  // one included, by id. Errors: the store's (UNAVAILABLE while etcd cannot
  // be reached).
  virtual absl::StatusOr<std::vector<ClusterNode>> List() const = 0;
};

class PeerAggregates {
 public:
  virtual ~PeerAggregates() = default;
  // Every day aggregate `node` keeps of `org` for days in [first, last].
  // Errors: as the call ended (UNAVAILABLE when the node cannot be reached,
  // DEADLINE_EXCEEDED when it answered too slowly, UNAUTHENTICATED when it
  // refused the cluster's secret). Called concurrently for several nodes.
  virtual absl::StatusOr<std::vector<internal::v1::DayAggregate>> List(const ClusterNode& node,
                                                                       absl::string_view org,
                                                                       DayNumber first,
                                                                       DayNumber last) const = 0;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_STORE_CLUSTER_NODES_H_
