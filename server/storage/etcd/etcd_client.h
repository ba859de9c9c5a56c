// A small etcd v3 client: the KV, Watch, Lease and Auth calls sopd's etcd
// store makes, over the gRPC stubs generated from the .proto sources Debian's
// golang-etcd-server-dev ships (see CMakeLists.txt). Private to
// server/storage/etcd: nothing of gRPC or of etcd's messages leaves it.
//
// Endpoints are tried in turn: a call that finds its member unreachable
// (UNAVAILABLE from gRPC, or a member with no leader) goes to the next
// one, and the client keeps using the member that answered. Every etcd Txn
// sopd sends is guarded by compares, so sending one again after an
// UNAVAILABLE cannot apply it twice.
//
// Errors (absl::Status): UNAVAILABLE "etcd at <endpoints> is unreachable:
// <what gRPC said>" when no member answered; DEADLINE_EXCEEDED when the
// member answered too late; OUT_OF_RANGE for a revision etcd has compacted
// (Range at an old revision); other codes as etcd reports them, prefixed
// "etcd: ".
//
// Thread-safe: calls may run concurrently.
#ifndef SOPSIDEBAR_SERVER_STORAGE_ETCD_ETCD_CLIENT_H_
#define SOPSIDEBAR_SERVER_STORAGE_ETCD_ETCD_CLIENT_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "server/storage/etcd/etcd_options.h"

namespace sopsidebar {

// The first key after every key starting with `prefix`: etcd's range_end
// for a prefix.
std::string EtcdPrefixEnd(absl::string_view prefix);

class EtcdClient {
 public:
  // Checks `options` and makes one channel per endpoint. INVALID_ARGUMENT
  // naming the flag (--etcd-endpoints, --etcd-cacert, ...) for no endpoint,
  // an endpoint that is not http(s)://host:port, http and https mixed, a
  // TLS file that cannot be read, a certificate without its key, a user
  // without a password. Does not dial: an unreachable cluster shows in the
  // first call.
  static absl::StatusOr<std::unique_ptr<EtcdClient>> Create(const EtcdOptions& options);

  absl::StatusOr<etcdserverpb::RangeResponse> Range(
      const etcdserverpb::RangeRequest& request) const;
  absl::StatusOr<etcdserverpb::TxnResponse> Txn(const etcdserverpb::TxnRequest& request) const;
  absl::StatusOr<etcdserverpb::LeaseGrantResponse> LeaseGrant(int64_t ttl_seconds) const;
  // Renews lease `id` once; NOT_FOUND when it has expired.
  absl::Status LeaseKeepAlive(int64_t id) const;
  absl::Status LeaseRevoke(int64_t id) const;

  // One open Watch stream. Next blocks until etcd sends a response or the
  // stream ends; Cancel (from any thread) ends it.
  class WatchStream {
   public:
    ~WatchStream();
    // The next response; false when the stream has ended (status() says
    // why: CANCELLED after Cancel, UNAVAILABLE when the member went away).
    bool Next(etcdserverpb::WatchResponse* response);
    void Cancel();
    // Asks etcd to answer with how far this watch has come (a response
    // without events whose header revision every event up to has been
    // sent). Safe to call from another thread while Next blocks.
    void RequestProgress();
    absl::Status status() const { return status_; }

   private:
    friend class EtcdClient;
    WatchStream() = default;
    std::unique_ptr<grpc::ClientContext> context_;
    std::unique_ptr<
        grpc::ClientReaderWriter<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>>
        stream_;
    absl::Status status_;
    // Held to write on the stream and to finish it, never while reading.
    absl::Mutex write_mu_;
    bool finished_ ABSL_GUARDED_BY(write_mu_) = false;
  };
  // Opens a watch with `request` on a reachable member and waits for etcd's
  // "created" response (a compacted start revision shows there: OUT_OF_RANGE
  // "compacted", with the compact revision in the message).
  absl::StatusOr<std::unique_ptr<WatchStream>> Watch(
      const etcdserverpb::WatchCreateRequest& request) const;

  // "http://127.0.0.1:2379,..." as configured, for messages.
  const std::string& endpoints() const { return endpoints_text_; }

 private:
  struct Member {
    std::string target;  // host:port
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<etcdserverpb::KV::Stub> kv;
    std::unique_ptr<etcdserverpb::Watch::Stub> watch;
    std::unique_ptr<etcdserverpb::Lease::Stub> lease;
    std::unique_ptr<etcdserverpb::Auth::Stub> auth;
  };
  EtcdClient() = default;

  // Runs `call` on the current member and, while it answers UNAVAILABLE, on
  // each other member once; converts the final status.
  template <typename Call>
  absl::Status OnSomeMember(absl::string_view what, const Call& call) const;
  // Whether `member`'s channel is connected, after waiting a little (at
  // most until `deadline`) for a connection in progress.
  bool Connected(const Member& member, absl::Time deadline) const;
  // A context with the call timeout and, with auth, the token.
  std::unique_ptr<grpc::ClientContext> NewContext(absl::Duration timeout) const;
  // Gets a fresh auth token from `member` (with auth configured).
  absl::Status Authenticate(const Member& member) const;
  absl::Status Convert(absl::string_view what, const grpc::Status& status) const;

  std::vector<Member> members_;
  std::string endpoints_text_;
  absl::Duration call_timeout_;
  // One attempt's share of it (rounds over the members fill the rest).
  absl::Duration attempt_timeout_;
  std::string user_;
  std::string password_;
  mutable std::atomic<size_t> current_{0};
  mutable absl::Mutex token_mu_;
  mutable std::string token_ ABSL_GUARDED_BY(token_mu_);
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_STORAGE_ETCD_ETCD_CLIENT_H_
