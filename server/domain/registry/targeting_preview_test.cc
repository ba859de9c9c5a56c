#include "server/domain/registry/targeting_preview.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"
#include "server/domain/matching/indexed_sop_matcher.h"
#include "server/domain/store/in_memory_auth_store.h"
#include "server/domain/store/in_memory_sop_store.h"

namespace sopsidebar {
namespace {

using ::testing::HasSubstr;

template <typename T>
T Parse(const std::string& text) {
  T message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

Caller MakeCaller(v1::Role role, const std::string& org = "default") {
  Caller caller;
  caller.org = org;
  caller.user_id = absl::StrCat("user-", v1::Role_Name(role));
  caller.roles = RoleBit(role);
  return caller;
}

// MQL leads: the handoff, first for every MQL (priority 100); its step
// depends on the score.
constexpr char kMql[] = R"pb(
  title: "MQL"
  owner: "Sales Ops"
  targeting_rules {
    record_types: "Lead"
    priority: 100
    conditions {
      field: "lead_status"
      equals { string_value: "MQL" }
    }
  }
  steps {
    ordinal: 1
    title: "Qualify"
    conditions {
      field: "lead_score"
      range { max: 49 }
    }
  }
  steps { ordinal: 2 title: "Hand off" }
)pb";

// Web leads (priority 50): the SOP the drafts below change.
constexpr char kNurture[] = R"pb(
  title: "Nurture"
  owner: "Marketing"
  targeting_rules {
    record_types: "Lead"
    priority: 50
    conditions {
      field: "lead_source"
      equals { string_value: "Web" }
    }
  }
  steps { ordinal: 1 title: "Send the nurture email" }
)pb";

// Web leads too, below Nurture (priority 30).
constexpr char kWebLow[] = R"pb(
  title: "Web fallback"
  owner: "Marketing"
  targeting_rules {
    record_types: "Lead"
    priority: 30
    conditions {
      field: "lead_source"
      equals { string_value: "Web" }
    }
  }
)pb";

// Nurture's draft: above MQL, and only for scores of 50 and more.
constexpr char kNurtureDraft[] = R"pb(
  title: "Nurture v2"
  owner: "Marketing"
  targeting_rules {
    record_types: "Lead"
    priority: 110
    conditions {
      field: "lead_source"
      equals { string_value: "Web" }
    }
    conditions {
      field: "lead_score"
      range { min: 50 }
    }
  }
  steps { ordinal: 1 title: "Call within the hour" }
)pb";

v1::CrmContext Lead(const std::string& id, const std::string& status, const std::string& source,
                    double score) {
  v1::CrmContext lead;
  lead.set_record_type("Lead");
  lead.set_record_id(id);
  auto& fields = *lead.mutable_fields();
  if (!status.empty()) fields["lead_status"].set_string_value(status);
  if (!source.empty()) fields["lead_source"].set_string_value(source);
  fields["lead_score"].set_number_value(score);
  return lead;
}

// One record of each change for Nurture's draft.
std::vector<v1::CrmContext> FiveLeads() {
  return {
      Lead("gained", "MQL", "Web", 80),     // MQL, Nurture, Web -> Nurture v2 first
      Lead("lost", "", "Web", 10),          // Nurture, Web -> Web only
      Lead("reranked", "MQL", "Web", 10),   // MQL, Nurture (2) -> MQL, Web
      Lead("unchanged", "", "Web", 90),     // Nurture first either way
      Lead("not-matched", "", "Phone", 90)  // nothing of Nurture's
  };
}

class TargetingPreviewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_ = SopRegistry::Create(&store_, &clock_, IndexedSopMatcher::Build).value();
    maps_ = CrmMaps::Create(&auth_store_, &clock_).value();
    preview_ = std::make_unique<TargetingPreview>(registry_.get(), maps_.get());
    Publish("mql", kMql);
    Publish("nurture", kNurture);
    Publish("web-low", kWebLow);
  }

  v1::Sop Publish(const std::string& id, const std::string& body) {
    v1::CreateSopRequest create;
    create.set_parent("orgs/default");
    create.set_sop_id(id);
    *create.mutable_sop() = Parse<v1::Sop>(body);
    auto sop = registry_->CreateSop(admin_, create);
    EXPECT_TRUE(sop.ok()) << sop.status();
    v1::PublishSopRequest publish;
    publish.set_name(sop->name());
    auto published = registry_->PublishSop(admin_, publish);
    EXPECT_TRUE(published.ok()) << published.status();
    return published->sop();
  }

  // Saves kNurtureDraft as Nurture's draft (its published revision stays).
  void SaveNurtureDraft() {
    v1::UpdateSopRequest update;
    *update.mutable_sop() = Parse<v1::Sop>(kNurtureDraft);
    update.mutable_sop()->set_name("orgs/default/sops/nurture");
    ASSERT_TRUE(registry_->UpdateSop(admin_, update).ok());
  }

  static v1::PreviewTargetingRequest BySop(const std::string& sop,
                                           const std::vector<v1::CrmContext>& records) {
    v1::PreviewTargetingRequest request;
    request.set_parent("orgs/default");
    request.set_sop(sop);
    for (const auto& r : records) *request.add_records() = r;
    return request;
  }

  static v1::PreviewTargetingRequest ByDraft(const v1::Sop& draft,
                                             const std::vector<v1::CrmContext>& records) {
    v1::PreviewTargetingRequest request;
    request.set_parent("orgs/default");
    *request.mutable_draft() = draft;
    for (const auto& r : records) *request.add_records() = r;
    return request;
  }

  // Each record as "id change before/after current|step -> preview|step".
  static std::vector<std::string> Lines(const v1::PreviewTargetingResponse& response) {
    std::vector<std::string> lines;
    for (const v1::RecordPreview& r : response.records()) {
      lines.push_back(absl::StrCat(r.record_id(), " ", v1::RecordPreview::Change_Name(r.change()),
                                   " ", r.rank_before(), "/", r.rank_after(), " ", r.current_sop(),
                                   "|", r.current_step(), " -> ", r.preview_sop(), "|",
                                   r.preview_step()));
    }
    return lines;
  }

  FakeClock clock_;
  InMemorySopStore store_;
  InMemoryAuthStore auth_store_;
  std::unique_ptr<SopRegistry> registry_;
  std::unique_ptr<CrmMaps> maps_;
  std::unique_ptr<TargetingPreview> preview_;
  const Caller admin_ = MakeCaller(v1::ADMIN);
  const Caller ops_ = MakeCaller(v1::SALES_OPS);
};

const std::vector<std::string> kFiveLines = {
    "gained GAINED 2/1 orgs/default/sops/mql|Hand off -> orgs/default/sops/nurture|Call within "
    "the hour",
    "lost LOST 1/0 orgs/default/sops/nurture|Send the nurture email -> "
    "orgs/default/sops/web-low|",
    "reranked RERANKED 2/0 orgs/default/sops/mql|Qualify -> orgs/default/sops/mql|Qualify",
    "unchanged UNCHANGED 1/1 orgs/default/sops/nurture|Send the nurture email -> "
    "orgs/default/sops/nurture|Call within the hour",
    "not-matched NOT_MATCHED 0/0 | -> |",
};

TEST_F(TargetingPreviewTest, ClassifiesEachRecordOfTheSavedDraftWithItsSteps) {
  SaveNurtureDraft();
  auto response = preview_->Preview(ops_, BySop("orgs/default/sops/nurture", FiveLeads()));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(Lines(*response), kFiveLines);
  EXPECT_EQ(response->gained(), 1);
  EXPECT_EQ(response->lost(), 1);
  EXPECT_EQ(response->reranked(), 1);
  EXPECT_EQ(response->unchanged(), 1);
  EXPECT_EQ(response->not_matched(), 1);
}

TEST_F(TargetingPreviewTest, AnUnsavedEditOfAnExistingSopReplacesItsPublishedRevision) {
  v1::Sop draft = Parse<v1::Sop>(kNurtureDraft);
  draft.set_name("orgs/default/sops/nurture");
  auto response = preview_->Preview(ops_, ByDraft(draft, FiveLeads()));
  ASSERT_TRUE(response.ok()) << response.status();
  // Had it been added beside the published Nurture, "lost" would keep
  // Nurture first: the same five lines show it took Nurture's place.
  EXPECT_EQ(Lines(*response), kFiveLines);
}

TEST_F(TargetingPreviewTest, AnUnsavedSopWithoutANameIsPreviewedAsNew) {
  auto response = preview_->Preview(ops_, ByDraft(Parse<v1::Sop>(kNurtureDraft), FiveLeads()));
  ASSERT_TRUE(response.ok()) << response.status();
  // Nurture stays published, so only records that put the new SOP first
  // change; the rest either never match it or keep their top.
  EXPECT_EQ(Lines(*response)[0],
            "gained GAINED 0/1 orgs/default/sops/mql|Hand off -> orgs/default/sops/_draft|Call "
            "within the hour");
  EXPECT_EQ(Lines(*response)[1],
            "lost NOT_MATCHED 0/0 orgs/default/sops/nurture|Send the "
            "nurture email -> orgs/default/sops/nurture|Send the nurture email");
  EXPECT_EQ(response->gained(), 2);  // "gained" and "unchanged" (score 90 >= 50)
  EXPECT_EQ(response->not_matched(), 3);
}

