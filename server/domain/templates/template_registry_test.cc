#include "server/domain/templates/template_registry.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/rpc/error_details.pb.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"
#include "server/domain/matching/linear_sop_matcher.h"
#include "server/domain/registry/sop_registry.h"
#include "server/domain/store/in_memory_sop_store.h"

namespace sopsidebar {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

constexpr char kSlaHandoff[] = R"pb(
  title: "Inbound MQL handoff"
  sop {
    title: "MQL handoff: {{team}}"
    owner: "{{owner}}"
    targeting_rules {
      record_types: "Lead"
      priority: 100
      conditions {
        field: "lead_status"
        equals { string_value: "MQL" }
      }
    }
    steps { ordinal: 1 title: "Call the lead" }
  }
  placeholders { key: "team" }
  placeholders { key: "owner" default_value: "Sales Operations Manager" }
  required_fields: "purpose"
  sla_requirements { term: "min_lead_score" min_number: 75 }
  sla_requirements {
    term: "first_contact_window"
    min_duration { seconds: 60 }
    max_duration { seconds: 300 }
  }
)pb";

template <typename T>
T Parse(const std::string& text) {
  T message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

Caller Person(const std::string& user, std::vector<v1::Role> roles) {
  Caller caller;
  caller.org = "default";
  caller.user_id = user;
  for (v1::Role role : roles) caller.roles |= RoleBit(role);
  return caller;
}

// The (subject, description) of each violation of `status`'s
// PreconditionFailure whose type is "TEMPLATE".
std::vector<std::pair<std::string, std::string>> TemplateViolations(const absl::Status& status) {
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

class TemplateRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto registry = SopRegistry::Create(&store_, &clock_, LinearSopMatcher::Build);
    ASSERT_TRUE(registry.ok()) << registry.status();
    sops_ = std::move(registry).value();
    templates_ = std::make_unique<TemplateRegistry>(&store_, &clock_, &sops_->audit());
    sops_->SetTemplateSource(templates_.get());
  }

  absl::StatusOr<v1::SopTemplate> CreateTemplate(const Caller& caller, const std::string& id,
                                                 const std::string& text = kSlaHandoff) {
    v1::CreateTemplateRequest request;
    request.set_parent("orgs/default");
    request.set_template_id(id);
    *request.mutable_template_() = Parse<v1::SopTemplate>(text);
    return templates_->CreateTemplate(caller, request);
  }

  absl::StatusOr<v1::Sop> CreateSop(
      const std::string& id, const std::string& sop,
      std::map<std::string, std::string> values = {{"team", "EMEA"}},
      const std::string& tmpl = "orgs/default/templates/sla-handoff") {
    v1::CreateSopRequest request;
    request.set_parent("orgs/default");
    request.set_sop_id(id);
    request.set_template_(tmpl);
    for (const auto& [k, v] : values) (*request.mutable_template_values())[k] = v;
    *request.mutable_sop() = Parse<v1::Sop>(sop);
    return sops_->CreateSop(ops_, request);
  }

  absl::StatusOr<v1::Sop> Submit(const std::string& name) {
    v1::SubmitSopRequest request;
    request.set_name(name);
    return sops_->SubmitSop(ops_, request);
  }

  std::vector<std::string> AuditActions() {
    v1::ListAuditEventsRequest request;
    request.set_parent("orgs/default");
    request.set_page_size(1000);
    auto events = sops_->audit().ListAuditEvents(ops_, request);
    EXPECT_TRUE(events.ok()) << events.status();
    std::vector<std::string> actions;
    const v1::ListAuditEventsResponse response = events.value_or(v1::ListAuditEventsResponse());
    for (const auto& e : response.events()) {
      actions.push_back(absl::StrCat(e.action(), " ", e.resource()));
    }
    return actions;
  }

  FakeClock clock_;
  InMemorySopStore store_;
  std::unique_ptr<SopRegistry> sops_;
  std::unique_ptr<TemplateRegistry> templates_;
  const Caller ops_ = Person("ops@example.com", {v1::SALES_OPS});
  const Caller sdr_ = Person("sdr@example.com", {v1::SDR});
};

