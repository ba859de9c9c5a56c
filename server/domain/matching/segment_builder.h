// The indexed engine's segment builder (internal to it: included only by its
// own files and their tests): published SOPs to a Segment (index_segment.h).
//
// SOPs are ordered by NameHash; their rules are compiled (RuleCompiler) on
// up to four threads for large builds (at least 20,000 SOPs per thread, no
// more than the hardware has), then each rule is filed under one access
// condition, the one expected to admit the fewest records: an equals /
// any_of (a posting per value, and the program drops that condition's
// hashes), else a number or time range (a range list), else the scan list.
// O(total conditions) plus sorting.
//
// Nothing here fails. Thread-safe: builds share only the dictionary and the
// SOPs, which they read.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_MATCHING_SEGMENT_BUILDER_H_
#define SOPSIDEBAR_SERVER_DOMAIN_MATCHING_SEGMENT_BUILDER_H_

#include <memory>
#include <vector>

#include "server/domain/matching/field_dictionary.h"
#include "server/domain/matching/index_segment.h"
#include "server/domain/matching/sop_matcher.h"

namespace sopsidebar {
namespace indexed_internal {

// A segment of `sops` (any order). `dict` must know every condition field of
// their rules; it is only read during the build (the segment keeps field
// ids, valid in `dict` and in every extension of it).
std::shared_ptr<const Segment> BuildSegment(std::vector<PublishedSopPtr> sops,
                                            const FieldDictionary& dict);

}  // namespace indexed_internal
}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_MATCHING_SEGMENT_BUILDER_H_
