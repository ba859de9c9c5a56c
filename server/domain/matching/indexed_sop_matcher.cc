#include "server/domain/matching/indexed_sop_matcher.h"

#include <cstdint>
#include <utility>

#include "server/domain/matching/index_segment.h"
#include "server/domain/matching/index_state.h"
#include "server/domain/matching/indexed_lookup.h"
#include "server/domain/matching/segment_policy.h"

namespace sopsidebar {

using indexed_internal::IndexState;

IndexedSopMatcher::IndexedSopMatcher(std::shared_ptr<const IndexState> state)
    : state_(std::move(state)) {}

IndexedSopMatcher::~IndexedSopMatcher() = default;

std::unique_ptr<const SopMatcher> IndexedSopMatcher::Build(std::vector<PublishedSopPtr> sops) {
  return std::unique_ptr<const SopMatcher>(
      new IndexedSopMatcher(indexed_internal::BuildIndexState(std::move(sops))));
}

std::vector<SopMatchResult> IndexedSopMatcher::Match(const MatchQuery& query) const {
  return indexed_internal::IndexedMatch(*state_, query);
}

std::vector<NearMiss> IndexedSopMatcher::NearMisses(const MatchQuery& query, int max) const {
  return indexed_internal::IndexedNearMisses(*state_, query, max);
}

std::unique_ptr<const SopMatcher> IndexedSopMatcher::WithChanges(
    std::vector<PublishedSopPtr> puts, const std::vector<SopName>& removes) const {
  return std::unique_ptr<const SopMatcher>(new IndexedSopMatcher(
      indexed_internal::IndexStateWithChanges(*state_, std::move(puts), removes)));
}

std::vector<PublishedSopPtr> IndexedSopMatcher::PublishedSops(absl::string_view org) const {
  std::vector<PublishedSopPtr> out;
  for (const IndexState::SegmentRef& ref : state_->segments) {
    for (uint32_t i = 0; i < ref.segment->sops.size(); ++i) {
      if (!indexed_internal::IsDead(ref.dead.get(), i) && ref.segment->sops[i]->name.org == org) {
        out.push_back(ref.segment->sops[i]);
      }
    }
  }
  return out;
}

size_t IndexedSopMatcher::segment_count() const { return state_->segments.size(); }

size_t IndexedSopMatcher::sop_count() const { return state_->live; }

}  // namespace sopsidebar
