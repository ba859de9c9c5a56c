#include "server/domain/registry/published_catalog.h"

#include <atomic>

namespace sopsidebar {

PublishedCatalog::PublishedCatalog(SopMatcherFactory factory) : factory_(std::move(factory)) {
  absl::MutexLock lock(&mu_);
  Publish(factory_({}));
}

void PublishedCatalog::Reset(std::vector<PublishedSopPtr> sops) {
  absl::MutexLock lock(&mu_);
  sops_.clear();
  sops_.reserve(sops.size());  // no rehashing at start-up
  for (const PublishedSopPtr& sop : sops) sops_.insert_or_assign(sop->name.Full(), sop);
  Publish(factory_(std::move(sops)));
}

void PublishedCatalog::Put(PublishedSopPtr sop) {
  std::vector<PublishedSopPtr> puts;
  puts.push_back(std::move(sop));
  Write(std::move(puts), {});
}

void PublishedCatalog::Remove(const SopName& name) { Write({}, {name}); }

void PublishedCatalog::Write(std::vector<PublishedSopPtr> puts,
                             const std::vector<SopName>& removes) {
  absl::MutexLock lock(&mu_);
  std::vector<SopName> present;
  for (const SopName& name : removes) {
    if (sops_.erase(name.Full()) > 0) present.push_back(name);
  }
  for (const PublishedSopPtr& sop : puts) sops_.insert_or_assign(sop->name.Full(), sop);
  if (present.empty() && puts.empty()) return;
  Publish(std::atomic_load(&snapshot_)->WithChanges(std::move(puts), present));
}

std::shared_ptr<const SopMatcher> PublishedCatalog::Snapshot() const {
  return std::atomic_load(&snapshot_);
}

size_t PublishedCatalog::size() const {
  absl::MutexLock lock(&mu_);
  return sops_.size();
}

std::vector<PublishedSopPtr> PublishedCatalog::Sops() const {
  absl::MutexLock lock(&mu_);
  std::vector<PublishedSopPtr> sops;
  sops.reserve(sops_.size());
  for (const auto& [name, sop] : sops_) sops.push_back(sop);
  return sops;
}

void PublishedCatalog::Publish(std::shared_ptr<const SopMatcher> next) {
  std::atomic_store(&snapshot_, std::move(next));
}

}  // namespace sopsidebar
