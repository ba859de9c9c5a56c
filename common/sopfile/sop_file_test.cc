#include "common/sopfile/sop_file.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

using ::google::protobuf::Value;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

constexpr char kMqlHandoff[] = R"(title: MQL Acceptance & Handoff
owner: Sales Operations Manager
review_cycle: QUARTERLY
anchor_field: status_changed_at
targeting_rules:
  - record_types: [Lead]
    priority: 100
    conditions:
      - field: lead_status
        equals: "MQL – New Handoff"
      - field: lead_score
        range: {min: 75}
steps:
  - ordinal: 1
    title: Open the lead
    responsible_role: SDR
    time_limit: {duration: 300s, anchor_event: MQL assigned}
  - ordinal: 2
    title: Call
)";

// A valid SOP whose first rule's only condition is `condition_yaml` (one
// line, indented for the list item).
std::string WithCondition(const std::string& condition_yaml) {
  return absl::StrCat(
      "title: T\n"
      "owner: O\n"
      "targeting_rules:\n"
      "  - conditions:\n"
      "      - field: lead_score\n"
      "        ",
      condition_yaml, "\n");
}

TEST(ParseSopFileTest, ParsesYamlInTheProtoJsonMapping) {
  absl::StatusOr<v1::Sop> sop = ParseSopFile("mql.yaml", kMqlHandoff);
  ASSERT_TRUE(sop.ok()) << sop.status();
  EXPECT_EQ(sop->title(), "MQL Acceptance & Handoff");
  EXPECT_EQ(sop->review_cycle(), v1::QUARTERLY);
  ASSERT_EQ(sop->targeting_rules_size(), 1);
  const v1::TargetingRule& rule = sop->targeting_rules(0);
  EXPECT_THAT(rule.record_types(), ElementsAre("Lead"));
  EXPECT_EQ(rule.priority(), 100);
  EXPECT_EQ(rule.conditions(0).equals().string_value(), "MQL – New Handoff");
  EXPECT_EQ(rule.conditions(1).range().min(), 75);
  ASSERT_EQ(sop->steps_size(), 2);
  EXPECT_EQ(sop->steps(0).responsible_role(), v1::SDR);
  EXPECT_EQ(sop->steps(0).time_limit().duration().seconds(), 300);
  EXPECT_EQ(sop->steps(0).time_limit().anchor_event(), "MQL assigned");
}

TEST(ParseSopFileTest, OwnerUserIdIsReadFromYamlAndJsonAndItsLengthChecked) {
  absl::StatusOr<v1::Sop> yaml = ParseSopFile(
      "s.yaml", "title: T\nowner: Deal Desk Manager\nowner_user_id: dana/ops@acme.com\n");
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  EXPECT_EQ(yaml->owner(), "Deal Desk Manager");
  EXPECT_EQ(yaml->owner_user_id(), "dana/ops@acme.com");
  absl::StatusOr<v1::Sop> json =
      ParseSopFile("s.json", R"({"title": "T", "owner": "O", "ownerUserId": "dana@acme.com"})");
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(json->owner_user_id(), "dana@acme.com");
  EXPECT_EQ(
      ParseSopFile("s.yaml",
                   absl::StrCat("title: T\nowner: O\nowner_user_id: ", std::string(257, 'u'), "\n"))
          .status(),
      absl::InvalidArgumentError(
          "s.yaml:3: owner_user_id: longer than the limit of 256 characters"));
}

TEST(ParseSopFileTest, QuotedNumberStaysString) {
  absl::StatusOr<v1::Sop> sop = ParseSopFile("s.yaml", WithCondition("equals: \"75\""));
  ASSERT_TRUE(sop.ok()) << sop.status();
  const Value& equals = sop->targeting_rules(0).conditions(0).equals();
  ASSERT_EQ(equals.kind_case(), Value::kStringValue);
  EXPECT_EQ(equals.string_value(), "75");
}

