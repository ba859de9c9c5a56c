// UTF-8 text as sopd counts, cuts and shows it: one decoder behind the limits
// in characters (validation), the error catalogue's quoted input and sopctl's
// terminal-safe output. Thread-safe (pure functions).
#ifndef SOPSIDEBAR_COMMON_UTF8_H_
#define SOPSIDEBAR_COMMON_UTF8_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace sopsidebar {

// One character of a UTF-8 string: its code point and length in bytes. A byte
// that does not start a well-formed sequence (a stray continuation byte, an
// overlong form, a surrogate, a code point above U+10FFFF, a sequence cut
// short) is one invalid character of one byte whose code point is that byte.
struct Utf8Char {
  char32_t code_point = 0;
  size_t size = 1;
  bool valid = true;
};

// The character that starts at byte `pos` of `text`; `pos` < text.size().
Utf8Char DecodeUtf8At(absl::string_view text, size_t pos);

// The number of characters in `text`, an invalid byte counting as one.
size_t CountUtf8Chars(absl::string_view text);

// The longest prefix of `text` of at most `max_bytes` bytes that does not end
// inside a character.
absl::string_view Utf8Prefix(absl::string_view text, size_t max_bytes);

// True for the control characters: C0 (U+0000-U+001F), DEL (U+007F) and C1
// (U+0080-U+009F).
bool IsControlChar(char32_t c);

// `text` with every character a terminal would act on rather than show
// written as an escape: control characters ("\n", "\r", "\t", "\x1b",
// "\u0085"), the bidirectional overrides, embeddings, isolates and marks
// (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069, e.g. "\u202e"), the
// line and paragraph separators (U+2028, U+2029) and invalid bytes ("\xff").
// Everything else, the backslash included, is kept, so the result is safe to
// print and escaping it again changes nothing.
std::string EscapeUnprintable(absl::string_view text);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_COMMON_UTF8_H_
