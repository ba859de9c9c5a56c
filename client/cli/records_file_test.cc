#include "client/cli/records_file.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sopsidebar::cli {
namespace {

using ::testing::HasSubstr;

// The Salesforce fields these tests use, typed as sopd's default map types
// them.
v1::FieldMap SalesforceMap() {
  v1::FieldMap map;
  auto add = [&](const char* crm_field, const char* field, v1::FieldType type) {
    v1::FieldMapEntry* e = map.add_fields();
    e->set_crm_field(crm_field);
    e->set_field(field);
    e->set_type(type);
  };
  add("Status", "lead_status", v1::FIELD_TYPE_STRING);
  add("LeadSource", "lead_source", v1::FIELD_TYPE_STRING);
  add("NumberOfEmployees", "company_size", v1::FIELD_TYPE_NUMBER);
  add("MQL_Score__c", "lead_score", v1::FIELD_TYPE_NUMBER);
  add("CreatedDate", "created_at", v1::FIELD_TYPE_TIMESTAMP);
  add("HasOptedOutOfEmail", "opted_out", v1::FIELD_TYPE_BOOL);
  add("Interests__c", "interests", v1::FIELD_TYPE_STRING_LIST);
  return map;
}

class RecordsFileTest : public ::testing::Test {
 protected:
  absl::StatusOr<std::vector<v1::CrmContext>> Salesforce(const std::string& path,
                                                         const std::string& text) {
    return ParseRecordsFile(path, text, {"salesforce", &map_});
  }
  const v1::FieldMap map_ = SalesforceMap();
};

TEST_F(RecordsFileTest, ReadsCsvTypedByTheFieldMap) {
  auto records = Salesforce("leads.csv",
                            "Id,Status,NumberOfEmployees,HasOptedOutOfEmail,CreatedDate,"
                            "Interests__c\r\n"
                            "00Q1,Working - Contacted,120,TRUE,2024-05-01T08:00:00Z,a; b\r\n"
                            "00Q2,Nurturing,,false,1714550400000,\r\n");
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 2u);
  const v1::CrmContext& first = (*records)[0];
  EXPECT_EQ(first.crm(), "salesforce");
  EXPECT_EQ(first.record_type(), "Lead");
  EXPECT_EQ(first.record_id(), "00Q1");
  EXPECT_EQ(first.fields().at("Status").string_value(), "Working - Contacted");
  EXPECT_EQ(first.fields().at("NumberOfEmployees").number_value(), 120);
  EXPECT_TRUE(first.fields().at("HasOptedOutOfEmail").bool_value());
  EXPECT_EQ(first.fields().at("CreatedDate").string_value(), "2024-05-01T08:00:00Z");
  ASSERT_EQ(first.fields().at("Interests__c").list_value().values_size(), 2);
  EXPECT_EQ(first.fields().at("Interests__c").list_value().values(1).string_value(), "b");
  const v1::CrmContext& second = (*records)[1];
  // An empty cell leaves the field out.
  EXPECT_FALSE(second.fields().contains("NumberOfEmployees"));
  EXPECT_FALSE(second.fields().contains("Interests__c"));
  EXPECT_FALSE(second.fields().at("HasOptedOutOfEmail").bool_value());
  EXPECT_EQ(second.fields().at("CreatedDate").number_value(), 1714550400000.0);
}

TEST_F(RecordsFileTest, QuotedCsvFieldsHoldCommasQuotesAndLineBreaks) {
  auto records = Salesforce("leads.csv",
                            "Id,Status,LeadSource\n"
                            "a,\"Open, \"\"Not\"\" Contacted\",Web\n"
                            "b,\"two\nlines\",\"\"\n"
                            "\n"
                            "c,Nurturing,Phone Inquiry");
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 3u);
  EXPECT_EQ((*records)[0].fields().at("Status").string_value(), "Open, \"Not\" Contacted");
  EXPECT_EQ((*records)[1].fields().at("Status").string_value(), "two\nlines");
  EXPECT_FALSE((*records)[1].fields().contains("LeadSource"));
  EXPECT_EQ((*records)[2].fields().at("LeadSource").string_value(), "Phone Inquiry");
}

