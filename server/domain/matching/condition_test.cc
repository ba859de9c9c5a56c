#include "server/domain/matching/condition.h"

#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

v1::Condition Cond(const std::string& text) {
  v1::Condition c;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &c)) << text;
  return c;
}

v1::CrmContext Lead() {
  v1::CrmContext context;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(R"pb(
    org: "orgs/default"
    record_type: "Lead"
    fields { key: "lead_status" value { string_value: "MQL – New Handoff" } }
    fields { key: "lead_score" value { number_value: 82 } }
    fields { key: "company_size" value { number_value: 120 } }
    fields { key: "title" value { string_value: "VP Sales" } }
    fields { key: "is_converted" value { bool_value: false } }
    fields { key: "industry" value { null_value: NULL_VALUE } }
    fields { key: "status_changed_at" value { string_value: "2026-11-26T10:00:00Z" } }
    fields {
      key: "interests"
      value { list_value { values { string_value: "pricing" } values { string_value: "api" } } }
    }
  )pb", &context));
  return context;
}

bool Holds(const std::string& text) { return ConditionHolds(Cond(text), Lead().fields()); }

TEST(ConditionTest, EqualsMatchesSameTypeAndValue) {
  EXPECT_TRUE(Holds(R"pb(field: "lead_status" equals { string_value: "MQL – New Handoff" })pb"));
  EXPECT_FALSE(Holds(R"pb(field: "lead_status" equals { string_value: "SQL – Accepted" })pb"));
  EXPECT_TRUE(Holds(R"pb(field: "lead_score" equals { number_value: 82 })pb"));
  EXPECT_FALSE(Holds(R"pb(field: "lead_score" equals { string_value: "82" })pb"));
  EXPECT_TRUE(Holds(R"pb(field: "is_converted" equals { bool_value: false })pb"));
}

TEST(ConditionTest, EqualsIsCaseSensitiveUnlessAsked) {
  EXPECT_FALSE(Holds(R"pb(field: "title" equals { string_value: "vp sales" })pb"));
  EXPECT_TRUE(Holds(
      R"pb(field: "title" equals { string_value: "vp sales" } case_insensitive: true)pb"));
}

