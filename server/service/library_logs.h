// Where the log lines of gRPC core go: it writes one for every call that
// asks for a disabled compression, which any caller can trigger at will, so
// its lines share protobuf's LogLimiter (server/api/protobuf_logs.h).
#ifndef SOPSIDEBAR_SERVER_SERVICE_LIBRARY_LOGS_H_
#define SOPSIDEBAR_SERVER_SERVICE_LIBRARY_LOGS_H_

namespace sopsidebar {

// Routes protobuf's and gRPC core's lines; later calls do nothing.
// Thread-safe.
void RouteLibraryLogs();

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_SERVICE_LIBRARY_LOGS_H_
