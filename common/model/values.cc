#include "common/model/values.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sopsidebar {

using google::protobuf::Value;

Value StringValue(std::string s) {
  Value v;
  v.set_string_value(std::move(s));
  return v;
}

Value NumberValue(double d) {
  Value v;
  v.set_number_value(d);
  return v;
}

Value BoolValue(bool b) {
  Value v;
  v.set_bool_value(b);
  return v;
}

bool IsScalar(const Value& v) {
  return v.kind_case() == Value::kStringValue || v.kind_case() == Value::kNumberValue ||
         v.kind_case() == Value::kBoolValue;
}

bool ScalarEquals(const Value& a, const Value& b, CaseMode mode) {
  if (a.kind_case() != b.kind_case()) return false;
  switch (a.kind_case()) {
    case Value::kStringValue:
      return mode == CaseMode::kExact ? a.string_value() == b.string_value()
                                      : absl::EqualsIgnoreCase(a.string_value(),
                                                               b.string_value());
    case Value::kNumberValue:
      return a.number_value() == b.number_value();
    case Value::kBoolValue:
      return a.bool_value() == b.bool_value();
    default:
      return false;
  }
}

bool HasPrefix(absl::string_view s, absl::string_view prefix, CaseMode mode) {
  return mode == CaseMode::kExact ? absl::StartsWith(s, prefix)
                                  : absl::StartsWithIgnoreCase(s, prefix);
}

std::string DescribeValue(const Value& v) {
  switch (v.kind_case()) {
    case Value::kStringValue:
      return absl::StrCat("\"", v.string_value(), "\"");
    case Value::kNumberValue:
      return absl::StrCat(v.number_value());
    case Value::kBoolValue:
      return v.bool_value() ? "true" : "false";
    case Value::kNullValue:
      return "null";
    case Value::kListValue:
      return absl::StrCat(
          "[",
          absl::StrJoin(v.list_value().values(), ", ",
                        [](std::string* out, const Value& e) {
                          absl::StrAppend(out, DescribeValue(e));
                        }),
          "]");
    case Value::kStructValue:
      return "{...}";
    default:
      return "(unset)";
  }
}

}  // namespace sopsidebar
