#include "common/proto_time.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"

namespace sopsidebar {

google::protobuf::Timestamp ToProtoTimestamp(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t seconds = absl::ToUnixSeconds(t);
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>((t - absl::FromUnixSeconds(seconds)) / absl::Nanoseconds(1)));
  return ts;
}

absl::Time FromProtoTimestamp(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

absl::Duration FromProtoDuration(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

google::protobuf::Duration ToProtoDuration(absl::Duration d) {
  google::protobuf::Duration proto;
  const int64_t seconds = absl::ToInt64Seconds(d);
  proto.set_seconds(seconds);
  proto.set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(d - absl::Seconds(seconds))));
  return proto;
}

std::optional<absl::Duration> ParseDurationWithUnits(absl::string_view text,
                                                     DurationNumbers numbers) {
  if (text.empty()) return std::nullopt;
  absl::Duration total;
  while (!text.empty()) {
    size_t n = 0;
    while (n < text.size() && (absl::ascii_isdigit(static_cast<unsigned char>(text[n])) ||
                               (numbers == DurationNumbers::kDecimal && text[n] == '.'))) {
      ++n;
    }
    double count;
    if (n == 0 || n == text.size() || !absl::SimpleAtod(text.substr(0, n), &count)) {
      return std::nullopt;
    }
    absl::Duration unit;
    switch (text[n]) {
      case 'd':
        unit = absl::Hours(24);
        break;
      case 'h':
        unit = absl::Hours(1);
        break;
      case 'm':
        unit = absl::Minutes(1);
        break;
      case 's':
        unit = absl::Seconds(1);
        break;
      default:
        return std::nullopt;
    }
    total += count * unit;  // Saturates at InfiniteDuration.
    text.remove_prefix(n + 1);
  }
  return total;
}

}  // namespace sopsidebar
