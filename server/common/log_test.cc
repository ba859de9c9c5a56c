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

TEST(FormatLogLineTest, TextLinesAtInfoKeepTheirFormAndQuoteAmbiguousValues) {
  const absl::Time t = absl::FromUnixMillis(1700000000123);
  EXPECT_EQ(FormatLogLine(LogFormat::kText, t, LogLevel::kInfo, "access",
                          {{"method", "/p.S/M"}, {"peer", "a b"}, {"caller", ""}}),
            "2023-11-14T22:13:20.123Z sopd: access method=/p.S/M peer=\"a b\" caller=\"\"\n");
  EXPECT_EQ(FormatLogLine(LogFormat::kText, t, LogLevel::kWarn, "rejected", {}),
            "2023-11-14T22:13:20.123Z sopd: warn: rejected\n");
}

TEST(FormatLogLineTest, JsonLinesCarryTsLevelMsgAndEscapedFields) {
  const absl::Time t = absl::FromUnixMillis(1700000000123);
  EXPECT_EQ(FormatLogLine(LogFormat::kJson, t, LogLevel::kError, "bad \"x\"\n",
                          {{"code", "OK"}, {"ctl", "\x01\\"}}),
            "{\"ts\":\"2023-11-14T22:13:20.123Z\",\"level\":\"error\",\"msg\":"
            "\"bad \\\"x\\\"\\n\",\"code\":\"OK\",\"ctl\":\"\\u0001\\\\\"}\n");
}

TEST(LogOptionsTest, ParsesTheFlagValuesAndFiltersByLevel) {
  EXPECT_EQ(ParseLogLevel("warn"), LogLevel::kWarn);
  EXPECT_EQ(ParseLogLevel("verbose"), std::nullopt);
  EXPECT_EQ(ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_EQ(ParseLogFormat("logfmt"), std::nullopt);
  SetLogOptions(LogFormat::kText, LogLevel::kWarn);
  EXPECT_FALSE(LogEnabled(LogLevel::kInfo));
  EXPECT_TRUE(LogEnabled(LogLevel::kError));
  SetLogOptions(LogFormat::kText, LogLevel::kInfo);
  EXPECT_TRUE(LogEnabled(LogLevel::kInfo));
  EXPECT_FALSE(LogEnabled(LogLevel::kDebug));
}

TEST(LogLimiterTest, AdmitCountsAgainstTheSameBudgetAndReportsTheDropped) {
  FakeClock clock;
  LogLimiter limiter({/*burst=*/1, /*period=*/absl::Seconds(10)}, &clock);
  int64_t dropped = -1;
  EXPECT_TRUE(limiter.Admit(&dropped));
  EXPECT_EQ(dropped, 0);
  EXPECT_FALSE(limiter.Admit(&dropped));
  EXPECT_FALSE(limiter.Admit(&dropped));
  clock.Advance(absl::Seconds(10));
  EXPECT_TRUE(limiter.Admit(&dropped));
  EXPECT_EQ(dropped, 2);
  EXPECT_EQ(limiter.dropped_total(), 2);
}

}  // namespace
}  // namespace sopsidebar
