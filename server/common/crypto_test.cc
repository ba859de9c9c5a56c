#include "server/common/crypto.h"

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

TEST(CryptoTest, Sha256MatchesTheKnownVector) {
  EXPECT_EQ(absl::BytesToHexString(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(CryptoTest, RandomSecretsAreHexOfTheRightLengthAndDiffer) {
  std::string a = RandomHexSecret(24);
  std::string b = RandomHexSecret(24);
  EXPECT_EQ(a.size(), 48u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(CryptoTest, ConstantTimeEqualsComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret1"));
}

}  // namespace
}  // namespace sopsidebar
