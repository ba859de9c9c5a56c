// Test-only: a real etcd cluster of N members (Debian's etcd 3.4 binary) on
// free loopback ports in a temporary directory, for the etcd store's tests.
// Members can be killed and started again. Not thread-safe.
#ifndef SOPSIDEBAR_SERVER_STORAGE_ETCD_ETCD_TEST_CLUSTER_H_
#define SOPSIDEBAR_SERVER_STORAGE_ETCD_ETCD_TEST_CLUSTER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sopsidebar {

class EtcdTestCluster {
 public:
  // Starts `members` etcd processes under `dir` (created; removed by the
  // destructor) and waits until the cluster answers (at most 30 s).
  // FAILED_PRECONDITION when the etcd binary is missing.
  static absl::StatusOr<std::unique_ptr<EtcdTestCluster>> Start(const std::string& dir,
                                                                int members);
  ~EtcdTestCluster();

  // "http://127.0.0.1:PORT" of every member, in order.
  std::vector<std::string> endpoints() const;
  // SIGKILLs member `i` and waits for it to exit.
  void Kill(int i);
  // Starts member `i` again on its data dir and ports.
  absl::Status Restart(int i);

 private:
  struct Member {
    std::string name;
    int client_port = 0;
    int peer_port = 0;
    std::string data_dir;
    pid_t pid = -1;
  };
  EtcdTestCluster() = default;
  absl::Status Spawn(Member& member, bool existing);
  // Waits until `member` answers its /health (a TCP connect and an HTTP GET).
  absl::Status AwaitUp(const Member& member, absl::Duration timeout) const;

  std::string dir_;
  std::string initial_cluster_;
  std::vector<Member> members_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_STORAGE_ETCD_ETCD_TEST_CLUSTER_H_