TEST_F(TargetingPreviewTest, StoresNothing) {
  SaveNurtureDraft();
  v1::GetSopRequest get;
  get.set_name("orgs/default/sops/nurture");
  const v1::Sop head = registry_->GetSop(admin_, get).value();
  v1::Sop draft = Parse<v1::Sop>(kNurtureDraft);
  draft.set_name("orgs/default/sops/nurture");
  draft.mutable_targeting_rules(0)->set_priority(900);
  ASSERT_TRUE(preview_->Preview(ops_, ByDraft(draft, FiveLeads())).ok());
  ASSERT_TRUE(preview_->Preview(ops_, BySop(head.name(), FiveLeads())).ok());
  EXPECT_EQ(registry_->GetSop(admin_, get)->SerializeAsString(), head.SerializeAsString());
  // Lookups still see the published Nurture.
  v1::LookupSopsRequest lookup;
  *lookup.mutable_context() = Lead("x", "", "Web", 10);
  EXPECT_EQ(registry_->LookupSops(ops_, lookup)->matches(0).sop(), "orgs/default/sops/nurture");
}

TEST_F(TargetingPreviewTest, ASopHiddenFromTheCallerNeverShows) {
  // Visible to AEs only, above everything for MQLs.
  Publish("ae-only", R"pb(
    title: "AE only"
    owner: "Sales"
    visibility_roles: AE
    targeting_rules {
      record_types: "Lead"
      priority: 500
      conditions {
        field: "lead_status"
        equals { string_value: "MQL" }
      }
    }
  )pb");
  const Caller manager = MakeCaller(v1::SALES_MANAGER);
  v1::Sop draft = Parse<v1::Sop>(kNurtureDraft);
  auto response = preview_->Preview(manager, ByDraft(draft, FiveLeads()));
  ASSERT_TRUE(response.ok()) << response.status();
  for (const v1::RecordPreview& r : response->records()) {
    EXPECT_NE(r.current_sop(), "orgs/default/sops/ae-only") << r.record_id();
    EXPECT_NE(r.preview_sop(), "orgs/default/sops/ae-only") << r.record_id();
  }
  EXPECT_EQ(response->records(0).change(), v1::RecordPreview::GAINED);
  // An editor sees it: it stays first, so the draft only moves up to second.
  response = preview_->Preview(ops_, ByDraft(draft, FiveLeads()));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->records(0).current_sop(), "orgs/default/sops/ae-only");
  EXPECT_EQ(response->records(0).change(), v1::RecordPreview::RERANKED);
  // By name, the hidden SOP is as missing as one that does not exist.
  auto hidden = preview_->Preview(manager, BySop("orgs/default/sops/ae-only", FiveLeads()));
  auto missing = preview_->Preview(manager, BySop("orgs/default/sops/nope", FiveLeads()));
  EXPECT_EQ(hidden.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(hidden.status().message(), HasSubstr("ae-only"));
}

TEST_F(TargetingPreviewTest, EditorsAndManagersMayPreviewRepsMayNot) {
  const v1::Sop draft = Parse<v1::Sop>(kNurtureDraft);
  for (v1::Role role : {v1::SALES_OPS, v1::ADMIN, v1::SALES_MANAGER, v1::MARKETING}) {
    EXPECT_TRUE(preview_->Preview(MakeCaller(role), ByDraft(draft, FiveLeads())).ok()) << role;
  }
  for (v1::Role role : {v1::SDR, v1::AE, v1::VP_SALES, v1::MARKETING_DIRECTOR, v1::INTEGRATION}) {
    EXPECT_EQ(preview_->Preview(MakeCaller(role), ByDraft(draft, FiveLeads())).status().code(),
              absl::StatusCode::kPermissionDenied)
        << role;
  }
  // An SOP's saved draft needs draft access, which a manager lacks.
  EXPECT_EQ(
      preview_
          ->Preview(MakeCaller(v1::SALES_MANAGER), BySop("orgs/default/sops/nurture", FiveLeads()))
          .status()
          .code(),
      absl::StatusCode::kPermissionDenied);
}

TEST_F(TargetingPreviewTest, RecordsInACrmsNamesAreMappedByTheOrgsFieldMap) {
  SaveNurtureDraft();
  v1::CrmContext lead;
  lead.set_crm("salesforce");
  lead.set_record_type("Lead");
  lead.set_record_id("00Q1");
  (*lead.mutable_fields())["LeadSource"].set_string_value("Web");
  (*lead.mutable_fields())["MQL_Score__c"].set_number_value(10);
  auto response = preview_->Preview(ops_, BySop("orgs/default/sops/nurture", {lead}));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->records(0).change(), v1::RecordPreview::LOST);
  (*lead.mutable_fields())["MQL_Score__c"].set_string_value("lots");
  auto bad = preview_->Preview(ops_, BySop("orgs/default/sops/nurture", {lead}));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("records[0]"));
  EXPECT_THAT(bad.status().message(), HasSubstr("MQL_Score__c"));
}