TEST(ParseSopFileTest, PlainNumberBecomesNumber) {
  absl::StatusOr<v1::Sop> sop = ParseSopFile("s.yaml", WithCondition("equals: 75"));
  ASSERT_TRUE(sop.ok()) << sop.status();
  const Value& equals = sop->targeting_rules(0).conditions(0).equals();
  ASSERT_EQ(equals.kind_case(), Value::kNumberValue);
  EXPECT_EQ(equals.number_value(), 75);
}

TEST(ParseSopFileTest, PlainScalarsInListsAreTypedOneByOne) {
  absl::StatusOr<v1::Sop> sop =
      ParseSopFile("s.yaml", WithCondition("any_of: [1, \"2\", true, 007, x]"));
  ASSERT_TRUE(sop.ok()) << sop.status();
  const auto& values = sop->targeting_rules(0).conditions(0).any_of().values();
  ASSERT_EQ(values.size(), 5);
  EXPECT_EQ(values[0].number_value(), 1);
  EXPECT_EQ(values[1].string_value(), "2");
  EXPECT_TRUE(values[2].bool_value());
  EXPECT_EQ(values[3].string_value(), "007");
  EXPECT_EQ(values[4].string_value(), "x");
}

TEST(ParseSopFileTest, NumberLikeTextInStringFieldStaysText) {
  absl::StatusOr<v1::Sop> sop = ParseSopFile("s.yaml", "title: 2024\nowner: true\n");
  ASSERT_TRUE(sop.ok()) << sop.status();
  EXPECT_EQ(sop->title(), "2024");
  EXPECT_EQ(sop->owner(), "true");
}

TEST(ParseSopFileTest, QuotedNumberFillsNumberField) {
  absl::StatusOr<v1::Sop> sop =
      ParseSopFile("s.yaml", "title: T\nowner: O\nsteps:\n  - ordinal: \"3\"\n    title: S\n");
  ASSERT_TRUE(sop.ok()) << sop.status();
  EXPECT_EQ(sop->steps(0).ordinal(), 3);
}

TEST(ParseSopFileTest, ReportsLineOfDuplicateOrdinal) {
  absl::StatusOr<v1::Sop> sop = ParseSopFile(
      "dup.yaml",
      "title: T\nowner: O\nsteps:\n  - ordinal: 1\n    title: A\n  - title: B\n    ordinal: 1\n");
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sop.status().message(), "dup.yaml:7: steps[1].ordinal: duplicate ordinal 1");
}

TEST(ParseSopFileTest, MissingFieldReportsLineOfEnclosingItem) {
  absl::StatusOr<v1::Sop> sop =
      ParseSopFile("s.yaml",
                   "title: T\nowner: O\nsteps:\n  - ordinal: 1\n    title: A\n"
                   "  - ordinal: 2\n    instructions: x\n");
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sop.status().message(), "s.yaml:6: steps[1].title: is required");
}

TEST(ParseSopFileTest, MissingTopLevelFieldReportsFirstLine) {
  absl::StatusOr<v1::Sop> sop = ParseSopFile("s.yaml", "\n\nowner: O\n");
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sop.status().message(), "s.yaml:3: title: is required");
}

TEST(ParseSopFileTest, UnknownFieldIsRejectedWithItsName) {
  absl::StatusOr<v1::Sop> sop =
      ParseSopFile("s.yaml", "title: T\nowner: O\nsteps:\n  - ordinal: 1\n    titel: A\n");
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sop.status().message(),
            "s.yaml:4: steps[0].title: is required\n"
            "s.yaml:5: steps[0].titel: unknown field \"titel\" in Step; expected one of ordinal, "
            "title, instructions, responsible_role, time_limit, required_updates, asset_ids, "
            "conditions");
}

