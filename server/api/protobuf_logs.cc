#include "server/api/protobuf_logs.h"

#include <mutex>

#include "absl/strings/str_cat.h"
#include "google/protobuf/stubs/logging.h"

namespace sopsidebar {
namespace {

thread_local ProtobufLogCapture* current_capture = nullptr;

void OnProtobufLog(google::protobuf::LogLevel level, const char* /*filename*/, int /*line*/,
                   const std::string& message) {
  if (current_capture != nullptr && level != google::protobuf::LOGLEVEL_FATAL) {
    current_capture->Append(message);
    return;
  }
  LibraryLogLimiter().Log(absl::StrCat("protobuf: ", message));
}

}  // namespace

LogLimiter& LibraryLogLimiter() {
  static LogLimiter* const limiter = new LogLimiter(LogLimiter::Options());
  return *limiter;
}

void RouteProtobufLogs() {
  static std::once_flag once;
  std::call_once(once, [] { google::protobuf::SetLogHandler(&OnProtobufLog); });
}

ProtobufLogCapture::ProtobufLogCapture() : outer_(current_capture) { current_capture = this; }

ProtobufLogCapture::~ProtobufLogCapture() { current_capture = outer_; }

void ProtobufLogCapture::Append(const std::string& line) {
  absl::StrAppend(&text_, text_.empty() ? "" : "; ", line);
}

}  // namespace sopsidebar
