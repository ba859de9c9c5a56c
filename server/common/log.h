// One-line operational log to stderr. Never pass secrets. Thread-safe.
#ifndef SOPSIDEBAR_SERVER_COMMON_LOG_H_
#define SOPSIDEBAR_SERVER_COMMON_LOG_H_

#include "absl/strings/string_view.h"

namespace sopsidebar {

// Writes "<RFC 3339 time> sopd: <message>\n" in one write.
void LogLine(absl::string_view message);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_COMMON_LOG_H_
