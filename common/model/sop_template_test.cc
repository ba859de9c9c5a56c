#include "common/model/sop_template.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/errors.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

template <typename T>
T Parse(const std::string& text) {
  T message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

constexpr char kSlaHandoff[] = R"pb(
  name: "orgs/acme/templates/sla-handoff"
  title: "Inbound MQL handoff"
  sop {
    title: "MQL handoff: {{team}}"
    owner: "{{ owner }}"
    purpose: "Hand MQLs to {{team}} fast."
    sla_terms { name: "min_lead_score" number: 75 }
    sla_terms {
      name: "first_contact_window"
      duration { seconds: 300 }
    }
  }
  placeholders { key: "team" description: "the team that takes the MQL" }
  placeholders { key: "owner" default_value: "Sales Operations Manager" }
  required_fields: "purpose"
  required_fields: "owner_user_id"
  sla_requirements { term: "min_lead_score" min_number: 75 }
  sla_requirements {
    term: "first_contact_window"
    min_duration { seconds: 60 }
    max_duration { seconds: 300 }
  }
)pb";

std::vector<error::FieldViolation> Violations(const absl::Status& status) {
  return error::FieldViolationsOf(status);
}

TEST(SopTemplateTest, AValidTemplateHasNoViolations) {
  EXPECT_THAT(SopTemplateViolations(Parse<v1::SopTemplate>(kSlaHandoff), "template"), IsEmpty());
}

TEST(SopTemplateTest, ATemplateWithoutTitleBadKeysAndUndeclaredPlaceholdersIsRefused) {
  auto tmpl = Parse<v1::SopTemplate>(kSlaHandoff);
  tmpl.clear_title();
  tmpl.mutable_placeholders(1)->set_key("Owner");
  tmpl.add_placeholders()->set_key("team");
  tmpl.add_required_fields("state");
  tmpl.add_required_fields("colour");
  EXPECT_THAT(
      SopTemplateViolations(tmpl, "template"),
      ElementsAre(
          error::FieldViolation{"template.title", "is required"},
          error::FieldViolation{"template.placeholders[1].key",
                                "\"Owner\" is not a valid key: [a-z][a-z0-9_]*, at most 63 "
                                "characters"},
          error::FieldViolation{"template.placeholders[2].key", "duplicate key \"team\""},
          error::FieldViolation{"template.sop",
                                "uses {{owner}}, which placeholders does not "
                                "declare"},
          error::FieldViolation{"template.required_fields[2]",
                                "\"state\" is not a field of Sop a template can require (e.g. "
                                "purpose, owner_user_id, cadence, disqualification_codes)"},
          error::FieldViolation{"template.required_fields[3]",
                                "\"colour\" is not a field of Sop a template can require (e.g. "
                                "purpose, owner_user_id, cadence, disqualification_codes)"}));
}

TEST(SopTemplateTest, SlaRequirementsNeedATermOneKindOfBoundAndMinNotAboveMax) {
  auto tmpl = Parse<v1::SopTemplate>(kSlaHandoff);
  *tmpl.add_sla_requirements() = Parse<v1::SlaRequirement>(R"pb(min_number: 1)pb");
  *tmpl.add_sla_requirements() = Parse<v1::SlaRequirement>(R"pb(term: "x"
                                                                min_number: 1
                                                                max_duration { seconds: 5 })pb");
  *tmpl.add_sla_requirements() =
      Parse<v1::SlaRequirement>(R"pb(term: "y" min_number: 9 max_number: 3)pb");
  *tmpl.add_sla_requirements() = Parse<v1::SlaRequirement>(R"pb(term: "min_lead_score")pb");
  EXPECT_THAT(
      SopTemplateViolations(tmpl, ""),
      ElementsAre(
          error::FieldViolation{"sla_requirements[2].term", "is required"},
          error::FieldViolation{"sla_requirements[3]",
                                "mixes a number bound and a duration bound; both bounds "
                                "must be numbers or both durations"},
          error::FieldViolation{"sla_requirements[4].min_number", "is 9, above max_number 3"},
          error::FieldViolation{"sla_requirements[5].term", "duplicate term \"min_lead_score\""}));
}

TEST(SopTemplateTest, FillReplacesPlaceholdersFromValuesThenDefaults) {
  google::protobuf::Map<std::string, std::string> values;
  values["team"] = "EMEA SDRs";
  absl::StatusOr<v1::Sop> sop = FillTemplate(Parse<v1::SopTemplate>(kSlaHandoff), values);
  ASSERT_TRUE(sop.ok()) << sop.status();
  EXPECT_EQ(sop->title(), "MQL handoff: EMEA SDRs");
  EXPECT_EQ(sop->owner(), "Sales Operations Manager");
  EXPECT_EQ(sop->purpose(), "Hand MQLs to EMEA SDRs fast.");
}

