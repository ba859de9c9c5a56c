// The indexed engine's segment policy (internal to it: included only by its
// own files and their tests): which segments a matcher state has, after a
// full build and after each write.
//
// A full build makes one segment. A write marks the replaced / removed SOPs
// dead in a copy of the affected segments' dead sets and builds the new SOPs
// into the small segment, merging it into the middle one (and that into the
// base) when it outgrows its cap: the caps follow n^(1/3) and n^(2/3) (at
// least 128 and 4096 SOPs), so a write rebuilds O(n^(1/3)) SOPs amortised, a
// base with a quarter of its SOPs dead is rebuilt, and a state has at most
// three segments. Segments without live SOPs are dropped.
//
// Nothing here fails. Thread-safe: the state written from is only read, and
// the state returned shares nothing mutable with it.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_MATCHING_SEGMENT_POLICY_H_
#define SOPSIDEBAR_SERVER_DOMAIN_MATCHING_SEGMENT_POLICY_H_

#include <memory>
#include <vector>

#include "server/domain/matching/index_state.h"
#include "server/domain/matching/sop_matcher.h"

namespace sopsidebar {
namespace indexed_internal {

// The state of a full build of `sops`: one segment, none when `sops` is
// empty.
std::shared_ptr<const IndexState> BuildIndexState(std::vector<PublishedSopPtr> sops);

// `state` with `removes` removed and then `puts` published (the last put of
// a name wins; a put replaces a published SOP of its name). Names removed
// or replaced that are not published are ignored.
std::shared_ptr<const IndexState> IndexStateWithChanges(const IndexState& state,
                                                        std::vector<PublishedSopPtr> puts,
                                                        const std::vector<SopName>& removes);

}  // namespace indexed_internal
}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_MATCHING_SEGMENT_POLICY_H_