TEST_F(TargetingPreviewTest, RecordsWithoutAnIdAreNamedByTheirIndex) {
  v1::CrmContext lead = Lead("", "", "Web", 90);
  auto response = preview_->Preview(ops_, ByDraft(Parse<v1::Sop>(kNurtureDraft), {lead, lead}));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->records(0).record_id(), "0");
  EXPECT_EQ(response->records(1).record_id(), "1");
}

TEST_F(TargetingPreviewTest, RefusesBadRequestsNamingTheField) {
  const v1::Sop draft = Parse<v1::Sop>(kNurtureDraft);
  auto expect = [&](const v1::PreviewTargetingRequest& request, absl::StatusCode code,
                    const std::string& names) {
    auto response = preview_->Preview(ops_, request);
    EXPECT_EQ(response.status().code(), code) << names << ": " << response.status();
    EXPECT_THAT(response.status().message(), HasSubstr(names));
  };
  v1::PreviewTargetingRequest no_parent = ByDraft(draft, FiveLeads());
  no_parent.clear_parent();
  expect(no_parent, absl::StatusCode::kInvalidArgument, "parent");
  v1::PreviewTargetingRequest other_org = ByDraft(draft, FiveLeads());
  other_org.set_parent("orgs/acme");
  expect(other_org, absl::StatusCode::kNotFound, "orgs/acme");
  v1::PreviewTargetingRequest no_subject = ByDraft(draft, FiveLeads());
  no_subject.clear_draft();
  expect(no_subject, absl::StatusCode::kInvalidArgument, "sop");
  expect(ByDraft(draft, {}), absl::StatusCode::kInvalidArgument, "records");
  std::vector<v1::CrmContext> too_many(kMaxPreviewRecords + 1, Lead("", "", "Web", 1));
  expect(ByDraft(draft, too_many), absl::StatusCode::kInvalidArgument, "records");
  std::vector<v1::CrmContext> bad = FiveLeads();
  bad[3].clear_record_type();
  expect(ByDraft(draft, bad), absl::StatusCode::kInvalidArgument, "records[3].record_type");
  bad = FiveLeads();
  bad[2].set_org("orgs/acme");
  expect(ByDraft(draft, bad), absl::StatusCode::kNotFound, "orgs/acme");
  v1::Sop invalid = draft;
  invalid.clear_title();
  expect(ByDraft(invalid, FiveLeads()), absl::StatusCode::kInvalidArgument, "draft.title");
  v1::Sop elsewhere = draft;
  elsewhere.set_name("orgs/acme/sops/nurture");
  expect(ByDraft(elsewhere, FiveLeads()), absl::StatusCode::kInvalidArgument, "draft.name");
  expect(BySop("not a name", FiveLeads()), absl::StatusCode::kInvalidArgument, "sop");
}

TEST_F(TargetingPreviewTest, TakesTheMostRecordsAllowed) {
  std::vector<v1::CrmContext> leads;
  for (int i = 0; i < kMaxPreviewRecords; ++i) {
    leads.push_back(Lead(absl::StrCat("r", i), i % 2 ? "MQL" : "", "Web", i % 100));
  }
  SaveNurtureDraft();
  auto response = preview_->Preview(ops_, BySop("orgs/default/sops/nurture", leads));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->records_size(), kMaxPreviewRecords);
  // Scores >= 50 put Nurture v2 first: gained for MQLs (i odd), unchanged for
  // the rest; below 50, MQLs rerank (2 -> none) and the others lose it.
  EXPECT_EQ(response->gained(), 2500);
  EXPECT_EQ(response->unchanged(), 2500);
  EXPECT_EQ(response->reranked(), 2500);
  EXPECT_EQ(response->lost(), 2500);
  EXPECT_EQ(response->not_matched(), 0);
}

TEST_F(TargetingPreviewTest, ADeletedSopsDraftIsNotPreviewed) {
  v1::DeleteSopRequest del;
  del.set_name("orgs/default/sops/web-low");
  ASSERT_TRUE(registry_->DeleteSop(admin_, del).ok());
  EXPECT_EQ(
      preview_->Preview(ops_, BySop("orgs/default/sops/web-low", FiveLeads())).status().code(),
      absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace sopsidebar
