// Conversions between Abseil time types and protobuf's well-known types, and
// the durations people write ("5m", "1h30m"). Thread-safe (pure).
#ifndef SOPSIDEBAR_COMMON_PROTO_TIME_H_
#define SOPSIDEBAR_COMMON_PROTO_TIME_H_

#include <cstdint>
#include <optional>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace sopsidebar {

google::protobuf::Timestamp ToProtoTimestamp(absl::Time t);
absl::Time FromProtoTimestamp(const google::protobuf::Timestamp& t);
absl::Duration FromProtoDuration(const google::protobuf::Duration& d);
// `d` must lie within kMaxProtoDurationSeconds either way.
google::protobuf::Duration ToProtoDuration(absl::Duration d);

// The longest google.protobuf.Duration: 10,000 years.
inline constexpr int64_t kMaxProtoDurationSeconds = 315'576'000'000;

// Whether the numbers of a written duration may have a fraction ("1.5h").
enum class DurationNumbers { kWhole, kDecimal };

// A duration written as one or more numbers each followed by a unit, d, h, m
// or s, summed: "90s", "5m", "2h", "30d", "1h30m", "1d2h3m4s"; "1.5h" with
// kDecimal. nullopt when malformed (no sign, space or other unit). Saturates
// at absl::InfiniteDuration; callers check their own limits.
std::optional<absl::Duration> ParseDurationWithUnits(absl::string_view text,
                                                     DurationNumbers numbers);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_COMMON_PROTO_TIME_H_
