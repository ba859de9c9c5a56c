#include "server/service/library_logs.h"

#include <mutex>

#include "absl/strings/str_cat.h"
#include "grpc/support/log.h"
#include "server/api/protobuf_logs.h"

namespace sopsidebar {
namespace {

void OnGrpcLog(gpr_log_func_args* args) {
  LibraryLogLimiter().Log(absl::StrCat("grpc ", gpr_log_severity_string(args->severity), ": ",
                                       args->message));
}

}  // namespace

void RouteLibraryLogs() {
  RouteProtobufLogs();
  static std::once_flag once;
  std::call_once(once, [] { gpr_set_log_function(&OnGrpcLog); });
}

}  // namespace sopsidebar
