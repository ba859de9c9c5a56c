#include "server/domain/registry/sop_visibility.h"

#include <cstring>
#include <string>

#include "absl/hash/hash.h"

namespace sopsidebar {

bool ReadsPublished(const Caller& caller, RoleSet visible_to) {
  return RolesMaySee(caller.roles, visible_to) && IsAllowed(caller, Operation::kReadPublished);
}

bool MaySee(const Caller& caller, const SopVisibility& sop) {
  return IsAllowed(caller, Operation::kReadDrafts, sop.head) ||
         (sop.state == v1::Sop::PUBLISHED && ReadsPublished(caller, sop.published_visible_to));
}

SopVisibilityIndex::NameKey::NameKey(absl::string_view name)
    : name(name.data()),
      size(static_cast<uint32_t>(name.size())),
      hash(static_cast<uint32_t>(absl::HashOf(name))) {}

SopVisibilityIndex::Entry& SopVisibilityIndex::EntryFor(absl::string_view name) {
  NameKey key(name);
  auto it = sops_.find(key);
  if (it != sops_.end()) return it->second;
  char* kept = google::protobuf::Arena::CreateArray<char>(&arena_, name.size());
  std::memcpy(kept, name.data(), name.size());
  key.name = kept;
  return sops_.emplace(key, Entry()).first->second;
}

uint32_t SopVisibilityIndex::OwnerIndex(absl::string_view owner_user_id) {
  if (owner_user_id.empty()) return 0;
  auto it = owner_index_.find(owner_user_id);
  if (it != owner_index_.end()) return it->second;
  char* kept = google::protobuf::Arena::CreateArray<char>(&arena_, owner_user_id.size());
  std::memcpy(kept, owner_user_id.data(), owner_user_id.size());
  owners_.emplace_back(kept, owner_user_id.size());
  const uint32_t index = static_cast<uint32_t>(owners_.size());
  owner_index_.emplace(owners_.back(), index);
  return index;
}

SopVisibility SopVisibilityIndex::Unpack(const Entry& entry) const {
  SopVisibility sop;
  sop.head.visible_to = entry.visible_to;
  sop.head.approvers = entry.approvers;
  if (entry.owner > 0) sop.head.owner_user_id = owners_[entry.owner - 1];
  sop.state = static_cast<v1::Sop::State>(entry.state);
  sop.published_visible_to = entry.published_visible_to;
  return sop;
}

void SopVisibilityIndex::Record(const v1::Sop& head) {
  const SopAccess access = AccessOf(head);
  absl::MutexLock lock(&mu_);
  Entry& entry = EntryFor(head.name());
  entry.visible_to = static_cast<uint16_t>(access.visible_to);
  entry.approvers = static_cast<uint16_t>(access.approvers);
  entry.owner = OwnerIndex(access.owner_user_id);
  entry.state = static_cast<uint8_t>(head.state());
}

void SopVisibilityIndex::RecordPublished(const PublishedSop& sop) {
  const std::string name = sop.name.Full();
  absl::MutexLock lock(&mu_);
  EntryFor(name).published_visible_to = static_cast<uint16_t>(sop.visible_to);
}

bool SopVisibilityIndex::MaySee(const Caller& caller, const SopName& name) const {
  const std::string full = name.Full();
  const NameKey key(full);
  absl::ReaderMutexLock lock(&mu_);
  auto it = sops_.find(key);
  return it != sops_.end() && sopsidebar::MaySee(caller, Unpack(it->second));
}

}  // namespace sopsidebar
