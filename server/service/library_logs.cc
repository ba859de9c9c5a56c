#include "server/service/library_logs.h"

#include <mutex>

#include "absl/strings/str_cat.h"
#include "google/protobuf/stubs/logging.h"
#include "grpc/support/log.h"
#include "server/common/log.h"

namespace sopsidebar {
namespace {

thread_local ProtobufLogCapture* current_capture = nullptr;

// One budget for both libraries: what matters is the lines per second a
// flood of bad calls can cause, not which library wrote them.
LogLimiter& LibraryLogLimiter() {
  static LogLimiter* const limiter = new LogLimiter(LogLimiter::Options());
  return *limiter;
}

void OnProtobufLog(google::protobuf::LogLevel level, const char* /*filename*/, int /*line*/,
                   const std::string& message) {
  if (current_capture != nullptr && level != google::protobuf::LOGLEVEL_FATAL) {
    current_capture->Append(message);
    return;
  }
  LibraryLogLimiter().Log(absl::StrCat("protobuf: ", message));
}

void OnGrpcLog(gpr_log_func_args* args) {
  LibraryLogLimiter().Log(absl::StrCat("grpc ", gpr_log_severity_string(args->severity), ": ",
                                       args->message));
}

}  // namespace

void RouteLibraryLogs() {
  static std::once_flag once;
  std::call_once(once, [] {
    google::protobuf::SetLogHandler(&OnProtobufLog);
    gpr_set_log_function(&OnGrpcLog);
  });
}

ProtobufLogCapture::ProtobufLogCapture() : outer_(current_capture) { current_capture = this; }

ProtobufLogCapture::~ProtobufLogCapture() { current_capture = outer_; }

void ProtobufLogCapture::Append(const std::string& line) {
  absl::StrAppend(&text_, text_.empty() ? "" : "; ", line);
}

}  // namespace sopsidebar
