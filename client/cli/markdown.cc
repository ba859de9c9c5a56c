#include "client/cli/markdown.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/utf8.h"

namespace sopsidebar::cli {
namespace {

bool IsSpaceAt(absl::string_view text, size_t i) {
  return i >= text.size() || absl::ascii_isspace(static_cast<unsigned char>(text[i]));
}

bool IsAlnumAt(absl::string_view text, size_t i) {
  return i < text.size() && absl::ascii_isalnum(static_cast<unsigned char>(text[i]));
}

// Inline Markdown as plain text. A run of '*' is emphasis unless spaces
// surround it (2 * 3); a run of '_' only at a word's edge, so field names
// such as lead_score keep theirs.
std::string PlainInline(absl::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\\' && i + 1 < text.size() && absl::ascii_ispunct(text[i + 1])) {
      out.push_back(text[i + 1]);
      i += 2;
      continue;
    }
    if (c == '`') {
      size_t run = 0;
      while (i + run < text.size() && text[i + run] == '`') ++run;
      const size_t close = text.find(std::string(run, '`'), i + run);
      if (close == absl::string_view::npos) {
        out.append(run, '`');
      } else {
        absl::StrAppend(&out, absl::StripAsciiWhitespace(text.substr(i + run, close - i - run)));
        run = close + run - i;
      }
      i += run;
      continue;
    }
    if (c == '[') {
      const size_t close = text.find("](", i + 1);
      const size_t paren = close == absl::string_view::npos ? close : text.find(')', close + 2);
      if (paren != absl::string_view::npos) {
        absl::StrAppend(&out, PlainInline(text.substr(i + 1, close - i - 1)), " <",
                        text.substr(close + 2, paren - close - 2), ">");
        i = paren + 1;
        continue;
      }
    }
    if (c == '*' || c == '_') {
      size_t run = 0;
      while (i + run < text.size() && text[i + run] == c) ++run;
      const bool before_space = i == 0 || IsSpaceAt(text, i - 1);
      const bool after_space = IsSpaceAt(text, i + run);
      const bool marker = c == '*' ? !(before_space && after_space)
                                   : (!(i > 0 && IsAlnumAt(text, i - 1)) && !after_space) ||
                                         (!IsAlnumAt(text, i + run) && !before_space);
      if (!marker) out.append(run, c);
      i += run;
      continue;
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

// Greedy wrapping of `text` at spaces: the first line starts with `first`,
// the others with `rest`.
void AppendWrapped(absl::string_view text, const std::string& first, const std::string& rest,
                   size_t width, std::vector<std::string>& lines) {
  std::string line = first;
  size_t line_width = CountUtf8Chars(first);
  bool empty = true;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    const size_t word_width = CountUtf8Chars(word);
    if (!empty && line_width + 1 + word_width > width) {
      lines.push_back(std::move(line));
      line = rest;
      line_width = CountUtf8Chars(rest);
      empty = true;
    }
    if (!empty) {
      line.push_back(' ');
      ++line_width;
    }
    absl::StrAppend(&line, word);
    line_width += word_width;
    empty = false;
  }
  lines.push_back(std::move(line));
}

// A list item's marker ("- ", "12. ") when `line` (without its indent)
// starts one, else empty.
std::string ListMarker(absl::string_view line) {
  if (line.size() >= 2 && (line[0] == '-' || line[0] == '*' || line[0] == '+') && line[1] == ' ') {
    return "- ";
  }
  size_t digits = 0;
  while (digits < line.size() && absl::ascii_isdigit(static_cast<unsigned char>(line[digits]))) {
    ++digits;
  }
  if (digits > 0 && digits + 1 < line.size() && (line[digits] == '.' || line[digits] == ')') &&
      line[digits + 1] == ' ') {
    return absl::StrCat(line.substr(0, digits), ". ");
  }
  return "";
}

class Renderer {
 public:
  Renderer(absl::string_view indent, size_t width) : indent_(indent), width_(width) {}

