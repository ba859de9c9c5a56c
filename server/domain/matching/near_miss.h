// Near misses (see NearMiss in sop_matcher.h): the pieces every engine
// shares, so engines agree on what a near miss is and in which order they
// come, and the hints ExplainNearMiss gives. Thread-safe (pure).
#ifndef SOPSIDEBAR_SERVER_DOMAIN_MATCHING_NEAR_MISS_H_
#define SOPSIDEBAR_SERVER_DOMAIN_MATCHING_NEAR_MISS_H_

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"
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

// The first record type `rule` names that `record_type` differs from only
// by ASCII case; null when there is none or the rule accepts `record_type`
// (names it, or names no record type). A rule it returns a type for is a
// near miss when all its conditions hold.
const std::string* RecordTypeDifferingOnlyByCase(const v1::TargetingRule& rule,
                                                 absl::string_view record_type);

// Why `value` (null: the field is missing) fails `condition` when that looks
// like a slip: "differs only by case", "differs only by dash", "differs
// only by case and dash" (the condition would hold ignoring ASCII case
// and/or with every dash a hyphen), "a string where the rule expects a
// number" (it would hold with the strings written as numbers made numbers).
// Empty otherwise, and for none_of and exists conditions.
std::string NearMissHint(const v1::Condition& condition, const google::protobuf::Value* value);

// Orders `misses` by NearMissRanksBefore and keeps the first `max`.
inline void RankNearMisses(std::vector<NearMiss>* misses, int max) {
  const size_t k = std::min(misses->size(), static_cast<size_t>(std::max(max, 0)));
  std::partial_sort(misses->begin(), misses->begin() + k, misses->end(), NearMissRanksBefore);
  misses->resize(k);
}

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_MATCHING_NEAR_MISS_H_
