// The one conversion from the project's absl::Status errors to gRPC's.
// Codes map one to one; the message is kept.
#ifndef SOPSIDEBAR_SERVER_SERVICE_GRPC_STATUS_H_
#define SOPSIDEBAR_SERVER_SERVICE_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace sopsidebar {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_SERVICE_GRPC_STATUS_H_
