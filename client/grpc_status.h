// The one conversion from gRPC statuses to absl statuses in the client.
#ifndef SOPSIDEBAR_CLIENT_GRPC_STATUS_H_
#define SOPSIDEBAR_CLIENT_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace sopsidebar::client {

// Keeps the code and the message; gRPC and absl number their codes alike.
// Thread-safe (pure).
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace sopsidebar::client

#endif  // SOPSIDEBAR_CLIENT_GRPC_STATUS_H_