TEST_F(RecordsFileTest, AnUnknownColumnIsNamedWithItsLineAndColumn) {
  auto records = Salesforce("leads.csv", "Id,Status,Foo\n1,Nurturing,x\n");
  EXPECT_EQ(records.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(records.status().message(),
            "leads.csv:1:3: unknown column \"Foo\" (not in the salesforce field map)");
}

TEST_F(RecordsFileTest, ABadValueIsNamedWithItsLineColumnAndField) {
  auto records = Salesforce("leads.csv", "Id,NumberOfEmployees\n1,10\n2,\"multi\nline\"\n3,abc\n");
  EXPECT_EQ(records.status().message(),
            "leads.csv:3:2: NumberOfEmployees: \"multi\nline\" is not a number");
  records = Salesforce("leads.csv", "Id,NumberOfEmployees\n1,10\n3,abc\n");
  EXPECT_EQ(records.status().message(),
            "leads.csv:3:2: NumberOfEmployees: \"abc\" is not a number");
  records = Salesforce("leads.csv", "HasOptedOutOfEmail\nyes\n");
  EXPECT_EQ(records.status().message(),
            "leads.csv:2:1: HasOptedOutOfEmail: \"yes\" is not true or false");
  records = Salesforce("leads.csv", "CreatedDate\nyesterday\n");
  EXPECT_THAT(records.status().message(), HasSubstr("leads.csv:2:1: CreatedDate: \"yesterday\" "
                                                    "is not an RFC 3339 time"));
}

TEST_F(RecordsFileTest, MalformedCsvSaysWhere) {
  EXPECT_EQ(Salesforce("l.csv", "Id,Status\n1,Nurturing,extra\n").status().message(),
            "l.csv:2: 3 fields, but the header has 2");
  EXPECT_THAT(Salesforce("l.csv", "Id,Status\n1,\"open\n").status().message(),
              HasSubstr("l.csv:2:2: quoted field is not closed"));
  EXPECT_THAT(Salesforce("l.csv", "Id,Status\n1,ab\"c\n").status().message(),
              HasSubstr("l.csv:2:2: '\"' inside an unquoted field"));
  EXPECT_THAT(Salesforce("l.csv", "Id,Status,Status\n").status().message(),
              HasSubstr("l.csv:1:3: column \"Status\" repeats column 2"));
}

TEST_F(RecordsFileTest, EmptyFilesAndFilesWithoutRecordsAreRefused) {
  EXPECT_THAT(Salesforce("l.csv", "").status().message(), HasSubstr("l.csv: empty file"));
  EXPECT_THAT(Salesforce("l.csv", "Id,Status\r\n").status().message(),
              HasSubstr("l.csv: no records after the header row"));
  EXPECT_THAT(Salesforce("l.jsonl", "").status().message(), HasSubstr("l.jsonl: empty file"));
  EXPECT_THAT(Salesforce("l.jsonl", "\n\n").status().message(), HasSubstr("l.jsonl: no records"));
}

TEST_F(RecordsFileTest, MoreThanTenThousandRecordsAreRefusedAtTheFirstOneTooMany) {
  std::string csv = "Id\n";
  for (int i = 0; i < kMaxRecords; ++i) absl::StrAppend(&csv, i, "\n");
  ASSERT_EQ(Salesforce("l.csv", csv)->size(), static_cast<size_t>(kMaxRecords));
  absl::StrAppend(&csv, "one-more\n");
  EXPECT_EQ(Salesforce("l.csv", csv).status().message(),
            "l.csv:10002: more than 10000 records (a preview takes at most 10,000)");
}

TEST_F(RecordsFileTest, ReadsJsonlOneObjectPerLine) {
  auto records =
      Salesforce("leads.jsonl",
                 "{\"Id\": \"a\", \"Status\": \"Nurturing\", \"NumberOfEmployees\": 50}\n"
                 "\n"
                 "{\"Id\": \"b\", \"NumberOfEmployees\": \"75\", \"Status\": null}\n");
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].record_id(), "a");
  EXPECT_EQ((*records)[0].fields().at("NumberOfEmployees").number_value(), 50);
  // Text holding a number is read as the map's type says.
  EXPECT_EQ((*records)[1].fields().at("NumberOfEmployees").number_value(), 75);
  EXPECT_FALSE((*records)[1].fields().contains("Status"));
}

TEST_F(RecordsFileTest, JsonlErrorsNameTheLine) {
  EXPECT_EQ(Salesforce("l.jsonl", "{\"Id\": \"a\"}\n{\"Foo\": 1}\n").status().message(),
            "l.jsonl:2: unknown field \"Foo\" (not in the salesforce field map)");
  EXPECT_EQ(Salesforce("l.jsonl", "{\"NumberOfEmployees\": true}\n").status().message(),
            "l.jsonl:1: NumberOfEmployees: true is not a number");
  EXPECT_EQ(Salesforce("l.jsonl", "{\"NumberOfEmployees\": \"abc\"}\n").status().message(),
            "l.jsonl:1: NumberOfEmployees: \"abc\" is not a number");
  EXPECT_THAT(Salesforce("l.jsonl", "{\"Id\": \"a\"}\n[1, 2]\n").status().message(),
              HasSubstr("l.jsonl:2: not a JSON object"));
  EXPECT_THAT(Salesforce("l.jsonl", "{\"Id\": \n").status().message(),
              HasSubstr("l.jsonl:1: not a JSON object"));
}

TEST_F(RecordsFileTest, WithoutAMapColumnsAreOurFieldsAndValuesAreInferred) {
  auto records = ParseRecordsFile("leads.csv",
                                  "record_id,record_type,lead_status,lead_score,vip\n"
                                  "r1,Contact,MQL,82,true\n",
                                  {});
  ASSERT_TRUE(records.ok()) << records.status();
  const v1::CrmContext& r = (*records)[0];
  EXPECT_EQ(r.crm(), "");
  EXPECT_EQ(r.record_type(), "Contact");
  EXPECT_EQ(r.fields().at("lead_status").string_value(), "MQL");
  EXPECT_EQ(r.fields().at("lead_score").number_value(), 82);
  EXPECT_TRUE(r.fields().at("vip").bool_value());
  EXPECT_EQ(ParseRecordsFile("leads.csv", "lead status\nx\n", {}).status().message(),
            "leads.csv:1:1: column \"lead status\" is not a field name (a letter, then letters, "
            "digits, '_' or '.')");
}

}  // namespace
}  // namespace sopsidebar::cli
