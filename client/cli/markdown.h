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
// number, an item's wrapped lines aligned under its text, table rows as their
// cells joined by " | " (the |---| row dropped), fenced code kept as it is;
// **, *, _ and ` markers dropped, links as "text <url>"; one empty line
// between blocks. The lines are not escaped: print each with TextLine.
std::vector<std::string> RenderMarkdown(absl::string_view markdown, absl::string_view indent,
                                        size_t width);

}  // namespace sopsidebar::cli

#endif  // SOPSIDEBAR_CLIENT_CLI_MARKDOWN_H_
