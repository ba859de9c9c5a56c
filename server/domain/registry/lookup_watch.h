// Watches: lookups kept current for panels that stay open (WatchSops).
//
// A watch holds one caller's lookup request. Its first message is the
// lookup's result; after that the hub re-runs the lookup whenever the
// published catalog changes (publish, delete, undelete, a visibility change:
// SopRegistry tells the hub) and at a fixed recheck interval (a cadence day
// turning over, a token expiring), and sends the result only when its bytes
// differ from the last one sent. Re-running costs one lookup per open watch
// per change (microseconds each), on the hub's one notifier thread: no
// thread per watch.
//
// Messages are serialised v1::WatchSopsResponse with `result` set.
//
// Errors of Watch: those of SopRegistry::LookupSops for the request;
// RESOURCE_EXHAUSTED when the caller's token already holds
// Options::max_watches_per_token open watches, or the hub max_watches.
// A watch whose token is revoked or has expired is closed with
// UNAUTHENTICATED at the next re-run; Shutdown closes every watch with
// UNAVAILABLE.
//
// Thread-safe.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_LOOKUP_WATCH_H_
#define SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_LOOKUP_WATCH_H_

#include <cstddef>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/auth/caller.h"
#include "server/common/message_stream.h"
#include "server/domain/registry/sop_registry.h"
#include "sopsidebar/v1/context_service.pb.h"

namespace sopsidebar {

class LookupWatchHub {
 public:
  struct Options {
    // Every open watch is re-run at least this often.
    absl::Duration recheck_interval = absl::Seconds(30);
    // Open watches per token (a panel per open record tab), and in all.
    size_t max_watches_per_token = 50;
    size_t max_watches = 20000;
  };
  // OK while the token behind a Caller is still active; UNAUTHENTICATED once
  // it is revoked or expired (AccessRegistry::CheckActive).
  using TokenCheck = std::function<absl::Status(const Caller&)>;

  // `registry` must outlive the hub. Starts the notifier thread.
  LookupWatchHub(const SopRegistry* registry, TokenCheck token_check, Options options);
  // Closes every watch (UNAVAILABLE) and joins the notifier thread.
  ~LookupWatchHub();

  // Opens a watch: validates and runs the lookup as LookupSops does and
  // sends its result to `sink` before returning. The subscription's
  // destructor ends the watch.
  absl::StatusOr<std::unique_ptr<MessageSubscription>> Watch(
      const Caller& caller, const v1::WatchSopsRequest& request,
      std::shared_ptr<MessageSink> sink);

  // Tells the hub the published catalog changed: every watch is re-run
  // soon (batched: many changes in a burst cost one pass). Never blocks.
  void CatalogChanged();

  // Closes every open watch with UNAVAILABLE and refuses new ones. Idempotent.
  void Shutdown();

  // How many watches are open.
  size_t open_watches() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_LOOKUP_WATCH_H_
