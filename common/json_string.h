// Writing a string as a JSON string literal, for the JSON the project
// writes by hand (SOP files turned into protobuf JSON, Connect error bodies).
#ifndef SOPSIDEBAR_COMMON_JSON_STRING_H_
#define SOPSIDEBAR_COMMON_JSON_STRING_H_

#include <string>

#include "absl/strings/string_view.h"

namespace sopsidebar {

// Appends `text` to `out` as a JSON string, quotes included: quotes,
// backslashes and control characters escaped (\n, \r, \t, else \u00XX),
// everything else (UTF-8 included) as it is. Thread-safe.
void AppendJsonString(absl::string_view text, std::string* out);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_COMMON_JSON_STRING_H_
