// The indexed engine: the linear baseline's results (same SOPs, order,
// rule_index, priority and specificity) without evaluating every rule.
//
// Layout. A matcher is a list of at most three immutable segments (a large
// base, a middle and a small one, like an LSM tree) plus, per segment, a set
// of dead SOPs (replaced or removed since the segment was built). Inside a
// segment, rules are partitioned by (org, record type), rules accepting any
// type in their own partition, so a lookup reads two partitions per segment.
// Each rule is compiled into one contiguous program of 32-bit words: a
// header (SOP, priority, role mask, rule index, specificity), then per
// condition a one-word header and its operands (32 bits of each equality
// value's hash, number bounds, time bounds, prefix bytes). Each rule is
// filed under one access condition, the one expected to admit the fewest
// records: an equals / any_of (a posting per value, exact or case-folded,
// in one table keyed by partition, field and value hash; the program then
// keeps no hashes for that condition), else a number or time range (a list
// per field sorted by the bound, so a record's value admits a prefix of it),
// else a scan list. A lookup resolves the record's fields once into a dense
// array by field id, gathers the rules its values reach, prefetches their
// programs and screens each in one pass: ranges, prefixes and exists are
// decided exactly, an equality hash miss fails the rule, and equality hits
// are confirmed on the rule's protobuf condition (ConditionHoldsForValue)
// only once every other condition has passed, so hash collisions cost time,
// never correctness, and protobuf reads are paid for matches only. Full
// builds compile on the machine's cores. The build is O(total conditions)
// plus sorting.
//
// Writes. WithChanges marks the replaced / removed SOPs dead in a copy of the
// affected segments' dead sets and builds the new SOPs into the small
// segment, merging it into the middle one (and that into the base) when it
// outgrows its cap: the caps follow n^(1/3) and n^(2/3) (at least 128 and
// 4096 SOPs), so a write rebuilds O(n^(1/3)) SOPs amortised, a base with a
// quarter of its SOPs dead is rebuilt, and a lookup reads at most three
// segments. The occasional base rebuild makes that one write as slow as a
// full build; lookups never wait for it.
//
// Near misses may fail their access condition, so NearMisses checks every
// rule of the two partitions (the interface allows a scan).
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
