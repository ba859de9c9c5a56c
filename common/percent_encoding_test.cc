#include "common/percent_encoding.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

using ::testing::HasSubstr;

TEST(PercentEncodingTest, EncodesAsEncodeUriComponentDoesForUtf8Text) {
  // encodeURIComponent("José Ruiz, Inside Sales+West/100%") in a browser.
  EXPECT_EQ(PercentEncode("José Ruiz, Inside Sales+West/100%"),
            "Jos%C3%A9%20Ruiz%2C%20Inside%20Sales%2BWest%2F100%25");
  EXPECT_EQ(PercentEncode("a-b.c_d~e"), "a-b.c_d~e");
}

TEST(PercentEncodingTest, DecodesWhatItEncodesAndPlusOnlyWhenAsked) {
  const std::string text = "José Ruiz, Inside Sales+West/100%";
  EXPECT_EQ(PercentDecode("h", PercentEncode(text), false).value(), text);
  EXPECT_EQ(PercentDecode("h", "Inside+Sales%2b%2F", true).value(), "Inside Sales+/");
  EXPECT_EQ(PercentDecode("h", "Inside+Sales", false).value(), "Inside+Sales");
}

TEST(PercentEncodingTest, ABadEscapeNamesThePathAndPosition) {
  for (absl::string_view bad : {"abc%", "abc%4", "abc%4G", "%zz"}) {
    absl::StatusOr<std::string> decoded = PercentDecode("sop-viewer-name", bad, true);
    ASSERT_FALSE(decoded.ok()) << bad;
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(decoded.status().message(), HasSubstr("sop-viewer-name"));
    EXPECT_THAT(decoded.status().message(), HasSubstr("bad percent escape at position"));
  }
}

}  // namespace
}  // namespace sopsidebar
