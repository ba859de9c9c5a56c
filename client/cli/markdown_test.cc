#include "client/cli/markdown.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sopsidebar::cli {
namespace {

using ::testing::ElementsAre;

TEST(RenderMarkdownTest, DropsEmphasisAndCodeMarkersButNotUnderscoresInNames) {
  EXPECT_THAT(RenderMarkdown("Set **lead_status** to `SQL – Accepted`, *now*, __really__ "
                             "_today_; 2 * 3 = 6.",
                             "", 200),
              ElementsAre("Set lead_status to SQL – Accepted, now, really today; 2 * 3 = 6."));
}

TEST(RenderMarkdownTest, WritesLinksAsTextAndUrl) {
  EXPECT_THAT(RenderMarkdown("See [the **checklist**](https://x.example/c) first.", "", 80),
              ElementsAre("See the checklist <https://x.example/c> first."));
}

TEST(RenderMarkdownTest, HeadingsListsAndParagraphsAreBlocksWithOneEmptyLineBetween) {
  EXPECT_THAT(
      RenderMarkdown("## Before the call ##\n"
                     "Read the record.\n"
                     "\n\n"
                     "1. Check the score.\n"
                     "2. Check the size.\n"
                     "   - LinkedIn if empty\n"
                     "* Or ask.\n",
                     "  ", 80),
      ElementsAre("  Before the call", "", "  Read the record.", "", "  1. Check the score.",
                  "  2. Check the size.", "    - LinkedIn if empty", "  - Or ask."));
}

TEST(RenderMarkdownTest, WrapsParagraphsAndItemsUnderTheirText) {
  EXPECT_THAT(
      RenderMarkdown("one two three\nfour five\n\n- six seven eight nine", "> ", 14),
      ElementsAre("> one two", "> three four", "> five", "", "> - six seven", ">   eight nine"));
}

TEST(RenderMarkdownTest, AWordLongerThanTheWidthStaysWhole) {
  EXPECT_THAT(RenderMarkdown("go https://sops.example.com/a/long/path now", "", 10),
              ElementsAre("go", "https://sops.example.com/a/long/path", "now"));
}

TEST(RenderMarkdownTest, TablesBecomeRowsOfCellsWithoutTheSeparator) {
  EXPECT_THAT(RenderMarkdown("| Field | Value |\n|---|:---:|\n| `lead_score` | **≥ 75** |", "", 80),
              ElementsAre("Field | Value", "lead_score | ≥ 75"));
}

TEST(RenderMarkdownTest, FencedCodeIsKeptAsItIs) {
  EXPECT_THAT(RenderMarkdown("Say:\n```\nHi **Sam**,  thanks\n```\nThen wait.", "", 80),
              ElementsAre("Say:", "    Hi **Sam**,  thanks", "Then wait."));
}

TEST(RenderMarkdownTest, NothingForNoText) { EXPECT_TRUE(RenderMarkdown("", "  ", 80).empty()); }

}  // namespace
}  // namespace sopsidebar::cli
