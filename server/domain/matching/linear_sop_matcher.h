// The reference engine: evaluates every rule of every SOP of the org. Simple
// enough to be obviously right; the baseline faster engines are tested and
// measured against. Thread-safe (immutable after construction).
#ifndef SOPSIDEBAR_SERVER_DOMAIN_MATCHING_LINEAR_SOP_MATCHER_H_
#define SOPSIDEBAR_SERVER_DOMAIN_MATCHING_LINEAR_SOP_MATCHER_H_

#include <memory>
#include <vector>

#include "server/domain/matching/sop_matcher.h"

namespace sopsidebar {

class LinearSopMatcher : public SopMatcher {
 public:
  explicit LinearSopMatcher(std::vector<PublishedSopPtr> sops);

  std::vector<SopMatchResult> Match(const MatchQuery& query) const override;
  std::vector<NearMiss> NearMisses(const MatchQuery& query, int max) const override;
  // A full copy of the set with the changes applied: O(n).
  std::unique_ptr<const SopMatcher> WithChanges(
      std::vector<PublishedSopPtr> puts, const std::vector<SopName>& removes) const override;
  std::vector<PublishedSopPtr> PublishedSops(absl::string_view org) const override;

  // A SopMatcherFactory for this engine.
  static std::unique_ptr<const SopMatcher> Build(std::vector<PublishedSopPtr> sops);

 private:
  std::vector<PublishedSopPtr> sops_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_MATCHING_LINEAR_SOP_MATCHER_H_
