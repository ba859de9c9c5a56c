#include "server/common/proto_time.h"

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

}  // namespace
}  // namespace sopsidebar
