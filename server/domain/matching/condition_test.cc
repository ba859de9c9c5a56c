#include "server/domain/matching/condition.h"

#include <string>

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
