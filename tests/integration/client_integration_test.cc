// The client library against a real sopd (SopdServer, as main runs it) on a
// free loopback port, with RocksDB in a temp dir and the example SOPs
// imported.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "tests/integration/sopd_fixture.h"

namespace sopsidebar {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

v1::LookupSopsRequest LeadLookup(const std::string& fields_text) {
  v1::LookupSopsRequest request;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      absl::StrCat(R"pb(context { org: "orgs/default" record_type: "Lead" )pb", fields_text,
                   "}"),
      &request));
  return request;
}

constexpr char kMqlLeadFields[] = R"pb(
  fields { key: "lead_status" value { string_value: "MQL – New Handoff" } }
  fields { key: "lead_score" value { number_value: 82 } }
  fields { key: "company_size" value { number_value: 120 } }
  fields { key: "title" value { string_value: "VP Sales" } }
)pb";

class ClientIntegrationTest : public test::SopdFixture {
 protected:
  void SetUp() override {
    options_.import_dir = SOP_EXAMPLES_DIR;
    StartServer();
    ops_token_ = IssueToken(admin_token_, "integration-test", {v1::SALES_OPS});
    Reconnect();
  }

  void Reconnect() { client_ = std::make_unique<client::Client>(ClientFor(ops_token_)); }

  v1::Sop CreateDraft(const std::string& id) {
    v1::CreateSopRequest request;
    request.set_parent("orgs/default");
    request.set_sop_id(id);
    request.mutable_sop()->set_title("Integration SOP");
    request.mutable_sop()->set_owner("Sales Ops");
    auto* rule = request.mutable_sop()->add_targeting_rules();
    rule->add_record_types("Lead");
    rule->set_priority(1000);
    auto sop = client_->CreateSop(request);
    EXPECT_TRUE(sop.ok()) << sop.status();
    return sop.value_or(v1::Sop());
  }

  std::string ops_token_;
  std::unique_ptr<client::Client> client_;
};

TEST_F(ClientIntegrationTest, MqlLeadGetsMqlAcceptanceFirstWithMatchedConditions) {
  auto response = client_->LookupSops(LeadLookup(kMqlLeadFields));
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_GE(response->matches_size(), 1);
  const v1::SopMatch& first = response->matches(0);
  EXPECT_EQ(first.sop(), "orgs/default/sops/mql-acceptance-handoff");
  EXPECT_EQ(first.sop_body().title(), "MQL Acceptance & Handoff");
  EXPECT_EQ(first.explanation().matched_record_type(), "Lead");
  ASSERT_GE(first.explanation().matched_conditions_size(), 1);
  EXPECT_EQ(first.explanation().matched_conditions(0).condition().field(), "lead_status");
  EXPECT_EQ(first.explanation().matched_conditions(0).actual().string_value(),
            "MQL – New Handoff");
  ASSERT_GE(first.current_step_index(), 0);
  EXPECT_FALSE(first.sop_body().steps(first.current_step_index()).title().empty());
}

TEST_F(ClientIntegrationTest, AcceptedLeadGetsTheOutreachCadenceFirst) {
  auto response = client_->LookupSops(LeadLookup(
      R"pb(fields { key: "lead_status" value { string_value: "SQL – Accepted" } })pb"));
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_GE(response->matches_size(), 1);
  EXPECT_EQ(response->matches(0).sop(), "orgs/default/sops/first-touch-outreach-cadence");
}

TEST_F(ClientIntegrationTest, AePricingPlaybookMatchesOpportunitiesInNegotiation) {
  v1::LookupSopsRequest request;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(R"pb(
    context {
      org: "orgs/default" record_type: "Opportunity"
      fields { key: "stage_name" value { string_value: "Negotiation/Review" } }
    })pb", &request));
  auto response = client_->LookupSops(request);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_GE(response->matches_size(), 1);
  EXPECT_EQ(response->matches(0).sop(), "orgs/default/sops/pricing-discount-playbook");
}

TEST_F(ClientIntegrationTest, PublishedWriteIsVisibleToTheNextLookup) {
  v1::Sop draft = CreateDraft("catch-all");
  auto before = client_->LookupSops(LeadLookup(kMqlLeadFields));
  ASSERT_TRUE(before.ok());
  EXPECT_NE(before->matches(0).sop(), draft.name());
  ASSERT_TRUE(client_->PublishSop(draft.name()).ok());
  auto after = client_->LookupSops(LeadLookup(kMqlLeadFields));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->matches(0).sop(), draft.name());
}

TEST_F(ClientIntegrationTest, UpdateWithStaleEtagIsAborted) {
  v1::Sop sop = CreateDraft("etag-check");
  v1::UpdateSopRequest first;
  *first.mutable_sop() = sop;
  first.mutable_sop()->set_title("First writer");
  ASSERT_TRUE(client_->UpdateSop(first).ok());
  v1::UpdateSopRequest second;
  *second.mutable_sop() = sop;
  second.mutable_sop()->set_title("Second writer, stale etag");
  auto result = client_->UpdateSop(second);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(client_->GetSop(sop.name())->title(), "First writer");
}

