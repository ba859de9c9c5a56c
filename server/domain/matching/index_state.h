// The indexed engine's state (internal to it: included only by its own
// files and their tests; IndexedSopMatcher holds it behind a pointer): the
// segments a lookup reads, each with its dead set, and the field dictionary
// they share.
//
// Immutable once shared: a write builds the next state from a copy
// (segment_policy.h), sharing the segments and dead sets it leaves
// unchanged. Thread-safe once shared: read concurrently from any number of
// threads.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_MATCHING_INDEX_STATE_H_
#define SOPSIDEBAR_SERVER_DOMAIN_MATCHING_INDEX_STATE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "server/domain/matching/field_dictionary.h"
#include "server/domain/matching/index_segment.h"

namespace sopsidebar {
namespace indexed_internal {

struct IndexState {
  struct SegmentRef {
    std::shared_ptr<const Segment> segment;
    std::shared_ptr<const DeadSet> dead;  // null: none
    uint32_t sop_base = 0;                // offset of its SOPs in lookup scratch
    size_t live = 0;                      // SOPs not dead
  };

  std::shared_ptr<const FieldDictionary> dict;
  std::vector<SegmentRef> segments;  // oldest (largest) first
  uint32_t total_sops = 0;           // SOPs of every segment, dead or not
  size_t live = 0;                   // SOPs published

  // Recomputes sop_base, total_sops and live after segments changed.
  void Rebase() {
    total_sops = 0;
    live = 0;
    for (SegmentRef& ref : segments) {
      ref.sop_base = total_sops;
      total_sops += static_cast<uint32_t>(ref.segment->sops.size());
      live += ref.live;
    }
  }
};

}  // namespace indexed_internal
}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_MATCHING_INDEX_STATE_H_
