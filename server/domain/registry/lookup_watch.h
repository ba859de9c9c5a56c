// Watches: lookups kept current for panels that stay open (WatchSops).
//
// A watch holds one caller's lookup request. Its first message is the
// lookup's result; after that the hub re-runs the lookup whenever the
// published catalog changes (publish, delete, undelete, a visibility change:
// SopRegistry tells the hub) and at a fixed recheck interval (a cadence day
// turning over, a token expiring), and sends the result only when its bytes
// differ from the last one sent (a match carries its SOP's revision, so a
// republished SOP that still matches is a new result). Re-running costs one
// lookup per open watch per pass (microseconds each; 1,000 watches re-run
// and sent in about 15 ms on a 2-core VM), on the hub's one notifier
// thread: no thread per watch. Changes announced during a pass make one
// more pass, however many they are.
//
// Messages are serialised v1::WatchSopsResponse with `result` set: the bytes
// 0x0a, the varint size of the lookup's bytes, then the bytes of
// SopRegistry::LookupSopsWire (what serialising the message gives).
//
// Errors of Watch: those of SopRegistry::LookupSops for the request (checked
// first); RESOURCE_EXHAUSTED (error::TooManyWatches) when the caller's token
// already holds Options::max_watches_per_token open watches (for a viewer an
// integration acts for: that viewer through that token), or the hub
// max_watches; UNAVAILABLE (error::ShuttingDown) after Shutdown.
// A watch whose token is revoked or has expired is closed with
// UNAUTHENTICATED at the next re-run; Shutdown sends every watch a last
// message, a WatchSopsResponse with `reconnect` set (the watcher should open
// its watch again, elsewhere), and closes it with UNAVAILABLE. A watch the
// hub closed no longer counts against the limits.
//
// Wiring: the owner makes the registry call CatalogChanged
// (registry->SetCatalogListener([hub] { hub->CatalogChanged(); })) and
// replaces that listener before destroying the hub.
//
// Timing: the recheck interval runs on the real clock (absl::Now), whatever
// Clock the registry was given; lookups themselves use the registry's clock.
//
// Thread-safe. Sinks are called from the notifier thread, and from the
// thread of Watch (the first message) or Shutdown (the close); never while
// the hub's own lock is held, and never two calls on one sink at a time.
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
  // it is revoked or expired (AccessRegistry::CheckActive). Called on the
  // notifier thread, once per watch per re-run; must be thread-safe and
  // must not block. An empty function checks nothing.
  using TokenCheck = std::function<absl::Status(const Caller&)>;

  // `registry` must outlive the hub. Starts the notifier thread.
  // Subscriptions may outlive the hub (their destructor then does nothing).
  LookupWatchHub(const SopRegistry* registry, TokenCheck token_check, Options options);
  // Closes every watch (UNAVAILABLE) and joins the notifier thread.
  ~LookupWatchHub();

  // Opens a watch: validates and runs the lookup as LookupSops does and
  // sends its result to `sink` before returning (on an error nothing is
  // sent and the sink is not closed). Watches count per Caller::token_name
  // (callers without a token share the empty name). The caller's deadline
  // applies to opening only; re-runs ignore it. The subscription's
  // destructor ends the watch: once it returns, the hub calls neither Send
  // nor Close on `sink` again (it waits for a re-run of this watch in
  // progress, a lookup and a Send, to finish), so it must not be destroyed
  // from inside that sink's Send or Close.
  absl::StatusOr<std::unique_ptr<MessageSubscription>> Watch(const Caller& caller,
                                                             const v1::WatchSopsRequest& request,
                                                             std::shared_ptr<MessageSink> sink);

  // Tells the hub the published catalog changed: every watch is re-run
  // soon (batched: many changes in a burst cost one pass), each with a
  // snapshot of the catalog that shows the change. Takes the hub's lock only
  // to set a flag (never held while a lookup or a sink runs): safe to call
  // with the registry's write lock held.
  void CatalogChanged();

  // Sends every open watch the `reconnect` message, closes it with
  // UNAVAILABLE, and refuses new watches. Idempotent.
  // Returns once every watch is closed (after a re-run in progress).
  void Shutdown();

  // How many watches are open.
  size_t open_watches() const;

 private:
  class Impl;
  // Shared with the subscriptions (weakly), so that one destroyed after the
  // hub finds it gone.
  std::shared_ptr<Impl> impl_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_LOOKUP_WATCH_H_
