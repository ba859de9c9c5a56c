#include "server/domain/matching/linear_sop_matcher.h"

#include <algorithm>
#include <optional>
#include <tuple>

#include "server/domain/matching/condition.h"

namespace sopsidebar {

LinearSopMatcher::LinearSopMatcher(std::vector<PublishedSopPtr> sops) : sops_(std::move(sops)) {}

std::unique_ptr<const SopMatcher> LinearSopMatcher::Build(std::vector<PublishedSopPtr> sops) {
  return std::make_unique<LinearSopMatcher>(std::move(sops));
}

std::vector<SopMatchResult> LinearSopMatcher::Match(const MatchQuery& query) const {
  std::vector<SopMatchResult> results;
  for (const PublishedSopPtr& sop : sops_) {
    if (sop->name.org != query.org || !RolesMaySee(query.viewer_roles, sop->visible_to)) {
      continue;
    }
    std::optional<SopMatchResult> best;
    const auto& rules = sop->body.targeting_rules();
    for (int i = 0; i < rules.size(); ++i) {
      if (!RuleMatches(rules[i], *query.context)) continue;
      SopMatchResult candidate{sop, i, rules[i].priority(), RuleSpecificity(rules[i])};
      if (!best || std::tie(candidate.priority, candidate.specificity) >
                       std::tie(best->priority, best->specificity)) {
        best = std::move(candidate);
      }
    }
    if (best) results.push_back(std::move(*best));
  }
  const size_t k = std::min(results.size(), static_cast<size_t>(query.max_results));
  std::partial_sort(results.begin(), results.begin() + k, results.end(), RanksBefore);
  results.resize(k);
  return results;
}

}  // namespace sopsidebar
