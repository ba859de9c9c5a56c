#include "common/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

TEST(Utf8Test, DecodesOneToFourByteCharacters) {
  const std::string text = "a\u00e9\u20ac\U0001F600";
  Utf8Char c = DecodeUtf8At(text, 0);
  EXPECT_TRUE(c.valid);
  EXPECT_EQ(c.code_point, U'a');
  EXPECT_EQ(c.size, 1u);
  c = DecodeUtf8At(text, 1);
  EXPECT_EQ(c.code_point, U'\u00e9');
  EXPECT_EQ(c.size, 2u);
  c = DecodeUtf8At(text, 3);
  EXPECT_EQ(c.code_point, U'\u20ac');
  EXPECT_EQ(c.size, 3u);
  c = DecodeUtf8At(text, 6);
  EXPECT_EQ(c.code_point, U'\U0001F600');
  EXPECT_EQ(c.size, 4u);
}

TEST(Utf8Test, MalformedSequencesAreOneInvalidByte) {
  for (const std::string& bad : {std::string("\x80"), std::string("\xff"),
                                 std::string("\xc0\xaf"),          // overlong '/'
                                 std::string("\xed\xa0\x80"),      // surrogate U+D800
                                 std::string("\xf4\x90\x80\x80"),  // above U+10FFFF
                                 std::string("\xe2\x82")}) {       // cut short
    const Utf8Char c = DecodeUtf8At(bad, 0);
    EXPECT_FALSE(c.valid) << bad;
    EXPECT_EQ(c.size, 1u) << bad;
    EXPECT_EQ(c.code_point, static_cast<unsigned char>(bad[0])) << bad;
  }
}

TEST(Utf8Test, CountsCharactersNotBytes) {
  EXPECT_EQ(CountUtf8Chars(""), 0u);
  EXPECT_EQ(CountUtf8Chars("\u00e9\u00e9\U0001F600"), 3u);
  EXPECT_EQ(CountUtf8Chars("a\xff" "b"), 3u);
}

TEST(Utf8Test, PrefixNeverEndsInsideACharacter) {
  const std::string text = "ab\u20ac";  // 2 + 3 bytes
  EXPECT_EQ(Utf8Prefix(text, 4), "ab");
  EXPECT_EQ(Utf8Prefix(text, 5), text);
  EXPECT_EQ(Utf8Prefix(text, 100), text);
  EXPECT_EQ(Utf8Prefix(text, 0), "");
}

TEST(Utf8Test, ControlCharactersAreC0DelAndC1) {
  EXPECT_TRUE(IsControlChar(U'\x1b'));
  EXPECT_TRUE(IsControlChar(U'\n'));
  EXPECT_TRUE(IsControlChar(U'\x7f'));
  EXPECT_TRUE(IsControlChar(U'\u0085'));
  EXPECT_FALSE(IsControlChar(U' '));
  EXPECT_FALSE(IsControlChar(U'\u00a0'));
  EXPECT_FALSE(IsControlChar(U'\u202e'));
}

TEST(Utf8Test, EscapesWhatATerminalWouldActOn) {
  EXPECT_EQ(EscapeUnprintable("a\x1b[31mb\a\r\n\t\x7f"), "a\\x1b[31mb\\x07\\r\\n\\t\\x7f");
  EXPECT_EQ(EscapeUnprintable("\u0085\u202e\u2066\u200f\u2028"),
            "\\u0085\\u202e\\u2066\\u200f\\u2028");
  EXPECT_EQ(EscapeUnprintable("x\xff"), "x\\xff");
}

TEST(Utf8Test, KeepsPrintableTextAndIsStableWhenRepeated) {
  const std::string text = "SQL \u2013 Accepted \u00e9\U0001F600 C:\\path \"q\"";
  EXPECT_EQ(EscapeUnprintable(text), text);
  const std::string once = EscapeUnprintable("\x1b\u202e");
  EXPECT_EQ(EscapeUnprintable(once), once);
}

}  // namespace
}  // namespace sopsidebar
