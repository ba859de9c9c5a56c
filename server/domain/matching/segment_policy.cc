#include "server/domain/matching/segment_policy.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "server/domain/matching/index_hashing.h"
#include "server/domain/matching/segment_builder.h"

namespace sopsidebar {
namespace indexed_internal {
namespace {

// Segment caps (see the header): the small segment holds at most
// max(kMinSmallCap, n^(1/3)) SOPs, the middle one max(kMinMiddleCap, n^(2/3)).
constexpr size_t kMinSmallCap = 128;
constexpr size_t kMinMiddleCap = 4096;

// Where `name` lives: (segment, sop) of its live entry.
std::optional<std::pair<size_t, uint32_t>> FindLive(const IndexState& state, const SopName& name) {
  const uint64_t h = NameHash(name);
  for (size_t si = state.segments.size(); si-- > 0;) {
    const IndexState::SegmentRef& ref = state.segments[si];
    const auto& sops = ref.segment->sops;
    auto it = std::partition_point(sops.begin(), sops.end(), [h](const PublishedSopPtr& sop) {
      return NameHash(sop->name) < h;
    });
    for (; it != sops.end() && NameHash((*it)->name) == h; ++it) {
      const auto i = static_cast<uint32_t>(it - sops.begin());
      if ((*it)->name == name && !IsDead(ref.dead.get(), i)) return std::make_pair(si, i);
    }
  }
  return std::nullopt;
}

// `dict`, or a copy of it extended with the condition fields of `sops` it
// lacks.
std::shared_ptr<const FieldDictionary> Extend(std::shared_ptr<const FieldDictionary> dict,
                                              const std::vector<PublishedSopPtr>& sops) {
  std::shared_ptr<FieldDictionary> copy;
  for (const PublishedSopPtr& sop : sops) {
    for (const v1::TargetingRule& rule : sop->body.targeting_rules()) {
      for (const v1::Condition& c : rule.conditions()) {
        if (dict->Find(c.field()) || (copy && copy->Find(c.field()))) continue;
        if (!copy) copy = std::make_shared<FieldDictionary>(*dict);
        copy->Intern(c.field());
      }
    }
  }
  return copy ? copy : dict;
}

}  // namespace

std::shared_ptr<const IndexState> BuildIndexState(std::vector<PublishedSopPtr> sops) {
  auto state = std::make_shared<IndexState>();
  state->dict = Extend(std::make_shared<const FieldDictionary>(), sops);
  if (!sops.empty()) {
    const size_t n = sops.size();
    state->segments.push_back(
        IndexState::SegmentRef{BuildSegment(std::move(sops), *state->dict), nullptr, 0, n});
  }
  state->Rebase();
  return state;
}

std::shared_ptr<const IndexState> IndexStateWithChanges(const IndexState& state,
                                                        std::vector<PublishedSopPtr> puts,
                                                        const std::vector<SopName>& removes) {
  auto next = std::make_shared<IndexState>(state);
  // The last put of a name wins.
  std::vector<PublishedSopPtr> pending;
  absl::flat_hash_map<std::string, size_t> put_at;
  for (PublishedSopPtr& sop : puts) {
    auto [it, inserted] = put_at.try_emplace(sop->name.Full(), pending.size());
    if (inserted) {
      pending.push_back(std::move(sop));
    } else {
      pending[it->second] = std::move(sop);
    }
  }
  // Dead sets are copied on first write, never changed once shared.
  std::vector<std::shared_ptr<DeadSet>> own(next->segments.size());
  auto kill = [&](const SopName& name) {
    std::optional<std::pair<size_t, uint32_t>> at = FindLive(*next, name);
    if (!at) return;
    IndexState::SegmentRef& ref = next->segments[at->first];
    std::shared_ptr<DeadSet>& dead = own[at->first];
    if (!dead) {
      dead = ref.dead ? std::make_shared<DeadSet>(*ref.dead)
                      : std::make_shared<DeadSet>((ref.segment->sops.size() + 63) / 64, 0);
      ref.dead = dead;
    }
    (*dead)[at->second >> 6] |= uint64_t{1} << (at->second & 63);
    --ref.live;
  };
  for (const SopName& name : removes) kill(name);
  for (const PublishedSopPtr& sop : pending) kill(sop->name);

  auto absorb_last = [&] {
    const IndexState::SegmentRef& ref = next->segments.back();
    for (uint32_t i = 0; i < ref.segment->sops.size(); ++i) {
      if (!IsDead(ref.dead.get(), i)) pending.push_back(ref.segment->sops[i]);
    }
    next->segments.pop_back();
  };
  next->segments.erase(std::remove_if(next->segments.begin(), next->segments.end(),
                                      [](const IndexState::SegmentRef& r) { return r.live == 0; }),
                       next->segments.end());
  size_t n = pending.size();
  for (const IndexState::SegmentRef& ref : next->segments) n += ref.live;
  const double cube_root = std::cbrt(static_cast<double>(n));
  const size_t small_cap = std::max(kMinSmallCap, static_cast<size_t>(cube_root));
  const size_t middle_cap = std::max(kMinMiddleCap, static_cast<size_t>(cube_root * cube_root));
  // A base with a quarter of its SOPs dead is rebuilt.
  if (!next->segments.empty() &&
      next->segments.front().live * 4 < next->segments.front().segment->sops.size() * 3) {
    while (!next->segments.empty()) absorb_last();
  }
  while (!next->segments.empty()) {
    const size_t k = next->segments.size();
    if (k == 2 && pending.size() <= small_cap) break;
    if (k == 1 && pending.size() <= middle_cap) break;
    absorb_last();
  }
  if (next->segments.empty()) {
    return BuildIndexState(std::move(pending));
  }
  if (!pending.empty()) {
    next->dict = Extend(next->dict, pending);
    const size_t live = pending.size();
    next->segments.push_back(
        IndexState::SegmentRef{BuildSegment(std::move(pending), *next->dict), nullptr, 0, live});
  }
  next->Rebase();
  return next;
}
}  // namespace indexed_internal
}  // namespace sopsidebar
