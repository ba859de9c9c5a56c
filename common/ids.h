// Generated identifiers. Thread-safe.
#ifndef SOPSIDEBAR_COMMON_IDS_H_
#define SOPSIDEBAR_COMMON_IDS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace sopsidebar {

// `prefix` followed by `length` random characters of [a-z0-9]; with a prefix
// that starts with a letter the result is a valid resource id.
std::string RandomId(absl::string_view prefix, int length);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_COMMON_IDS_H_
