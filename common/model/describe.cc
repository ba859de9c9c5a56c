#include "common/model/describe.h"

#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/model/values.h"
#include "google/protobuf/util/time_util.h"

namespace sopsidebar {
namespace {

std::string DescribeList(const google::protobuf::ListValue& list) {
  google::protobuf::Value value;
  *value.mutable_list_value() = list;
  return DescribeValue(value);
}

std::string Bound(double number) { return absl::StrCat(number); }
std::string Bound(const google::protobuf::Timestamp& time) {
  return google::protobuf::util::TimeUtil::ToString(time);
}

std::string DescribeRange(const std::string& field, const v1::Range& range) {
  using v1::Range;
  std::string lower, upper;
  if (range.lower_case() == Range::kMin) lower = Bound(range.min());
  if (range.lower_case() == Range::kMinTime) lower = Bound(range.min_time());
  if (range.upper_case() == Range::kMax) upper = Bound(range.max());
  if (range.upper_case() == Range::kMaxTime) upper = Bound(range.max_time());
  const char* lower_op = range.exclusive_min() ? " < " : " <= ";
  const char* upper_op = range.exclusive_max() ? " < " : " <= ";
  if (!lower.empty() && !upper.empty()) {
    return absl::StrCat(lower, lower_op, field, upper_op, upper);
  }
  if (!lower.empty()) return absl::StrCat(field, range.exclusive_min() ? " > " : " >= ", lower);
  return absl::StrCat(field, upper_op, upper);
}

}  // namespace

std::string DescribeCondition(const v1::Condition& c) {
  std::string text;
  switch (c.op_case()) {
    case v1::Condition::kEquals:
      text = absl::StrCat(c.field(), " = ", DescribeValue(c.equals()));
      break;
    case v1::Condition::kAnyOf:
      text = absl::StrCat(c.field(), " in ", DescribeList(c.any_of()));
      break;
    case v1::Condition::kNoneOf:
      text = absl::StrCat(c.field(), " not in ", DescribeList(c.none_of()));
      break;
    case v1::Condition::kRange:
      text = DescribeRange(c.field(), c.range());
      break;
    case v1::Condition::kPrefix:
      text = absl::StrCat(c.field(), " starts with \"", c.prefix(), "\"");
      break;
    case v1::Condition::kExists:
      text = absl::StrCat(c.field(), c.exists() ? " is set" : " is missing");
      break;
    case v1::Condition::OP_NOT_SET:
      text = absl::StrCat(c.field(), " (no test)");
      break;
  }
  if (c.case_insensitive()) absl::StrAppend(&text, " (any case)");
  return text;
}

std::string HumanDuration(absl::Duration duration) {
  int64_t seconds = absl::ToInt64Seconds(duration);
  if (seconds < 0) seconds = 0;
  const std::pair<int64_t, const char*> units[] = {{seconds / 86400, "d"},
                                                   {seconds / 3600 % 24, "h"},
                                                   {seconds / 60 % 60, "m"},
                                                   {seconds % 60, "s"}};
  for (size_t i = 0; i < 4; ++i) {
    if (units[i].first == 0) continue;
    std::string text = absl::StrCat(units[i].first, units[i].second);
    if (i + 1 < 4 && units[i + 1].first != 0) {
      absl::StrAppend(&text, units[i + 1].first, units[i + 1].second);
    }
    return text;
  }
  return "0s";
}

}  // namespace sopsidebar