TEST(SopTemplateTest, FillNamesAMissingValueAndAnUndeclaredKey) {
  google::protobuf::Map<std::string, std::string> values;
  values["colour"] = "red";
  absl::StatusOr<v1::Sop> sop = FillTemplate(Parse<v1::SopTemplate>(kSlaHandoff), values);
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Violations(sop.status()),
              ElementsAre(error::FieldViolation{"template_values[\"team\"]",
                                                "is required (the team that takes the MQL)"},
                          error::FieldViolation{
                              "template_values[\"colour\"]",
                              "is not a placeholder of template orgs/acme/templates/sla-handoff"}));
}

TEST(SopTemplateTest, MergeKeepsTheTemplatesFieldsTheRequestLeavesUnset) {
  auto base = Parse<v1::Sop>(R"pb(title: "T"
                                  purpose: "P"
                                  tags: "a"
                                  sla_terms { name: "min_lead_score" number: 75 })pb");
  auto merged = MergeSetFields(base, Parse<v1::Sop>(R"pb(purpose: "Q" tags: "b" tags: "c")pb"));
  EXPECT_EQ(merged.title(), "T");
  EXPECT_EQ(merged.purpose(), "Q");
  EXPECT_THAT(merged.tags(), ElementsAre("b", "c"));
  EXPECT_EQ(merged.sla_terms_size(), 1);
}

TEST(SopTemplateTest, CheckReportsEveryUnmetRequirementWithItsFieldPath) {
  const v1::TemplateUse use = TemplateUseOf(Parse<v1::SopTemplate>(kSlaHandoff));
  auto sop = Parse<v1::Sop>(R"pb(
    title: "T"
    owner: "O"
    sla_terms { name: "min_lead_score" number: 60 }
    sla_terms {
      name: "first_contact_window"
      duration { seconds: 1800 }
    }
  )pb");
  std::vector<error::TemplateViolation> unmet = UnmetTemplateRequirements(sop, use);
  ASSERT_EQ(unmet.size(), 4u);
  EXPECT_EQ(unmet[0].subject, "purpose");
  EXPECT_EQ(unmet[0].description, "purpose is empty; the sla-handoff template requires it");
  EXPECT_EQ(unmet[1].subject, "owner_user_id");
  EXPECT_EQ(unmet[2].subject, "sla_terms[min_lead_score].number");
  EXPECT_EQ(unmet[2].description,
            "min_lead_score is 60; the sla-handoff template requires at least 75");
  EXPECT_EQ(unmet[3].subject, "sla_terms[first_contact_window].duration");
  EXPECT_EQ(unmet[3].description,
            "first_contact_window is 30m; the sla-handoff template requires at most 5m");

  sop.set_purpose("p");
  sop.set_owner_user_id("u");
  sop.mutable_sla_terms(0)->set_number(75);
  sop.mutable_sla_terms(1)->mutable_duration()->set_seconds(120);
  EXPECT_THAT(UnmetTemplateRequirements(sop, use), IsEmpty());
}

TEST(SopTemplateTest, CheckReportsAMissingTermAndATermOfTheWrongKind) {
  const v1::TemplateUse use = TemplateUseOf(Parse<v1::SopTemplate>(kSlaHandoff));
  auto sop = Parse<v1::Sop>(R"pb(
    purpose: "p"
    owner_user_id: "u"
    sla_terms {
      name: "min_lead_score"
      duration { seconds: 5 }
    }
  )pb");
  std::vector<error::TemplateViolation> unmet = UnmetTemplateRequirements(sop, use);
  ASSERT_EQ(unmet.size(), 2u);
  EXPECT_EQ(unmet[0].subject, "sla_terms[min_lead_score].number");
  EXPECT_EQ(unmet[0].description,
            "min_lead_score is a duration; the sla-handoff template requires a number");
  EXPECT_EQ(unmet[1].subject, "sla_terms[first_contact_window]");
  EXPECT_EQ(unmet[1].description,
            "first_contact_window is missing; the sla-handoff template requires it");
}

TEST(SopTemplateTest, AnSopWithoutATemplateHasNoRequirements) {
  EXPECT_THAT(UnmetTemplateRequirements(v1::Sop(), v1::TemplateUse()), IsEmpty());
}

}  // namespace
}  // namespace sopsidebar
