#include "server/domain/matching/condition.h"

#include <string>

#include "absl/algorithm/container.h"
#include "common/model/values.h"
#include "common/proto_time.h"

namespace sopsidebar {
namespace {

using google::protobuf::Value;

// `n` decimal digits at `s`, or -1.
int Digits(const char* s, int n) {
  int x = 0;
  for (int i = 0; i < n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    x = x * 10 + (s[i] - '0');
  }
  return x;
}

// The canonical shape "YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+HH:MM|-HH:MM)" with
// in-range fields, computed directly; nullopt for anything else, which
// absl::ParseTime then decides. For inputs of this shape both agree (the
// property test in condition_test.cc checks it); this one skips absl's
// allocations, and record times are parsed on every lookup.
std::optional<absl::Time> ParseCanonicalRfc3339(absl::string_view s) {
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
      s[16] != ':') {
    return std::nullopt;
  }
  const char* p = s.data();
  const int year = Digits(p, 4), month = Digits(p + 5, 2), day = Digits(p + 8, 2);
  const int hour = Digits(p + 11, 2), minute = Digits(p + 14, 2), second = Digits(p + 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 59) {
    return std::nullopt;
  }
  size_t i = 19;
  int64_t nanos = 0;
  if (s[i] == '.') {
    const size_t start = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') nanos = nanos * 10 + (s[i++] - '0');
    const size_t digits = i - start;
    if (digits == 0 || digits > 9) return std::nullopt;
    for (size_t d = digits; d < 9; ++d) nanos *= 10;
  }
  int offset_seconds = 0;
  if (i + 1 == s.size() && s[i] == 'Z') {
    // UTC
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    const int oh = Digits(p + i + 1, 2), om = Digits(p + i + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return std::nullopt;
    offset_seconds = (oh * 60 + om) * 60 * (s[i] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  static constexpr int kDaysIn[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
  if (day > kDaysIn[month - 1] + (month == 2 && leap ? 1 : 0)) return std::nullopt;
  // Days since 1970-01-01 of the proleptic Gregorian date (H. Hinnant's
  // days_from_civil).
  const int y = year - (month <= 2 ? 1 : 0);
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t days = int64_t{era} * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
  const int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  return absl::FromUnixSeconds(seconds) + absl::Nanoseconds(nanos);
}

std::optional<absl::Time> ParseTime(const Value& v) {
  if (v.kind_case() != Value::kStringValue) return std::nullopt;
  if (std::optional<absl::Time> t = ParseCanonicalRfc3339(v.string_value())) return t;
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
