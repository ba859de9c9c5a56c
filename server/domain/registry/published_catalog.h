// The published SOPs lookups match, as an immutable matcher snapshot that
// writers replace atomically: a lookup takes the current snapshot and works
// on it without locks; a write builds the next one before it returns.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_PUBLISHED_CATALOG_H_
#define SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_PUBLISHED_CATALOG_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/domain/matching/sop_matcher.h"

namespace sopsidebar {

// Thread-safe. Writers are serialised internally; Snapshot never waits for
// a writer.
class PublishedCatalog {
 public:
  explicit PublishedCatalog(SopMatcherFactory factory);

  // Replaces the whole set (at start-up).
  void Reset(std::vector<PublishedSopPtr> sops);

  // Makes `sop` the published revision of its SOP.
  void Put(PublishedSopPtr sop);

  // Stops matching `name`; a no-op when it is not published.
  void Remove(const SopName& name);

  // The current matcher. Never null.
  std::shared_ptr<const SopMatcher> Snapshot() const;

  // How many SOPs are published.
  size_t size() const;

 private:
  void PublishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const SopMatcherFactory factory_;
  mutable absl::Mutex mu_;
  std::map<std::string, PublishedSopPtr> sops_ ABSL_GUARDED_BY(mu_);  // by full name
  // Read with std::atomic_load, written with std::atomic_store under mu_.
  std::shared_ptr<const SopMatcher> snapshot_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_PUBLISHED_CATALOG_H_