TEST_F(ClientIntegrationTest, UndeleteWithStaleEtagIsAborted) {
  v1::Sop sop = CreateDraft("undelete-etag-check");
  v1::DeleteSopRequest remove;
  remove.set_name(sop.name());
  auto deleted = client_->DeleteSop(remove);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  v1::UndeleteSopRequest stale;
  stale.set_name(sop.name());
  stale.set_etag(sop.etag());
  EXPECT_EQ(client_->UndeleteSop(stale).status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(client_->GetSop(sop.name())->state(), v1::Sop::DELETED);
  v1::UndeleteSopRequest current;
  current.set_name(sop.name());
  current.set_etag(deleted->etag());
  auto undeleted = client_->UndeleteSop(current);
  ASSERT_TRUE(undeleted.ok()) << undeleted.status();
  EXPECT_EQ(undeleted->state(), v1::Sop::DRAFT);
}

TEST_F(ClientIntegrationTest, InvalidUpdateArrivesWithEveryFieldViolationAsData) {
  v1::Sop sop = CreateDraft("violations");
  v1::UpdateSopRequest update;
  *update.mutable_sop() = sop;
  update.mutable_sop()->clear_title();
  update.mutable_sop()->clear_owner();
  update.mutable_sop()->add_steps()->set_ordinal(1);
  for (const char* path : {"title", "owner", "steps"}) update.mutable_update_mask()->add_paths(path);
  const absl::Status status = client_->UpdateSop(update).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  const std::vector<error::FieldViolation> expected = {{"sop.title", "is required"},
                                                       {"sop.owner", "is required"},
                                                       {"sop.steps[0].title", "is required"}};
  EXPECT_EQ(error::FieldViolationsOf(status), expected);
  EXPECT_EQ(error::ReasonOf(client_->GetSop("orgs/default/sops/absent").status()),
            "SOP_NOT_FOUND");
}

TEST_F(ClientIntegrationTest, MalformedRequestsAreInvalidArgumentNamingTheField) {
  v1::CreateSopRequest create;
  create.set_parent("orgs/default");
  create.set_sop_id("bad");
  create.mutable_sop()->set_title(std::string(500, 'x'));
  create.mutable_sop()->set_owner("Ops");
  auto created = client_->CreateSop(create);
  EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(created.status().message(), HasSubstr("sop.title: longer than the limit of 200"));
  EXPECT_EQ(client_->GetSop("orgs/default/sops/bad").status().code(),
            absl::StatusCode::kNotFound);

  EXPECT_THAT(client_->GetSop("sops/x").status().message(), HasSubstr("name: \"sops/x\""));

  v1::LookupSopsRequest lookup = LeadLookup(kMqlLeadFields);
  (*lookup.mutable_context()->mutable_fields())["address"].mutable_struct_value();
  auto looked = client_->LookupSops(lookup);
  EXPECT_EQ(looked.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(looked.status().message(), HasSubstr("context.fields[\"address\"]"));
}

TEST_F(ClientIntegrationTest, OversizeMessageIsRejectedByTheServer) {
  v1::LookupSopsRequest lookup = LeadLookup(kMqlLeadFields);
  (*lookup.mutable_context()->mutable_fields())["blob"].set_string_value(
      std::string(5 * 1024 * 1024, 'x'));
  EXPECT_EQ(client_->LookupSops(lookup).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(ClientIntegrationTest, HistoryRecordsEveryChangeWithItsAuthor) {
  v1::Sop sop = CreateDraft("history");
  ASSERT_TRUE(client_->PublishSop(sop.name()).ok());
  v1::DeleteSopRequest del;
  del.set_name(sop.name());
  ASSERT_TRUE(client_->DeleteSop(del).ok());
  v1::UndeleteSopRequest undel;
  undel.set_name(sop.name());
  ASSERT_TRUE(client_->UndeleteSop(undel).ok());
  v1::ListSopRevisionsRequest request;
  request.set_name(sop.name());
  auto revisions = client_->ListAllSopRevisions(request);
  ASSERT_TRUE(revisions.ok()) << revisions.status();
  std::vector<std::string> summaries;
  for (const auto& r : *revisions) {
    summaries.push_back(r.change_summary());
    EXPECT_EQ(r.author(), "integration-test");
  }
  EXPECT_THAT(summaries, ElementsAre("undeleted", "deleted", "published", "created"));
}

TEST_F(ClientIntegrationTest, EverythingSurvivesARestartOnTheSameDataDir) {
  v1::Sop sop = CreateDraft("durable");
  ASSERT_TRUE(client_->PublishSop(sop.name()).ok());
  StopServer();
  StartServer();
  Reconnect();
  EXPECT_EQ(server_->import_summary().kept, 6);
  EXPECT_TRUE(server_->admin_token_path().empty());
  auto after = client_->GetSop(sop.name());
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->state(), v1::Sop::PUBLISHED);
  auto lookup = client_->LookupSops(LeadLookup(kMqlLeadFields));
  ASSERT_TRUE(lookup.ok());
  EXPECT_EQ(lookup->matches(0).sop(), sop.name());
}

TEST_F(ClientIntegrationTest, ListPagesThroughAllSops) {
  v1::ListSopsRequest request;
  request.set_parent("orgs/default");
  request.set_page_size(4);
  auto first = client_->ListSops(request);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->sops_size(), 4);
  EXPECT_FALSE(first->next_page_token().empty());
  auto all = client_->ListAllSops(request);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->size(), 6u);
}

}  // namespace
}  // namespace sopsidebar