TEST(ConditionTest, AnyOfAndNoneOf) {
  EXPECT_TRUE(Holds(R"pb(field: "lead_status"
                         any_of { values { string_value: "x" }
                                  values { string_value: "MQL – New Handoff" } })pb"));
  EXPECT_FALSE(Holds(R"pb(field: "lead_status" any_of { values { string_value: "x" } })pb"));
  EXPECT_TRUE(Holds(R"pb(field: "lead_status" none_of { values { string_value: "x" } })pb"));
  EXPECT_FALSE(Holds(R"pb(field: "lead_status"
                          none_of { values { string_value: "MQL – New Handoff" } })pb"));
}

TEST(ConditionTest, NoneOfHoldsForMissingAndNullFields) {
  EXPECT_TRUE(Holds(R"pb(field: "lead_source" none_of { values { string_value: "Web" } })pb"));
  EXPECT_TRUE(Holds(R"pb(field: "industry" none_of { values { string_value: "Banking" } })pb"));
}

TEST(ConditionTest, NumericRangeBoundsAreInclusiveByDefault) {
  EXPECT_TRUE(Holds(R"pb(field: "lead_score" range { min: 75 })pb"));
  EXPECT_TRUE(Holds(R"pb(field: "lead_score" range { min: 82 max: 82 })pb"));
  EXPECT_FALSE(Holds(R"pb(field: "lead_score" range { min: 82 exclusive_min: true })pb"));
  EXPECT_FALSE(Holds(R"pb(field: "lead_score" range { max: 82 exclusive_max: true })pb"));
  EXPECT_FALSE(Holds(R"pb(field: "title" range { min: 1 })pb"));
  EXPECT_FALSE(Holds(R"pb(field: "nope" range { min: 1 })pb"));
}

TEST(ConditionTest, TimeRangeComparesRfc3339Fields) {
  // 2026-11-26T10:00:00Z is 1795687200.
  EXPECT_TRUE(Holds(R"pb(field: "status_changed_at" range { min_time { seconds: 1795687200 } })pb"));
  EXPECT_FALSE(Holds(R"pb(field: "status_changed_at"
                          range { min_time { seconds: 1795687200 } exclusive_min: true })pb"));
  EXPECT_TRUE(Holds(R"pb(field: "status_changed_at" range { max_time { seconds: 1795687201 } })pb"));
  EXPECT_FALSE(Holds(R"pb(field: "title" range { max_time { seconds: 1795687201 } })pb"));
}

TEST(ConditionTest, PrefixMatchesStringsOnly) {
  EXPECT_TRUE(Holds(R"pb(field: "title" prefix: "VP")pb"));
  EXPECT_FALSE(Holds(R"pb(field: "title" prefix: "vp")pb"));
  EXPECT_TRUE(Holds(R"pb(field: "title" prefix: "vp" case_insensitive: true)pb"));
  EXPECT_FALSE(Holds(R"pb(field: "lead_score" prefix: "8")pb"));
}

TEST(ConditionTest, ExistsTreatsNullAsMissing) {
  EXPECT_TRUE(Holds(R"pb(field: "title" exists: true)pb"));
  EXPECT_FALSE(Holds(R"pb(field: "title" exists: false)pb"));
  EXPECT_FALSE(Holds(R"pb(field: "industry" exists: true)pb"));
  EXPECT_TRUE(Holds(R"pb(field: "industry" exists: false)pb"));
  EXPECT_TRUE(Holds(R"pb(field: "unknown_field" exists: false)pb"));
}

TEST(ConditionTest, ListFieldsMatchWhenAnyElementDoes) {
  EXPECT_TRUE(Holds(R"pb(field: "interests" equals { string_value: "api" })pb"));
  EXPECT_TRUE(Holds(R"pb(field: "interests" prefix: "pri")pb"));
  EXPECT_FALSE(Holds(R"pb(field: "interests" none_of { values { string_value: "api" } })pb"));
  EXPECT_TRUE(Holds(R"pb(field: "interests" none_of { values { string_value: "crm" } })pb"));
}

TEST(ConditionTest, UnknownFieldsMatchOnlyAbsenceTests) {
  EXPECT_FALSE(Holds(R"pb(field: "not_a_field" equals { string_value: "x" })pb"));
  EXPECT_FALSE(Holds(R"pb(field: "not_a_field" exists: true)pb"));
}

TEST(RuleTest, RecordTypeMustBeListedWhenRuleNamesTypes) {
  v1::TargetingRule rule;
  rule.add_record_types("Contact");
  EXPECT_FALSE(RuleMatches(rule, Lead()));
  rule.add_record_types("Lead");
  EXPECT_TRUE(RuleMatches(rule, Lead()));
  EXPECT_EQ(RuleSpecificity(rule), 1);
}

TEST(RuleTest, AllConditionsMustHold) {
  v1::TargetingRule rule;
  *rule.add_conditions() = Cond(R"pb(field: "lead_score" range { min: 75 })pb");
  *rule.add_conditions() = Cond(R"pb(field: "company_size" range { min: 50 exclusive_min: true })pb");
  EXPECT_TRUE(RuleMatches(rule, Lead()));
  EXPECT_EQ(RuleSpecificity(rule), 2);
  *rule.add_conditions() = Cond(R"pb(field: "title" prefix: "C")pb");
  EXPECT_FALSE(RuleMatches(rule, Lead()));
}

TEST(FieldTimeTest, ParsesRfc3339AndRejectsOthers) {
  v1::CrmContext lead = Lead();
  EXPECT_EQ(FieldTime(lead.fields(), "status_changed_at"), absl::FromUnixSeconds(1795687200));
  EXPECT_FALSE(FieldTime(lead.fields(), "title").has_value());
  EXPECT_FALSE(FieldTime(lead.fields(), "missing").has_value());
}

}  // namespace
}  // namespace sopsidebar

namespace sopsidebar {
namespace {

// ValueTime has a fast path for the canonical RFC 3339 shape; it must agree
// with absl::ParseTime(RFC3339_full) on every input, canonical or not.
TEST(ValueTimeTest, AgreesWithAbslParseTimeOnCanonicalAndMangledStrings) {
  std::mt19937_64 rng(7);
  const std::string kAlphabet = "0123456789-:.TtZz+ ";
  auto absl_time = [](const std::string& s) -> std::optional<absl::Time> {
    absl::Time t;
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, s, &t, &err)) return std::nullopt;
    return t;
  };
  std::vector<std::string> inputs = {
      "2024-02-29T23:59:59Z",      "2023-02-29T00:00:00Z",       "2024-04-31T00:00:00Z",
      "2024-12-31T23:59:60Z",      "0000-01-01T00:00:00Z",       "9999-12-31T23:59:59.999999999Z",
      "2024-01-01T00:00:00.1234567891Z", "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00+23:59",
      "2024-01-01T00:00:00-24:00", "2024-01-01T00:00:00+05:60", "2024-01-01t00:00:00z",
      " 2024-01-01T00:00:00Z",     "2024-01-01T00:00:00Z ",      "2024-1-01T00:00:00Z",
      "+2024-01-01T00:00:00Z",     "2024-01-01T24:00:00Z",       "2024-00-10T00:00:00Z",
      "2024-01-00T00:00:00Z",      "infinite-future",            "infinite-past",
      "2024-01-01T00:00:00+0100",  "2024-01-01T00:00:00",        "",
  };
  for (int i = 0; i < 20000; ++i) {
    const int64_t seconds = static_cast<int64_t>(rng() % 400000000000ULL) - 62000000000LL;
    std::string s = absl::FormatTime(absl::RFC3339_full,
                                      absl::FromUnixSeconds(seconds) +
                                          absl::Nanoseconds(rng() % 3 == 0 ? rng() % 1000000000 : 0),
                                      absl::FixedTimeZone(static_cast<int>(rng() % 2000) * 60 - 60000));
    if (rng() % 2 == 0 && !s.empty()) {
      s[rng() % s.size()] = kAlphabet[rng() % kAlphabet.size()];
    }
    inputs.push_back(s);
  }
  for (const std::string& s : inputs) {
    google::protobuf::Value v;
    v.set_string_value(s);
    EXPECT_EQ(ValueTime(v), absl_time(s)) << s;
  }
}

}  // namespace
}  // namespace sopsidebar
