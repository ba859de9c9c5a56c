#include "common/proto_time.h"

#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

TEST(ProtoTimeTest, TimestampRoundTripsWithNanos) {
  absl::Time t = absl::FromUnixSeconds(1795687200) + absl::Nanoseconds(123456789);
  google::protobuf::Timestamp ts = ToProtoTimestamp(t);
  EXPECT_EQ(ts.seconds(), 1795687200);
  EXPECT_EQ(ts.nanos(), 123456789);
  EXPECT_EQ(FromProtoTimestamp(ts), t);
}

TEST(ProtoTimeTest, DurationConverts) {
  google::protobuf::Duration d;
  d.set_seconds(300);
  d.set_nanos(5);
  EXPECT_EQ(FromProtoDuration(d), absl::Seconds(300) + absl::Nanoseconds(5));
}

TEST(ProtoTimeTest, DurationToProtoKeepsNanos) {
  const google::protobuf::Duration d = ToProtoDuration(absl::Seconds(90) + absl::Milliseconds(500));
  EXPECT_EQ(d.seconds(), 90);
  EXPECT_EQ(d.nanos(), 500000000);
}

TEST(ParseDurationWithUnitsTest, SumsNumbersWithUnits) {
  EXPECT_EQ(ParseDurationWithUnits("90s", DurationNumbers::kWhole), absl::Seconds(90));
  EXPECT_EQ(ParseDurationWithUnits("5m", DurationNumbers::kWhole), absl::Minutes(5));
  EXPECT_EQ(ParseDurationWithUnits("2d", DurationNumbers::kWhole), absl::Hours(48));
  EXPECT_EQ(ParseDurationWithUnits("1h30m", DurationNumbers::kWhole), absl::Minutes(90));
  EXPECT_EQ(ParseDurationWithUnits("1.5h", DurationNumbers::kDecimal), absl::Minutes(90));
}

TEST(ParseDurationWithUnitsTest, RejectsWhatIsNotNumbersWithUnits) {
  for (const char* text : {"", "30", "d", "30x", "-1d", "30 d", "30D", "1d2", "inf"}) {
    EXPECT_EQ(ParseDurationWithUnits(text, DurationNumbers::kDecimal), std::nullopt) << text;
  }
  EXPECT_EQ(ParseDurationWithUnits("1.5h", DurationNumbers::kWhole), std::nullopt);
}

}  // namespace
}  // namespace sopsidebar
