// How sopd reaches its etcd cluster (--store=etcd): sopd's flags of the same
// names (docs/OPERATIONS.md) fill it.
#ifndef SOPSIDEBAR_SERVER_STORAGE_ETCD_ETCD_OPTIONS_H_
#define SOPSIDEBAR_SERVER_STORAGE_ETCD_ETCD_OPTIONS_H_

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace sopsidebar {

struct EtcdOptions {
  // --etcd-endpoints: http://host:port or https://host:port, one or more
  // members of one cluster.
  std::vector<std::string> endpoints;
  // --etcd-prefix: every key sopd writes starts with it, so one cluster can
  // hold several sopd deployments (and etcd's auth can confine sopd to it).
  std::string prefix = "/sopsidebar/";
  // --etcd-cacert, --etcd-cert, --etcd-key: TLS to https endpoints. Without
  // a CA file the system's roots verify etcd; the client certificate and key
  // go together.
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  // --etcd-user and --etcd-password-file: etcd's own authentication.
  std::string user;
  std::string password;
  // How long one call may take before it is DEADLINE_EXCEEDED.
  absl::Duration call_timeout = absl::Seconds(5);
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_STORAGE_ETCD_ETCD_OPTIONS_H_
