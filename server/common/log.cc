#include "server/common/log.h"

#include <unistd.h>

#include <atomic>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/json_string.h"

namespace sopsidebar {
namespace {

// Set once by main before other threads start; read on every line.
std::atomic<LogFormat> log_format{LogFormat::kText};
std::atomic<LogLevel> min_log_level{LogLevel::kInfo};

absl::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

// A text line's value: as it is, or quoted (C escapes) when it holds what
// would make the line ambiguous.
void AppendTextValue(std::string* out, absl::string_view value) {
  bool plain = !value.empty();
  for (unsigned char c : value) {
    if (c <= ' ' || c == '"' || c == '=' || c == 0x7f) {
      plain = false;
      break;
    }
  }
  if (plain) {
    out->append(value.data(), value.size());
  } else {
    absl::StrAppend(out, "\"", absl::CEscape(value), "\"");
  }
}

}  // namespace

std::optional<LogLevel> ParseLogLevel(absl::string_view name) {
  for (LogLevel level : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (name == LevelName(level)) return level;
  }
  return std::nullopt;
}

std::optional<LogFormat> ParseLogFormat(absl::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return std::nullopt;
}

void SetLogOptions(LogFormat format, LogLevel min_level) {
  log_format.store(format, std::memory_order_relaxed);
  min_log_level.store(min_level, std::memory_order_relaxed);
}

bool LogEnabled(LogLevel level) { return level >= min_log_level.load(std::memory_order_relaxed); }

std::string FormatLogLine(LogFormat format, absl::Time time, LogLevel level,
                          absl::string_view message, absl::Span<const LogField> fields) {
  const std::string ts = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone());
  std::string line;
  if (format == LogFormat::kJson) {
    absl::StrAppend(&line, "{\"ts\":\"", ts, "\",\"level\":\"", LevelName(level), "\",\"msg\":");
    AppendJsonString(message, &line);
    for (const LogField& field : fields) {
      line.push_back(',');
      AppendJsonString(field.first, &line);
      line.push_back(':');
      AppendJsonString(field.second, &line);
    }
    line.append("}\n");
    return line;
  }
  // Text lines at info keep the form they always had; others say their level.
  absl::StrAppend(&line, ts, " sopd: ");
  if (level != LogLevel::kInfo) absl::StrAppend(&line, LevelName(level), ": ");
  line.append(message.data(), message.size());
  for (const LogField& field : fields) {
    absl::StrAppend(&line, " ", field.first, "=");
    AppendTextValue(&line, field.second);
  }
  line.push_back('\n');
  return line;
}

void LogEvent(LogLevel level, absl::string_view message, absl::Span<const LogField> fields) {
  if (!LogEnabled(level)) return;
  const std::string line = FormatLogLine(log_format.load(std::memory_order_relaxed), absl::Now(),
                                         level, message, fields);
  // One write(2) keeps concurrent lines whole.
  (void)!::write(STDERR_FILENO, line.data(), line.size());
}

void LogLine(absl::string_view message) { LogEvent(LogLevel::kInfo, message); }

void LogWarning(absl::string_view message) { LogEvent(LogLevel::kWarn, message); }

LogLimiter::LogLimiter(Options options, const Clock* clock, Sink sink)
    : options_(options), clock_(clock), sink_(std::move(sink)) {}

bool LogLimiter::Admit(int64_t* dropped_before) {
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
  *dropped_before = dropped_unreported_;
  dropped_unreported_ = 0;
  return true;
}

bool LogLimiter::Log(absl::string_view message) {
  int64_t dropped = 0;
  if (!Admit(&dropped)) return false;
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
