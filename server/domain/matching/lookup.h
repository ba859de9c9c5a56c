// Turns matcher results into the API's explained matches: which rule and
// conditions matched with the record's values, the current step, its due
// time and the cadence day. Shared by every engine. Thread-safe (pure).
#ifndef SOPSIDEBAR_SERVER_DOMAIN_MATCHING_LOOKUP_H_
#define SOPSIDEBAR_SERVER_DOMAIN_MATCHING_LOOKUP_H_

#include "absl/time/time.h"
#include "server/domain/matching/condition.h"
#include "server/domain/matching/sop_matcher.h"
#include "sopsidebar/v1/context_service.pb.h"

namespace sopsidebar {

// `now` is the time cadence days are counted to.
v1::SopMatch ExplainMatch(const SopMatchResult& result, const v1::CrmContext& context,
                          absl::Time now);

// A near miss with the failed condition and the record's value for it.
v1::NearMiss ExplainNearMiss(const NearMiss& miss, const v1::CrmContext& context);

// The index into `sop.steps` of the first step, in ordinal order, whose
// conditions hold for `fields`; -1 when none does.
int CurrentStepIndex(const v1::Sop& sop, const FieldMap& fields);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_MATCHING_LOOKUP_H_
