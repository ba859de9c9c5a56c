// Percent-encoding (RFC 3986) of text carried in URLs and in header values
// (the viewer an integration states). Thread-safe (pure).
#ifndef SOPSIDEBAR_COMMON_PERCENT_ENCODING_H_
#define SOPSIDEBAR_COMMON_PERCENT_ENCODING_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sopsidebar {

// Every byte but the unreserved ones (letters, digits, '-', '.', '_', '~')
// as %XX with upper-case hex: what JavaScript's encodeURIComponent writes
// for UTF-8 text (which also keeps "!'()*").
std::string PercentEncode(absl::string_view text);

// Decodes %XX (either case). With `plus_is_space` a '+' is a space, as in
// form encoding (Apex's EncodingUtil.urlEncode); without it '+' stays.
// INVALID_ARGUMENT naming `path` for a '%' not followed by two hex digits:
// "<path>: has a bad percent escape at position <i>".
absl::StatusOr<std::string> PercentDecode(absl::string_view path, absl::string_view encoded,
                                          bool plus_is_space);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_COMMON_PERCENT_ENCODING_H_
