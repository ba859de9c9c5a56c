#include "server/domain/matching/targeting_conflicts.h"

#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/time/time.h"
#include "common/model/names.h"
#include "common/model/roles.h"
#include "common/model/values.h"
#include "common/proto_time.h"
#include "server/domain/matching/condition.h"

namespace sopsidebar {
namespace {

using google::protobuf::Value;

void AddTimeCandidates(const v1::Range& r, std::vector<Value>* out) {
  std::vector<absl::Time> times;
  std::optional<absl::Time> lo, hi;
  if (r.has_min_time()) lo = FromProtoTimestamp(r.min_time());
  if (r.has_max_time()) hi = FromProtoTimestamp(r.max_time());
  for (const std::optional<absl::Time>& t : {lo, hi}) {
    if (!t) continue;
    for (absl::Duration d : {absl::ZeroDuration(), absl::Nanoseconds(1), -absl::Nanoseconds(1),
                             absl::Hours(1), -absl::Hours(1)}) {
      times.push_back(*t + d);
    }
  }
  if (lo && hi) times.push_back(*lo + (*hi - *lo) / 2);
  if (!lo && !hi) times.push_back(absl::UnixEpoch());
  for (absl::Time t : times) {
    out->push_back(StringValue(absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone())));
  }
}

void AddNumberCandidates(const v1::Range& r, std::vector<Value>* out) {
  std::vector<double> xs;
  const bool has_lo = r.lower_case() == v1::Range::kMin;
  const bool has_hi = r.upper_case() == v1::Range::kMax;
  if (has_lo) {
    xs.insert(xs.end(), {r.min(), r.min() + 1, std::nextafter(r.min(), HUGE_VAL)});
  }
  if (has_hi) {
    xs.insert(xs.end(), {r.max(), r.max() - 1, std::nextafter(r.max(), -HUGE_VAL)});
  }
  if (has_lo && has_hi) xs.push_back(r.min() / 2 + r.max() / 2);
  xs.push_back(0);
  for (double x : xs) out->push_back(NumberValue(x));
}

// Scalars that might satisfy `c`, taken from its operands.
void AddCandidates(const v1::Condition& c, std::vector<Value>* out) {
  switch (c.op_case()) {
    case v1::Condition::kEquals:
      out->push_back(c.equals());
      break;
    case v1::Condition::kAnyOf:
      for (const Value& v : c.any_of().values()) out->push_back(v);
      break;
    case v1::Condition::kPrefix:
      out->push_back(StringValue(c.prefix()));
      break;
    case v1::Condition::kRange:
      if (c.range().lower_case() == v1::Range::kMinTime ||
          c.range().upper_case() == v1::Range::kMaxTime) {
        AddTimeCandidates(c.range(), out);
      } else {
        AddNumberCandidates(c.range(), out);
      }
      break;
    default:
      break;
  }
}

bool AllHold(const std::vector<const v1::Condition*>& conds, const Value* v) {
  return absl::c_all_of(conds, [&](const v1::Condition* c) { return ConditionHoldsForValue(*c, v); });
}

bool IsPositive(const v1::Condition& c) {
  return c.op_case() != v1::Condition::kNoneOf &&
         !(c.op_case() == v1::Condition::kExists && !c.exists());
}

// A scalar satisfying every condition in `conds`, taken from their operands
// or, for fields only required to be present or outside a set, a stand-in.
std::optional<Value> ScalarWitness(const std::vector<const v1::Condition*>& conds,
                                   std::vector<Value>* candidates) {
  for (const v1::Condition* c : conds) AddCandidates(*c, candidates);
  candidates->push_back(StringValue("sopsidebar-example"));
  candidates->push_back(NumberValue(7.25e9));
  for (const Value& v : *candidates) {
    if (AllHold(conds, &v)) return v;
  }
  return std::nullopt;
}

// Whether one rule's conditions on a field hold only for a list: that rule
// itself treats the field as a multi-select list ("tags" equals "vip" and
// equals "renewal").
bool NeedsList(const std::vector<const v1::Condition*>& conds) {
  std::vector<Value> candidates;
  return !conds.empty() && !AllHold(conds, nullptr) && !ScalarWitness(conds, &candidates);
}

// What a field must hold to satisfy both rules' conditions on it, `mine`
// and `theirs`: nullopt when nothing was found; a value with no kind means
// "leave the field out". A CRM field holds one scalar, so a list is built
// only when one of the rules on its own needs one: a status is never both
// "Demo Cancelled" and "Demo No-Show".
std::optional<Value> Witness(const std::vector<const v1::Condition*>& mine,
                             const std::vector<const v1::Condition*>& theirs) {
  std::vector<const v1::Condition*> conds = mine;
  conds.insert(conds.end(), theirs.begin(), theirs.end());
  if (AllHold(conds, nullptr)) return Value();
  std::vector<Value> candidates;
  if (std::optional<Value> scalar = ScalarWitness(conds, &candidates)) return scalar;
  if (!NeedsList(mine) && !NeedsList(theirs)) return std::nullopt;
  // A list: one element per positive condition, none excluded by a none_of.
  // Not for fields a range tests: "score is [79, 80]" satisfies both
  // "< 80" and ">= 80", but no record holds such a score.
  if (absl::c_any_of(conds, [](const v1::Condition* c) {
        return c->op_case() == v1::Condition::kRange;
      })) {
    return std::nullopt;
  }
  Value list;
  for (const v1::Condition* c : conds) {
    if (!IsPositive(*c) || c->op_case() == v1::Condition::kExists) continue;
    bool found = false;
    for (const Value& v : candidates) {
      if (!ConditionHoldsForValue(*c, &v)) continue;
      const bool excluded = absl::c_any_of(conds, [&](const v1::Condition* other) {
        return other->op_case() == v1::Condition::kNoneOf && !ConditionHoldsForValue(*other, &v);
      });
      if (excluded) continue;
      *list.mutable_list_value()->add_values() = v;
      found = true;
      break;
    }
    if (!found) return std::nullopt;
  }
  if (list.has_list_value() && AllHold(conds, &list)) return list;
  return std::nullopt;
}

// The record type both rules accept, if any.
std::optional<std::string> CommonRecordType(const v1::TargetingRule& a,
                                            const v1::TargetingRule& b,
                                            const std::string& fallback) {
  if (a.record_types().empty() && b.record_types().empty()) return fallback;
  if (a.record_types().empty()) return b.record_types(0);
  if (b.record_types().empty()) return a.record_types(0);
  for (const std::string& t : a.record_types()) {
    if (absl::c_linear_search(b.record_types(), t)) return t;
  }
  return std::nullopt;
}

}  // namespace

