#include "server/common/log.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

using ::testing::ElementsAre;

TEST(LogLimiterTest, WritesAtMostBurstLinesPerWindowAndReportsTheDropped) {
  FakeClock clock;
  std::vector<std::string> lines;
  LogLimiter limiter({/*burst=*/2, /*period=*/absl::Seconds(10)}, &clock,
                     [&lines](absl::string_view line) { lines.emplace_back(line); });
  EXPECT_TRUE(limiter.Log("a"));
  EXPECT_TRUE(limiter.Log("b"));
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(limiter.Log("flood"));
  clock.Advance(absl::Seconds(10));
  EXPECT_TRUE(limiter.Log("c"));
  EXPECT_TRUE(limiter.Log("d"));
  EXPECT_THAT(lines,
              ElementsAre("a", "b", "c (1000 similar lines dropped before this one)", "d"));
  EXPECT_EQ(limiter.dropped_total(), 1000);
}

TEST(LogLimiterTest, StaysWithinTheWindowUntilThePeriodHasPassed) {
  FakeClock clock;
  int written = 0;
  LogLimiter limiter({/*burst=*/1, /*period=*/absl::Seconds(10)}, &clock,
                     [&written](absl::string_view) { ++written; });
  EXPECT_TRUE(limiter.Log("first"));
  clock.Advance(absl::Seconds(9));
  EXPECT_FALSE(limiter.Log("too soon"));
  clock.Advance(absl::Seconds(1));
  EXPECT_TRUE(limiter.Log("next window"));
  EXPECT_EQ(written, 2);
}

}  // namespace
}  // namespace sopsidebar
