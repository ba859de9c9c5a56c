#include "common/diagram/graphviz.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Runs `dot`; skips the test when Graphviz is not installed.
#define ASSIGN_OR_SKIP_WITHOUT_DOT(lhs, call)                                             \
  absl::StatusOr<std::string> lhs = (call);                                               \
  if (lhs.status().code() == absl::StatusCode::kFailedPrecondition) {                     \
    GTEST_SKIP() << "Graphviz's dot is not installed (scripts/setup installs graphviz): " \
                 << lhs.status();                                                         \
  }

// A graph of `nodes` nodes in a chain: its SVG is larger than a pipe's
// buffer, as is its DOT text for large `nodes`.
std::string Chain(int nodes) {
  std::string dot = "digraph chain {\n";
  for (int i = 1; i < nodes; ++i) absl::StrAppend(&dot, "  n", i - 1, " -> n", i, ";\n");
  return absl::StrCat(dot, "}\n");
}

TEST(GraphvizTest, RendersSvgAndPng) {
  ASSIGN_OR_SKIP_WITHOUT_DOT(svg, RenderWithGraphviz("digraph { a -> b }", GraphvizOutput::kSvg));
  ASSERT_TRUE(svg.ok()) << svg.status();
  EXPECT_THAT(*svg, HasSubstr("<svg"));
  EXPECT_THAT(*svg, HasSubstr("<title>a&#45;&gt;b</title>"));
  ASSIGN_OR_SKIP_WITHOUT_DOT(png, RenderWithGraphviz("digraph { a -> b }", GraphvizOutput::kPng));
  ASSERT_TRUE(png.ok()) << png.status();
  EXPECT_THAT(*png, StartsWith("\x89PNG\r\n"));
}

TEST(GraphvizTest, LargeInputAndOutputDoNotDeadlockThePipes) {
  const std::string dot = Chain(5000);
  ASSERT_GT(dot.size(), 65536u);
  ASSIGN_OR_SKIP_WITHOUT_DOT(svg, RenderWithGraphviz(dot, GraphvizOutput::kSvg));
  ASSERT_TRUE(svg.ok()) << svg.status();
  EXPECT_THAT(*svg, HasSubstr("<title>n4999</title>"));
}

TEST(GraphvizTest, SyntaxErrorIsInternalQuotingDot) {
  ASSIGN_OR_SKIP_WITHOUT_DOT(svg, RenderWithGraphviz("digraph { a -> ", GraphvizOutput::kSvg));
  EXPECT_EQ(svg.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(svg.status().message()),
              StartsWith("Graphviz's dot failed: exit status 1: "));
  EXPECT_THAT(std::string(svg.status().message()), HasSubstr("syntax error"));
  EXPECT_EQ(error::ReasonOf(svg.status()), "GRAPHVIZ_FAILED");
}

TEST(GraphvizTest, MissingProgramSaysToInstallGraphviz) {
  GraphvizOptions options;
  options.program = "/nonexistent/sopsidebar/dot";
  const absl::StatusOr<std::string> svg =
      RenderWithGraphviz("digraph { a }", GraphvizOutput::kSvg, options);
  EXPECT_EQ(svg.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(svg.status().message(),
            "Graphviz's /nonexistent/sopsidebar/dot was not found on PATH: install graphviz "
            "(apt-get install graphviz) to render SVG or PNG, or ask for mermaid or dot text");
  EXPECT_EQ(error::ReasonOf(svg.status()), "GRAPHVIZ_MISSING");

  options.program = "sopsidebar-no-such-program";
  EXPECT_EQ(RenderWithGraphviz("digraph { a }", GraphvizOutput::kSvg, options).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// A stand-in for dot: a script in the test's temporary directory.
std::string Script(const std::string& name, const std::string& body) {
  const std::string path = (std::filesystem::path(::testing::TempDir()) / name).string();
  std::ofstream(path) << "#!/bin/sh\n" << body;
  chmod(path.c_str(), 0700);
  return path;
}

TEST(GraphvizTest, ProgramRunningPastTheTimeoutIsKilled) {
  GraphvizOptions options;
  options.program = Script("sopsidebar-slow-dot", "exec sleep 30\n");
  options.timeout = absl::Milliseconds(200);
  const absl::Time start = absl::Now();
  const absl::StatusOr<std::string> svg =
      RenderWithGraphviz("digraph { a }", GraphvizOutput::kSvg, options);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_EQ(svg.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(svg.status().message()), HasSubstr("did not finish within 200ms"));
}

TEST(GraphvizTest, ProgramExitingBeforeReadingItsInputIsAnErrorNotASignal) {
  GraphvizOptions options;
  options.program = Script("sopsidebar-early-dot", "echo gone >&2\nexit 3\n");
  const absl::StatusOr<std::string> svg =
      RenderWithGraphviz(Chain(20000), GraphvizOutput::kSvg, options);
  EXPECT_EQ(svg.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(svg.status().message(),
            "Graphviz's " + options.program + " failed: exit status 3: gone");
}

}  // namespace
}  // namespace sopsidebar