  void Line(absl::string_view raw) {
    if (!fenced_ && !absl::StartsWith(absl::StripLeadingAsciiWhitespace(raw), "|")) FlushTable();
    if (fenced_) {
      if (absl::StartsWith(absl::StripLeadingAsciiWhitespace(raw), "```")) {
        fenced_ = false;
      } else {
        Emit(absl::StrCat("    ", absl::StripTrailingAsciiWhitespace(raw)));
      }
      return;
    }
    const absl::string_view text = absl::StripAsciiWhitespace(raw);
    if (text.empty()) {
      Flush();
      gap_ = true;
      return;
    }
    const size_t lead = raw.find_first_not_of(' ');
    if (absl::StartsWith(text, "```")) {
      Flush();
      fenced_ = true;
      return;
    }
    if (text[0] == '#') {
      const size_t level = text.find_first_not_of('#');
      if (level != absl::string_view::npos && level <= 6 && text[level] == ' ') {
        Flush();
        gap_ = true;
        absl::string_view heading = absl::StripAsciiWhitespace(text.substr(level));
        // A closing run of '#' after a space is decoration ("## Call ##").
        const size_t closing = heading.find_last_not_of('#');
        if (closing != absl::string_view::npos && heading[closing] == ' ') {
          heading = absl::StripTrailingAsciiWhitespace(heading.substr(0, closing));
        }
        Emit(PlainInline(heading));
        gap_ = true;
        return;
      }
    }
    if (text[0] == '|') {
      Flush();
      if (text.find_first_not_of("|-: ") == absl::string_view::npos) {
        // The |---| row: the row above it is the header.
        table_has_header_ = table_.size() == 1;
        return;
      }
      std::vector<std::string> cells;
      for (absl::string_view cell : absl::StrSplit(absl::StripSuffix(text.substr(1), "|"), '|')) {
        cells.push_back(PlainInline(absl::StripAsciiWhitespace(cell)));
      }
      table_.push_back(std::move(cells));
      return;
    }
    const std::string marker = ListMarker(text);
    if (!marker.empty()) {
      Flush();
      const std::string nesting(lead / 2 * 2, ' ');
      first_ = absl::StrCat(nesting, marker);
      rest_ = std::string(first_.size(), ' ');
      paragraph_ = std::string(text.substr(text.find(' ') + 1));
      return;
    }
    if (paragraph_.empty()) {
      first_.clear();
      rest_.clear();
      paragraph_ = std::string(absl::StripPrefix(absl::StripPrefix(text, ">"), " "));
    } else {
      absl::StrAppend(&paragraph_, " ", text);
    }
  }

  std::vector<std::string> Finish() {
    Flush();
    FlushTable();
    return std::move(lines_);
  }

 private:
  void Flush() {
    if (paragraph_.empty()) return;
    Gap();
    AppendWrapped(PlainInline(paragraph_), absl::StrCat(indent_, first_),
                  absl::StrCat(indent_, rest_), width_, lines_);
    paragraph_.clear();
  }

  // The table being collected, aligned in columns (code points, as terminals
  // show them) with a rule under the header when its rows fit in width_ (the
  // indent aside); a wider table would wrap into a mess, so each row becomes
  // its cells joined by " | ".
  void FlushTable() {
    if (table_.empty()) return;
    const std::vector<size_t> widths = ColumnWidths(table_);
    std::vector<std::string> rule;
    for (size_t w : widths) rule.emplace_back(w, '-');
    const bool aligned = CountUtf8Chars(AlignedRow(rule, widths)) <= width_;
    for (size_t r = 0; r < table_.size(); ++r) {
      if (!aligned) {
        Emit(absl::StrJoin(table_[r], " | "));
        continue;
      }
      // A row short of cells would end in padding.
      Emit(absl::StripTrailingAsciiWhitespace(AlignedRow(table_[r], widths)));
      if (r == 0 && table_has_header_) Emit(AlignedRow(rule, widths));
    }
    table_.clear();
    table_has_header_ = false;
  }

  void Gap() {
    if (gap_ && !lines_.empty()) lines_.emplace_back();
    gap_ = false;
  }

  void Emit(absl::string_view line) {
    Gap();
    lines_.push_back(absl::StrCat(indent_, line));
  }

  const std::string indent_;
  const size_t width_;
  std::vector<std::string> lines_;
  // The paragraph or list item being collected, and the prefixes of its
  // first and later lines.
  std::string paragraph_;
  std::string first_;
  std::string rest_;
  // An empty line is due before the next output.
  bool gap_ = false;
  bool fenced_ = false;
  // The rows of the table being collected, each its cells; whether a |---|
  // row followed the first.
  std::vector<std::vector<std::string>> table_;
  bool table_has_header_ = false;
};

}  // namespace

std::vector<size_t> ColumnWidths(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const std::vector<std::string>& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], CountUtf8Chars(row[i]));
  }
  return widths;
}

std::string AlignedRow(const std::vector<std::string>& row, const std::vector<size_t>& widths) {
  std::string line;
  for (size_t i = 0; i < row.size(); ++i) {
    absl::StrAppend(&line, row[i]);
    if (i + 1 < row.size()) line.append(widths[i] - CountUtf8Chars(row[i]) + 2, ' ');
  }
  return line;
}

std::vector<std::string> RenderMarkdown(absl::string_view markdown, absl::string_view indent,
                                        size_t width) {
  Renderer renderer(indent, width);
  for (absl::string_view line : absl::StrSplit(markdown, '\n')) renderer.Line(line);
  return renderer.Finish();
}

}  // namespace sopsidebar::cli