std::optional<v1::CrmContext> ContextMatchingBoth(const v1::TargetingRule& a,
                                                  const v1::TargetingRule& b,
                                                  const std::string& org,
                                                  const std::string& default_record_type) {
  std::optional<std::string> type = CommonRecordType(a, b, default_record_type);
  if (!type) return std::nullopt;
  // Per field: a's conditions on it, b's conditions on it.
  std::map<std::string, std::pair<std::vector<const v1::Condition*>,
                                   std::vector<const v1::Condition*>>>
      by_field;
  for (const v1::Condition& c : a.conditions()) by_field[c.field()].first.push_back(&c);
  for (const v1::Condition& c : b.conditions()) by_field[c.field()].second.push_back(&c);
  v1::CrmContext context;
  context.set_org(OrgName(org));
  context.set_record_type(*type);
  for (const auto& [field, conds] : by_field) {
    std::optional<Value> v = Witness(conds.first, conds.second);
    if (!v) return std::nullopt;
    if (v->kind_case() != Value::KIND_NOT_SET) (*context.mutable_fields())[field] = *v;
  }
  if (!RuleMatches(a, context) || !RuleMatches(b, context)) return std::nullopt;
  return context;
}

std::vector<TargetingTie> FindTargetingTies(const v1::Sop& candidate,
                                            const SopName& candidate_name,
                                            const std::vector<PublishedSopPtr>& published,
                                            const TargetingTieOptions& options) {
  std::vector<TargetingTie> ties;
  const RoleSet candidate_viewers = VisibleToRoles(candidate);
  for (const PublishedSopPtr& other : published) {
    if (other->name.org != candidate_name.org || other->name == candidate_name ||
        !RolesMaySee(candidate_viewers, other->visible_to)) {
      continue;
    }
    for (int i = 0; i < candidate.targeting_rules_size(); ++i) {
      const v1::TargetingRule& mine = candidate.targeting_rules(i);
      for (int j = 0; j < other->body.targeting_rules_size(); ++j) {
        const v1::TargetingRule& theirs = other->body.targeting_rules(j);
        if (mine.priority() != theirs.priority() ||
            RuleSpecificity(mine) != RuleSpecificity(theirs)) {
          continue;
        }
        std::optional<v1::CrmContext> example =
            ContextMatchingBoth(mine, theirs, candidate_name.org, options.default_record_type);
        if (!example) continue;
        if (static_cast<int>(ties.size()) >= options.max_ties) return ties;
        ties.push_back(TargetingTie{other, i, j, mine.priority(), RuleSpecificity(mine),
                                    std::move(*example)});
      }
    }
  }
  return ties;
}

}  // namespace sopsidebar