TEST(ParseSopFileTest, HugeUnknownKeyIsQuotedShortInPathAndMessage) {
  const std::string key(1000, 'k');  // YAML keys stop at 1024 characters
  absl::StatusOr<v1::Sop> sop = ParseSopFile(
      "s.yaml", absl::StrCat("title: T\nowner: O\nsteps:\n  - title: A\n    ", key, "!: A\n"));
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string quoted = absl::StrCat("\"", std::string(64, 'k'), "\"… (1001 bytes)");
  EXPECT_EQ(sop.status().message(),
            absl::StrCat("s.yaml:4: steps[0].ordinal: must be positive\ns.yaml:5: steps[0][",
                         quoted, "]: unknown field ", quoted, " in Step; expected one of ordinal, ",
                         "title, instructions, responsible_role, time_limit, required_updates, ",
                         "asset_ids, conditions"));
}

TEST(ParseSopFileTest, UnknownEnumValueIsRejected) {
  absl::StatusOr<v1::Sop> sop =
      ParseSopFile("s.yaml", "title: T\nowner: O\nreview_cycle: QUARTERY\n");
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sop.status().message(),
            "s.yaml:3: review_cycle: unknown value \"QUARTERY\" for ReviewCycle; expected one "
            "of MONTHLY, QUARTERLY, SEMI_ANNUAL, ANNUAL");
}

TEST(ParseSopFileTest, UnknownRoleInListNamesTheItem) {
  absl::StatusOr<v1::Sop> sop =
      ParseSopFile("s.yaml", "title: T\nowner: O\nvisibility_roles:\n  - SDR\n  - CEO\n");
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(sop.status().message()),
              StartsWith("s.yaml:5: visibility_roles[1]: unknown value \"CEO\""));
}

TEST(ParseSopFileTest, JavascriptAssetUriIsRejectedAtItsLine) {
  absl::StatusOr<v1::Sop> sop = ParseSopFile(
      "s.yaml",
      "title: T\nowner: O\nassets:\n  - id: a\n    title: A\n    uri: javascript:alert(1)\n");
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sop.status().message(),
            "s.yaml:6: assets[0].uri: scheme \"javascript\" is not allowed; use https:, http: or "
            "mailto:");
}

TEST(ParseSopFileTest, EscapeCharacterInTitleIsRejectedAtItsLine) {
  absl::StatusOr<v1::Sop> sop = ParseSopFile("s.yaml", "owner: O\ntitle: \"Open\\e[31m\"\n");
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sop.status().message(),
            "s.yaml:2: title: control character U+001B at position 4 is not allowed");
}

TEST(ParseSopFileTest, MarkdownBlockKeepsItsLineBreaks) {
  absl::StatusOr<v1::Sop> sop =
      ParseSopFile("s.yaml", "title: T\nowner: O\npurpose: |\n  Why:\n  - one\n  - two\n");
  ASSERT_TRUE(sop.ok()) << sop.status();
  EXPECT_EQ(sop->purpose(), "Why:\n- one\n- two\n");
}

TEST(ParseSopFileTest, FieldSetTwiceIsRejected) {
  absl::StatusOr<v1::Sop> sop = ParseSopFile("s.yaml", "title: T\nowner: O\ntitle: U\n");
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sop.status().message(), "s.yaml:3: title: field is set twice");
}

TEST(ParseSopFileTest, NonNumberInNumberFieldReportsPathAndLine) {
  absl::StatusOr<v1::Sop> sop =
      ParseSopFile("s.yaml", "title: T\nowner: O\nsteps:\n  - title: A\n    ordinal: first\n");
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(sop.status().message()), StartsWith("s.yaml:5: steps[0].ordinal: "));
  EXPECT_THAT(std::string(sop.status().message()), HasSubstr("\"first\""));
}

TEST(ParseSopFileTest, EveryMistakeOfAFileIsReportedWithItsLine) {
  absl::StatusOr<v1::Sop> sop = ParseSopFile("s.yaml",
                                             "title: T\n"
                                             "targeting_rules:\n"
                                             "  - record_types: [Lead]\n"
                                             "    priority: 5000\n"
                                             "visibility_roles: [SDR, CEO]\n");
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sop.status().message(),
            "s.yaml:1: owner: is required\n"
            "s.yaml:4: targeting_rules[0].priority: must be between 0 and 1000\n"
            "s.yaml:5: visibility_roles[1]: unknown value \"CEO\" for Role; expected one of SDR, "
            "AE, SALES_MANAGER, SALES_OPS, MARKETING, VP_SALES, MARKETING_DIRECTOR, ADMIN");
}

