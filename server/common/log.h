// One-line operational log to stderr, as text (the default) or JSON lines,
// with levels; and a limiter for lines that callers can trigger at will
// (rejected calls, malformed requests, access lines), so that a flood of
// requests cannot flood the log. Never pass secrets. Thread-safe.
#ifndef SOPSIDEBAR_SERVER_COMMON_LOG_H_
#define SOPSIDEBAR_SERVER_COMMON_LOG_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "server/common/clock.h"

namespace sopsidebar {

enum class LogLevel { kDebug, kInfo, kWarn, kError };
enum class LogFormat {
  // <RFC 3339 time> sopd: <message> key=value ...
  kText,
  // {"ts":"<RFC 3339 time>","level":"info","msg":"<message>","key":"value",...}
  kJson,
};

// "debug", "info", "warn", "error"; "text", "json". Nullopt for anything else.
std::optional<LogLevel> ParseLogLevel(absl::string_view name);
std::optional<LogFormat> ParseLogFormat(absl::string_view name);

// How every line is written from now on, and the least level written
// (default: text, info). Call before other threads log (sopd's main does).
void SetLogOptions(LogFormat format, LogLevel min_level);

// Whether a line at `level` would be written.
bool LogEnabled(LogLevel level);

// A field of a structured line: name and value (values in text lines are
// quoted when they hold a space, a quote or '=').
using LogField = std::pair<absl::string_view, absl::string_view>;

// Writes one line at `level`, when enabled, in one write(2).
void LogEvent(LogLevel level, absl::string_view message, absl::Span<const LogField> fields = {});

// LogEvent at info: "<RFC 3339 time> sopd: <message>\n" as text.
void LogLine(absl::string_view message);
// LogEvent at warn.
void LogWarning(absl::string_view message);

// The line LogEvent writes at `time` in `format` (for tests).
std::string FormatLogLine(LogFormat format, absl::Time time, LogLevel level,
                          absl::string_view message, absl::Span<const LogField> fields);

// Lets at most `burst` lines through per `period` (a fixed window) and
// counts the others; the first line let through after some were dropped
// says how many. Thread-safe.
class LogLimiter {
 public:
  struct Options {
    // Lines written per window.
    int burst = 20;
    // Window length.
    absl::Duration period = absl::Seconds(10);
  };

  // `sink` receives the lines let through (LogLine by default); `clock` must
  // outlive the limiter.
  using Sink = std::function<void(absl::string_view line)>;
  explicit LogLimiter(Options options, const Clock* clock = &Clock::Real(),
                      Sink sink = &LogLine);

  // Writes `message` unless this window's budget is spent. Returns whether
  // it was written.
  bool Log(absl::string_view message);

  // For callers that write their own lines: whether one may be written now
  // (counting it against the window's budget, or as dropped). When it may,
  // `*dropped_before` is the count of lines dropped since the last one let
  // through, which the line should report.
  bool Admit(int64_t* dropped_before);

  // Lines dropped since the limiter was made.
  int64_t dropped_total() const;

 private:
  const Options options_;
  const Clock* const clock_;
  const Sink sink_;
  mutable absl::Mutex mu_;
  absl::Time window_start_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int written_in_window_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t dropped_unreported_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t dropped_total_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_COMMON_LOG_H_
