// The one conversion from gRPC statuses to absl statuses in the client.
#ifndef SOPSIDEBAR_CLIENT_GRPC_STATUS_H_
#define SOPSIDEBAR_CLIENT_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace sopsidebar::client {

// Keeps the code and the message (gRPC and absl number their codes alike),
// and each detail of the google.rpc.Status the server sent in the details
// (grpc-status-details-bin) as a payload under its type URL, as sopd's own
// errors carry them (common/errors.h: error::FieldViolationsOf reads
// a BadRequest's). Details that do not parse are dropped. Thread-safe (pure).
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace sopsidebar::client

#endif  // SOPSIDEBAR_CLIENT_GRPC_STATUS_H_