TEST(ParseSopFileTest, RejectedValueIsNotReportedAgainAsMissing) {
  absl::StatusOr<v1::Sop> sop = ParseSopFile(
      "s.yaml", "title: T\nowner: O\ncadence:\n  - day: 1\n    channel: FAX\n    action: A\n");
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sop.status().message(),
            "s.yaml:5: cadence[0].channel: unknown value \"FAX\" for Channel; expected one of "
            "CALL, EMAIL, LINKEDIN, SMS, VIDEO, OTHER_CHANNEL");
}

// A valid SOP whose one step's time limit is `duration`.
std::string WithDuration(const std::string& duration) {
  return absl::StrCat("title: T\nowner: O\nsteps:\n  - ordinal: 1\n    title: A\n",
                      "    time_limit: {duration: ", duration, "}\n");
}

TEST(ParseSopFileTest, DurationsTakeSecondsMinutesHoursDaysAndCombinations) {
  const std::pair<const char*, int64_t> cases[] = {
      {"90s", 90},     {"5m", 300},         {"2h", 7200},      {"2d", 172800},
      {"1h30m", 5400}, {"\"1d2h\"", 93600}, {"\"300s\"", 300}, {"1.5s", 1},
  };
  for (const auto& [text, seconds] : cases) {
    absl::StatusOr<v1::Sop> sop = ParseSopFile("s.yaml", WithDuration(text));
    ASSERT_TRUE(sop.ok()) << text << ": " << sop.status();
    EXPECT_EQ(sop->steps(0).time_limit().duration().seconds(), seconds) << text;
  }
  absl::StatusOr<v1::Sop> fraction = ParseSopFile("s.yaml", WithDuration("1.5s"));
  ASSERT_TRUE(fraction.ok()) << fraction.status();
  EXPECT_EQ(fraction->steps(0).time_limit().duration().nanos(), 500000000);
}

TEST(ParseSopFileTest, MalformedDurationSaysWhatADurationLooksLike) {
  absl::StatusOr<v1::Sop> sop = ParseSopFile("s.yaml", WithDuration("1 hour"));
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sop.status().message(),
            "s.yaml:6: steps[0].time_limit.duration: \"1 hour\" is not a duration; write a "
            "number and a unit (s, m, h, d), e.g. 90s, 5m, 2h, 2d or 1h30m");
}

TEST(ParseSopFileTest, TwoOperatorsInOneConditionNameBothAndTheChoice) {
  absl::StatusOr<v1::Sop> sop =
      ParseSopFile("s.yaml", WithCondition("equals: 1\n        prefix: x"));
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sop.status().message(),
            "s.yaml:7: targeting_rules[0].conditions[0].prefix: cannot be set together with "
            "equals; a Condition takes one of equals, any_of, none_of, range, prefix, exists");
}

TEST(ParseSopFileTest, TextInNumberFieldSaysANumberIsExpected) {
  absl::StatusOr<v1::Sop> sop = ParseSopFile("s.yaml", WithCondition("range: {min: \"high\"}"));
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sop.status().message(),
            "s.yaml:6: targeting_rules[0].conditions[0].range.min: \"high\" is not a number");
}

TEST(ParseSopFileTest, FractionInWholeNumberFieldSaysAWholeNumberIsExpected) {
  absl::StatusOr<v1::Sop> sop =
      ParseSopFile("s.yaml", "title: T\nowner: O\nsteps:\n  - ordinal: 1.5\n    title: A\n");
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sop.status().message(), "s.yaml:4: steps[0].ordinal: \"1.5\" is not a whole number");
}

TEST(ParseSopFileTest, TextInBoolFieldSaysTrueOrFalseIsExpected) {
  absl::StatusOr<v1::Sop> sop = ParseSopFile("s.yaml", WithCondition("exists: yes"));
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sop.status().message(),
            "s.yaml:6: targeting_rules[0].conditions[0].exists: \"yes\" is not true or false");
}