TEST_F(TemplateRegistryTest, SubmitRefusesAnSopBelowItsTemplatesMinimumScoreUntilFixed) {
  ASSERT_TRUE(CreateTemplate(ops_, "sla-handoff").ok());
  absl::StatusOr<v1::Sop> sop = CreateSop("emea-handoff", R"pb(
    purpose: "Work EMEA MQLs"
    sla_terms { name: "min_lead_score" number: 60 }
    sla_terms {
      name: "first_contact_window"
      duration { seconds: 1800 }
    }
  )pb");
  ASSERT_TRUE(sop.ok()) << sop.status();
  EXPECT_EQ(sop->title(), "MQL handoff: EMEA");
  EXPECT_EQ(sop->owner(), "Sales Operations Manager");
  EXPECT_EQ(sop->template_use().template_(), "orgs/default/templates/sla-handoff");

  absl::StatusOr<v1::Sop> submitted = Submit(sop->name());
  EXPECT_EQ(submitted.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(error::ReasonOf(submitted.status()), "TEMPLATE_REQUIREMENTS_UNMET");
  EXPECT_THAT(
      TemplateViolations(submitted.status()),
      ElementsAre(
          Pair("sla_terms[min_lead_score].number",
               "min_lead_score is 60; the sla-handoff template requires at least 75"),
          Pair("sla_terms[first_contact_window].duration",
               "first_contact_window is 30m; the sla-handoff template requires at most 5m")));

  // An update that tries to drop the requirements keeps them: output only.
  v1::UpdateSopRequest update;
  *update.mutable_sop() = *sop;
  update.mutable_sop()->clear_template_use();
  update.mutable_sop()->mutable_sla_terms(0)->set_number(80);
  update.mutable_update_mask()->add_paths("sla_terms");
  absl::StatusOr<v1::Sop> updated = sops_->UpdateSop(ops_, update);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->template_use().template_(), "orgs/default/templates/sla-handoff");
  EXPECT_THAT(TemplateViolations(Submit(sop->name()).status()),
              ElementsAre(Pair("sla_terms[first_contact_window].duration", HasSubstr("30m"))));

  update.mutable_sop()->set_etag(updated->etag());
  update.mutable_sop()->mutable_sla_terms(1)->mutable_duration()->set_seconds(180);
  ASSERT_TRUE(sops_->UpdateSop(ops_, update).ok());
  absl::StatusOr<v1::Sop> ok = Submit(sop->name());
  ASSERT_TRUE(ok.ok()) << ok.status();
  // No approver roles required: the submitted draft is approved at once.
  EXPECT_EQ(ok->review().state(), v1::DraftReview::APPROVED);
}

TEST_F(TemplateRegistryTest, AMissingRequiredFieldAndTermAreEachAViolation) {
  ASSERT_TRUE(CreateTemplate(ops_, "sla-handoff").ok());
  absl::StatusOr<v1::Sop> sop = CreateSop("bare", "");
  ASSERT_TRUE(sop.ok()) << sop.status();
  EXPECT_THAT(TemplateViolations(Submit(sop->name()).status()),
              ElementsAre(Pair("purpose", "purpose is empty; the sla-handoff template requires it"),
                          Pair("sla_terms[min_lead_score]", HasSubstr("is missing")),
                          Pair("sla_terms[first_contact_window]", HasSubstr("is missing"))));
}

TEST_F(TemplateRegistryTest, CreateSopNamesAMissingTemplateOrPlaceholderAndSavesNothing) {
  ASSERT_TRUE(CreateTemplate(ops_, "sla-handoff").ok());
  absl::StatusOr<v1::Sop> missing =
      CreateSop("a", "", {{"team", "x"}}, "orgs/default/templates/nope");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("template: template"));

  absl::StatusOr<v1::Sop> no_value = CreateSop("b", "", {});
  EXPECT_EQ(no_value.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(error::FieldViolationsOf(no_value.status()),
              ElementsAre(error::FieldViolation{"template_values[\"team\"]", "is required"}));

  absl::StatusOr<v1::Sop> unknown = CreateSop("c", "", {{"team", "x"}, {"colour", "red"}});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(unknown.status().message()), HasSubstr("template_values[\"colour\"]"));

  v1::ListSopsRequest list;
  list.set_parent("orgs/default");
  EXPECT_EQ(sops_->ListSops(ops_, list)->sops_size(), 0);
}

TEST_F(TemplateRegistryTest, ATemplateMissingItsRequiredFieldsIsRefusedAndNothingSaved) {
  absl::StatusOr<v1::SopTemplate> bad = CreateTemplate(ops_, "bad", R"pb(
    placeholders { key: "Team" }
    required_fields: "no_such_field"
    sla_requirements { min_number: 3 }
  )pb");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      error::FieldViolationsOf(bad.status()),
      ElementsAre(error::FieldViolation{"template.title", "is required"},
                  testing::Field(&error::FieldViolation::field, "template.placeholders[0].key"),
                  testing::Field(&error::FieldViolation::field, "template.required_fields[0]"),
                  error::FieldViolation{"template.sla_requirements[0].term", "is required"}));
  v1::GetTemplateRequest get;
  get.set_name("orgs/default/templates/bad");
  EXPECT_EQ(templates_->GetTemplate(ops_, get).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(AuditActions().empty());
}

