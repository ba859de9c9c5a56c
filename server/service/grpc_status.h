// The one conversion from the project's absl::Status errors to gRPC's.
#ifndef SOPSIDEBAR_SERVER_SERVICE_GRPC_STATUS_H_
#define SOPSIDEBAR_SERVER_SERVICE_GRPC_STATUS_H_

#include <cstddef>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace sopsidebar {

// Messages longer than this many bytes are cut to it. The grpc-message header
// percent-encodes a message to at most three times its size, well inside the
// 8 KiB of metadata gRPC clients accept by default.
inline constexpr size_t kMaxGrpcMessageBytes = 1024;

// The same code and message; a message longer than kMaxGrpcMessageBytes is
// cut between characters and ends "… (N bytes)" with N its full size.
// Thread-safe.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_SERVICE_GRPC_STATUS_H_
