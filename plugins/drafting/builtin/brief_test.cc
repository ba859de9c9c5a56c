#include "plugins/drafting/builtin/brief.h"

#include <string>
#include <vector>

#include "common/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

using ::testing::ElementsAre;

// The descriptions of the violations a rejected brief carries.
std::vector<std::string> ProblemsOf(absl::string_view text) {
  const absl::StatusOr<Brief> brief = ParseBrief(text);
  EXPECT_EQ(brief.status().code(), absl::StatusCode::kInvalidArgument) << text;
  EXPECT_EQ(error::ReasonOf(brief.status()), "BRIEF_NOT_UNDERSTOOD");
  std::vector<std::string> problems;
  for (const error::FieldViolation& v : error::FieldViolationsOf(brief.status())) {
    EXPECT_EQ(v.field, "brief");
    problems.push_back(v.description);
  }
  return problems;
}

TEST(ParseBriefTest, ReadsTheIssuesExampleBrief) {
  const absl::StatusOr<Brief> brief = ParseBrief(
      "5-touch cadence over 5 days, call/email/LinkedIn, inbound MQL, 5-minute first contact");
  ASSERT_TRUE(brief.ok()) << brief.status();
  EXPECT_EQ(brief->touches, 5);
  EXPECT_EQ(brief->days, 5);
  EXPECT_THAT(brief->channels, ElementsAre(v1::CALL, v1::EMAIL, v1::LINKEDIN));
  EXPECT_EQ(brief->stage, v1::MQL);
  EXPECT_EQ(brief->source, LeadSource::kInbound);
  EXPECT_EQ(brief->first_contact, absl::Minutes(5));
  EXPECT_EQ(brief->owner, "");
}

TEST(ParseBriefTest, ReadsOptionalClausesOnLinesAndSemicolons) {
  const absl::StatusOr<Brief> brief = ParseBrief(
      "Outbound SQL; 7 touches over 2 days\n"
      "channels: phone + SMS and email\n"
      "first contact within 2 hours; owner: Sales Ops; role AE; min score 60\n"
      "title: Outbound SQL blitz\n"
      "disqualify: no budget, wrong persona / too small…");
  ASSERT_TRUE(brief.ok()) << brief.status();
  EXPECT_EQ(brief->stage, v1::SQL);
  EXPECT_EQ(brief->source, LeadSource::kOutbound);
  EXPECT_EQ(brief->touches, 7);
  EXPECT_EQ(brief->days, 2);
  EXPECT_THAT(brief->channels, ElementsAre(v1::CALL, v1::SMS, v1::EMAIL));
  EXPECT_EQ(brief->first_contact, absl::Hours(2));
  EXPECT_EQ(brief->owner, "Sales Ops");
  EXPECT_EQ(brief->role, v1::AE);
  EXPECT_EQ(brief->min_score, 60);
  EXPECT_EQ(brief->title, "Outbound SQL blitz");
  EXPECT_THAT(brief->disqualify_reasons, ElementsAre("no budget", "wrong persona", "too small"));
}

TEST(ParseBriefTest, DisqualifyTakesTheRestOfItsLineCommasIncluded) {
  const absl::StatusOr<Brief> brief =
      ParseBrief("lead, 3-touch cadence over 3 days, email, disqualify: student, job seeker");
  ASSERT_TRUE(brief.ok()) << brief.status();
  EXPECT_THAT(brief->disqualify_reasons, ElementsAre("student", "job seeker"));
  EXPECT_EQ(brief->source, LeadSource::kAny);
}

TEST(ParseBriefTest, RepeatingTheSameValueIsNotAContradiction) {
  const absl::StatusOr<Brief> brief = ParseBrief(
      "MQL, inbound, 5-touch cadence over 5 days, call/email, 5-minute first contact, "
      "first contact within 5 minutes");
  ASSERT_TRUE(brief.ok()) << brief.status();
  EXPECT_EQ(brief->first_contact, absl::Minutes(5));
  EXPECT_EQ(brief->source, LeadSource::kInbound);
}

