// The internal PeerService (proto/sopsidebar/internal/v1/peer_service.proto):
// what one sopd node asks another when several share an etcd store
// (docs/SCALING.md, Reports over every node). The server side, which
// GrpcServer registers when GrpcServerOptions::peer is set, answers from
// Analytics::ForEachNodeAggregate; PeerClient is the asking side, the
// PeerAggregates port of the domain. This header is free of gRPC types.
#ifndef SOPSIDEBAR_SERVER_SERVICE_PEER_SERVICE_H_
#define SOPSIDEBAR_SERVER_SERVICE_PEER_SERVICE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "server/domain/store/cluster_nodes.h"

namespace sopsidebar {

class Analytics;

// The metadata key every PeerService call carries the cluster's secret in.
inline constexpr char kPeerSecretMetadata[] = "x-sopd-peer-secret";

// What the server side serves. A call without `secret` is UNAUTHENTICATED;
// errors otherwise as Analytics::ForEachNodeAggregate's.
struct PeerServiceOptions {
  const Analytics* analytics = nullptr;  // must outlive the server
  std::string secret;
};

// Thread-safe; one channel per node address, made on first use and kept.
class PeerClient : public PeerAggregates {
 public:
  struct Options {
    std::string secret;
    // Per call: a node slower than this is missing from the report.
    absl::Duration timeout = absl::Seconds(5);
    // When set, nodes are dialed with TLS (as they serve it when this one
    // does) and must show a certificate for the host of their address.
    struct Tls {
      // The CAs that verify the other nodes; empty: the system's roots.
      std::string root_certs_pem;
      // This node's certificate and key, shown to nodes that require client
      // certificates (mTLS); empty: none shown.
      std::string cert_chain_pem;
      std::string private_key_pem;
    };
    std::optional<Tls> tls;
  };
  explicit PeerClient(Options options);
  ~PeerClient() override;

  absl::StatusOr<std::vector<internal::v1::DayAggregate>> List(const ClusterNode& node,
                                                               absl::string_view org,
                                                               DayNumber first,
                                                               DayNumber last) const override;

 private:
  class Channels;
  const Options options_;
  const std::unique_ptr<Channels> channels_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_SERVICE_PEER_SERVICE_H_
