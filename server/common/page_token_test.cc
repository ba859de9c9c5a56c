#include "server/common/page_token.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

using ::testing::StartsWith;

void ExpectRejected(const absl::StatusOr<std::string>& cursor) {
  EXPECT_EQ(cursor.status().code(), absl::StatusCode::kInvalidArgument) << cursor.status();
  EXPECT_THAT(std::string(cursor.status().message()), StartsWith("page_token: "));
}

TEST(PageTokenCodecTest, TokenReadsBackItsCursorForTheSameRequest) {
  const PageTokenCodec codec;
  const std::string token = codec.Make("sop-b", "ListSops|orgs/default|0|");
  absl::StatusOr<std::string> cursor = codec.Read(token, "ListSops|orgs/default|0|");
  ASSERT_TRUE(cursor.ok()) << cursor.status();
  EXPECT_EQ(*cursor, "sop-b");
}

TEST(PageTokenCodecTest, EmptyTokenIsTheFirstPage) {
  absl::StatusOr<std::string> cursor = PageTokenCodec().Read("", "any");
  ASSERT_TRUE(cursor.ok()) << cursor.status();
  EXPECT_EQ(*cursor, "");
}

TEST(PageTokenCodecTest, TokenForAnotherRequestIsRejected) {
  const PageTokenCodec codec;
  const std::string token = codec.Make("sop-b", "ListSops|orgs/default|0|");
  ExpectRejected(codec.Read(token, "ListSops|orgs/default|0|state = DRAFT"));
  ExpectRejected(codec.Read(token, "ListSopRevisions|orgs/default/sops/a"));
}

TEST(PageTokenCodecTest, ForgedTokenWithAChosenCursorIsRejected) {
  const PageTokenCodec codec;
  // The unsigned form sopd used to issue, and a signature-sized prefix of
  // zeros before a chosen cursor.
  ExpectRejected(codec.Read(absl::WebSafeBase64Escape("sop-b\x1fListSops|orgs/default|0|"),
                            "ListSops|orgs/default|0|"));
  ExpectRejected(codec.Read(absl::WebSafeBase64Escape(std::string(32, '\0') + "sop-b"),
                            "ListSops|orgs/default|0|"));
}

TEST(PageTokenCodecTest, AlteredTokenIsRejected) {
  const PageTokenCodec codec;
  const std::string token = codec.Make("sop-b", "r");
  std::string raw;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(token, &raw));
  raw.back() = 'c';  // the cursor "sop-c" under the signature of "sop-b"
  ExpectRejected(codec.Read(absl::WebSafeBase64Escape(raw), "r"));
  raw.back() = 'b';
  raw[0] ^= 1;  // the signature changed
  ExpectRejected(codec.Read(absl::WebSafeBase64Escape(raw), "r"));
}

TEST(PageTokenCodecTest, MalformedTokenIsRejected) {
  const PageTokenCodec codec;
  ExpectRejected(codec.Read("garbage!", "r"));
  ExpectRejected(codec.Read(absl::WebSafeBase64Escape("short"), "r"));
}

TEST(PageTokenCodecTest, AnotherKeysTokenIsRejectedAndTheSameKeysRead) {
  const std::string token = PageTokenCodec("key one").Make("sop-b", "r");
  ExpectRejected(PageTokenCodec("key two").Read(token, "r"));
  ExpectRejected(PageTokenCodec().Read(token, "r"));
  EXPECT_EQ(PageTokenCodec("key one").Read(token, "r").value_or(""), "sop-b");
}

}  // namespace
}  // namespace sopsidebar
