// Markdown, as SOP step instructions use it, turned into plain text for a
// terminal. Thread-safe (pure).
#ifndef SOPSIDEBAR_CLIENT_CLI_MARKDOWN_H_
#define SOPSIDEBAR_CLIENT_CLI_MARKDOWN_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace sopsidebar::cli {

// `markdown` as lines of plain text, each starting with `indent` and
// re-wrapped at spaces to at most `width` code points (a longer word stays
// whole): headings as their text, bullets as "- ", numbered items keep their
// number, an item's wrapped lines aligned under its text, fenced code kept as
// it is; **, *, _ and ` markers dropped, links as "text <url>"; one empty
// line between blocks. A table's columns are aligned (two spaces apart,
// widths in code points) with a line of dashes under the header row (the
// one above the |---| row); a table wider than `width` (the indent not
// counted) is not aligned, each row its cells joined by " | " instead. The
// lines are not escaped: print each with TextLine.
std::vector<std::string> RenderMarkdown(absl::string_view markdown, absl::string_view indent,
                                        size_t width);

// The width of each column of `rows` (each row its cells, left to right):
// its widest cell in code points, as a terminal shows them.
std::vector<size_t> ColumnWidths(const std::vector<std::vector<std::string>>& rows);

// `row`'s cells, each but the last padded to its column's width in `widths`
// (from ColumnWidths) and two spaces more, so that columns line up.
std::string AlignedRow(const std::vector<std::string>& row, const std::vector<size_t>& widths);

}  // namespace sopsidebar::cli

#endif  // SOPSIDEBAR_CLIENT_CLI_MARKDOWN_H_