TEST_F(TemplateRegistryTest, CrudWithEtagsPagesAndAuditsEveryWrite) {
  ASSERT_TRUE(CreateTemplate(ops_, "b-second").ok());
  absl::StatusOr<v1::SopTemplate> first = CreateTemplate(ops_, "a-first");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->name(), "orgs/default/templates/a-first");
  EXPECT_FALSE(first->etag().empty());
  EXPECT_EQ(CreateTemplate(ops_, "a-first").status().code(), absl::StatusCode::kAlreadyExists);

  v1::ListTemplatesRequest list;
  list.set_parent("orgs/default");
  list.set_page_size(1);
  absl::StatusOr<v1::ListTemplatesResponse> page = templates_->ListTemplates(sdr_, list);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->templates_size(), 1);
  EXPECT_EQ(page->templates(0).name(), "orgs/default/templates/a-first");
  list.set_page_token(page->next_page_token());
  page = templates_->ListTemplates(sdr_, list);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->templates(0).name(), "orgs/default/templates/b-second");
  EXPECT_TRUE(page->next_page_token().empty());

  v1::UpdateTemplateRequest update;
  update.mutable_template_()->set_name(first->name());
  update.mutable_template_()->set_title("Renamed");
  update.mutable_template_()->set_etag("stale");
  update.mutable_update_mask()->add_paths("title");
  EXPECT_EQ(templates_->UpdateTemplate(ops_, update).status().code(), absl::StatusCode::kAborted);
  update.mutable_template_()->set_etag(first->etag());
  absl::StatusOr<v1::SopTemplate> renamed = templates_->UpdateTemplate(ops_, update);
  ASSERT_TRUE(renamed.ok()) << renamed.status();
  EXPECT_EQ(renamed->title(), "Renamed");
  EXPECT_EQ(renamed->placeholders_size(), 2);
  EXPECT_NE(renamed->etag(), first->etag());
  // The same update again changes nothing and writes nothing.
  update.mutable_template_()->clear_etag();
  EXPECT_EQ(templates_->UpdateTemplate(ops_, update)->etag(), renamed->etag());

  // allow_missing creates.
  v1::UpdateTemplateRequest upsert;
  *upsert.mutable_template_() = Parse<v1::SopTemplate>(kSlaHandoff);
  upsert.mutable_template_()->set_name("orgs/default/templates/c-third");
  upsert.set_allow_missing(true);
  ASSERT_TRUE(templates_->UpdateTemplate(ops_, upsert).ok());

  v1::DeleteTemplateRequest del;
  del.set_name(first->name());
  ASSERT_TRUE(templates_->DeleteTemplate(ops_, del).ok());
  v1::GetTemplateRequest get;
  get.set_name(first->name());
  EXPECT_EQ(templates_->GetTemplate(ops_, get).status().code(), absl::StatusCode::kNotFound);

  EXPECT_THAT(AuditActions(), ElementsAre("template.create orgs/default/templates/b-second",
                                          "template.create orgs/default/templates/a-first",
                                          "template.update orgs/default/templates/a-first",
                                          "template.create orgs/default/templates/c-third",
                                          "template.delete orgs/default/templates/a-first"));
  v1::VerifyAuditLogRequest verify;
  verify.set_parent("orgs/default");
  absl::StatusOr<v1::VerifyAuditLogResponse> verified = sops_->audit().VerifyAuditLog(ops_, verify);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_TRUE(verified->intact());
}

TEST_F(TemplateRegistryTest, EveryPersonReadsOnlyEditorsWriteAndOtherOrgsSeeNothing) {
  EXPECT_EQ(CreateTemplate(sdr_, "t").status().code(), absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(CreateTemplate(ops_, "t").ok());
  v1::GetTemplateRequest get;
  get.set_name("orgs/default/templates/t");
  EXPECT_TRUE(templates_->GetTemplate(sdr_, get).ok());
  Caller other = ops_;
  other.org = "other";
  EXPECT_EQ(templates_->GetTemplate(other, get).status().code(), absl::StatusCode::kNotFound);
  v1::DeleteTemplateRequest del;
  del.set_name("orgs/default/templates/t");
  EXPECT_EQ(templates_->DeleteTemplate(sdr_, del).status().code(),
            absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace sopsidebar
