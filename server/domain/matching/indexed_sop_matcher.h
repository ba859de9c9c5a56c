// The indexed engine: the linear baseline's results (same SOPs, order,
// rule_index, priority and specificity) without evaluating every rule.
//
// Layout. A matcher is a list of at most three immutable segments (a large
// base, a middle and a small one, like an LSM tree) plus, per segment, a set
// of dead SOPs (replaced or removed since the segment was built). Inside a
// segment, rules are partitioned by (org, record type), rules accepting any
// type in their own partition, so a lookup reads two partitions per segment.
// A partition holds one group for the SOPs every role sees and one per role
// for the others (a lookup reads only the groups of its viewer's roles, so a
// hidden SOP costs nothing) and, when large, cuts each into bands of descending
// priority (a lookup stops once its top results are final). Each band is a
// tree in the spirit of BE-tree and the conjunction index (Whang et al.,
// VLDB 2009): a node holds a few rules to verify and "splits" on a field
// many of its rules test, either by value (equals / any_of, exact or
// case-folded: each tested value, hashed, maps to a child holding those
// rules) or by bucket (number or time ranges: the field's values are cut at
// quantiles of the rules' bounds, and a rule sits in every bucket its range
// overlaps). A lookup follows only the children of the record's values and
// verifies the rules it reaches with the shared condition semantics
// (ConditionHoldsForValue), so hash collisions and coarse buckets cost time,
// never correctness. Prefix, exists and none_of conditions are verified, not
// indexed.
//
// Writes. WithChanges marks the replaced / removed SOPs dead in a copy of the
// affected segments' dead sets and builds the new SOPs into the small
// segment, merging it into the middle one (and that into the base) when it
// outgrows its cap: the caps follow n^(1/3) and n^(2/3) (at least 128 and
// 4096 SOPs), so a write rebuilds O(n^(1/3)) SOPs amortised, a base with a
// quarter of its SOPs dead is rebuilt, and a lookup reads at most three
// segments. The occasional base rebuild makes that one write as slow as a
// full build (seconds at 1M rules); lookups never wait for it.
//
// Thread-safe: immutable after construction. Match and NearMisses may run
// concurrently from any number of threads; they take no lock and allocate
// only their results (per-thread scratch is reused across lookups).
#ifndef SOPSIDEBAR_SERVER_DOMAIN_MATCHING_INDEXED_SOP_MATCHER_H_
#define SOPSIDEBAR_SERVER_DOMAIN_MATCHING_INDEXED_SOP_MATCHER_H_

#include <cstddef>
#include <memory>
#include <vector>

#include "server/domain/matching/sop_matcher.h"

namespace sopsidebar {

class IndexedSopMatcher final : public SopMatcher {
 public:
  // A full build (one segment). A SopMatcherFactory.
  static std::unique_ptr<const SopMatcher> Build(std::vector<PublishedSopPtr> sops);

  ~IndexedSopMatcher() override;

  std::vector<SopMatchResult> Match(const MatchQuery& query) const override;
  std::vector<NearMiss> NearMisses(const MatchQuery& query, int max) const override;
  std::unique_ptr<const SopMatcher> WithChanges(
      std::vector<PublishedSopPtr> puts, const std::vector<SopName>& removes) const override;
  std::vector<PublishedSopPtr> PublishedSops(absl::string_view org) const override;

  // How many segments a lookup reads (1 after a full build, at most 3).
  size_t segment_count() const;
  // How many SOPs are published.
  size_t sop_count() const;

  struct State;
  explicit IndexedSopMatcher(std::shared_ptr<const State> state);

 private:
  std::shared_ptr<const State> state_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_MATCHING_INDEXED_SOP_MATCHER_H_
