// The matcher interface: given a CRM context, which published SOPs apply,
// best first. Engines (the linear baseline and the indexed engine) implement
// it over an immutable set of published SOPs, so a snapshot can be shared by
// any number of concurrent lookups; a write derives the next snapshot with
// WithChanges and leaves the current one untouched.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_MATCHING_SOP_MATCHER_H_
#define SOPSIDEBAR_SERVER_DOMAIN_MATCHING_SOP_MATCHER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/model/names.h"
#include "common/model/roles.h"
#include "sopsidebar/v1/context_service.pb.h"
#include "sopsidebar/v1/sop.pb.h"

namespace sopsidebar {

struct SopMatchWireParts;  // explained_match.h

// A published revision as lookups see it. Immutable once shared, but for
// wire_parts, which the first lookup to return the SOP fills (thread-safely,
// through WireParts in explained_match.h).
struct PublishedSop {
  PublishedSop() = default;
  PublishedSop(const PublishedSop&) = delete;
  PublishedSop& operator=(const PublishedSop&) = delete;
  ~PublishedSop();

  SopName name;
  int64_t revision = 0;
  absl::Time publish_time;
  // The published revision's snapshot.
  v1::Sop body;
  // VisibleToRoles(body), computed once.
  RoleSet visible_to = kAllRoles;
  // When the owner's next review of the SOP falls due (from its head, which
  // MarkSopReviewed moves on without a new published revision);
  // InfiniteFuture without a review cycle.
  absl::Time next_review_time = absl::InfiniteFuture();
  // The parts of lookup responses that depend only on this SOP; null until
  // a lookup has returned it. Owned.
  mutable std::atomic<const SopMatchWireParts*> wire_parts{nullptr};
};
using PublishedSopPtr = std::shared_ptr<const PublishedSop>;

// The one way to make a PublishedSop: derives the cached fields from `body`.
PublishedSopPtr MakePublishedSop(SopName name, int64_t revision, absl::Time publish_time,
                                 v1::Sop body,
                                 absl::Time next_review_time = absl::InfiniteFuture());

// One matching SOP and the best of its matching rules (highest priority,
// then specificity, then lowest index).
struct SopMatchResult {
  PublishedSopPtr sop;
  int rule_index = 0;
  int priority = 0;
  int specificity = 0;
};

// The ranking: priority, then specificity (higher first), then most recently
// published, then name, so that results are deterministic.
bool RanksBefore(const SopMatchResult& a, const SopMatchResult& b);

// A rule of the lookup's org and an SOP the viewer may see that fails
// exactly one test: one of its conditions (the rule accepting the record
// type), or the record type alone, which differs only by ASCII case from one
// the rule names. What an owner needs to see when "my SOP does not show up".
struct NearMiss {
  // failed_condition of a rule that failed on its record type.
  static constexpr int kRecordType = -1;

  PublishedSopPtr sop;
  int rule_index = 0;
  // Index into the rule's conditions of the one that failed, or
  // kRecordType.
  int failed_condition = 0;
  int priority = 0;
  // What the rule's specificity would be had it matched.
  int specificity = 0;
};

// Near misses are listed by the lookup ranking of their rule (priority,
// specificity, recency, name), then by rule index.
bool NearMissRanksBefore(const NearMiss& a, const NearMiss& b);

// The same ranking as a three-way comparison on the parts engines keep:
// negative when (priority_a, specificity_a, a) ranks first, positive when
// (priority_b, specificity_b, b) does, 0 for the same SOP and rank.
int CompareRank(int priority_a, int specificity_a, const PublishedSop& a, int priority_b,
                int specificity_b, const PublishedSop& b);

// What a lookup asks. `context` must have passed ValidateCrmContext.
struct MatchQuery {
  // The org id (not the resource name); only its SOPs are considered.
  absl::string_view org;
  const v1::CrmContext* context = nullptr;
  // Positive.
  int max_results = 10;
  // The viewer's roles; only SOPs visible to one of them match.
  RoleSet viewer_roles = 0;
};

// Thread-safe: Match may run concurrently from any number of threads and
// never blocks.
class SopMatcher {
 public:
  virtual ~SopMatcher() = default;

  // Up to query.max_results matches, ranked by RanksBefore.
  virtual std::vector<SopMatchResult> Match(const MatchQuery& query) const = 0;

  // Up to `max` near misses for `query` (query.max_results is ignored),
  // ordered by NearMissRanksBefore. A diagnostic: may cost up to a scan of
  // the org's rules in scope.
  virtual std::vector<NearMiss> NearMisses(const MatchQuery& query, int max) const = 0;

  // The next snapshot: this set without the SOPs named in `removes` (names
  // not in the set are ignored), then with `puts` (each replacing the SOP of
  // the same name; the last one wins when a name repeats). This matcher is
  // unchanged and stays usable. Engines make this cheaper than a full build
  // where they can; callers must serialise the writes they chain.
  virtual std::unique_ptr<const SopMatcher> WithChanges(
      std::vector<PublishedSopPtr> puts, const std::vector<SopName>& removes) const = 0;

  // The org's published SOPs, in no particular order (for diagnostics such as
  // targeting conflicts; a scan).
  virtual std::vector<PublishedSopPtr> PublishedSops(absl::string_view org) const = 0;
};

// Builds a matcher over a fixed set of published SOPs (each name at most
// once).
using SopMatcherFactory =
    std::function<std::unique_ptr<const SopMatcher>(std::vector<PublishedSopPtr>)>;

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_MATCHING_SOP_MATCHER_H_
