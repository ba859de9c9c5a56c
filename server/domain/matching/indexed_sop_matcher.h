// The indexed engine: the linear baseline's results (same SOPs, order,
// rule_index, priority and specificity) without evaluating every rule.
//
// Layout. A matcher is a list of at most three immutable segments (a large
// base, a middle and a small one, like an LSM tree) plus, per segment, a set
// of dead SOPs (replaced or removed since the segment was built). Inside a
// segment, rules are partitioned by (org, record type), rules accepting any
// type in their own partition, so a lookup reads two partitions per segment.
// Each rule is compiled into one contiguous program of 32-bit words and
// filed under one access condition, the one expected to admit the fewest
// records (a posting per equality value, a range list, or a scan list). A
// lookup gathers the rules the record's values reach, screens their
// programs in one pass and confirms equality hits on the rule's protobuf
// condition, so hash collisions cost time, never correctness. Full builds
// compile on the machine's cores. The build is O(total conditions) plus
// sorting.
//
// Writes. WithChanges marks the replaced / removed SOPs dead and builds the
// new SOPs into the small segment, merging segments when they outgrow caps
// that follow n^(1/3) and n^(2/3), so a write rebuilds O(n^(1/3)) SOPs
// amortised. The occasional base rebuild makes that one write as slow as a
// full build; lookups never wait for it.
//
// Near misses may fail their access condition, so NearMisses checks every
// rule of the two partitions (the interface allows a scan).
//
// The units, each with its own contract (internal headers, included only by
// the engine's files and their tests): index_hashing.h, field_dictionary.h,
// rule_program.h, rule_compiler.h, posting_table.h, index_segment.h,
// segment_builder.h, index_state.h, segment_policy.h, indexed_lookup.h.
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
namespace indexed_internal {
struct IndexState;  // index_state.h
}  // namespace indexed_internal

class IndexedSopMatcher final : public SopMatcher {
 public:
  // A full build (one segment). A SopMatcherFactory.
  static std::unique_ptr<const SopMatcher> Build(std::vector<PublishedSopPtr> sops);

  ~IndexedSopMatcher() override;

  std::vector<SopMatchResult> Match(const MatchQuery& query) const override;
  std::vector<NearMiss> NearMisses(const MatchQuery& query, int max) const override;
  std::unique_ptr<const SopMatcher> WithChanges(std::vector<PublishedSopPtr> puts,
                                                const std::vector<SopName>& removes) const override;
  std::vector<PublishedSopPtr> PublishedSops(absl::string_view org) const override;

  // How many segments a lookup reads (1 after a full build, at most 3).
  size_t segment_count() const;
  // How many SOPs are published.
  size_t sop_count() const;

 private:
  explicit IndexedSopMatcher(std::shared_ptr<const indexed_internal::IndexState> state);

  std::shared_ptr<const indexed_internal::IndexState> state_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_MATCHING_INDEXED_SOP_MATCHER_H_
