// Near misses (see NearMiss in sop_matcher.h): the pieces every engine
// shares, so engines agree on what a near miss is and in which order they
// come. Thread-safe (pure).
#ifndef SOPSIDEBAR_SERVER_DOMAIN_MATCHING_NEAR_MISS_H_
#define SOPSIDEBAR_SERVER_DOMAIN_MATCHING_NEAR_MISS_H_

#include <algorithm>
#include <optional>
#include <vector>

#include "server/domain/matching/condition.h"
#include "server/domain/matching/sop_matcher.h"

namespace sopsidebar {

// The index of the only one of `conditions` conditions for which
// `holds(i)` is false; nullopt when every condition holds or more than one
// fails.
template <typename Holds>
std::optional<int> SoleFailedCondition(int conditions, Holds holds) {
  std::optional<int> failed;
  for (int i = 0; i < conditions; ++i) {
    if (holds(i)) continue;
    if (failed) return std::nullopt;
    failed = i;
  }
  return failed;
}

// The index of the only condition of `rule` that fails, where
// `value_of(i)` is the record's value for condition i (null when missing);
// nullopt when every condition holds or more than one fails. Record types
// are not looked at: the caller has put the rule in scope.
template <typename ValueOf>
std::optional<int> SoleFailedCondition(const v1::TargetingRule& rule, ValueOf value_of) {
  return SoleFailedCondition(rule.conditions_size(), [&](int i) {
    return ConditionHoldsForValue(rule.conditions(i), value_of(i));
  });
}

// Orders `misses` by NearMissRanksBefore and keeps the first `max`.
inline void RankNearMisses(std::vector<NearMiss>* misses, int max) {
  const size_t k = std::min(misses->size(), static_cast<size_t>(std::max(max, 0)));
  std::partial_sort(misses->begin(), misses->begin() + k, misses->end(), NearMissRanksBefore);
  misses->resize(k);
}

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_MATCHING_NEAR_MISS_H_
