#include "server/domain/crm/crm_maps.h"

#include <memory>

#include "absl/strings/match.h"
#include "common/model/roles.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/domain/store/in_memory_auth_store.h"

namespace sopsidebar {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Caller Person(v1::Role role, std::string org = "acme") {
  Caller caller;
  caller.org = std::move(org);
  caller.user_id = "person@example.com";
  caller.roles = RoleBit(role);
  caller.token_name = "orgs/acme/tokens/person";
  return caller;
}

Caller Integration(RoleSet delegable, std::string crm = "salesforce") {
  Caller caller = Person(v1::INTEGRATION);
  caller.user_id = "salesforce-integration";
  caller.token_name = "orgs/acme/tokens/integration";
  caller.crm = std::move(crm);
  caller.delegable_roles = delegable;
  return caller;
}

v1::UpdateRoleMapRequest RoleMap(absl::string_view crm,
                                 std::vector<std::pair<std::string, v1::Role>> entries) {
  v1::UpdateRoleMapRequest request;
  request.mutable_role_map()->set_name(absl::StrCat("orgs/acme/roleMaps/", crm));
  for (const auto& [crm_role, role] : entries) {
    v1::RoleMapEntry* entry = request.mutable_role_map()->add_entries();
    entry->set_crm_role(crm_role);
    entry->add_roles(role);
  }
  return request;
}

class CrmMapsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto maps = CrmMaps::Create(&store_, &clock_);
    ASSERT_TRUE(maps.ok()) << maps.status();
    maps_ = std::move(*maps);
    ASSERT_TRUE(maps_
                    ->UpdateRoleMap(Person(v1::ADMIN),
                                    RoleMap("salesforce", {{"Inside Sales", v1::SDR},
                                                           {"Account Executive", v1::AE},
                                                           {"user:005VIP", v1::SALES_MANAGER}}))
                    .ok());
  }

  ViewerClaim Viewer(std::vector<std::string> crm_roles, std::string id = "005A") {
    ViewerClaim viewer;
    viewer.id = std::move(id);
    viewer.display_name = "Ana Rep";
    viewer.crm_roles = std::move(crm_roles);
    return viewer;
  }

  InMemoryAuthStore store_;
  FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  std::unique_ptr<CrmMaps> maps_;
};

TEST_F(CrmMapsTest, IntegrationActsForAViewerWithTheMappedRoles) {
  auto sdr = maps_->ActFor(Integration(RoleBit(v1::SDR) | RoleBit(v1::AE)),
                           Viewer({"Inside Sales", "West Team"}));
  ASSERT_TRUE(sdr.ok()) << sdr.status();
  EXPECT_EQ(sdr->roles, RoleBit(v1::SDR));
  EXPECT_EQ(sdr->org, "acme");
  EXPECT_EQ(sdr->user_id, "salesforce:005A");
  EXPECT_EQ(sdr->display_name, "Ana Rep");
  EXPECT_EQ(sdr->via, "salesforce-integration");
  EXPECT_EQ(sdr->token_name, "orgs/acme/tokens/integration");
  EXPECT_EQ(sdr->delegable_roles, 0u);

  auto ae =
      maps_->ActFor(Integration(RoleBit(v1::SDR) | RoleBit(v1::AE)), Viewer({"Account Executive"}));
  ASSERT_TRUE(ae.ok());
  EXPECT_EQ(ae->roles, RoleBit(v1::AE));
}

TEST_F(CrmMapsTest, RolesAreCutToWhatTheIntegrationMayDelegate) {
  auto viewer =
      maps_->ActFor(Integration(RoleBit(v1::SDR)), Viewer({"Inside Sales", "Account Executive"}));
  ASSERT_TRUE(viewer.ok());
  EXPECT_EQ(viewer->roles, RoleBit(v1::SDR));
}

TEST_F(CrmMapsTest, AViewerNoEntryMatchesGetsNoRoleAtAll) {
  auto viewer =
      maps_->ActFor(Integration(kPeopleRoles & ~RoleBit(v1::ADMIN)), Viewer({"Marketing Intern"}));
  ASSERT_TRUE(viewer.ok());
  EXPECT_EQ(viewer->roles, 0u);
}

