#include "common/utf8.h"

namespace sopsidebar {
namespace {

bool IsContinuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

// Characters that reorder, or break, the text around them on a terminal.
bool IsBidiControlOrSeparator(char32_t c) {
  return c == 0x061C || c == 0x200E || c == 0x200F || c == 0x2028 || c == 0x2029 ||
         (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

// Appends `prefix` (backslash-x or backslash-u) and `digits` lowercase hex digits of `c`.
void AppendEscape(absl::string_view prefix, char32_t c, int digits, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->append(prefix.data(), prefix.size());
  for (int i = digits - 1; i >= 0; --i) out->push_back(kHex[(c >> (4 * i)) & 0xF]);
}

}  // namespace

Utf8Char DecodeUtf8At(absl::string_view text, size_t pos) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[pos + i]); };
  const unsigned char lead = byte(0);
  const Utf8Char invalid{lead, 1, false};
  if (lead < 0x80) return {lead, 1, true};
  // Lead byte -> sequence length, payload bits, smallest code point that
  // needs that length (anything smaller is an overlong form).
  size_t size = 0;
  char32_t code_point = 0;
  char32_t min = 0;
  if ((lead & 0xE0) == 0xC0) {
    size = 2;
    code_point = lead & 0x1F;
    min = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    size = 3;
    code_point = lead & 0x0F;
    min = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    size = 4;
    code_point = lead & 0x07;
    min = 0x10000;
  } else {
    return invalid;
  }
  if (text.size() - pos < size) return invalid;
  for (size_t i = 1; i < size; ++i) {
    if (!IsContinuation(byte(i))) return invalid;
    code_point = (code_point << 6) | (byte(i) & 0x3F);
  }
  if (code_point < min || code_point > 0x10FFFF ||
      (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    return invalid;
  }
  return {code_point, size, true};
}

size_t CountUtf8Chars(absl::string_view text) {
  size_t count = 0;
  for (size_t pos = 0; pos < text.size(); pos += DecodeUtf8At(text, pos).size) ++count;
  return count;
}

absl::string_view Utf8Prefix(absl::string_view text, size_t max_bytes) {
  size_t end = 0;
  while (end < text.size()) {
    const size_t next = end + DecodeUtf8At(text, end).size;
    if (next > max_bytes) break;
    end = next;
  }
  return text.substr(0, end);
}

bool IsControlChar(char32_t c) { return c < 0x20 || (c >= 0x7F && c <= 0x9F); }

std::string EscapeUnprintable(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Char c = DecodeUtf8At(text, pos);
    if (c.valid && c.code_point == '\n') {
      out += "\\n";
    } else if (c.valid && c.code_point == '\r') {
      out += "\\r";
    } else if (c.valid && c.code_point == '\t') {
      out += "\\t";
    } else if (!c.valid || c.code_point < 0x20 || c.code_point == 0x7F) {
      AppendEscape("\\x", c.code_point, 2, &out);  // a byte
    } else if (IsControlChar(c.code_point) || IsBidiControlOrSeparator(c.code_point)) {
      AppendEscape("\\u", c.code_point, 4, &out);  // a code point
    } else {
      out.append(text.data() + pos, c.size);
    }
    pos += c.size;
  }
  return out;
}

}  // namespace sopsidebar
