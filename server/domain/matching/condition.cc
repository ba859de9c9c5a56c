#include "server/domain/matching/condition.h"

#include <string>

#include "absl/algorithm/container.h"
#include "server/common/proto_time.h"
#include "server/domain/model/values.h"

namespace sopsidebar {
namespace {

using google::protobuf::Value;

std::optional<absl::Time> ParseTime(const Value& v) {
  if (v.kind_case() != Value::kStringValue) return std::nullopt;
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, v.string_value(), &t, &err)) return std::nullopt;
  return t;
}

template <typename T>
bool InBounds(const T& x, const std::optional<T>& lo, bool lo_exclusive,
              const std::optional<T>& hi, bool hi_exclusive) {
  if (lo && (lo_exclusive ? !(x > *lo) : !(x >= *lo))) return false;
  if (hi && (hi_exclusive ? !(x < *hi) : !(x <= *hi))) return false;
  return true;
}

bool InRange(const v1::Range& r, const Value& v, ParsedTimeMemo* memo) {
  const bool time_range =
      r.lower_case() == v1::Range::kMinTime || r.upper_case() == v1::Range::kMaxTime;
  if (time_range) {
    std::optional<absl::Time> t;
    if (memo == nullptr) {
      t = ParseTime(v);
    } else {
      if (!memo->parsed) {
        memo->time = ParseTime(v);
        memo->parsed = true;
      }
      t = memo->time;
    }
    if (!t) return false;
    std::optional<absl::Time> lo, hi;
    if (r.has_min_time()) lo = FromProtoTimestamp(r.min_time());
    if (r.has_max_time()) hi = FromProtoTimestamp(r.max_time());
    return InBounds(*t, lo, r.exclusive_min(), hi, r.exclusive_max());
  }
  if (v.kind_case() != Value::kNumberValue) return false;
  std::optional<double> lo, hi;
  if (r.lower_case() == v1::Range::kMin) lo = r.min();
  if (r.upper_case() == v1::Range::kMax) hi = r.max();
  return InBounds(v.number_value(), lo, r.exclusive_min(), hi, r.exclusive_max());
}

bool InList(const google::protobuf::ListValue& list, const Value& v, CaseMode mode) {
  return absl::c_any_of(list.values(),
                        [&](const Value& e) { return ScalarEquals(v, e, mode); });
}

// Whether one scalar satisfies a positive operator.
bool ScalarSatisfies(const v1::Condition& c, const Value& v, ParsedTimeMemo* memo) {
  const CaseMode mode = c.case_insensitive() ? CaseMode::kIgnoreAsciiCase : CaseMode::kExact;
  switch (c.op_case()) {
    case v1::Condition::kEquals:
      return ScalarEquals(v, c.equals(), mode);
    case v1::Condition::kAnyOf:
      return InList(c.any_of(), v, mode);
    case v1::Condition::kRange:
      return InRange(c.range(), v, memo);
    case v1::Condition::kPrefix:
      return v.kind_case() == Value::kStringValue && HasPrefix(v.string_value(), c.prefix(), mode);
    default:
      return false;
  }
}

}  // namespace

bool ConditionHolds(const v1::Condition& c, const FieldMap& fields) {
  auto it = fields.find(c.field());
  return ConditionHoldsForValue(c, it == fields.end() ? nullptr : &it->second);
}

bool ConditionHoldsForValue(const v1::Condition& c, const Value* value, ParsedTimeMemo* memo) {
  const bool present = value != nullptr && value->kind_case() != Value::kNullValue &&
                       value->kind_case() != Value::KIND_NOT_SET;
  if (c.op_case() == v1::Condition::kExists) return c.exists() == present;
  if (c.op_case() == v1::Condition::kNoneOf) {
    if (!present) return true;
    const CaseMode mode = c.case_insensitive() ? CaseMode::kIgnoreAsciiCase : CaseMode::kExact;
    const Value& v = *value;
    if (v.kind_case() == Value::kListValue) {
      return absl::c_none_of(v.list_value().values(),
                             [&](const Value& e) { return InList(c.none_of(), e, mode); });
    }
    return !InList(c.none_of(), v, mode);
  }
  if (!present) return false;
  const Value& v = *value;
  if (v.kind_case() == Value::kListValue) {
    return absl::c_any_of(v.list_value().values(),
                          [&](const Value& e) { return ScalarSatisfies(c, e, nullptr); });
  }
  return ScalarSatisfies(c, v, memo);
}

bool AllConditionsHold(const google::protobuf::RepeatedPtrField<v1::Condition>& conditions,
                       const FieldMap& fields) {
  return absl::c_all_of(conditions,
                        [&](const v1::Condition& c) { return ConditionHolds(c, fields); });
}

bool RuleMatches(const v1::TargetingRule& rule, const v1::CrmContext& context) {
  if (!rule.record_types().empty() &&
      absl::c_find(rule.record_types(), context.record_type()) == rule.record_types().end()) {
    return false;
  }
  return AllConditionsHold(rule.conditions(), context.fields());
}

int RuleSpecificity(const v1::TargetingRule& rule) {
  return rule.conditions_size() + (rule.record_types().empty() ? 0 : 1);
}

std::optional<absl::Time> ValueTime(const Value& value) { return ParseTime(value); }

std::optional<absl::Time> FieldTime(const FieldMap& fields, absl::string_view field) {
  auto it = fields.find(std::string(field));
  if (it == fields.end()) return std::nullopt;
  return ParseTime(it->second);
}

}  // namespace sopsidebar
