#include "plugins/drafting/openai/sop_schema.h"

#include <map>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/model/field_behavior.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// SopSchemaDescription's sections: message name -> the field names listed.
std::map<std::string, std::set<std::string>> Sections() {
  std::map<std::string, std::set<std::string>> sections;
  std::string current;
  for (absl::string_view line : absl::StrSplit(SopSchemaDescription(), '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "enum ")) {
      current.clear();
    } else if (absl::StartsWith(line, "  ")) {
      EXPECT_FALSE(current.empty()) << line;
      sections[current].insert(std::string(line.substr(2, line.find(':') - 2)));
    } else {
      current = std::string(absl::StripSuffix(line, ":"));
    }
  }
  return sections;
}

const google::protobuf::Descriptor* MessageNamed(const std::string& name) {
  return google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
      absl::StrCat("sopsidebar.v1.", name));
}

TEST(SopSchemaTest, DescribesEveryWritableSopFieldAndNoOutputOnlyOne) {
  const auto sections = Sections();
  ASSERT_TRUE(sections.count("Sop"));
  std::set<std::string> writable;
  const google::protobuf::Descriptor* sop = v1::Sop::descriptor();
  for (int i = 0; i < sop->field_count(); ++i) {
    if (IsWritableField(sop->field(i))) writable.insert(sop->field(i)->name());
  }
  EXPECT_EQ(sections.at("Sop"), writable);
  EXPECT_FALSE(sections.at("Sop").count("etag"));
  EXPECT_FALSE(sections.at("Sop").count("name"));
  EXPECT_FALSE(sections.count("DraftReview"));
}

TEST(SopSchemaTest, EveryDescribedFieldExistsInSopProto) {
  for (const auto& [message, fields] : Sections()) {
    const google::protobuf::Descriptor* type = MessageNamed(message);
    ASSERT_NE(type, nullptr) << message;
    for (const std::string& field : fields) {
      EXPECT_NE(type->FindFieldByName(field), nullptr) << message << "." << field;
    }
  }
  for (const char* message : {"Step", "CadenceTouch", "Condition", "TimeLimit", "SlaTerm"}) {
    EXPECT_TRUE(Sections().count(message)) << message;
  }
}

TEST(SopSchemaTest, HandWrittenNotesNameOnlyDescribedFields) {
  std::set<std::string> described;
  for (const auto& [message, fields] : Sections()) described.insert(fields.begin(), fields.end());
  int named = 0;
  const std::vector<absl::string_view> parts = absl::StrSplit(kSopSchemaNotes, '`');
  for (size_t i = 1; i < parts.size(); i += 2) {
    EXPECT_TRUE(described.count(std::string(parts[i]))) << "`" << parts[i] << "` is no field";
    ++named;
  }
  EXPECT_GT(named, 20);
}

TEST(SopSchemaTest, ListsEnumValuesAndMarksRequiredAndOneofFields) {
  const std::string description = SopSchemaDescription();
  EXPECT_THAT(description, HasSubstr("enum Channel: CALL, EMAIL, LINKEDIN, SMS, VIDEO"));
  EXPECT_THAT(description, HasSubstr("  title: string, required\n"));
  EXPECT_THAT(description, HasSubstr("  steps: list of Step\n"));
  EXPECT_THAT(description, HasSubstr("  equals: JSON value (string, number or bool) (one of op)"));
  EXPECT_THAT(description, HasSubstr("  within: duration string in seconds"));
  EXPECT_THAT(DraftingSystemPrompt(), HasSubstr(description));
}

constexpr absl::string_view kMinimal = R"({"title": "MQL handoff", "owner": "Sales Ops"})";

TEST(ReadModelAnswerTest, ReadsAPlainJsonObject) {
  const ModelAnswer answer = ReadModelAnswer(kMinimal);
  ASSERT_TRUE(answer.sop.has_value());
  EXPECT_EQ(answer.sop->title(), "MQL handoff");
}

TEST(ReadModelAnswerTest, ReadsAFencedBlockAroundProse) {
  const ModelAnswer answer =
      ReadModelAnswer(absl::StrCat("Here is the SOP:\n```json\n", kMinimal, "\n```\nEnjoy."));
  ASSERT_TRUE(answer.sop.has_value()) << answer.problems[0];
  EXPECT_EQ(answer.sop->owner(), "Sales Ops");
}

TEST(ReadModelAnswerTest, DropsOutputOnlyFieldsUnread) {
  const ModelAnswer answer = ReadModelAnswer(
      R"({"title": "T", "owner": "O", "name": "not a name", "state": "SHIPPED",
          "etag": 7, "revision_id": "r1", "publish_time": "yesterday"})");
  ASSERT_TRUE(answer.sop.has_value()) << answer.problems[0];
  EXPECT_EQ(answer.sop->name(), "");
  EXPECT_EQ(answer.sop->state(), v1::Sop::STATE_UNSPECIFIED);
  EXPECT_EQ(answer.sop->revision_id(), "");
}

TEST(ReadModelAnswerTest, ProseIsNotAnSop) {
  const ModelAnswer answer = ReadModelAnswer("Sure! An SOP for MQLs should start with a call.");
  EXPECT_FALSE(answer.sop.has_value());
  EXPECT_THAT(answer.problems,
              ElementsAre("is not a JSON object: \"Sure! An SOP for MQLs should start with a "
                          "call.\""));
}

TEST(ReadModelAnswerTest, BrokenJsonIsNotAnSop) {
  const ModelAnswer answer = ReadModelAnswer(R"({"title": "T", "owner": )");
  EXPECT_FALSE(answer.sop.has_value());
  ASSERT_EQ(answer.problems.size(), 1u);
  EXPECT_THAT(answer.problems[0], HasSubstr("is not valid JSON"));
}

TEST(ReadModelAnswerTest, ListsEveryViolationWithItsPath) {
  const ModelAnswer answer = ReadModelAnswer(
      R"({"purpose": "p", "steps": [{"ordinal": 1}], "colour": "red", "review_cycle": "WEEKLY"})");
  EXPECT_FALSE(answer.sop.has_value());
  EXPECT_THAT(answer.problems, ::testing::IsSupersetOf({"title: is required", "owner: is required",
                                                        "steps[0].title: is required"}));
  bool unknown_field = false, unknown_enum = false;
  for (const std::string& problem : answer.problems) {
    unknown_field |= absl::StrContains(problem, "colour");
    unknown_enum |= absl::StrContains(problem, "WEEKLY");
    EXPECT_FALSE(absl::StartsWith(problem, "answer:")) << problem;
  }
  EXPECT_TRUE(unknown_field);
  EXPECT_TRUE(unknown_enum);
}

}  // namespace
}  // namespace sopsidebar
