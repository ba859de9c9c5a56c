#include "server/domain/matching/linear_sop_matcher.h"

#include <algorithm>
#include <optional>
#include <string>
#include <tuple>

#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_set.h"
#include "server/domain/matching/condition.h"
#include "server/domain/matching/near_miss.h"

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

std::vector<NearMiss> LinearSopMatcher::NearMisses(const MatchQuery& query, int max) const {
  std::vector<NearMiss> misses;
  const FieldMap& fields = query.context->fields();
  const std::string& type = query.context->record_type();
  for (const PublishedSopPtr& sop : sops_) {
    if (sop->name.org != query.org || !RolesMaySee(query.viewer_roles, sop->visible_to)) {
      continue;
    }
    const auto& rules = sop->body.targeting_rules();
    for (int i = 0; i < rules.size(); ++i) {
      const v1::TargetingRule& rule = rules[i];
      if (RecordTypeDifferingOnlyByCase(rule, type) != nullptr) {
        if (AllConditionsHold(rule.conditions(), fields)) {
          misses.push_back(NearMiss{sop, i, NearMiss::kRecordType, rule.priority(),
                                    RuleSpecificity(rule)});
        }
        continue;
      }
      if (!rule.record_types().empty() &&
          absl::c_find(rule.record_types(), type) == rule.record_types().end()) {
        continue;
      }
      std::optional<int> failed = SoleFailedCondition(rule, [&](int c) {
        auto it = fields.find(rule.conditions(c).field());
        return it == fields.end() ? nullptr : &it->second;
      });
      if (failed) {
        misses.push_back(NearMiss{sop, i, *failed, rule.priority(), RuleSpecificity(rule)});
      }
    }
  }
  RankNearMisses(&misses, max);
  return misses;
}

std::unique_ptr<const SopMatcher> LinearSopMatcher::WithChanges(
    std::vector<PublishedSopPtr> puts, const std::vector<SopName>& removes) const {
  absl::flat_hash_set<std::string> gone;
  for (const SopName& name : removes) gone.insert(name.Full());
  for (const PublishedSopPtr& sop : puts) gone.insert(sop->name.Full());
  std::vector<PublishedSopPtr> next;
  next.reserve(sops_.size() + puts.size());
  for (const PublishedSopPtr& sop : sops_) {
    if (!gone.contains(sop->name.Full())) next.push_back(sop);
  }
  // The last put of a name wins.
  absl::flat_hash_set<std::string> put_names;
  for (auto it = puts.rbegin(); it != puts.rend(); ++it) {
    if (put_names.insert((*it)->name.Full()).second) next.push_back(std::move(*it));
  }
  return Build(std::move(next));
}

std::vector<PublishedSopPtr> LinearSopMatcher::PublishedSops(absl::string_view org) const {
  std::vector<PublishedSopPtr> out;
  for (const PublishedSopPtr& sop : sops_) {
    if (sop->name.org == org) out.push_back(sop);
  }
  return out;
}

}  // namespace sopsidebar
