#include "common/model/describe.h"

#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

v1::Condition ConditionFrom(const std::string& text) {
  v1::Condition condition;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &condition)) << text;
  return condition;
}

TEST(DescribeConditionTest, KeepsTextAsWrittenForTheCallerToEscape) {
  EXPECT_EQ(DescribeCondition(ConditionFrom(R"pb(field: "lead_status"
                                                 equals { string_value: "a\nb" })pb")),
            "lead_status = \"a\nb\"");
  EXPECT_EQ(DescribeCondition(ConditionFrom(R"pb(field: "lead_score"
                                                 range { min: 75 })pb")),
            "lead_score >= 75");
  EXPECT_EQ(
      DescribeCondition(ConditionFrom(R"pb(field: "title" prefix: "VP" case_insensitive: true)pb")),
      "title starts with \"VP\" (any case)");
}

TEST(HumanDurationTest, ShowsTheTwoLargestUnits) {
  EXPECT_EQ(HumanDuration(absl::Seconds(45)), "45s");
  EXPECT_EQ(HumanDuration(absl::Minutes(4)), "4m");
  EXPECT_EQ(HumanDuration(absl::Seconds(270)), "4m30s");
  EXPECT_EQ(HumanDuration(absl::Minutes(65) + absl::Seconds(9)), "1h5m");
  EXPECT_EQ(HumanDuration(absl::Hours(51)), "2d3h");
  EXPECT_EQ(HumanDuration(absl::Hours(48) + absl::Minutes(1)), "2d");
  EXPECT_EQ(HumanDuration(absl::Milliseconds(900)), "0s");
  EXPECT_EQ(HumanDuration(absl::Seconds(-5)), "0s");
}

}  // namespace
}  // namespace sopsidebar
