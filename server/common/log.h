// One-line operational log to stderr, and a limiter for lines that callers
// can trigger at will (rejected calls, malformed requests), so that a flood
// of bad requests cannot flood the log. Never pass secrets. Thread-safe.
#ifndef SOPSIDEBAR_SERVER_COMMON_LOG_H_
#define SOPSIDEBAR_SERVER_COMMON_LOG_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/common/clock.h"

namespace sopsidebar {

// Writes "<RFC 3339 time> sopd: <message>\n" in one write.
void LogLine(absl::string_view message);

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
