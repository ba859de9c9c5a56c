#include "common/ids.h"

#include <set>

#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

TEST(RandomIdTest, HasPrefixLengthAndAlphabet) {
  std::string id = RandomId("sop-", 12);
  ASSERT_EQ(id.size(), 16u);
  EXPECT_EQ(id.substr(0, 4), "sop-");
  for (char c : id.substr(4)) {
    EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) << id;
  }
}

TEST(RandomIdTest, DoesNotRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(RandomId("x", 12));
  EXPECT_EQ(seen.size(), 1000u);
}

}  // namespace
}  // namespace sopsidebar
