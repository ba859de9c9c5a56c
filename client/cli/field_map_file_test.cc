#include "client/cli/field_map_file.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sopsidebar::cli {
namespace {

using ::testing::HasSubstr;

TEST(ParseFieldTypeTest, AcceptsAnyCaseWithOrWithoutThePrefix) {
  EXPECT_EQ(ParseFieldType("STRING").value(), v1::FIELD_TYPE_STRING);
  EXPECT_EQ(ParseFieldType("number").value(), v1::FIELD_TYPE_NUMBER);
  EXPECT_EQ(ParseFieldType("Field_Type_Bool").value(), v1::FIELD_TYPE_BOOL);
  EXPECT_EQ(ParseFieldType("string_list").value(), v1::FIELD_TYPE_STRING_LIST);
}

TEST(ParseFieldTypeTest, UnknownAndUnspecifiedListTheTypes) {
  for (const char* text : {"DATE", "UNSPECIFIED", "FIELD_TYPE_UNSPECIFIED", ""}) {
    absl::StatusOr<v1::FieldType> type = ParseFieldType(text);
    EXPECT_EQ(type.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(std::string(type.status().message()),
                HasSubstr("expected one of STRING, NUMBER, BOOL, TIMESTAMP, STRING_LIST"));
  }
}

TEST(ParseFieldMapFileTest, ReadsFieldsAndRecordTypesFromYaml) {
  absl::StatusOr<v1::FieldMap> map =
      ParseFieldMapFile("map.yaml",
                        "fields:\n"
                        "  - {crm_field: Status, field: lead_status, "
                        "type: STRING}\n"
                        "  - crm_field: MQL_Score__c\n"
                        "    field: lead_score\n"
                        "    type: field_type_number\n"
                        "record_types:\n"
                        "  - {crm_object: \"0-1\", record_type: Lead}\n");
  ASSERT_TRUE(map.ok()) << map.status();
  ASSERT_EQ(map->fields_size(), 2);
  EXPECT_EQ(map->fields(0).crm_field(), "Status");
  EXPECT_EQ(map->fields(0).field(), "lead_status");
  EXPECT_EQ(map->fields(0).type(), v1::FIELD_TYPE_STRING);
  EXPECT_EQ(map->fields(1).crm_field(), "MQL_Score__c");
  EXPECT_EQ(map->fields(1).type(), v1::FIELD_TYPE_NUMBER);
  ASSERT_EQ(map->record_types_size(), 1);
  EXPECT_EQ(map->record_types(0).crm_object(), "0-1");
  EXPECT_EQ(map->record_types(0).record_type(), "Lead");
  EXPECT_TRUE(map->name().empty());
}

TEST(ParseFieldMapFileTest, ReadsTheJsonThatFieldMapGetPrints) {
  absl::StatusOr<v1::FieldMap> map = ParseFieldMapFile("map.json",
                                                       R"({"name": "orgs/default/fieldMaps/hubspot",
          "fields": [{"crm_field": "hs_lead_status", "field": "lead_status",
                      "type": "FIELD_TYPE_STRING"}],
          "record_types": [],
          "is_default": true})");
  ASSERT_TRUE(map.ok()) << map.status();
  ASSERT_EQ(map->fields_size(), 1);
  EXPECT_EQ(map->fields(0).crm_field(), "hs_lead_status");
  EXPECT_EQ(map->fields(0).type(), v1::FIELD_TYPE_STRING);
  // Output-only keys are read but not kept.
  EXPECT_TRUE(map->name().empty());
  EXPECT_FALSE(map->is_default());
}

TEST(ParseFieldMapFileTest, ErrorsNameTheFileLineAndEntry) {
  absl::StatusOr<v1::FieldMap> map =
      ParseFieldMapFile("map.yaml",
                        "fields:\n"
                        "  - {crm_field: Status, field: lead_status, "
                        "type: STRING}\n"
                        "  - {crm_field: Amount, field: amount, "
                        "type: MONEY}\n"
                        "  - {crm_field: X, field: x}\n"
                        "  - {crm_field: Y, fieldname: y, type: BOOL}\n"
                        "record_types: Lead\n"
                        "extra: 1\n");
  EXPECT_EQ(map.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(map.status().message(),
            "map.yaml:7: extra: unknown key \"extra\"; expected one of fields, record_types, "
            "name, is_default, update_time\n"
            "map.yaml:3: fields[1].type: unknown type \"MONEY\"; expected one of STRING, NUMBER, "
            "BOOL, TIMESTAMP, STRING_LIST\n"
            "map.yaml:4: fields[2].type: is required: STRING, NUMBER, BOOL, TIMESTAMP or "
            "STRING_LIST\n"
            "map.yaml:5: fields[3].fieldname: unknown key \"fieldname\"; expected one of "
            "crm_field, field, type\n"
            "map.yaml:6: record_types: expected a list");
}

TEST(ParseFieldMapFileTest, MalformedYamlSaysWhere) {
  absl::StatusOr<v1::FieldMap> map = ParseFieldMapFile("map.yaml", "fields: [\n");
  EXPECT_EQ(map.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(map.status().message()), HasSubstr("map.yaml:"));
  EXPECT_THAT(std::string(map.status().message()), HasSubstr("YAML syntax"));

  map = ParseFieldMapFile("map.yaml", "- a\n- b\n");
  EXPECT_EQ(map.status().message(), "map.yaml:1: expected a mapping with fields and record_types");
}

}  // namespace
}  // namespace sopsidebar::cli
