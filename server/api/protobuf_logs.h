// Where protobuf's log lines go. Protobuf writes an ERROR line for every
// string field with invalid UTF-8 it parses, which any caller can trigger at
// will; its lines go through a LogLimiter instead of straight to stderr, and
// a line written while a request is parsed (ProtobufLogCapture) becomes that
// request's error instead of a log line.
#ifndef SOPSIDEBAR_SERVER_API_PROTOBUF_LOGS_H_
#define SOPSIDEBAR_SERVER_API_PROTOBUF_LOGS_H_

#include <string>

#include "server/common/log.h"

namespace sopsidebar {

// Installs the handler; later calls do nothing. Thread-safe.
void RouteProtobufLogs();

// The one budget for the lines of the libraries sopd uses (protobuf here,
// gRPC core in server/service): what matters is the lines per second a flood
// of bad calls can cause, not which library wrote them. Thread-safe.
LogLimiter& LibraryLogLimiter();

// While one is alive, protobuf log lines written on its thread are collected
// into text() instead of logged. Needs RouteProtobufLogs(). Not copyable;
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

#endif  // SOPSIDEBAR_SERVER_API_PROTOBUF_LOGS_H_
