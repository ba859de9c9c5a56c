// Where the log lines of protobuf and gRPC core go. Both libraries write a
// line for things any caller can trigger at will — protobuf an ERROR for
// every string field with invalid UTF-8 it parses, gRPC one for every call
// that asks for a disabled compression — so their lines go through a
// LogLimiter instead of straight to stderr, and a protobuf line written while
// a request is parsed (ProtobufLogCapture) becomes that request's error
// instead of a log line.
#ifndef SOPSIDEBAR_SERVER_SERVICE_LIBRARY_LOGS_H_
#define SOPSIDEBAR_SERVER_SERVICE_LIBRARY_LOGS_H_

#include <string>

namespace sopsidebar {

// Installs both handlers; later calls do nothing. Thread-safe.
void RouteLibraryLogs();

// While one is alive, protobuf log lines written on its thread are collected
// into text() instead of logged. Needs RouteLibraryLogs(). Not copyable;
// lives on one thread.
class ProtobufLogCapture {
 public:
  ProtobufLogCapture();
  ~ProtobufLogCapture();
  ProtobufLogCapture(const ProtobufLogCapture&) = delete;
  ProtobufLogCapture& operator=(const ProtobufLogCapture&) = delete;

  // What protobuf logged on this thread so far, lines joined by "; ".
  const std::string& text() const { return text_; }
  // Adds a line to text(): what the installed handler does.
  void Append(const std::string& line);

 private:
  std::string text_;
  ProtobufLogCapture* const outer_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_SERVICE_LIBRARY_LOGS_H_
