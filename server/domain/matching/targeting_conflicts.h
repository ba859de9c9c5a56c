// Targeting conflicts an owner should hear about before publishing: a
// published SOP whose rule ties with the candidate's (same priority and
// specificity) on a context both match, so only recency would decide which
// one a rep sees first. Thread-safe (pure).
#ifndef SOPSIDEBAR_SERVER_DOMAIN_MATCHING_TARGETING_CONFLICTS_H_
#define SOPSIDEBAR_SERVER_DOMAIN_MATCHING_TARGETING_CONFLICTS_H_

#include <optional>
#include <vector>

#include "server/domain/matching/sop_matcher.h"
#include "sopsidebar/v1/context_service.pb.h"
#include "sopsidebar/v1/sop.pb.h"

namespace sopsidebar {

struct TargetingTie {
  // The published SOP the candidate ties with.
  PublishedSopPtr other;
  int candidate_rule = 0;
  int other_rule = 0;
  int priority = 0;
  int specificity = 0;
  // A context both rules match (checked with RuleMatches).
  v1::CrmContext example;
};

struct TargetingTieOptions {
  // At most this many ties are reported. Default 20.
  int max_ties = 20;
  // Record type used for the example when neither rule names one. Default
  // "Lead".
  std::string default_record_type = "Lead";
};

// The ties between `candidate` (to be published as `candidate_name`) and
// `published`: for each pair of a candidate rule and a rule of another SOP of
// the same org that some viewer may see alongside the candidate, with equal
// priority and specificity, and for which a context matching both can be
// built from their conditions. Pairs whose conditions overlap only in ways
// the construction does not find (rare: e.g. an exact and a case-folded
// prefix of different lengths) are not reported. Ordered by `published`
// order, then rule indexes.
std::vector<TargetingTie> FindTargetingTies(const v1::Sop& candidate,
                                            const SopName& candidate_name,
                                            const std::vector<PublishedSopPtr>& published,
                                            const TargetingTieOptions& options = {});

// A context of `org` / `record_type` that both rules match, built from their
// conditions; nullopt when none is found. A field holds one scalar, unless
// one of the rules on its own holds only for a list (two values it must
// contain): that rule treats the field as a multi-select list.
std::optional<v1::CrmContext> ContextMatchingBoth(const v1::TargetingRule& a,
                                                  const v1::TargetingRule& b,
                                                  const std::string& org,
                                                  const std::string& default_record_type);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_MATCHING_TARGETING_CONFLICTS_H_
