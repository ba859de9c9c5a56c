// The one conversion from the project's absl::Status errors to gRPC's.
#ifndef SOPSIDEBAR_SERVER_SERVICE_GRPC_STATUS_H_
#define SOPSIDEBAR_SERVER_SERVICE_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"
#include "server/api/rpc_status.h"

namespace sopsidebar {

// The same code and message as ToRpcStatus, and its google.rpc.Status
// serialised as the details (sent as grpc-status-details-bin). Thread-safe.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_SERVICE_GRPC_STATUS_H_
