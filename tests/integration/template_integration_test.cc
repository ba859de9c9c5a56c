// Template enforcement over a real sopd: the shipped sla-handoff template
// applied through TemplateService, an SOP made from it, SubmitSop refused
// with one TEMPLATE violation per unmet requirement (before and after a
// restart: the requirements are stored with the SOP), then accepted once
// UpdateSop fixes them.
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "common/errors.h"
#include "common/sopfile/sop_file.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/sopd_fixture.h"

namespace sopsidebar::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

// (subject, description) of each violation of `status`'s PreconditionFailure.
std::vector<std::pair<std::string, std::string>> Violations(const absl::Status& status) {
  std::vector<std::pair<std::string, std::string>> out;
  auto payload = status.GetPayload(error::kPreconditionFailureType);
  if (!payload) return out;
  google::rpc::PreconditionFailure failure;
  EXPECT_TRUE(failure.ParseFromString(std::string(*payload)));
  for (const auto& v : failure.violations()) {
    EXPECT_EQ(v.type(), "TEMPLATE");
    out.emplace_back(v.subject(), v.description());
  }
  return out;
}

class TemplateIntegrationTest : public SopdFixture {
 protected:
  void SetUp() override {
    StartServer();
    ops_token_ = IssueToken(admin_token_, "ops@example.com", {v1::SALES_OPS});
  }

  absl::StatusOr<v1::Sop> Submit(const std::string& name) {
    v1::SubmitSopRequest request;
    request.set_name(name);
    return ClientFor(ops_token_).SubmitSop(request);
  }

  std::string ops_token_;
};

TEST_F(TemplateIntegrationTest, SubmitIsRefusedBelowTheSlaTemplateAcrossARestartUntilFixed) {
  absl::StatusOr<std::vector<SopTemplateFile>> files =
      LoadSopTemplateFiles(std::string(SOP_TEMPLATES_DIR) + "/sla-handoff.yaml");
  ASSERT_TRUE(files.ok()) << files.status();
  v1::CreateTemplateRequest apply;
  apply.set_parent("orgs/default");
  apply.set_template_id("sla-handoff");
  *apply.mutable_template_() = (*files)[0].tmpl;
  absl::StatusOr<v1::SopTemplate> tmpl = ClientFor(ops_token_).CreateTemplate(apply);
  ASSERT_TRUE(tmpl.ok()) << tmpl.status();

  // Any person reads it; an SDR may not write templates.
  const std::string sdr = IssueToken(admin_token_, "sdr@example.com", {v1::SDR});
  v1::GetTemplateRequest get;
  get.set_name("orgs/default/templates/sla-handoff");
  EXPECT_TRUE(ClientFor(sdr).GetTemplate(get).ok());
  apply.set_template_id("mine");
  EXPECT_EQ(ClientFor(sdr).CreateTemplate(apply).status().code(),
            absl::StatusCode::kPermissionDenied);

  v1::CreateSopRequest create;
  create.set_parent("orgs/default");
  create.set_sop_id("emea-handoff");
  create.set_template_("orgs/default/templates/sla-handoff");
  (*create.mutable_template_values())["team"] = "EMEA SDRs";
  v1::Sop& sop = *create.mutable_sop();
  sop.set_purpose("Work EMEA MQLs fast.");
  sop.set_owner_user_id("ops@example.com");
  v1::SlaTerm* score = sop.add_sla_terms();
  score->set_name("min_lead_score");
  score->set_number(60);
  v1::SlaTerm* window = sop.add_sla_terms();
  window->set_name("first_contact_window");
  window->mutable_duration()->set_seconds(30 * 60);
  absl::StatusOr<v1::Sop> created = ClientFor(ops_token_).CreateSop(create);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->title(), "MQL handoff: EMEA SDRs");
  EXPECT_EQ(created->template_use().template_(), "orgs/default/templates/sla-handoff");

  const auto expected = ElementsAre(
      Pair("sla_terms[min_lead_score].number",
           "min_lead_score is 60; the sla-handoff template requires at least 75"),
      Pair("sla_terms[first_contact_window].duration",
           "first_contact_window is 30m; the sla-handoff template requires at most 5m"));
  absl::StatusOr<v1::Sop> refused = Submit(created->name());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("min_lead_score is 60"));
  EXPECT_THAT(Violations(refused.status()), expected);

  // The requirements were stored with the SOP: a restart keeps them.
  StopServer();
  StartServer();
  refused = Submit(created->name());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Violations(refused.status()), expected);

  v1::UpdateSopRequest update;
  update.mutable_sop()->set_name(created->name());
  *update.mutable_sop()->mutable_sla_terms() = created->sla_terms();
  update.mutable_sop()->mutable_sla_terms(0)->set_number(80);
  update.mutable_sop()->mutable_sla_terms(1)->mutable_duration()->set_seconds(3 * 60);
  update.mutable_update_mask()->add_paths("sla_terms");
  absl::StatusOr<v1::Sop> fixed = ClientFor(ops_token_).UpdateSop(update);
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_EQ(fixed->template_use().template_(), "orgs/default/templates/sla-handoff");
  absl::StatusOr<v1::Sop> submitted = Submit(created->name());
  ASSERT_TRUE(submitted.ok()) << submitted.status();
  // No approver roles required: the submitted draft is approved at once.
  EXPECT_EQ(submitted->review().state(), v1::DraftReview::APPROVED);
}

TEST_F(TemplateIntegrationTest, AMissingTemplateOrValueIsNamedAndNothingIsSaved) {
  v1::CreateSopRequest create;
  create.set_parent("orgs/default");
  create.set_sop_id("x");
  create.set_template_("orgs/default/templates/nope");
  absl::StatusOr<v1::Sop> missing = ClientFor(ops_token_).CreateSop(create);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("template:"));

  v1::CreateTemplateRequest bad;
  bad.set_parent("orgs/default");
  bad.set_template_id("bad");
  bad.mutable_template_()->add_required_fields("colour");
  absl::StatusOr<v1::SopTemplate> refused = ClientFor(ops_token_).CreateTemplate(bad);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("template.title: is required"));
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("template.required_fields[0]"));
  v1::ListTemplatesRequest list;
  list.set_parent("orgs/default");
  absl::StatusOr<v1::ListTemplatesResponse> listed = ClientFor(ops_token_).ListTemplates(list);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->templates_size(), 0);
}

}  // namespace
}  // namespace sopsidebar::test
