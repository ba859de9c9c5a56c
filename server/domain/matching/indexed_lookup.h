// The indexed engine's lookup executor (internal to it: included only by its
// own files and their tests): Match and NearMisses over one state.
//
// A lookup resolves the record's fields once into a dense array by field id,
// then, in each segment, reads two partitions (the context's record type and
// "any type"): gathers the rules the record's values reach through their
// access conditions (postings, range list prefixes, the scan list),
// prefetches their programs and screens each in one pass. Ranges, prefixes
// and exists are decided exactly, an equality hash miss fails the rule, and
// equality hits are confirmed on the rule's protobuf condition
// (ConditionHoldsForValue) only once every other condition has passed, so
// hash collisions cost time, never correctness. Near misses may fail their
// access condition, so IndexedNearMisses checks every rule of the two
// partitions.
//
// Nothing here fails. Thread-safe: any number of lookups may run
// concurrently on one state; they take no lock and allocate only their
// results (each thread reuses its own scratch memory across lookups).
#ifndef SOPSIDEBAR_SERVER_DOMAIN_MATCHING_INDEXED_LOOKUP_H_
#define SOPSIDEBAR_SERVER_DOMAIN_MATCHING_INDEXED_LOOKUP_H_

#include <vector>

#include "server/domain/matching/index_state.h"
#include "server/domain/matching/sop_matcher.h"

namespace sopsidebar {
namespace indexed_internal {

// SopMatcher::Match over `state`.
std::vector<SopMatchResult> IndexedMatch(const IndexState& state, const MatchQuery& query);

// SopMatcher::NearMisses over `state`.
std::vector<NearMiss> IndexedNearMisses(const IndexState& state, const MatchQuery& query, int max);

}  // namespace indexed_internal
}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_MATCHING_INDEXED_LOOKUP_H_
