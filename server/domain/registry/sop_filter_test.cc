#include "server/domain/registry/sop_filter.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

void ExpectError(absl::string_view filter, absl::string_view message) {
  absl::StatusOr<SopFilter> parsed = ParseSopFilter(filter);
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << filter;
  EXPECT_EQ(parsed.status().message(), message) << filter;
}

v1::Sop MakeSop(v1::Sop::State state, const std::string& owner,
                std::initializer_list<const char*> tags) {
  v1::Sop sop;
  sop.set_state(state);
  sop.set_owner(owner);
  for (const char* tag : tags) sop.add_tags(tag);
  return sop;
}

TEST(ParseSopFilterTest, BlankFilterHasNoTermsAndMatchesEverything) {
  for (const char* text : {"", "   ", "\t\n"}) {
    absl::StatusOr<SopFilter> filter = ParseSopFilter(text);
    ASSERT_TRUE(filter.ok()) << filter.status();
    EXPECT_FALSE(filter->state.has_value());
    EXPECT_FALSE(filter->owner.has_value());
    EXPECT_THAT(filter->tags, IsEmpty());
    EXPECT_TRUE(filter->Matches(MakeSop(v1::Sop::DELETED, "x", {})));
  }
}

TEST(ParseSopFilterTest, ReadsTheDocumentedTermsJoinedByAnd) {
  absl::StatusOr<SopFilter> filter =
      ParseSopFilter("state = PUBLISHED AND owner = \"Sales Ops\" AND tags:\"mql\" AND tags = "
                     "handoff AND tag=\"SQL – Accepted\"");
  ASSERT_TRUE(filter.ok()) << filter.status();
  EXPECT_EQ(filter->state, v1::Sop::PUBLISHED);
  EXPECT_EQ(filter->owner, "Sales Ops");
  EXPECT_THAT(filter->tags, ElementsAre("mql", "handoff", "SQL – Accepted"));
}

TEST(ParseSopFilterTest, SpacesAroundOperatorsAreOptional) {
  absl::StatusOr<SopFilter> filter = ParseSopFilter("state=DRAFT AND tags : mql");
  ASSERT_TRUE(filter.ok()) << filter.status();
  EXPECT_EQ(filter->state, v1::Sop::DRAFT);
  EXPECT_THAT(filter->tags, ElementsAre("mql"));
}

TEST(ParseSopFilterTest, QuotedValuesKeepSpacesColonsAndTheWordAnd) {
  absl::StatusOr<SopFilter> filter = ParseSopFilter("owner = \"Ops: Sales AND Marketing\"");
  ASSERT_TRUE(filter.ok()) << filter.status();
  EXPECT_EQ(filter->owner, "Ops: Sales AND Marketing");
}

TEST(ParseSopFilterTest, MatchesNeedEveryTerm) {
  absl::StatusOr<SopFilter> filter =
      ParseSopFilter("state = PUBLISHED AND owner = Ops AND tags:\"a\" AND tags:\"b\"");
  ASSERT_TRUE(filter.ok()) << filter.status();
  EXPECT_TRUE(filter->Matches(MakeSop(v1::Sop::PUBLISHED, "Ops", {"b", "c", "a"})));
  EXPECT_FALSE(filter->Matches(MakeSop(v1::Sop::DRAFT, "Ops", {"a", "b"})));
  EXPECT_FALSE(filter->Matches(MakeSop(v1::Sop::PUBLISHED, "ops", {"a", "b"})));
  EXPECT_FALSE(filter->Matches(MakeSop(v1::Sop::PUBLISHED, "Ops", {"a"})));
}

TEST(ParseSopFilterTest, UnterminatedQuoteIsRejectedAtTheQuote) {
  ExpectError("owner = \"Sales Ops", "filter: unterminated quote at position 8");
  ExpectError("state = DRAFT AND tags:\"mql", "filter: unterminated quote at position 23");
}

TEST(ParseSopFilterTest, LeadingDoubledAndTrailingAndAreEmptyTerms) {
  ExpectError("AND state = DRAFT", "filter: empty term before AND at position 0");
  ExpectError("state = DRAFT AND AND tags:mql", "filter: empty term before AND at position 18");
  ExpectError("tags:\"mql\" AND", "filter: empty term after AND at position 11");
  ExpectError("tags:\"mql\" AND  ", "filter: empty term after AND at position 11");
}

TEST(ParseSopFilterTest, UnknownKeyIsRejectedWithTheKeysThereAre) {
  ExpectError("colour = red", "filter: unknown key \"colour\" at position 0; use state, owner or tags");
  ExpectError("state = DRAFT AND State = DRAFT",
              "filter: unknown key \"State\" at position 18; use state, owner or tags");
  ExpectError("\"state\" = DRAFT", "filter: expected a key, got \"state\" at position 0");
  ExpectError("= DRAFT", "filter: expected a key, got \"=\" at position 0");
}

TEST(ParseSopFilterTest, MissingOrWrongOperatorIsRejected) {
  ExpectError("state DRAFT", "filter: expected = after state, got \"DRAFT\" at position 6");
  ExpectError("owner:\"Ops\"", "filter: expected = after owner, got \":\" at position 5");
  ExpectError("tags", "filter: expected = or : after tags, got the end at position 4");
}

TEST(ParseSopFilterTest, MissingOrEmptyValueIsRejected) {
  ExpectError("state =", "filter: expected a value, got the end at position 7");
  ExpectError("owner = AND tags:a", "filter: expected a value, got AND at position 8");
  ExpectError("owner = \"\"", "filter: empty value at position 8");
}

TEST(ParseSopFilterTest, UnknownStateIsRejectedWithTheStatesThereAre) {
  ExpectError("state = LIVE",
              "filter: unknown state \"LIVE\" at position 8; expected DRAFT, PUBLISHED or DELETED");
  ExpectError("state = STATE_UNSPECIFIED",
              "filter: unknown state \"STATE_UNSPECIFIED\" at position 8; expected DRAFT, "
              "PUBLISHED or DELETED");
}

TEST(ParseSopFilterTest, TermsNeedAndBetweenThem) {
  ExpectError("owner = Sales Ops", "filter: expected AND, got \"Ops\" at position 14");
  ExpectError("state = DRAFT and tags:a", "filter: expected AND, got \"and\" at position 14");
}

TEST(ParseSopFilterTest, PositionsCountCharactersNotBytes) {
  ExpectError("owner = \"Équipe\" AND tags:\"é", "filter: unterminated quote at position 26");
}

TEST(ParseSopFilterTest, HugeInputIsQuotedShort) {
  ExpectError(std::string(1 << 20, 'x'),
              absl::StrCat("filter: unknown key \"", std::string(64, 'x'),
                           "\"… (1048576 bytes) at position 0; use state, owner or tags"));
}

}  // namespace
}  // namespace sopsidebar