TEST(ParseSopFileTest, MalformedTimeSaysWhatATimeLooksLike) {
  absl::StatusOr<v1::Sop> sop =
      ParseSopFile("s.yaml", WithCondition("range: {min_time: \"2025-01-01\"}"));
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sop.status().message(),
            "s.yaml:6: targeting_rules[0].conditions[0].range.min_time: \"2025-01-01\" is not an "
            "RFC 3339 time such as \"2025-01-01T00:00:00Z\"");
}

TEST(ParseSopFileTest, UnknownOperatorListsTheFieldsAllowedThere) {
  absl::StatusOr<v1::Sop> sop = ParseSopFile("s.yaml", WithCondition("contains: VP"));
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sop.status().message(),
            "s.yaml:6: targeting_rules[0].conditions[0].contains: unknown field \"contains\" in "
            "Condition; expected one of field, equals, any_of, none_of, range, prefix, exists, "
            "case_insensitive");
}

TEST(ParseSopFileTest, UnquotedColonInValueGivesColumnAndLikelyCause) {
  absl::StatusOr<v1::Sop> sop =
      ParseSopFile("s.yaml", "title: Rejected: Return to Marketing\nowner: O\n");
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sop.status().message(),
            "s.yaml:1:16: YAML syntax: illegal map value; a value that contains \": \" must be "
            "quoted, e.g. title: \"Rejected: Return to Marketing\"");
}

TEST(ParseSopFileTest, ListWhereValueExpectedIsRejected) {
  absl::StatusOr<v1::Sop> sop = ParseSopFile("s.yaml", "title: [a, b]\nowner: O\n");
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(sop.status().message()),
              StartsWith("s.yaml:1: title: expected a single value"));
}

TEST(ParseSopFileTest, MalformedYamlReportsLine) {
  absl::StatusOr<v1::Sop> sop = ParseSopFile("s.yaml", "title: T\nsteps: [1, 2\nowner: O\n");
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(sop.status().message()), StartsWith("s.yaml:"));
  EXPECT_THAT(std::string(sop.status().message()), HasSubstr("flow"));
}

TEST(ParseSopFileTest, EmptyFileIsRejected) {
  absl::StatusOr<v1::Sop> sop = ParseSopFile("s.yaml", "# nothing yet\n");
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sop.status().message(), "s.yaml: the file holds no SOP");
}

TEST(ParseSopFileTest, SecondDocumentIsRejected) {
  absl::StatusOr<v1::Sop> sop = ParseSopFile("s.yaml", "title: T\nowner: O\n---\ntitle: U\n");
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sop.status().message(), "s.yaml:4: one SOP per file; found a second document");
}

// yaml-cpp 0.7's YAML::LoadAll never returns on these (jbeder/yaml-cpp#1040);
// the first is the shape of a JSON SOP file with a stray comma after it.
TEST(ParseSopFileTest, StrayCommaAfterTheDocumentIsASyntaxErrorNotAHang) {
  absl::StatusOr<v1::Sop> sop = ParseSopFile("s.json", "{\"title\": \"T\", \"owner\": \"O\"},\n");
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      sop.status().message(),
      "s.json:1:29: YAML syntax: unexpected \",\" outside a flow list [...] or mapping {...}");
}

TEST(ParseSopFileTest, StrayCommaAloneIsASyntaxErrorNotAHang) {
  absl::StatusOr<v1::Sop> sop = ParseSopFile("s.yaml", "# a comment\n,\n");
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sop.status().message(),
            "s.yaml:2:1: YAML syntax: unexpected \",\" outside a flow list [...] or mapping {...}");
}

TEST(ParseSopFileTest, SecondEmptyDocumentIsRejected) {
  absl::StatusOr<v1::Sop> sop = ParseSopFile("s.yaml", "title: T\nowner: O\n---\n");
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(sop.status().message()),
              HasSubstr("one SOP per file; found a second document"));
}

