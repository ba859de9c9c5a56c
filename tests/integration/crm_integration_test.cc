// CRM integrations against a real sopd with the example SOPs: one
// INTEGRATION token acting for two viewers whose CRM roles map to SDR and
// AE sees exactly what tokens of those roles see on every read path (the
// AE-only pricing playbook never reaches the SDR viewer), other tokens may
// not state a viewer, and a Salesforce-shaped record looked up through the
// default field map finds the same SOPs as the same record in our names.
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sopsidebar/v1/admin_service.pb.h"
#include "sopsidebar/v1/context_service.pb.h"
#include "sopsidebar/v1/sop_service.pb.h"
#include "tests/integration/sopd_fixture.h"

namespace sopsidebar {
namespace {

using ::testing::Contains;
using ::testing::IsSupersetOf;
using ::testing::Not;

constexpr char kPricing[] = "orgs/default/sops/pricing-discount-playbook";

client::ConnectionOptions::Viewer Viewer(const std::string& id, const std::string& crm_role) {
  client::ConnectionOptions::Viewer viewer;
  viewer.id = id;
  viewer.name = "Viewer " + id;
  viewer.crm_roles = {crm_role, "West Team"};
  return viewer;
}

// An opportunity at the pricing playbook's stage, in our field names.
v1::CrmContext PricingContext() {
  v1::CrmContext context;
  context.set_record_type("Opportunity");
  context.set_record_id("0065e00000DemoOpp1");
  (*context.mutable_fields())["stage_name"].set_string_value("Proposal/Price Quote");
  (*context.mutable_fields())["discount_percent"].set_number_value(15);
  return context;
}

std::set<std::string> Names(const v1::LookupSopsResponse& response) {
  std::set<std::string> names;
  for (const v1::SopMatch& match : response.matches()) names.insert(match.sop());
  return names;
}

class CrmIntegrationTest : public test::SopdFixture {
 protected:
  void SetUp() override {
    options_.import_dir = SOP_EXAMPLES_DIR;
    StartServer();
    integration_ = IssueIntegrationToken(admin_token_, "salesforce-integration", "salesforce",
                                         {v1::SDR, v1::AE});
    MapRoles(admin_token_, "salesforce",
             {{"Inside Sales", v1::SDR}, {"Account Executive", v1::AE}});
  }

  // What one caller sees of the pricing playbook on each read path: each
  // entry is the path's name when it showed the SOP.
  std::set<std::string> PricingSeenBy(client::Client& c) {
    std::set<std::string> seen;
    if (c.GetSop(kPricing).ok()) seen.insert("get");
    v1::ListSopsRequest list;
    list.set_parent("orgs/default");
    auto all = c.ListAllSops(list);
    EXPECT_TRUE(all.ok()) << all.status();
    for (const v1::Sop& sop : all.value_or(std::vector<v1::Sop>())) {
      if (sop.name() == kPricing) seen.insert("list");
    }
    v1::ListSopRevisionsRequest revisions;
    revisions.set_name(kPricing);
    absl::Status history = c.ListSopRevisions(revisions).status();
    // An SDR or AE without draft access is refused history either way:
    // what matters is that the hidden SOP is NOT_FOUND, not refused.
    if (history.code() != absl::StatusCode::kNotFound) seen.insert("revisions");
    v1::GetSopRevisionRequest revision;
    revision.set_name(std::string(kPricing) + "/revisions/1");
    if (c.GetSopRevision(revision).status().code() != absl::StatusCode::kNotFound) {
      seen.insert("revision");
    }
    v1::LookupSopsRequest lookup;
    *lookup.mutable_context() = PricingContext();
    auto found = c.LookupSops(lookup);
    EXPECT_TRUE(found.ok()) << found.status();
    if (found.ok() && Names(*found).count(kPricing)) seen.insert("lookup");
    v1::WatchSopsRequest watch;
    *watch.mutable_context() = PricingContext();
    absl::Status watched = c.WatchSops(watch, [&](const v1::WatchSopsResponse& message) {
      if (Names(message.result()).count(kPricing)) seen.insert("watch");
      return false;
    });
    EXPECT_TRUE(watched.ok()) << watched;
    return seen;
  }

