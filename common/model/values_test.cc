#include "common/model/values.h"

#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

using google::protobuf::Value;

Value Str(const std::string& s) {
  Value v;
  v.set_string_value(s);
  return v;
}
Value Num(double d) {
  Value v;
  v.set_number_value(d);
  return v;
}

TEST(ValuesTest, StringsCompareExactlyUnlessCaseIsIgnored) {
  EXPECT_TRUE(ScalarEquals(Str("VP Sales"), Str("VP Sales"), CaseMode::kExact));
  EXPECT_FALSE(ScalarEquals(Str("VP Sales"), Str("vp sales"), CaseMode::kExact));
  EXPECT_TRUE(ScalarEquals(Str("VP Sales"), Str("vp sales"), CaseMode::kIgnoreAsciiCase));
}

TEST(ValuesTest, NumberNeverEqualsString) {
  EXPECT_FALSE(ScalarEquals(Num(82), Str("82"), CaseMode::kIgnoreAsciiCase));
  EXPECT_TRUE(ScalarEquals(Num(82), Num(82.0), CaseMode::kExact));
}

TEST(ValuesTest, PrefixHonoursCaseMode) {
  EXPECT_TRUE(HasPrefix("VP Sales", "VP", CaseMode::kExact));
  EXPECT_FALSE(HasPrefix("vp sales", "VP", CaseMode::kExact));
  EXPECT_TRUE(HasPrefix("vp sales", "VP", CaseMode::kIgnoreAsciiCase));
}

TEST(ValuesTest, DescribesValuesForExplanations) {
  EXPECT_EQ(DescribeValue(Str("MQL – New Handoff")), "\"MQL – New Handoff\"");
  EXPECT_EQ(DescribeValue(Num(75)), "75");
  Value list;
  *list.mutable_list_value()->add_values() = Str("a");
  *list.mutable_list_value()->add_values() = Num(2.5);
  EXPECT_EQ(DescribeValue(list), "[\"a\", 2.5]");
}

}  // namespace
}  // namespace sopsidebar