TEST_F(CrmMapsTest, UserAndEveryoneEntriesMatchByIdEmailOrAnyone) {
  ASSERT_TRUE(
      maps_
          ->UpdateRoleMap(Person(v1::ADMIN),
                          RoleMap("hubspot", {{"*", v1::SDR}, {"user:ae@example.com", v1::AE}}))
          .ok());
  const Caller hubspot = Integration(RoleBit(v1::SDR) | RoleBit(v1::AE), "hubspot");
  ViewerClaim by_email = Viewer({}, "77");
  by_email.email = "ae@example.com";
  auto ae = maps_->ActFor(hubspot, by_email);
  ASSERT_TRUE(ae.ok());
  EXPECT_EQ(ae->roles, RoleBit(v1::SDR) | RoleBit(v1::AE));
  EXPECT_EQ(ae->user_id, "hubspot:77");
  auto anyone = maps_->ActFor(hubspot, Viewer({}, "78"));
  ASSERT_TRUE(anyone.ok());
  EXPECT_EQ(anyone->roles, RoleBit(v1::SDR));
  // A CRM role named like a user entry matches nothing but that user.
  auto spoof = maps_->ActFor(Integration(kPeopleRoles & ~RoleBit(v1::ADMIN)),
                             Viewer({"user:005VIP"}, "005B"));
  ASSERT_TRUE(spoof.ok());
  EXPECT_EQ(spoof->roles, 0u);
}

TEST_F(CrmMapsTest, OnlyAnIntegrationTokenMayStateAViewer) {
  for (v1::Role role : {v1::SDR, v1::ADMIN, v1::SALES_OPS}) {
    absl::Status denied = maps_->ActFor(Person(role), Viewer({"Inside Sales"})).status();
    EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied) << role;
    EXPECT_THAT(denied.message(), HasSubstr("sop-viewer-id"));
  }
  EXPECT_EQ(maps_->ActFor(Integration(RoleBit(v1::SDR)), Viewer({}, "")).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CrmMapsTest, ViewerHeadersArePercentDecoded) {
  auto claim = ParseViewerHeaders("005A", "Jos%C3%A9+Ruiz", "Inside+Sales, West%2C%20North");
  ASSERT_TRUE(claim.ok()) << claim.status();
  EXPECT_EQ(claim->display_name, "José Ruiz");
  EXPECT_THAT(claim->crm_roles, ElementsAre("Inside Sales", "West, North"));
  absl::Status bad = ParseViewerHeaders("005A", "Ana", "Sales%2").status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.message(), HasSubstr("sop-viewer-crm-roles"));
  EXPECT_EQ(ParseViewerHeaders("005%0A", "", "").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CrmMapsTest, SalesforceRecordsTurnIntoOurFieldsWithTheirSources) {
  v1::CrmContext record;
  record.set_crm("salesforce");
  record.set_record_type("Lead");
  record.set_record_id("00Q5e000004DemoAA1");
  auto& f = *record.mutable_fields();
  f["Status"].set_string_value("MQL – New Handoff");
  f["NumberOfEmployees"].set_number_value(240);
  f["MQL_Score__c"].set_string_value("82");
  f["LastModifiedDate"].set_string_value("2026-11-30T10:00:00.000Z");
  f["Unmapped__c"].set_string_value("dropped");
  auto translated = maps_->Translate(Person(v1::SDR), record, "context");
  ASSERT_TRUE(translated.ok()) << translated.status();
  const auto& fields = translated->context.fields();
  EXPECT_EQ(translated->context.record_type(), "Lead");
  EXPECT_EQ(translated->context.crm(), "");
  EXPECT_EQ(fields.at("lead_status").string_value(), "MQL – New Handoff");
  EXPECT_EQ(fields.at("company_size").number_value(), 240);
  EXPECT_EQ(fields.at("lead_score").number_value(), 82);
  EXPECT_EQ(fields.at("last_modified_at").string_value(), "2026-11-30T10:00:00.000Z");
  EXPECT_EQ(fields.size(), 4u);
  std::vector<std::string> sources;
  for (const v1::FieldSource& s : translated->sources) {
    sources.push_back(absl::StrCat(s.field(), "<-", s.crm_field()));
  }
  EXPECT_THAT(sources,
              ElementsAre("company_size<-NumberOfEmployees", "last_modified_at<-LastModifiedDate",
                          "lead_score<-MQL_Score__c", "lead_status<-Status"));
}

