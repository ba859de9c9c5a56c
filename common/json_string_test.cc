#include "common/json_string.h"

#include <string>

#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

std::string Json(absl::string_view text) {
  std::string out = "x=";
  AppendJsonString(text, &out);
  return out;
}

TEST(JsonStringTest, QuotesAndEscapesWhatJsonRequiresAndKeepsTheRest) {
  EXPECT_EQ(Json(""), "x=\"\"");
  EXPECT_EQ(Json("MQL – New Handoff"), "x=\"MQL – New Handoff\"");
  EXPECT_EQ(Json("say \"hi\" \\ bye"), "x=\"say \\\"hi\\\" \\\\ bye\"");
  EXPECT_EQ(Json("a\nb\rc\td"), "x=\"a\\nb\\rc\\td\"");
  EXPECT_EQ(Json(std::string("\x01\x1f", 2)), "x=\"\\u0001\\u001f\"");
  EXPECT_EQ(Json(std::string("nul\0", 4)), "x=\"nul\\u0000\"");
}

}  // namespace
}  // namespace sopsidebar
