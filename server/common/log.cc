#include "server/common/log.h"

#include <unistd.h>

#include <string>

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

}  // namespace sopsidebar