  std::string integration_;
};

TEST_F(CrmIntegrationTest, TheSdrViewerNeverSeesTheAeOnlyPlaybookAndTheAeViewerDoes) {
  client::Client sdr = ClientActingFor(integration_, Viewer("005SDR", "Inside Sales"));
  client::Client ae = ClientActingFor(integration_, Viewer("005AE", "Account Executive"));
  EXPECT_TRUE(PricingSeenBy(sdr).empty());
  EXPECT_THAT(PricingSeenBy(ae),
              IsSupersetOf({"get", "list", "revisions", "revision", "lookup", "watch"}));

  auto who = sdr.WhoAmI(v1::WhoAmIRequest());
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->user_id(), "salesforce:005SDR");
  EXPECT_EQ(who->via(), "salesforce-integration");
  EXPECT_THAT(who->roles(), Contains(v1::SDR));
  EXPECT_THAT(who->roles(), Not(Contains(v1::AE)));
}

TEST_F(CrmIntegrationTest, AViewerWithAnUnmappedCrmRoleGetsNoRoleAndSoNoAccess) {
  client::Client intern = ClientActingFor(integration_, Viewer("005X", "Marketing Intern"));
  EXPECT_EQ(intern.WhoAmI(v1::WhoAmIRequest()).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(intern.GetSop("orgs/default/sops/mql-acceptance-handoff").status().code(),
            absl::StatusCode::kNotFound);
  v1::LookupSopsRequest lookup;
  *lookup.mutable_context() = PricingContext();
  EXPECT_EQ(intern.LookupSops(lookup).status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(CrmIntegrationTest, AnyOtherTokenStatingAViewerIsDenied) {
  const std::string sdr = IssueToken(admin_token_, "rep@example.com", {v1::SDR});
  for (const std::string& token : {sdr, admin_token_}) {
    client::Client claiming = ClientActingFor(token, Viewer("005AE", "Account Executive"));
    EXPECT_EQ(claiming.WhoAmI(v1::WhoAmIRequest()).status().code(),
              absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(claiming.GetSop(kPricing).status().code(), absl::StatusCode::kPermissionDenied);
  }
}

TEST_F(CrmIntegrationTest, WritesByAViewerNameTheIntegrationToo) {
  const std::string ops_integration =
      IssueIntegrationToken(admin_token_, "ops-integration", "salesforce", {v1::SALES_OPS});
  MapRoles(admin_token_, "salesforce", {{"Sales Operations", v1::SALES_OPS}});
  client::Client ops = ClientActingFor(ops_integration, Viewer("005OPS", "Sales Operations"));
  v1::UpdateSopRequest update;
  update.mutable_sop()->set_name("orgs/default/sops/mql-acceptance-handoff");
  update.mutable_sop()->set_title("MQL acceptance and handoff (edited in Salesforce)");
  update.mutable_update_mask()->add_paths("title");
  ASSERT_TRUE(ops.UpdateSop(update).ok());
  v1::ListSopRevisionsRequest revisions;
  revisions.set_name("orgs/default/sops/mql-acceptance-handoff");
  auto history = ClientFor(admin_token_).ListSopRevisions(revisions);
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_GT(history->revisions_size(), 0);
  EXPECT_EQ(history->revisions(0).author(), "salesforce:005OPS");
  EXPECT_EQ(history->revisions(0).author_via(), "ops-integration");
}

TEST_F(CrmIntegrationTest, ASalesforceRecordFindsTheSameSopsAsOurNames) {
  client::Client ae = ClientActingFor(integration_, Viewer("005AE", "Account Executive"));
  struct Case {
    v1::CrmContext ours;
    v1::CrmContext salesforce;
  };
  std::vector<Case> cases;
  {
    Case lead;
    lead.ours.set_record_type("Lead");
    auto& ours = *lead.ours.mutable_fields();
    ours["lead_status"].set_string_value("Open - Not Contacted");
    ours["lead_score"].set_number_value(82);
    ours["company_size"].set_number_value(240);
    ours["title"].set_string_value("VP of Revenue Operations");
    lead.salesforce.set_crm("salesforce");
    lead.salesforce.set_record_type("Lead");
    auto& sf = *lead.salesforce.mutable_fields();
    sf["Status"].set_string_value("Open - Not Contacted");
    sf["MQL_Score__c"].set_string_value("82");
    sf["NumberOfEmployees"].set_number_value(240);
    sf["Title"].set_string_value("VP of Revenue Operations");
    sf["Company"].set_string_value("Northwind Logistics");  // not mapped: dropped
    cases.push_back(lead);
  }
  {
    Case handoff;
    handoff.ours.set_record_type("Lead");
    (*handoff.ours.mutable_fields())["lead_status"].set_string_value("MQL – New Handoff");
    handoff.salesforce.set_crm("salesforce");
    handoff.salesforce.set_record_type("Lead");
    (*handoff.salesforce.mutable_fields())["Status"].set_string_value("MQL – New Handoff");
    cases.push_back(handoff);
  }
  {
    Case pricing;
    pricing.ours = PricingContext();
    pricing.salesforce.set_crm("salesforce");
    pricing.salesforce.set_record_type("Opportunity");
    auto& sf = *pricing.salesforce.mutable_fields();
    sf["StageName"].set_string_value("Proposal/Price Quote");
    sf["Discount_Percent__c"].set_number_value(15);
    cases.push_back(pricing);
  }
  for (const Case& c : cases) {
    v1::LookupSopsRequest ours, salesforce;
    *ours.mutable_context() = c.ours;
    *salesforce.mutable_context() = c.salesforce;
    auto expected = ae.LookupSops(ours);
    auto actual = ae.LookupSops(salesforce);
    ASSERT_TRUE(expected.ok()) << expected.status();
    ASSERT_TRUE(actual.ok()) << actual.status();
    EXPECT_FALSE(expected->matches().empty());
    EXPECT_EQ(Names(*actual), Names(*expected));
    ASSERT_EQ(actual->matches_size(), expected->matches_size());
    for (int i = 0; i < actual->matches_size(); ++i) {
      EXPECT_EQ(actual->matches(i).sop(), expected->matches(i).sop());  // the same order
    }
    EXPECT_TRUE(expected->field_sources().empty());
    std::set<std::string> sources;
    for (const v1::FieldSource& s : actual->field_sources()) {
      sources.insert(s.field() + "<-" + s.crm_field());
    }
    EXPECT_EQ(static_cast<size_t>(actual->field_sources_size()), c.ours.fields().size());
    if (c.salesforce.fields().count("Status")) {
      EXPECT_TRUE(sources.count("lead_status<-Status"));
    }
  }
}

TEST_F(CrmIntegrationTest, AValueTheFieldMapCannotReadIsInvalidArgumentNamingTheCrmField) {
  client::Client ae = ClientActingFor(integration_, Viewer("005AE", "Account Executive"));
  v1::LookupSopsRequest request;
  request.mutable_context()->set_crm("salesforce");
  request.mutable_context()->set_record_type("Lead");
  (*request.mutable_context()->mutable_fields())["NumberOfEmployees"].set_string_value("many");
  absl::Status bad = ae.LookupSops(request).status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.message()), ::testing::HasSubstr("NumberOfEmployees"));
}

}  // namespace
}  // namespace sopsidebar