TEST(ParseBriefTest, ZeroTouchCadenceNamesTheClause) {
  EXPECT_THAT(ProblemsOf("inbound MQL, 0-touch cadence over 5 days, call"),
              ElementsAre("clause 2 \"0-touch cadence over 5 days\": a cadence has 1 to 30 "
                          "touches",
                          "names no cadence: add e.g. \"5-touch cadence over 5 days\""));
}

TEST(ParseBriefTest, TooManyTouchesADayIsRefused) {
  EXPECT_THAT(ProblemsOf("MQL, 11-touch cadence over 2 days, call"),
              ElementsAre("clause 2 \"11-touch cadence over 2 days\": more than 5 touches a day; "
                          "spread them over more days",
                          "names no cadence: add e.g. \"5-touch cadence over 5 days\""));
}

TEST(ParseBriefTest, ContradictoryFirstContactNamesBothClauses) {
  EXPECT_THAT(ProblemsOf("MQL, 5-touch cadence over 5 days, call, 5-minute first contact, "
                         "2-hour first contact"),
              ElementsAre("clause 5 \"2-hour first contact\": contradicts clause 4 "
                          "\"5-minute first contact\""));
}

TEST(ParseBriefTest, UnknownClauseAndChannelAreNamed) {
  EXPECT_THAT(
      ProblemsOf("MQL, 5-touch cadence over 5 days, channels call/fax, make it snappy"),
      ElementsAre("clause 3 \"channels call/fax\": unknown channel \"fax\"; use call, email, "
                  "LinkedIn, SMS or video",
                  "clause 4 \"make it snappy\": not a clause the built-in drafter knows (stage, "
                  "cadence, channels, first contact, owner, title, role, min score, disqualify: "
                  "see docs/AUTHORING.md)",
                  "names no channels: add e.g. \"channels call/email/LinkedIn\""));
}

TEST(ParseBriefTest, MissingStageCadenceAndChannelsAreEachReported) {
  EXPECT_THAT(ProblemsOf("owner Sales Ops"),
              ElementsAre("names no funnel stage: add one of lead, MQL, SQL or nurture (e.g. "
                          "\"inbound MQL\")",
                          "names no cadence: add e.g. \"5-touch cadence over 5 days\"",
                          "names no channels: add e.g. \"channels call/email/LinkedIn\""));
}

TEST(ParseBriefTest, OpportunityStageIsBeyondTheBuiltInDrafter) {
  const std::vector<std::string> problems =
      ProblemsOf("opportunity, 3-touch cadence over 3 days, email");
  ASSERT_FALSE(problems.empty());
  EXPECT_EQ(problems[0],
            "clause 1 \"opportunity\": the built-in drafter drafts lead SOPs (lead, MQL, SQL, "
            "nurture); draft opportunity and customer SOPs with a model drafter or write the "
            "file");
}

TEST(ParseBriefTest, OutOfRangeValuesAreRefused) {
  EXPECT_THAT(ProblemsOf("MQL, 3-touch cadence over 3 days, call, 2-day first contact, "
                         "min score 120, 5-touch cadence"),
              ElementsAre("clause 4 \"2-day first contact\": the first contact is the "
                          "cadence's day-1 touch: at most 24 hours",
                          "clause 5 \"min score 120\": lead scores run from 0 to 100",
                          "clause 6 \"5-touch cadence\": say over how many days, e.g. "
                          "\"5-touch cadence over 5 days\""));
}

TEST(ParseBriefTest, DuplicateDisqualificationReasonsAreRefused) {
  EXPECT_THAT(ProblemsOf("MQL, 1-touch cadence over 1 day, call, disqualify: no budget, No-Budget"),
              ElementsAre("clause 4 \"disqualify: no budget, No-Budget\": names \"No-Budget\" "
                          "twice"));
}

}  // namespace
}  // namespace sopsidebar
