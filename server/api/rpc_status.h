// The one conversion from the project's absl::Status errors to AIP-193's
// google.rpc.Status, which every transport sends: gRPC as
// grpc-status-details-bin (server/service/grpc_status.h), Connect as its
// error JSON's details (server/http).
#ifndef SOPSIDEBAR_SERVER_API_RPC_STATUS_H_
#define SOPSIDEBAR_SERVER_API_RPC_STATUS_H_

#include <cstddef>

#include "absl/status/status.h"
#include "google/rpc/status.pb.h"

namespace sopsidebar {

// Messages longer than this many bytes are cut to it. The grpc-message header (and the Connect
// error message) percent-encodes a message to at most three times its size, well inside the 8 KiB
// of metadata gRPC clients accept by default.
inline constexpr size_t kMaxGrpcMessageBytes = 1024;

// A BadRequest detail larger than this many bytes keeps only the violations
// that fit (and says how many it left off), so that message and details
// together stay inside the 8 KiB of metadata (details travel base64-encoded
// in grpc-status-details-bin).
inline constexpr size_t kMaxGrpcBadRequestBytes = 2048;

// `status` as AIP-193's google.rpc.Status: its code, its message (longer than
// kMaxGrpcMessageBytes: cut between characters, ending "… (N bytes)" with N
// its full size) and as details its google.rpc payloads (error::kErrorInfoType
// and the others: see common/errors.h), plus an ErrorInfo whose reason
// is the code's name ("INTERNAL") for an error that has none. Thread-safe.
google::rpc::Status ToRpcStatus(const absl::Status& status);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_API_RPC_STATUS_H_
