#include "server/storage/etcd/etcd_test_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

namespace sopsidebar {
namespace {

constexpr char kEtcd[] = "/usr/bin/etcd";

// A port the kernel had free a moment ago (the usual test race, harmless on
// loopback).
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

// The body of GET /health from 127.0.0.1:port, or "" when nothing answers.
std::string GetHealth(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::string reply;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string request = "GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buf[1024];
      ssize_t n;
      while ((n = read(fd, buf, sizeof(buf))) > 0) reply.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  return reply;
}

}  // namespace

absl::StatusOr<std::unique_ptr<EtcdTestCluster>> EtcdTestCluster::Start(const std::string& dir,
                                                                        int members) {
  if (access(kEtcd, X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(kEtcd, " is missing: scripts/setup installs etcd-server"));
  }
  std::unique_ptr<EtcdTestCluster> cluster(new EtcdTestCluster());
  cluster->dir_ = dir;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::vector<std::string> peers;
  for (int i = 0; i < members; ++i) {
    Member member;
    member.name = absl::StrCat("m", i);
    member.client_port = FreePort();
    member.peer_port = FreePort();
    member.data_dir = absl::StrCat(dir, "/", member.name);
    peers.push_back(absl::StrCat(member.name, "=http://127.0.0.1:", member.peer_port));
    cluster->members_.push_back(member);
  }
  cluster->initial_cluster_ = absl::StrJoin(peers, ",");
  for (Member& member : cluster->members_) {
    absl::Status spawned = cluster->Spawn(member, false);
    if (!spawned.ok()) return spawned;
  }
  for (const Member& member : cluster->members_) {
    absl::Status up = cluster->AwaitUp(member, absl::Seconds(30));
    if (!up.ok()) return up;
  }
  return cluster;
}

absl::Status EtcdTestCluster::Spawn(Member& member, bool existing) {
  const std::string log = absl::StrCat(member.data_dir, ".log");
  std::vector<std::string> args = {
      kEtcd,
      absl::StrCat("--name=", member.name),
      absl::StrCat("--data-dir=", member.data_dir),
      absl::StrCat("--listen-client-urls=http://127.0.0.1:", member.client_port),
      absl::StrCat("--advertise-client-urls=http://127.0.0.1:", member.client_port),
      absl::StrCat("--listen-peer-urls=http://127.0.0.1:", member.peer_port),
      absl::StrCat("--initial-advertise-peer-urls=http://127.0.0.1:", member.peer_port),
      absl::StrCat("--initial-cluster=", initial_cluster_),
      absl::StrCat("--initial-cluster-state=", existing ? "existing" : "new"),
      "--initial-cluster-token=sopd-test",
      // Elections within a second on loopback.
      "--heartbeat-interval=50",
      "--election-timeout=500",
      "--logger=zap",
      "--log-outputs=stderr",
  };
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    // A test that crashes leaves no member behind.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(kEtcd, argv.data());
    _exit(127);
  }
  member.pid = pid;
  return absl::OkStatus();
}

absl::Status EtcdTestCluster::AwaitUp(const Member& member, absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (absl::StrContains(GetHealth(member.client_port), "\"health\":\"true\"")) {
      return absl::OkStatus();
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "etcd member ", member.name, " did not become healthy; see ", member.data_dir, ".log"));
}

std::vector<std::string> EtcdTestCluster::endpoints() const {
  std::vector<std::string> out;
  for (const Member& member : members_) {
    out.push_back(absl::StrCat("http://127.0.0.1:", member.client_port));
  }
  return out;
}

void EtcdTestCluster::Kill(int i) {
  Member& member = members_[static_cast<size_t>(i)];
  if (member.pid <= 0) return;
  kill(member.pid, SIGKILL);
  waitpid(member.pid, nullptr, 0);
  member.pid = -1;
}

absl::Status EtcdTestCluster::Restart(int i) {
  Member& member = members_[static_cast<size_t>(i)];
  Kill(i);
  absl::Status spawned = Spawn(member, true);
  if (!spawned.ok()) return spawned;
  return AwaitUp(member, absl::Seconds(30));
}

EtcdTestCluster::~EtcdTestCluster() {
  for (size_t i = 0; i < members_.size(); ++i) Kill(static_cast<int>(i));
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

}  // namespace sopsidebar
