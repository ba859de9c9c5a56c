// Conversions between Abseil time types and protobuf's well-known types.
// Thread-safe (pure).
#ifndef SOPSIDEBAR_SERVER_COMMON_PROTO_TIME_H_
#define SOPSIDEBAR_SERVER_COMMON_PROTO_TIME_H_

#include "absl/time/time.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace sopsidebar {

google::protobuf::Timestamp ToProtoTimestamp(absl::Time t);
absl::Time FromProtoTimestamp(const google::protobuf::Timestamp& t);
absl::Duration FromProtoDuration(const google::protobuf::Duration& d);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_COMMON_PROTO_TIME_H_
