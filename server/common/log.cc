#include "server/common/log.h"

#include <unistd.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace sopsidebar {

void LogLine(absl::string_view message) {
  const std::string line =
      absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()),
                   " sopd: ", message, "\n");
  // One write(2) keeps concurrent lines whole.
  (void)!::write(STDERR_FILENO, line.data(), line.size());
}

LogLimiter::LogLimiter(Options options, const Clock* clock, Sink sink)
    : options_(options), clock_(clock), sink_(std::move(sink)) {}

bool LogLimiter::Log(absl::string_view message) {
  int64_t dropped = 0;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_->Now();
    if (now - window_start_ >= options_.period) {
      window_start_ = now;
      written_in_window_ = 0;
    }
    if (written_in_window_ >= options_.burst) {
      ++dropped_unreported_;
      ++dropped_total_;
      return false;
    }
    ++written_in_window_;
    dropped = dropped_unreported_;
    dropped_unreported_ = 0;
  }
  // Written outside the lock: a slow stderr must not hold up other callers.
  if (dropped == 0) {
    sink_(message);
  } else {
    sink_(absl::StrCat(message, " (", dropped, " similar lines dropped before this one)"));
  }
  return true;
}

int64_t LogLimiter::dropped_total() const {
  absl::MutexLock lock(&mu_);
  return dropped_total_;
}

}  // namespace sopsidebar