TEST(ParseSopFileTest, TopLevelListIsRejected) {
  absl::StatusOr<v1::Sop> sop = ParseSopFile("s.yaml", "- title: T\n");
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sop.status().message(), "s.yaml:1: expected a mapping of SOP fields");
}

TEST(ParseSopFileTest, MalformedNameIsRejectedWithItsLine) {
  absl::StatusOr<v1::Sop> sop = ParseSopFile("s.yaml", "title: T\nowner: O\nname: sops/x\n");
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(sop.status().message()), StartsWith("s.yaml:3: name: "));
}

TEST(ParseSopFileTest, JsonParsesTheSameAsYaml) {
  constexpr char kJson[] = R"({
  "title": "MQL Acceptance & Handoff",
  "owner": "Sales Operations Manager",
  "review_cycle": "QUARTERLY",
  "anchor_field": "status_changed_at",
  "targeting_rules": [{
    "record_types": ["Lead"],
    "priority": 100,
    "conditions": [
      {"field": "lead_status", "equals": "MQL \u2013 New Handoff"},
      {"field": "lead_score", "range": {"min": 75}}
    ]
  }],
  "steps": [
    {"ordinal": 1, "title": "Open the lead", "responsible_role": "SDR",
     "time_limit": {"duration": "300s", "anchor_event": "MQL assigned"}},
    {"ordinal": 2, "title": "Call"}
  ]
})";
  absl::StatusOr<v1::Sop> from_json = ParseSopFile("mql.json", kJson);
  absl::StatusOr<v1::Sop> from_yaml = ParseSopFile("mql.yaml", kMqlHandoff);
  ASSERT_TRUE(from_json.ok()) << from_json.status();
  ASSERT_TRUE(from_yaml.ok()) << from_yaml.status();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*from_json, *from_yaml))
      << from_json->DebugString();
}

// `sopctl get NAME -o json > x.json && sopctl apply -f x.json` relies on it.
TEST(ParseSopFileTest, ReadsBackProtoJsonOutputWithOutputOnlyFields) {
  absl::StatusOr<v1::Sop> sop = ParseSopFile("mql.yaml", kMqlHandoff);
  ASSERT_TRUE(sop.ok()) << sop.status();
  sop->set_name("orgs/default/sops/mql-handoff");
  sop->set_state(v1::Sop::PUBLISHED);
  sop->set_etag("\"abc\"");
  sop->mutable_update_time()->set_seconds(1714550400);
  sop->mutable_targeting_rules(0)->mutable_conditions(0)->mutable_equals()->set_number_value(82.5);
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.add_whitespace = true;
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(*sop, &json, options).ok());

  absl::StatusOr<v1::Sop> read_back = ParseSopFile("x.json", json);
  ASSERT_TRUE(read_back.ok()) << read_back.status() << "\n" << json;
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*read_back, *sop))
      << read_back->DebugString();
}

TEST(InferScalarValueTest, TypesByJsonGrammar) {
  EXPECT_EQ(InferScalarValue("82").number_value(), 82);
  EXPECT_EQ(InferScalarValue("-1.5e3").number_value(), -1500);
  EXPECT_EQ(InferScalarValue("0.25").number_value(), 0.25);
  EXPECT_TRUE(InferScalarValue("true").bool_value());
  EXPECT_EQ(InferScalarValue("false").kind_case(), Value::kBoolValue);
  EXPECT_EQ(InferScalarValue("null").kind_case(), Value::kNullValue);
}

TEST(InferScalarValueTest, KeepsTextThatOnlyResemblesNumbersAsString) {
  for (const char* text : {"02134", "+15551234", "1.", ".5", "0x1F", "inf", "True", "", "82 "}) {
    const Value v = InferScalarValue(text);
    EXPECT_EQ(v.kind_case(), Value::kStringValue) << text;
    EXPECT_EQ(v.string_value(), text);
  }
}

class LoadSopFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::path(::testing::TempDir()) /
        absl::StrCat("sop_files_", ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& contents) {
    const std::filesystem::path p = dir_ / name;
    std::ofstream(p) << contents;
    return p.string();
  }

  std::filesystem::path dir_;
};

constexpr char kMinimal[] = "title: T\nowner: O\n";

TEST_F(LoadSopFilesTest, LoadsSopFilesOfADirectorySortedByName) {
  Write("b.yml", kMinimal);
  Write("MQL Handoff (v2).yaml", kMinimal);
  Write("a.json", R"({"title": "T", "owner": "O"})");
  Write("notes.txt", "not an SOP");
  Write(".draft.yaml", "not: parsed");
  std::filesystem::create_directory(dir_ / "sub.yaml");

  absl::StatusOr<std::vector<SopFile>> files = LoadSopFiles(dir_.string());
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_THAT(*files, ElementsAre(Field(&SopFile::sop_id, "mql-handoff-v2"),
                                  Field(&SopFile::sop_id, "a"), Field(&SopFile::sop_id, "b")));
  EXPECT_EQ((*files)[1].path, (dir_ / "a.json").string());
  EXPECT_EQ((*files)[1].sop.title(), "T");
}

TEST_F(LoadSopFilesTest, NameInTheFileGivesTheId) {
  const std::string path =
      Write("whatever.yaml", "name: orgs/acme/sops/mql-handoff\ntitle: T\nowner: O\n");
  absl::StatusOr<std::vector<SopFile>> files = LoadSopFiles(path);
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].sop_id, "mql-handoff");
  EXPECT_EQ((*files)[0].sop.name(), "orgs/acme/sops/mql-handoff");
  EXPECT_EQ((*files)[0].path, path);
}

TEST_F(LoadSopFilesTest, SingleFileMayHaveAnyExtension) {
  absl::StatusOr<std::vector<SopFile>> files = LoadSopFiles(Write("handoff.sop", kMinimal));
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_THAT(*files, ElementsAre(Field(&SopFile::sop_id, "handoff")));
}

TEST_F(LoadSopFilesTest, EmptyDirectoryGivesNoFiles) {
  absl::StatusOr<std::vector<SopFile>> files = LoadSopFiles(dir_.string());
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_THAT(*files, IsEmpty());
}

TEST_F(LoadSopFilesTest, MissingPathIsNotFound) {
  const std::string missing = (dir_ / "missing.yaml").string();
  absl::StatusOr<std::vector<SopFile>> files = LoadSopFiles(missing);
  EXPECT_EQ(files.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(files.status().message()), HasSubstr(missing));
}

