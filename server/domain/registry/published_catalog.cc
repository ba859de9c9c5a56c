#include "server/domain/registry/published_catalog.h"

#include <atomic>

namespace sopsidebar {

PublishedCatalog::PublishedCatalog(SopMatcherFactory factory) : factory_(std::move(factory)) {
  absl::MutexLock lock(&mu_);
  PublishLocked();
}

void PublishedCatalog::Reset(std::vector<PublishedSopPtr> sops) {
  absl::MutexLock lock(&mu_);
  sops_.clear();
  for (PublishedSopPtr& sop : sops) {
    std::string key = sop->name.Full();
    sops_[std::move(key)] = std::move(sop);
  }
  PublishLocked();
}

void PublishedCatalog::Put(PublishedSopPtr sop) {
  absl::MutexLock lock(&mu_);
  sops_[sop->name.Full()] = std::move(sop);
  PublishLocked();
}

void PublishedCatalog::Remove(const SopName& name) {
  absl::MutexLock lock(&mu_);
  if (sops_.erase(name.Full()) > 0) PublishLocked();
}

std::shared_ptr<const SopMatcher> PublishedCatalog::Snapshot() const {
  return std::atomic_load(&snapshot_);
}

size_t PublishedCatalog::size() const {
  absl::MutexLock lock(&mu_);
  return sops_.size();
}

void PublishedCatalog::PublishLocked() {
  std::vector<PublishedSopPtr> sops;
  sops.reserve(sops_.size());
  for (const auto& [name, sop] : sops_) sops.push_back(sop);
  std::shared_ptr<const SopMatcher> next = factory_(std::move(sops));
  std::atomic_store(&snapshot_, std::move(next));
}

}  // namespace sopsidebar
