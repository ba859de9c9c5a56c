#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/model/sop_template.h"
#include "common/model/validation.h"
#include "common/sopfile/sop_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(TemplateFileTest, EveryShippedTemplateLoadsValidatesAndMakesAValidSop) {
  absl::StatusOr<std::vector<SopTemplateFile>> files = LoadSopTemplateFiles(SOP_TEMPLATES_DIR);
  ASSERT_TRUE(files.ok()) << files.status();
  std::vector<std::string> ids;
  for (const SopTemplateFile& file : *files) {
    ids.push_back(file.template_id);
    EXPECT_TRUE(ValidateSopTemplate(file.tmpl, "").ok()) << file.path;
    // Every placeholder without a default gets a value; the SOP that makes
    // must be a valid SOP body.
    google::protobuf::Map<std::string, std::string> values;
    for (const v1::TemplatePlaceholder& p : file.tmpl.placeholders()) {
      if (p.default_value().empty()) values[p.key()] = "Example " + p.key();
    }
    absl::StatusOr<v1::Sop> sop = FillTemplate(file.tmpl, values);
    ASSERT_TRUE(sop.ok()) << file.path << ": " << sop.status();
    EXPECT_TRUE(ValidateSopBody(*sop, "sop").ok())
        << file.path << ": " << ValidateSopBody(*sop, "sop");
    EXPECT_EQ(sop->title().find("{{"), std::string::npos) << file.path;
  }
  EXPECT_THAT(ids, ElementsAre("disqualification", "outbound-5-touch-cadence", "sla-handoff"));
}

TEST(TemplateFileTest, TheSlaHandoffTemplateHoldsTheMqlBars) {
  absl::StatusOr<std::vector<SopTemplateFile>> files =
      LoadSopTemplateFiles(std::string(SOP_TEMPLATES_DIR) + "/sla-handoff.yaml");
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_EQ(files->size(), 1u);
  const v1::SopTemplate& tmpl = (*files)[0].tmpl;
  ASSERT_EQ(tmpl.sla_requirements_size(), 2);
  EXPECT_EQ(tmpl.sla_requirements(0).term(), "min_lead_score");
  EXPECT_EQ(tmpl.sla_requirements(0).min_number(), 75);
  EXPECT_EQ(tmpl.sla_requirements(1).min_duration().seconds(), 60);
  EXPECT_EQ(tmpl.sla_requirements(1).max_duration().seconds(), 300);
  EXPECT_THAT(tmpl.required_fields(), ElementsAre("purpose", "owner_user_id"));
}

TEST(TemplateFileTest, ATemplateMissingItsRequiredFieldsNamesEachByLine) {
  absl::StatusOr<v1::SopTemplate> tmpl = ParseSopTemplateFile("bad.yaml",
                                                              "description: no title\n"
                                                              "placeholders:\n"
                                                              "  - key: Team\n"
                                                              "sla_requirements:\n"
                                                              "  - min_number: 3\n");
  EXPECT_EQ(tmpl.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(tmpl.status().message(),
            "bad.yaml:1: title: is required\n"
            "bad.yaml:3: placeholders[0].key: \"Team\" is not a valid key: [a-z][a-z0-9_]*, at "
            "most 63 characters\n"
            "bad.yaml:5: sla_requirements[0].term: is required");
}

TEST(TemplateFileTest, SyntaxErrorsAndUnknownFieldsAreLocated) {
  absl::StatusOr<v1::SopTemplate> syntax =
      ParseSopTemplateFile("t.yaml", "title: x\nplaceholders: [\n");
  EXPECT_THAT(std::string(syntax.status().message()), StartsWith("t.yaml:"));
  EXPECT_THAT(std::string(syntax.status().message()), HasSubstr("YAML syntax"));
  absl::StatusOr<v1::SopTemplate> unknown =
      ParseSopTemplateFile("t.yaml", "title: x\nsla_requirements:\n  - term: a\n    minimum: 3\n");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(unknown.status().message()),
              StartsWith("t.yaml:4: sla_requirements[0].minimum"));
}

}  // namespace
}  // namespace sopsidebar
