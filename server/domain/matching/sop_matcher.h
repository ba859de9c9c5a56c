// The matcher interface: given a CRM context, which published SOPs apply,
// best first. Engines (the linear baseline here; an indexed engine later)
// implement it over an immutable set of published SOPs, so a snapshot can be
// shared by any number of concurrent lookups.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_MATCHING_SOP_MATCHER_H_
#define SOPSIDEBAR_SERVER_DOMAIN_MATCHING_SOP_MATCHER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/domain/model/names.h"
#include "server/domain/model/roles.h"
#include "sopsidebar/v1/context_service.pb.h"
#include "sopsidebar/v1/sop.pb.h"

namespace sopsidebar {

// A published revision as lookups see it. Immutable once shared.
struct PublishedSop {
  SopName name;
  int64_t revision = 0;
  absl::Time publish_time;
  // The published revision's snapshot.
  v1::Sop body;
  // VisibleToRoles(body), computed once.
  RoleSet visible_to = kAllRoles;
};
using PublishedSopPtr = std::shared_ptr<const PublishedSop>;

// The one way to make a PublishedSop: derives the cached fields from `body`.
PublishedSopPtr MakePublishedSop(SopName name, int64_t revision, absl::Time publish_time,
                                 v1::Sop body);

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
};

// Builds a matcher over a fixed set of published SOPs (each name at most
// once).
using SopMatcherFactory =
    std::function<std::unique_ptr<const SopMatcher>(std::vector<PublishedSopPtr>)>;

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_MATCHING_SOP_MATCHER_H_
