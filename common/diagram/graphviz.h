// Renders DOT text (sop_diagram.h) to SVG or PNG with Graphviz's `dot`, run
// as a child process: the DOT goes to its stdin through a pipe and the image
// comes back from its stdout. No shell is involved and nothing of the DOT
// text reaches the command line: the arguments are fixed ("-Tsvg", "-Tpng").
#ifndef SOPSIDEBAR_COMMON_DIAGRAM_GRAPHVIZ_H_
#define SOPSIDEBAR_COMMON_DIAGRAM_GRAPHVIZ_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace sopsidebar {

enum class GraphvizOutput { kSvg, kPng };

struct GraphvizOptions {
  // The program to run: looked up on PATH when it holds no '/'. Default
  // "dot" (Debian's graphviz package).
  std::string program = "dot";
  // How long it may take; then it is killed. Default 60 s.
  absl::Duration timeout = absl::Seconds(60);
};

// The image `dot_text` describes, as `dot` writes it (SVG text or PNG
// bytes). Returns FAILED_PRECONDITION (error::GraphvizMissing, saying to
// install graphviz) when the program is not found, INTERNAL
// (error::GraphvizFailed) when it cannot be started, exits with an error
// (the message quotes the start of its stderr, e.g. a DOT syntax error), is
// killed by a signal or runs past the timeout. Thread-safe: SIGPIPE is
// blocked in the calling thread while it writes (a `dot` that exits early
// gives an error, not a signal), and every descriptor it opens is
// close-on-exec.
absl::StatusOr<std::string> RenderWithGraphviz(absl::string_view dot_text, GraphvizOutput output,
                                               const GraphvizOptions& options = {});

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_COMMON_DIAGRAM_GRAPHVIZ_H_
