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

TEST(RenderMarkdownTest, TablesAreAlignedByCodePointsWithARuleUnderTheHeader) {
  EXPECT_THAT(
      RenderMarkdown("Check:\n| Field | Value |\n|---|:---:|\n| `lead_score` | **≥ 75** |\n"
                     "| size – employees | > 50 |\nThen accept.",
                     "  ", 80),
      ElementsAre("  Check:", "  Field             Value", "  ----------------  -----",
                  "  lead_score        ≥ 75", "  size – employees  > 50", "  Then accept."));
}

TEST(RenderMarkdownTest, TableRowsWithoutAHeaderRuleAreAlignedWithoutOne) {
  EXPECT_THAT(RenderMarkdown("| a | bb |\n| ccc | d |", "", 80), ElementsAre("a    bb", "ccc  d"));
}

TEST(RenderMarkdownTest, TablesWiderThanTheWidthStayRowsOfCells) {
  EXPECT_THAT(
      RenderMarkdown("| Field | Value |\n|---|---|\n| lead_score | at least 75 points |", "> ", 20),
      ElementsAre("> Field | Value", "> lead_score | at least 75 points"));
}

TEST(AlignedRowTest, PadsEachCellButTheLastToItsColumnCountingCodePoints) {
  const std::vector<std::vector<std::string>> rows = {{"≥ 75", "a"}, {"score", "b", "c"}};
  const std::vector<size_t> widths = ColumnWidths(rows);
  EXPECT_THAT(widths, ElementsAre(5, 1, 1));
  EXPECT_EQ(AlignedRow(rows[0], widths), "≥ 75   a");
  EXPECT_EQ(AlignedRow(rows[1], widths), "score  b  c");
}

TEST(RenderMarkdownTest, FencedCodeIsKeptAsItIs) {
  EXPECT_THAT(RenderMarkdown("Say:\n```\nHi **Sam**,  thanks\n```\nThen wait.", "", 80),
              ElementsAre("Say:", "    Hi **Sam**,  thanks", "Then wait."));
}

TEST(RenderMarkdownTest, NothingForNoText) { EXPECT_TRUE(RenderMarkdown("", "  ", 80).empty()); }

}  // namespace
}  // namespace sopsidebar::cli