TEST_F(CrmMapsTest, HubSpotObjectsTextNumbersAndEpochMillisAreRead) {
  v1::CrmContext record;
  record.set_crm("hubspot");
  record.set_record_type("0-1");
  auto& f = *record.mutable_fields();
  f["hs_lead_status"].set_string_value("OPEN");
  f["numberofemployees"].set_string_value("1200");
  f["createdate"].set_string_value("1764496800000");
  f["jobtitle"].set_string_value("");
  auto translated = maps_->Translate(Person(v1::SDR), record, "context");
  ASSERT_TRUE(translated.ok()) << translated.status();
  const auto& fields = translated->context.fields();
  EXPECT_EQ(translated->context.record_type(), "Lead");
  EXPECT_EQ(fields.at("company_size").number_value(), 1200);
  EXPECT_EQ(fields.at("created_at").string_value(), "2025-11-30T10:00:00+00:00");
  EXPECT_EQ(fields.at("title").kind_case(), google::protobuf::Value::kNullValue);
}

TEST_F(CrmMapsTest, AValueTheMapCannotReadNamesTheCrmField) {
  v1::CrmContext record;
  record.set_crm("salesforce");
  record.set_record_type("Lead");
  (*record.mutable_fields())["NumberOfEmployees"].set_string_value("lots");
  absl::Status bad = maps_->Translate(Person(v1::SDR), record, "context").status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.message(), HasSubstr("context.fields[\"NumberOfEmployees\"]"));
  EXPECT_THAT(bad.message(), HasSubstr("FIELD_TYPE_NUMBER"));
}

TEST_F(CrmMapsTest, AFieldMapWithAnUnknownTypeIsRefusedNamingTheEntry) {
  v1::UpdateFieldMapRequest request;
  request.mutable_field_map()->set_name("orgs/acme/fieldMaps/salesforce");
  auto* ok = request.mutable_field_map()->add_fields();
  ok->set_crm_field("Status");
  ok->set_field("lead_status");
  ok->set_type(v1::FIELD_TYPE_STRING);
  auto* bad = request.mutable_field_map()->add_fields();
  bad->set_crm_field("Score__c");
  bad->set_field("lead_score");
  bad->set_type(static_cast<v1::FieldType>(42));
  absl::Status refused = maps_->UpdateFieldMap(Person(v1::SALES_OPS), request).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.message(), HasSubstr("field_map.fields[1].type"));
  // Nothing was stored: the default map still answers.
  v1::GetFieldMapRequest get;
  get.set_name("orgs/acme/fieldMaps/salesforce");
  auto current = maps_->GetFieldMap(Person(v1::SALES_OPS), get);
  ASSERT_TRUE(current.ok());
  EXPECT_TRUE(current->is_default());
}

TEST_F(CrmMapsTest, StoredMapsOutliveTheRegistryAndReplaceTheDefault) {
  v1::UpdateFieldMapRequest request;
  request.mutable_field_map()->set_name("orgs/acme/fieldMaps/salesforce");
  auto* entry = request.mutable_field_map()->add_fields();
  entry->set_crm_field("Status");
  entry->set_field("status");
  entry->set_type(v1::FIELD_TYPE_STRING);
  ASSERT_TRUE(maps_->UpdateFieldMap(Person(v1::ADMIN), request).ok());
  auto reloaded = CrmMaps::Create(&store_, &clock_);
  ASSERT_TRUE(reloaded.ok());
  v1::GetFieldMapRequest get;
  get.set_name("orgs/acme/fieldMaps/salesforce");
  auto map = (*reloaded)->GetFieldMap(Person(v1::ADMIN), get);
  ASSERT_TRUE(map.ok());
  EXPECT_FALSE(map->is_default());
  ASSERT_EQ(map->fields_size(), 1);
  auto viewer = (*reloaded)->ActFor(Integration(RoleBit(v1::SDR)), Viewer({"Inside Sales"}));
  ASSERT_TRUE(viewer.ok());
  EXPECT_EQ(viewer->roles, RoleBit(v1::SDR));
}

TEST_F(CrmMapsTest, MapsAreManagedByTheirRolesInTheirOrgOnly) {
  v1::GetRoleMapRequest get;
  get.set_name("orgs/acme/roleMaps/salesforce");
  EXPECT_EQ(maps_->GetRoleMap(Person(v1::SALES_OPS), get).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(maps_->GetRoleMap(Person(v1::ADMIN, "other"), get).status().code(),
            absl::StatusCode::kNotFound);
  get.set_name("orgs/acme/roleMaps/pipedrive");
  EXPECT_EQ(maps_->GetRoleMap(Person(v1::ADMIN), get).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::Status admin_role =
      maps_->UpdateRoleMap(Person(v1::ADMIN), RoleMap("salesforce", {{"Boss", v1::ADMIN}}))
          .status();
  EXPECT_THAT(admin_role.message(), HasSubstr("role_map.entries[0].roles[0]"));
}

}  // namespace
}  // namespace sopsidebar
