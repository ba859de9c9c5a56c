// The indexed engine's segment (internal to it: included only by its own
// files and their tests): an immutable, self-contained index of some
// published SOPs, built by BuildSegment (segment_builder.h) and read by
// lookups (indexed_lookup.h). A matcher reads at most three of them (see
// segment_policy.h), with a dead set each for the SOPs replaced or removed
// since the segment was built.
//
// Nothing here fails. Thread-safe once built: everything is const and may be
// read concurrently from any number of threads.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_MATCHING_INDEX_SEGMENT_H_
#define SOPSIDEBAR_SERVER_DOMAIN_MATCHING_INDEX_SEGMENT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/domain/matching/posting_table.h"
#include "server/domain/matching/rule_program.h"
#include "server/domain/matching/sop_matcher.h"

namespace sopsidebar {
namespace indexed_internal {

// The rules of one (org, record type or any type): `members` lists them all
// (for near misses); each is reachable from exactly one access path: a
// posting of its equality access condition's values, a range list, or the
// scan list (rules without an indexable condition).
struct Partition {
  std::string org;
  std::string record_type;  // empty: any type
  bool any_type = false;
  uint32_t members_begin = 0, members_end = 0;    // into Segment::members
  uint32_t scan_begin = 0, scan_end = 0;          // into Segment::scan
  uint32_t equality_begin = 0, equality_end = 0;  // into Segment::equality_fields
  uint32_t ranges_begin = 0, ranges_end = 0;      // into Segment::range_lists
};

// An equality access condition's (field, case mode) in a partition: a
// lookup probes the postings of the record's values for it.
struct EqualityField {
  uint32_t field : 31;
  uint32_t fold : 1;
  uint32_t salt;  // PostingSalt
};
static_assert(sizeof(EqualityField) == 8, "EqualityField is two words");

// The rules whose access condition is a range on `field`, sorted by the
// indexed bound on a monotone scale (numbers as they are, times as Unix
// seconds rounded down): by lower bound ascending, or, for `upper` (rules
// bounded above only), by upper bound descending. A record's value admits a
// prefix of the list.
struct RangeList {
  uint32_t field = 0;
  bool time = false;
  bool upper = false;
  uint32_t begin = 0;  // into Segment::range_bounds / range_rules
  uint32_t end = 0;
};

// A built segment: its SOPs, their rules' programs, and the access paths
// to them (partitions, postings, range lists, scan lists).
struct Segment {
  // Ordered by NameHash.
  std::vector<PublishedSopPtr> sops;
  // Rule programs; rules are named by the offset of their first word.
  std::vector<uint32_t> code;
  std::vector<Partition> partitions;
  PostingTable partition_table;  // PartitionHash -> index into partitions
  std::vector<uint32_t> members;
  std::vector<uint32_t> scan;
  std::vector<EqualityField> equality_fields;
  std::vector<RangeList> range_lists;
  std::vector<double> range_bounds;
  std::vector<uint32_t> range_rules;
  PostingTable postings;  // PostingKey -> rules

  RuleHeader Header(uint32_t rule) const { return Read<RuleHeader>(code.data() + rule); }

  // The partition of (org, record type or any type) with hash `hash`, or -1.
  int64_t FindPartition(uint64_t hash, absl::string_view org, const std::string* type) const {
    auto [begin, end] = partition_table.Find(hash);
    for (const uint32_t* it = begin; it != end; ++it) {
      const Partition& p = partitions[*it];
      if (p.org == org && (type == nullptr ? p.any_type : !p.any_type && p.record_type == *type)) {
        return *it;
      }
    }
    return -1;
  }
};

// A time on the monotone scale range lists sort by: Unix seconds, rounded
// down.
inline double TimeScale(absl::Time t) { return static_cast<double>(absl::ToUnixSeconds(t)); }

// Bit i set: Segment::sops[i] has been replaced or removed.
using DeadSet = std::vector<uint64_t>;

// Whether SOP `sop` of a segment is dead in `dead` (null: none is).
inline bool IsDead(const DeadSet* dead, uint32_t sop) {
  return dead != nullptr && (((*dead)[sop >> 6] >> (sop & 63)) & 1) != 0;
}

}  // namespace indexed_internal
}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_MATCHING_INDEX_SEGMENT_H_
