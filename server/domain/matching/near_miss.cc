#include "server/domain/matching/near_miss.h"

#include <cmath>
#include <optional>
#include <string>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_replace.h"

namespace sopsidebar {
namespace {

using google::protobuf::Value;

// `s` with every dash a CRM or a keyboard may put for another (U+2010 to
// U+2015, the minus sign U+2212) written as a hyphen-minus.
std::string HyphenateDashes(absl::string_view s) {
  return absl::StrReplaceAll(s, {{"\u2010", "-"},
                                 {"\u2011", "-"},
                                 {"\u2012", "-"},
                                 {"\u2013", "-"},
                                 {"\u2014", "-"},
                                 {"\u2015", "-"},
                                 {"\u2212", "-"}});
}

void HyphenateDashes(Value* v) {
  if (v->kind_case() == Value::kStringValue) {
    v->set_string_value(HyphenateDashes(v->string_value()));
  } else if (v->kind_case() == Value::kListValue) {
    for (Value& e : *v->mutable_list_value()->mutable_values()) HyphenateDashes(&e);
  }
}

// `c` with the dashes of its string operands hyphenated.
v1::Condition HyphenateDashes(v1::Condition c) {
  switch (c.op_case()) {
    case v1::Condition::kEquals:
      HyphenateDashes(c.mutable_equals());
      break;
    case v1::Condition::kAnyOf:
      for (Value& v : *c.mutable_any_of()->mutable_values()) HyphenateDashes(&v);
      break;
    case v1::Condition::kPrefix:
      c.set_prefix(HyphenateDashes(c.prefix()));
      break;
    default:
      break;
  }
  return c;
}

// The number a string is written as ("82", "-1.5"); not for blank-padded,
// infinite or NaN text.
std::optional<double> NumberIn(absl::string_view s) {
  double x = 0;
  if (s.empty() || absl::ascii_isspace(static_cast<unsigned char>(s.front())) ||
      absl::ascii_isspace(static_cast<unsigned char>(s.back())) || !absl::SimpleAtod(s, &x) ||
      !std::isfinite(x)) {
    return std::nullopt;
  }
  return x;
}

// `v` with the strings that are written as numbers turned into numbers;
// nullopt when it holds none.
std::optional<Value> StringsAsNumbers(const Value& v) {
  if (v.kind_case() == Value::kStringValue) {
    std::optional<double> x = NumberIn(v.string_value());
    if (!x) return std::nullopt;
    Value number;
    number.set_number_value(*x);
    return number;
  }
  if (v.kind_case() != Value::kListValue) return std::nullopt;
  Value list = v;
  bool any = false;
  for (Value& e : *list.mutable_list_value()->mutable_values()) {
    if (std::optional<Value> number = StringsAsNumbers(e)) {
      e = *number;
      any = true;
    }
  }
  if (!any) return std::nullopt;
  return list;
}

}  // namespace

const std::string* RecordTypeDifferingOnlyByCase(const v1::TargetingRule& rule,
                                                 absl::string_view record_type) {
  if (rule.record_types().empty() || absl::c_linear_search(rule.record_types(), record_type)) {
    return nullptr;
  }
  for (const std::string& type : rule.record_types()) {
    if (absl::EqualsIgnoreCase(type, record_type)) return &type;
  }
  return nullptr;
}

std::string NearMissHint(const v1::Condition& condition, const Value* value) {
  // A none_of fails on a value in its set: folding case or dashes cannot
  // take it out; and a missing field or an exists test is no slip of a value.
  if (value == nullptr || condition.op_case() == v1::Condition::kNoneOf ||
      condition.op_case() == v1::Condition::kExists ||
      ConditionHoldsForValue(condition, value)) {
    return "";
  }
  v1::Condition folded = condition;
  folded.set_case_insensitive(true);
  if (ConditionHoldsForValue(folded, value)) return "differs only by case";
  Value hyphenated = *value;
  HyphenateDashes(&hyphenated);
  v1::Condition dashed = HyphenateDashes(condition);
  if (ConditionHoldsForValue(dashed, &hyphenated)) return "differs only by dash";
  dashed.set_case_insensitive(true);
  if (ConditionHoldsForValue(dashed, &hyphenated)) return "differs only by case and dash";
  if (std::optional<Value> numbers = StringsAsNumbers(*value);
      numbers && ConditionHoldsForValue(condition, &*numbers)) {
    return "a string where the rule expects a number";
  }
  return "";
}

}  // namespace sopsidebar
