// The published SOPs lookups match, as an immutable matcher snapshot that
// writers replace as a whole: a lookup copies the pointer to the current
// snapshot (under a short lock, see Snapshot) and matches on it without
// locks; a write derives the next snapshot from the current one
// (SopMatcher::WithChanges, incremental for the indexed engine) and publishes
// it before it returns.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_PUBLISHED_CATALOG_H_
#define SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_PUBLISHED_CATALOG_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "server/domain/matching/sop_matcher.h"

namespace sopsidebar {

// Thread-safe. Writers are serialised internally and build the next snapshot
// without blocking readers: Snapshot waits at most for another thread's copy
// or swap of the snapshot pointer, never for a build. A snapshot shows every
// write before it and none after it (never part of one).
class PublishedCatalog {
 public:
  // `factory` makes full builds (at construction and in Reset).
  explicit PublishedCatalog(SopMatcherFactory factory);

  // Replaces the whole set (at start-up): a full build.
  void Reset(std::vector<PublishedSopPtr> sops);

  // Makes `sop` the published revision of its SOP.
  void Put(PublishedSopPtr sop);

  // Stops matching `name`; a no-op when it is not published.
  void Remove(const SopName& name);

  // Applies `removes`, then `puts` (the last put of a name wins), as one
  // change: no snapshot shows only part of it.
  void Write(std::vector<PublishedSopPtr> puts, const std::vector<SopName>& removes);

  // The current matcher. Never null. Copies a shared_ptr under a mutex:
  // std::atomic_load on a shared_ptr is not lock-free in libstdc++, it locks
  // one of a small pool of mutexes picked by the pointer's address for the
  // copy (a reference-count increment). A publisher holds the same mutex only
  // to swap the pointer; it builds before, and drops the old snapshot after.
  // (Any other atomic shared_ptr access in the process could share the mutex;
  // sopd's own code has none.)
  std::shared_ptr<const SopMatcher> Snapshot() const;

  // How many SOPs are published.
  size_t size() const;

  // Every published SOP of every org, in no particular order, as of the last
  // write (a copy of the pointers: for an index of its own, such as search).
  std::vector<PublishedSopPtr> Sops() const;

 private:
  void Publish(std::shared_ptr<const SopMatcher> next) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const SopMatcherFactory factory_;
  mutable absl::Mutex mu_;
  // By full name.
  absl::flat_hash_map<std::string, PublishedSopPtr> sops_ ABSL_GUARDED_BY(mu_);
  // Read with std::atomic_load, written with std::atomic_store under mu_
  // (each a pointer copy or swap under a pooled mutex, see Snapshot).
  std::shared_ptr<const SopMatcher> snapshot_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_PUBLISHED_CATALOG_H_