TEST_F(LoadSopFilesTest, OneBadFileFailsTheWholeLoad) {
  Write("a.yaml", kMinimal);
  const std::string bad = Write("b.yaml", "title: T\n");
  Write("c.yaml", kMinimal);
  absl::StatusOr<std::vector<SopFile>> files = LoadSopFiles(dir_.string());
  EXPECT_EQ(files.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(files.status().message(), absl::StrCat(bad, ":1: owner: is required"));
}

TEST_F(LoadSopFilesTest, EveryBadFileOfADirectoryIsReported) {
  const std::string first = Write("a.yaml", "title: T\n");
  Write("b.yaml", kMinimal);
  const std::string second = Write("c.yaml", "owner: O\nreview_cycle: WEEKLY\n");
  absl::StatusOr<std::vector<SopFile>> files = LoadSopFiles(dir_.string());
  EXPECT_EQ(files.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      files.status().message(),
      absl::StrCat(first, ":1: owner: is required\n", second, ":1: title: is required\n", second,
                   ":2: review_cycle: unknown value \"WEEKLY\" for ReviewCycle; expected one "
                   "of MONTHLY, QUARTERLY, SEMI_ANNUAL, ANNUAL"));
}

TEST_F(LoadSopFilesTest, OutputOnlyKeysGiveWarningsWithTheirLines) {
  const std::string path = Write(
      "s.yaml", "title: T\nstate: PUBLISHED\nowner: O\nupdate_time: \"2025-01-01T00:00:00Z\"\n");
  absl::StatusOr<std::vector<SopFile>> files = LoadSopFiles(path);
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_EQ(files->size(), 1u);
  EXPECT_THAT((*files)[0].warnings,
              ElementsAre(absl::StrCat(path,
                                       ":2: warning: state: is output-only and ignored; the "
                                       "server sets it (apply --publish publishes)"),
                          absl::StrCat(path,
                                       ":4: warning: update_time: is output-only and ignored; "
                                       "the server sets it")));
}

TEST_F(LoadSopFilesTest, ExportWithAnEtagGivesNoWarning) {
  const std::string path =
      Write("s.yaml", "name: orgs/default/sops/s\netag: \"3\"\nstate: DRAFT\ntitle: T\nowner: O\n");
  absl::StatusOr<std::vector<SopFile>> files = LoadSopFiles(path);
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_EQ(files->size(), 1u);
  EXPECT_THAT((*files)[0].warnings, IsEmpty());
}

TEST_F(LoadSopFilesTest, TwoFilesWithTheSameIdAreRejected) {
  const std::string first =
      Write("a.yaml", "name: orgs/default/sops/handoff\ntitle: T\nowner: O\n");
  const std::string second = Write("handoff.yaml", kMinimal);
  absl::StatusOr<std::vector<SopFile>> files = LoadSopFiles(dir_.string());
  EXPECT_EQ(files.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(files.status().message(),
            absl::StrCat(second, ": SOP id \"handoff\" is also defined by ", first));
}

TEST_F(LoadSopFilesTest, FileNameThatGivesNoValidIdIsRejected) {
  const std::string path = Write("2024.yaml", kMinimal);
  absl::StatusOr<std::vector<SopFile>> files = LoadSopFiles(path);
  EXPECT_EQ(files.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(files.status().message()),
              StartsWith(absl::StrCat(path, ": the file name gives")));
}

TEST(CheckSopFileTest, GivesEveryProblemWithItsLineAndColumn) {
  const SopFileCheck check = CheckSopFile(
      "title: T\n"
      "owner: O\n"
      "steps:\n"
      "  - ordinal: 1\n"
      "    title: \"\"\n"
      "  - ordinal: x\n"
      "    title: Call\n");
  ASSERT_EQ(check.problems.size(), 2);
  EXPECT_EQ(check.problems[0].field, "steps[0].title");
  EXPECT_EQ(check.problems[0].line, 5);
  EXPECT_EQ(check.problems[0].column, 5);
  EXPECT_EQ(check.problems[1].field, "steps[1].ordinal");
  EXPECT_THAT(check.problems[1].description, HasSubstr("is not a number"));
  EXPECT_EQ(check.problems[1].line, 6);
  EXPECT_EQ(check.problems[1].column, 14);
}

TEST(CheckSopFileTest, GivesASyntaxErrorItsLineAndColumn) {
  const SopFileCheck check = CheckSopFile("title: T\nowner: a: b\n");
  ASSERT_EQ(check.problems.size(), 1);
  EXPECT_EQ(check.problems[0].field, "");
  EXPECT_THAT(check.problems[0].description, StartsWith("YAML syntax: "));
  EXPECT_EQ(check.problems[0].line, 2);
  EXPECT_GT(check.problems[0].column, 0);
  // ParseSopFile words it the same, at the same place.
  EXPECT_THAT(std::string(ParseSopFile("f.yaml", "title: T\nowner: a: b\n").status().message()),
              StartsWith(std::string(
                  absl::StrCat("f.yaml:2:", check.problems[0].column, ": YAML syntax: "))));
}

TEST(CheckSopFileTest, AValidFileHasNoProblems) {
  const SopFileCheck check = CheckSopFile(kMqlHandoff);
  EXPECT_THAT(check.problems, IsEmpty());
  EXPECT_EQ(check.sop.title(), "MQL Acceptance & Handoff");
}

}  // namespace
}  // namespace sopsidebar
