#include "server/domain/registry/sop_registry.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/errors.h"
#include "gmock/gmock.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "server/domain/matching/linear_sop_matcher.h"
#include "server/domain/store/in_memory_sop_store.h"

namespace sopsidebar {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kMqlSop[] = R"pb(
  title: "MQL Acceptance & Handoff"
  owner: "Sales Operations Manager"
  tags: "mql"
  targeting_rules {
    record_types: "Lead" priority: 100
    conditions { field: "lead_status" equals { string_value: "MQL – New Handoff" } }
  }
  steps { ordinal: 1 title: "Open the lead within 5 minutes" }
)pb";

constexpr char kMqlLead[] = R"pb(
  org: "orgs/default" record_type: "Lead"
  fields { key: "lead_status" value { string_value: "MQL – New Handoff" } }
)pb";

Caller MakeCaller(RoleSet roles, const std::string& org = "default") {
  Caller caller;
  caller.org = org;
  caller.user_id = "ops@example.com";
  caller.roles = roles;
  return caller;
}

template <typename T>
T Parse(const std::string& text) {
  T message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

class SopRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override { registry_ = NewRegistry(); }

  std::unique_ptr<SopRegistry> NewRegistry() {
    auto registry = SopRegistry::Create(&store_, &clock_, LinearSopMatcher::Build, options_);
    EXPECT_TRUE(registry.ok()) << registry.status();
    return std::move(registry).value();
  }

  v1::Sop Create(const std::string& id, const std::string& body = kMqlSop,
                 const std::string& request_id = "") {
    v1::CreateSopRequest request;
    request.set_parent("orgs/default");
    request.set_sop_id(id);
    request.set_request_id(request_id);
    *request.mutable_sop() = Parse<v1::Sop>(body);
    auto sop = registry_->CreateSop(caller_, request);
    EXPECT_TRUE(sop.ok()) << sop.status();
    return sop.value_or(v1::Sop());
  }

  absl::StatusOr<v1::Sop> Publish(const std::string& name, const std::string& etag = "") {
    v1::PublishSopRequest request;
    request.set_name(name);
    request.set_etag(etag);
    auto published = registry_->PublishSop(caller_, request);
    if (!published.ok()) return published.status();
    last_ties_.assign(published->ties().begin(), published->ties().end());
    return published->sop();
  }

  absl::StatusOr<v1::Sop> Update(v1::Sop sop, std::vector<std::string> paths = {}) {
    v1::UpdateSopRequest request;
    *request.mutable_sop() = std::move(sop);
    for (auto& p : paths) request.mutable_update_mask()->add_paths(p);
    return registry_->UpdateSop(caller_, request);
  }

  std::vector<std::string> LookupIds(const std::string& context = kMqlLead) {
    v1::LookupSopsRequest request;
    *request.mutable_context() = Parse<v1::CrmContext>(context);
    auto response = registry_->LookupSops(caller_, request);
    EXPECT_TRUE(response.ok()) << response.status();
    std::vector<std::string> names;
    if (response.ok()) {
      for (const auto& m : response->matches()) names.push_back(m.sop());
    }
    return names;
  }

  // What every read path tells `caller` about the SOP `id`, with the id
  // written as "X", so that the answers for two SOPs compare.
  std::vector<std::string> ReadPathAnswers(const Caller& caller, const std::string& id) {
    const std::string name = "orgs/default/sops/" + id;
    auto answer = [&id](absl::string_view path, const absl::Status& status) {
      return absl::StrCat(path, ": ", absl::StrReplaceAll(
          status.ToString(absl::StatusToStringMode::kWithNoExtraData), {{id, "X"}}));
    };
    std::vector<std::string> answers;
    v1::GetSopRequest get;
    get.set_name(name);
    answers.push_back(answer("GetSop", registry_->GetSop(caller, get).status()));
    v1::ListSopRevisionsRequest revisions;
    revisions.set_name(name);
    answers.push_back(
        answer("ListSopRevisions", registry_->ListSopRevisions(caller, revisions).status()));
    v1::GetSopRevisionRequest revision;
    revision.set_name(name + "/revisions/1");
    answers.push_back(
        answer("GetSopRevision", registry_->GetSopRevision(caller, revision).status()));
    v1::CheckTargetingRequest check;
    check.set_name(name);
    answers.push_back(answer("CheckTargeting", registry_->CheckTargeting(caller, check).status()));
    v1::ListSopsRequest list;
    list.set_parent("orgs/default");
    auto listed = registry_->ListSops(caller, list);
    const v1::ListSopsResponse sops = listed.value_or(v1::ListSopsResponse());
    bool in_list = false;
    for (const v1::Sop& sop : sops.sops()) in_list |= sop.name() == name;
    answers.push_back(
        answer(in_list ? "ListSops lists it" : "ListSops leaves it out", listed.status()));
    v1::LookupSopsRequest lookup;
    *lookup.mutable_context() = Parse<v1::CrmContext>(kMqlLead);
    auto found = registry_->LookupSops(caller, lookup);
    const v1::LookupSopsResponse matches = found.value_or(v1::LookupSopsResponse());
    bool matched = false;
    for (const v1::SopMatch& match : matches.matches()) matched |= match.sop() == name;
    answers.push_back(
        answer(matched ? "LookupSops matches it" : "LookupSops leaves it out", found.status()));
    return answers;
  }

  FakeClock clock_;
  InMemorySopStore store_;
  SopRegistry::Options options_;
  Caller caller_ = MakeCaller(RoleBit(v1::SALES_OPS));
  // The ties the last Publish warned about.
  std::vector<v1::TargetingTie> last_ties_;
  std::unique_ptr<SopRegistry> registry_;
};

TEST_F(SopRegistryTest, CreateStoresADraftWithRevisionOne) {
  v1::Sop sop = Create("mql");
  EXPECT_EQ(sop.name(), "orgs/default/sops/mql");
  EXPECT_EQ(sop.state(), v1::Sop::DRAFT);
  EXPECT_EQ(sop.revision_id(), "1");
  EXPECT_FALSE(sop.etag().empty());
  EXPECT_TRUE(sop.has_create_time());
  auto revision = registry_->GetSopRevision(caller_, Parse<v1::GetSopRevisionRequest>(
      R"pb(name: "orgs/default/sops/mql/revisions/1")pb"));
  ASSERT_TRUE(revision.ok()) << revision.status();
  EXPECT_EQ(revision->author(), "ops@example.com");
  EXPECT_EQ(revision->change_summary(), "created");
  EXPECT_EQ(revision->snapshot().title(), "MQL Acceptance & Handoff");
  EXPECT_EQ(store_.write_count(), 1);
}

TEST_F(SopRegistryTest, CreateWithoutIdGeneratesOne) {
  v1::Sop sop = Create("");
  EXPECT_THAT(sop.name(), HasSubstr("orgs/default/sops/sop-"));
}

TEST_F(SopRegistryTest, CreateRetriedWithSameRequestIdReturnsTheFirstSop) {
  v1::Sop first = Create("", kMqlSop, "req-1");
  v1::Sop second = Create("", kMqlSop, "req-1");
  EXPECT_EQ(first.name(), second.name());
  EXPECT_EQ(first.etag(), second.etag());
  EXPECT_EQ(store_.write_count(), 1);
}

TEST_F(SopRegistryTest, RequestIdsAreScopedToTheCaller) {
  const v1::Sop mine = Create("", kMqlSop, "req-1");
  Caller dana = MakeCaller(RoleBit(v1::SALES_OPS));
  dana.user_id = "dana@example.com";
  v1::CreateSopRequest request;
  request.set_parent("orgs/default");
  request.set_request_id("req-1");
  *request.mutable_sop() = Parse<v1::Sop>(kMqlSop);
  request.mutable_sop()->set_title("Dana's handoff");
  auto theirs = registry_->CreateSop(dana, request);
  ASSERT_TRUE(theirs.ok()) << theirs.status();
  EXPECT_NE(theirs->name(), mine.name());
  EXPECT_EQ(theirs->title(), "Dana's handoff");
  // Each caller's retry returns that caller's SOP, writing nothing.
  auto retried = registry_->CreateSop(dana, request);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->name(), theirs->name());
  EXPECT_EQ(retried->etag(), theirs->etag());
  const v1::Sop mine_again = Create("", kMqlSop, "req-1");
  EXPECT_EQ(mine_again.name(), mine.name());
  EXPECT_EQ(mine_again.title(), "MQL Acceptance & Handoff");
  EXPECT_EQ(store_.write_count(), 2);
}

TEST_F(SopRegistryTest, CreateOfTakenIdIsAlreadyExists) {
  Create("mql");
  v1::CreateSopRequest request;
  request.set_parent("orgs/default");
  request.set_sop_id("mql");
  *request.mutable_sop() = Parse<v1::Sop>(kMqlSop);
  EXPECT_EQ(registry_->CreateSop(caller_, request).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(SopRegistryTest, InvalidCreateNamesTheFieldAndWritesNothing) {
  v1::CreateSopRequest request;
  request.set_parent("orgs/default");
  request.set_sop_id("mql");
  *request.mutable_sop() = Parse<v1::Sop>(kMqlSop);
  request.mutable_sop()->add_steps()->set_ordinal(1);
  auto sop = registry_->CreateSop(caller_, request);
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(sop.status().message(), HasSubstr("sop.steps[1].ordinal: duplicate ordinal 1"));
  request = v1::CreateSopRequest();
  request.set_parent("org/default");
  EXPECT_THAT(registry_->CreateSop(caller_, request).status().message(),
              HasSubstr("parent: \"org/default\" is not a valid name"));
  request.set_parent("orgs/default");
  request.set_sop_id("Bad_Id");
  *request.mutable_sop() = Parse<v1::Sop>(kMqlSop);
  EXPECT_THAT(registry_->CreateSop(caller_, request).status().message(), HasSubstr("sop_id:"));
  EXPECT_EQ(store_.write_count(), 0);
}

TEST_F(SopRegistryTest, UpdateWithStaleEtagIsAborted) {
  v1::Sop sop = Create("mql");
  v1::Sop first = sop;
  first.set_title("Renamed");
  ASSERT_TRUE(Update(first).ok());
  v1::Sop stale = sop;  // still carries the creation etag
  stale.set_title("Lost update");
  auto result = Update(stale);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(registry_->GetSop(caller_, Parse<v1::GetSopRequest>(R"pb(name: "orgs/default/sops/mql")pb"))
                ->title(),
            "Renamed");
}

TEST_F(SopRegistryTest, UpdateMaskReplacesOnlyNamedFields) {
  v1::Sop sop = Create("mql");
  v1::Sop change;
  change.set_name(sop.name());
  change.set_title("New title");
  change.set_owner("ignored because not in mask");
  auto updated = Update(change, {"title"});
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->title(), "New title");
  EXPECT_EQ(updated->owner(), "Sales Operations Manager");
  EXPECT_EQ(updated->steps_size(), 1);
  EXPECT_EQ(updated->revision_id(), "2");
  auto history = registry_->ListSopRevisions(caller_, 
      Parse<v1::ListSopRevisionsRequest>(R"pb(name: "orgs/default/sops/mql")pb"));
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->revisions(0).change_summary(), "updated title");
}

TEST_F(SopRegistryTest, UpdateMaskWithUnknownOrOutputOnlyPathIsInvalid) {
  v1::Sop sop = Create("mql");
  for (const char* path : {"nope", "etag", "name", "state"}) {
    auto result = Update(sop, {path});
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << path;
    EXPECT_THAT(result.status().message(), HasSubstr("update_mask.paths[0]")) << path;
  }
}

// AIP-134: without a mask, an update writes the fields the request sets.
TEST_F(SopRegistryTest, UpdateWithoutMaskChangesOnlyTheFieldsTheRequestSets) {
  v1::Sop sop = Create("mql");
  v1::Sop with_purpose;
  with_purpose.set_name(sop.name());
  with_purpose.set_purpose("Decide on every MQL within minutes.");
  sop = *Update(with_purpose);
  ASSERT_EQ(sop.purpose(), "Decide on every MQL within minutes.");
  v1::Sop change;
  change.set_name(sop.name());
  change.set_title("Only the title");
  auto updated = Update(change);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->title(), "Only the title");
  EXPECT_EQ(updated->purpose(), sop.purpose());
  EXPECT_EQ(updated->owner(), sop.owner());
  EXPECT_EQ(updated->steps_size(), sop.steps_size());
  EXPECT_EQ(updated->targeting_rules_size(), sop.targeting_rules_size());
  auto history = registry_->ListSopRevisions(
      caller_, Parse<v1::ListSopRevisionsRequest>(R"pb(name: "orgs/default/sops/mql")pb"));
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->revisions(0).change_summary(), "updated title");
}

TEST_F(SopRegistryTest, UpdateWithStarReplacesEveryMutableFieldClearingTheUnset) {
  v1::Sop sop = Create("mql");
  sop.set_purpose("Decide on every MQL within minutes.");
  sop.add_tags("handoff-sla");
  sop = *Update(sop);
  ASSERT_GT(sop.tags_size(), 0);
  v1::Sop change = sop;
  change.clear_purpose();
  change.clear_tags();
  auto kept = Update(change);  // no mask: unset fields are not part of it
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->purpose(), sop.purpose());
  change.set_etag(kept->etag());
  auto replaced = Update(change, {"*"});
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  EXPECT_EQ(replaced->purpose(), "");
  EXPECT_EQ(replaced->tags_size(), 0);
  EXPECT_EQ(replaced->title(), sop.title());
}

TEST_F(SopRegistryTest, UpdateMaskNamingAnOutputOnlyFieldIsRejectedNamingIt) {
  v1::Sop sop = Create("mql");
  auto result = Update(sop, {"title", "publish_time"});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(result.status().message(), "update_mask.paths[1]: \"publish_time\" is output only");
  result = Update(sop, {"name"});
  EXPECT_EQ(result.status().message(),
            "update_mask.paths[0]: \"name\" identifies the SOP and is never updated");
  result = Update(sop, {"steps.title"});
  EXPECT_EQ(result.status().message(), "update_mask.paths[0]: \"steps.title\" is not a field of Sop");
  result = Update(sop, {"title", "*"});
  EXPECT_EQ(result.status().message(), "update_mask.paths[1]: \"*\" must be the only path");
  EXPECT_EQ(store_.write_count(), 1);  // the create
}

TEST_F(SopRegistryTest, UpdateThatChangesNothingWritesNothing) {
  v1::Sop sop = Create("mql");
  auto same = Update(sop);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->revision_id(), "1");
  EXPECT_EQ(store_.write_count(), 1);
}

TEST_F(SopRegistryTest, InvalidUpdateWritesNothing) {
  v1::Sop sop = Create("mql");
  sop.clear_title();
  auto result = Update(sop, {"*"});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(), HasSubstr("sop.title: is required"));
  EXPECT_EQ(store_.write_count(), 1);
}

TEST_F(SopRegistryTest, OnlyPublishedRevisionsAreMatched) {
  v1::Sop sop = Create("mql");
  EXPECT_TRUE(LookupIds().empty());
  auto published = Publish(sop.name());
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(published->state(), v1::Sop::PUBLISHED);
  EXPECT_EQ(published->published_revision_id(), published->revision_id());
  EXPECT_THAT(LookupIds(), ElementsAre("orgs/default/sops/mql"));
}

TEST_F(SopRegistryTest, DraftChangesStayInvisibleUntilRepublished) {
  v1::Sop sop = *Publish(Create("mql").name());
  sop.mutable_targeting_rules(0)->mutable_conditions(0)->mutable_equals()->set_string_value(
      "SQL – Accepted");
  auto draft = Update(sop);
  ASSERT_TRUE(draft.ok()) << draft.status();
  EXPECT_NE(draft->revision_id(), draft->published_revision_id());
  EXPECT_THAT(LookupIds(), ElementsAre("orgs/default/sops/mql"));
  ASSERT_TRUE(Publish(sop.name()).ok());
  EXPECT_TRUE(LookupIds().empty());
}

TEST_F(SopRegistryTest, CatalogListenerHearsEveryChangeOfThePublishedCatalogOnce) {
  // What lookups returned each time the listener was called.
  std::vector<std::vector<std::string>> heard;
  registry_->SetCatalogListener([&] { heard.push_back(LookupIds()); });
  const std::string mql = "orgs/default/sops/mql";
  v1::Sop sop = Create("mql");
  Create("draft");
  EXPECT_TRUE(heard.empty()) << "creates publish nothing";

  ASSERT_TRUE(Publish(mql).ok());
  ASSERT_TRUE(Publish(mql).ok());  // the published revision again: no change
  EXPECT_THAT(heard, ElementsAre(ElementsAre(mql)));

  sop = *registry_->GetSop(caller_, Parse<v1::GetSopRequest>("name: '" + mql + "'"));
  sop.set_title("A draft ahead of the published revision");
  ASSERT_TRUE(Update(sop).ok());
  EXPECT_EQ(heard.size(), 1u) << "a draft change publishes nothing";

  ASSERT_TRUE(registry_->DeleteSop(caller_, Parse<v1::DeleteSopRequest>("name: '" + mql + "'"))
                  .ok());
  ASSERT_TRUE(registry_
                  ->DeleteSop(caller_,
                              Parse<v1::DeleteSopRequest>("name: 'orgs/default/sops/draft'"))
                  .ok());  // never published
  ASSERT_TRUE(
      registry_->UndeleteSop(caller_, Parse<v1::UndeleteSopRequest>("name: '" + mql + "'")).ok());
  // Each call saw the catalog as the change left it.
  EXPECT_THAT(heard, ElementsAre(ElementsAre(mql), ElementsAre(), ElementsAre(mql)));
}

TEST_F(SopRegistryTest, PublishWithoutTargetingIsFailedPrecondition) {
  v1::Sop sop = Create("bare", R"pb(title: "No rules" owner: "Ops")pb");
  EXPECT_EQ(Publish(sop.name()).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(SopRegistryTest, PublishingTwiceWritesOnce) {
  v1::Sop sop = Create("mql");
  ASSERT_TRUE(Publish(sop.name()).ok());
  ASSERT_TRUE(Publish(sop.name()).ok());
  EXPECT_EQ(store_.write_count(), 2);
}

TEST_F(SopRegistryTest, DeleteStopsMatchingAndUndeleteRestores) {
  v1::Sop sop = *Publish(Create("mql").name());
  auto deleted = registry_->DeleteSop(caller_, Parse<v1::DeleteSopRequest>(
                                                   R"pb(name: "orgs/default/sops/mql")pb"));
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(deleted->state(), v1::Sop::DELETED);
  EXPECT_TRUE(deleted->has_delete_time());
  EXPECT_TRUE(LookupIds().empty());
  EXPECT_EQ(Update(*deleted).status().code(), absl::StatusCode::kFailedPrecondition);
  auto restored = registry_->UndeleteSop(
      caller_, Parse<v1::UndeleteSopRequest>(R"pb(name: "orgs/default/sops/mql")pb"));
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->state(), v1::Sop::PUBLISHED);
  EXPECT_THAT(LookupIds(), ElementsAre("orgs/default/sops/mql"));
}

TEST_F(SopRegistryTest, DeleteWithStaleEtagIsAborted) {
  v1::Sop sop = Create("mql");
  ASSERT_TRUE(Publish(sop.name()).ok());
  v1::DeleteSopRequest request;
  request.set_name(sop.name());
  request.set_etag(sop.etag());
  EXPECT_EQ(registry_->DeleteSop(caller_, request).status().code(), absl::StatusCode::kAborted);
}

TEST_F(SopRegistryTest, MissingSopIsNotFoundEverywhere) {
  const std::string name = "orgs/default/sops/ghost";
  EXPECT_EQ(registry_->GetSop(caller_, Parse<v1::GetSopRequest>("name: '" + name + "'")).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Publish(name).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(registry_
                ->ListSopRevisions(caller_, Parse<v1::ListSopRevisionsRequest>("name: '" + name + "'"))
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

TEST_F(SopRegistryTest, ListFiltersAndPages) {
  for (const char* id : {"a", "b", "c", "d", "e"}) Create(id);
  ASSERT_TRUE(Publish("orgs/default/sops/b").ok());
  ASSERT_TRUE(Publish("orgs/default/sops/d").ok());
  ASSERT_TRUE(registry_->DeleteSop(caller_, Parse<v1::DeleteSopRequest>(
                                                "name: 'orgs/default/sops/e'"))
                  .ok());

  v1::ListSopsRequest request;
  request.set_parent("orgs/default");
  request.set_page_size(2);
  std::vector<std::string> names;
  for (int pages = 0; pages < 5; ++pages) {
    auto page = registry_->ListSops(caller_, request);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& s : page->sops()) names.push_back(s.name());
    if (page->next_page_token().empty()) break;
    request.set_page_token(page->next_page_token());
  }
  EXPECT_THAT(names, ElementsAre("orgs/default/sops/a", "orgs/default/sops/b",
                                 "orgs/default/sops/c", "orgs/default/sops/d"));

  request = v1::ListSopsRequest();
  request.set_parent("orgs/default");
  request.set_filter("state = PUBLISHED AND tags:\"mql\"");
  auto published = registry_->ListSops(caller_, request);
  ASSERT_TRUE(published.ok()) << published.status();
  ASSERT_EQ(published->sops_size(), 2);
  EXPECT_EQ(published->sops(1).name(), "orgs/default/sops/d");

  request.set_filter("state = DELETED");
  EXPECT_EQ(registry_->ListSops(caller_, request)->sops_size(), 1);
  request.set_filter("owner = \"Nobody\"");
  EXPECT_EQ(registry_->ListSops(caller_, request)->sops_size(), 0);
  request.set_filter("colour = red");
  EXPECT_THAT(registry_->ListSops(caller_, request).status().message(), HasSubstr("filter:"));
}

TEST_F(SopRegistryTest, MalformedFilterIsInvalidNamingThePosition) {
  Create("a");
  v1::ListSopsRequest request;
  request.set_parent("orgs/default");
  const std::pair<const char*, const char*> cases[] = {
      {"owner = \"Sales Ops", "filter: unterminated quote at position 8"},
      {"tags:\"mql\" AND", "filter: empty term after AND at position 11"},
      {"AND state = DRAFT", "filter: empty term before AND at position 0"},
      {"state = DRAFT AND AND tags:\"mql\"", "filter: empty term before AND at position 18"},
  };
  for (const auto& [filter, message] : cases) {
    request.set_filter(filter);
    auto page = registry_->ListSops(caller_, request);
    EXPECT_EQ(page.status().code(), absl::StatusCode::kInvalidArgument) << filter;
    EXPECT_EQ(page.status().message(), absl::string_view(message)) << filter;
  }
}

TEST_F(SopRegistryTest, PageTokenFromAnotherRequestIsInvalid) {
  for (const char* id : {"a", "b", "c"}) Create(id);
  v1::ListSopsRequest request;
  request.set_parent("orgs/default");
  request.set_page_size(1);
  auto page = registry_->ListSops(caller_, request);
  ASSERT_TRUE(page.ok());
  request.set_page_token(page->next_page_token());
  request.set_filter("state = DRAFT");
  auto misuse = registry_->ListSops(caller_, request);
  EXPECT_EQ(misuse.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(misuse.status().message(), HasSubstr("page_token"));
  request.set_page_token("garbage!");
  EXPECT_EQ(registry_->ListSops(caller_, request).status().code(), absl::StatusCode::kInvalidArgument);
}

void ExpectInvalidPageToken(const absl::Status& status) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr("page_token: "));
}

TEST_F(SopRegistryTest, ForgedPageTokenWithAChosenStartKeyIsInvalid) {
  for (const char* id : {"a", "b", "c", "d"}) Create(id);
  v1::ListSopsRequest list;
  list.set_parent("orgs/default");
  // The token an unsigned codec would give for "continue after b" on this
  // request: a caller can write it without ever being given it.
  list.set_page_token(
      absl::WebSafeBase64Escape("b\x1f"
                                "orgs/default||0"));
  ExpectInvalidPageToken(registry_->ListSops(caller_, list).status());

  v1::ListSopRevisionsRequest revisions;
  revisions.set_name("orgs/default/sops/a");
  revisions.set_page_token(
      absl::WebSafeBase64Escape("2\x1f"
                                "orgs/default/sops/a"));
  ExpectInvalidPageToken(registry_->ListSopRevisions(caller_, revisions).status());
}

TEST_F(SopRegistryTest, PageTokensDoNotOutliveTheRegistry) {
  for (const char* id : {"a", "b", "c"}) Create(id);
  v1::ListSopsRequest request;
  request.set_parent("orgs/default");
  request.set_page_size(1);
  auto page = registry_->ListSops(caller_, request);
  ASSERT_TRUE(page.ok()) << page.status();
  request.set_page_token(page->next_page_token());
  ASSERT_TRUE(registry_->ListSops(caller_, request).ok());
  registry_ = NewRegistry();  // a restart: a new signing key
  ExpectInvalidPageToken(registry_->ListSops(caller_, request).status());
}

TEST_F(SopRegistryTest, RevisionsListNewestFirstAcrossPages) {
  v1::Sop sop = Create("mql");
  for (int i = 0; i < 4; ++i) {
    sop.set_title("Title " + std::to_string(i));
    sop = *Update(sop);
  }
  v1::ListSopRevisionsRequest request;
  request.set_name(sop.name());
  request.set_page_size(3);
  std::vector<std::string> ids;
  while (true) {
    auto page = registry_->ListSopRevisions(caller_, request);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& r : page->revisions()) ids.push_back(r.snapshot().revision_id());
    if (page->next_page_token().empty()) break;
    request.set_page_token(page->next_page_token());
  }
  EXPECT_THAT(ids, ElementsAre("5", "4", "3", "2", "1"));
}

// kMqlSop with a 10 000-character purpose: about 10 KB.
std::string LargeMqlSop(const std::string& title) {
  return absl::StrCat(absl::StrReplaceAll(kMqlSop, {{"MQL Acceptance & Handoff", title}}),
                      "purpose: '", std::string(10000, 'p'), "'");
}

// The revision ids of every page of `request`, page by page.
std::vector<std::vector<std::string>> RevisionPages(const SopRegistry& registry,
                                                    const Caller& caller,
                                                    v1::ListSopRevisionsRequest request,
                                                    size_t max_page_bytes) {
  std::vector<std::vector<std::string>> pages;
  while (pages.size() < 10) {
    auto page = registry.ListSopRevisions(caller, request);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) break;
    EXPECT_LE(page->ByteSizeLong(), max_page_bytes + page->next_page_token().size() + 2);
    std::vector<std::string>& ids = pages.emplace_back();
    for (const auto& r : page->revisions()) ids.push_back(r.snapshot().revision_id());
    if (page->next_page_token().empty()) break;
    request.set_page_token(page->next_page_token());
  }
  return pages;
}

TEST_F(SopRegistryTest, RevisionPageEndsAtTheByteBudgetAndItsTokenResumesAfterTheCut) {
  options_.max_page_bytes = 25000;  // two revisions of about 10 KB
  registry_ = NewRegistry();
  v1::Sop sop = Create("mql", LargeMqlSop("Title 0"));
  for (int i = 1; i < 5; ++i) {
    sop.set_title(absl::StrCat("Title ", i));
    sop = *Update(sop);
  }
  v1::ListSopRevisionsRequest request;
  request.set_name(sop.name());
  request.set_page_size(1000);
  request.set_view(v1::SOP_VIEW_FULL);
  EXPECT_THAT(RevisionPages(*registry_, caller_, request, options_.max_page_bytes),
              ElementsAre(ElementsAre("5", "4"), ElementsAre("3", "2"), ElementsAre("1")));
  // The count still cuts first when it is smaller.
  request.set_page_size(1);
  EXPECT_EQ(RevisionPages(*registry_, caller_, request, options_.max_page_bytes).size(), 5u);
}

TEST_F(SopRegistryTest, PageHoldsAnItemLargerThanTheByteBudget) {
  options_.max_page_bytes = 100;
  registry_ = NewRegistry();
  v1::Sop sop = Create("mql", LargeMqlSop("Title 0"));
  sop.set_title("Title 1");
  sop = *Update(sop);
  v1::ListSopRevisionsRequest request;
  request.set_name(sop.name());
  request.set_view(v1::SOP_VIEW_FULL);
  std::vector<std::string> ids;
  while (ids.size() < 5) {
    auto page = registry_->ListSopRevisions(caller_, request);
    ASSERT_TRUE(page.ok()) << page.status();
    ASSERT_EQ(page->revisions_size(), 1);
    ids.push_back(page->revisions(0).snapshot().revision_id());
    if (page->next_page_token().empty()) break;
    request.set_page_token(page->next_page_token());
  }
  EXPECT_THAT(ids, ElementsAre("2", "1"));
}

TEST_F(SopRegistryTest, SopPageEndsAtTheByteBudgetAndItsTokenResumesAfterTheCut) {
  options_.max_page_bytes = 25000;  // two SOPs of about 10 KB
  registry_ = NewRegistry();
  for (const char* id : {"a", "b", "c", "d", "e"}) Create(id, LargeMqlSop(id));
  v1::ListSopsRequest request;
  request.set_parent("orgs/default");
  request.set_page_size(1000);
  std::vector<std::vector<std::string>> pages;
  while (pages.size() < 10) {
    auto page = registry_->ListSops(caller_, request);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_LE(page->ByteSizeLong(),
              options_.max_page_bytes + page->next_page_token().size() + 2);
    std::vector<std::string>& titles = pages.emplace_back();
    for (const auto& sop : page->sops()) titles.push_back(sop.title());
    if (page->next_page_token().empty()) break;
    request.set_page_token(page->next_page_token());
  }
  EXPECT_THAT(pages, ElementsAre(ElementsAre("a", "b"), ElementsAre("c", "d"), ElementsAre("e")));
}

TEST_F(SopRegistryTest, RevisionsListWithoutBodiesByDefault) {
  v1::Sop sop = Create("mql", LargeMqlSop("Handoff"));
  v1::ListSopRevisionsRequest request;
  request.set_name(sop.name());
  for (v1::SopView view : {v1::SOP_VIEW_UNSPECIFIED, v1::SOP_VIEW_BASIC}) {
    request.set_view(view);
    auto page = registry_->ListSopRevisions(caller_, request);
    ASSERT_TRUE(page.ok()) << page.status();
    ASSERT_EQ(page->revisions_size(), 1);
    const v1::SopRevision& revision = page->revisions(0);
    EXPECT_EQ(revision.author(), "ops@example.com");
    EXPECT_EQ(revision.change_summary(), "created");
    EXPECT_TRUE(revision.has_create_time());
    const v1::Sop& basic = revision.snapshot();
    EXPECT_EQ(basic.name(), sop.name());
    EXPECT_EQ(basic.title(), "Handoff");
    EXPECT_EQ(basic.owner(), "Sales Operations Manager");
    EXPECT_THAT(basic.tags(), ElementsAre("mql"));
    EXPECT_EQ(basic.state(), v1::Sop::DRAFT);
    EXPECT_EQ(basic.revision_id(), "1");
    EXPECT_EQ(basic.etag(), sop.etag());
    EXPECT_TRUE(basic.has_update_time());
    EXPECT_EQ(basic.purpose(), "");
    EXPECT_EQ(basic.steps_size(), 0);
    EXPECT_EQ(basic.targeting_rules_size(), 0);
  }
}

TEST_F(SopRegistryTest, RevisionsListWithBodiesInTheFullView) {
  v1::Sop sop = Create("mql", LargeMqlSop("Handoff"));
  v1::ListSopRevisionsRequest request;
  request.set_name(sop.name());
  request.set_view(v1::SOP_VIEW_FULL);
  auto page = registry_->ListSopRevisions(caller_, request);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->revisions_size(), 1);
  EXPECT_EQ(page->revisions(0).snapshot().SerializeAsString(), sop.SerializeAsString());
}

TEST_F(SopRegistryTest, SopsListWithBodiesByDefaultAndWithoutInTheBasicView) {
  const v1::Sop sop = Create("mql", LargeMqlSop("Handoff"));
  v1::ListSopsRequest request;
  request.set_parent("orgs/default");
  for (v1::SopView view : {v1::SOP_VIEW_UNSPECIFIED, v1::SOP_VIEW_FULL}) {
    request.set_view(view);
    auto page = registry_->ListSops(caller_, request);
    ASSERT_TRUE(page.ok()) << page.status();
    ASSERT_EQ(page->sops_size(), 1);
    EXPECT_EQ(page->sops(0).SerializeAsString(), sop.SerializeAsString()) << view;
  }
  request.set_view(v1::SOP_VIEW_BASIC);
  auto page = registry_->ListSops(caller_, request);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->sops_size(), 1);
  v1::Sop without_body = sop;
  without_body.clear_purpose();
  without_body.clear_targeting_rules();
  without_body.clear_steps();
  EXPECT_EQ(page->sops(0).SerializeAsString(), without_body.SerializeAsString());
}

TEST_F(SopRegistryTest, UnknownViewIsInvalid) {
  const v1::Sop sop = Create("mql");
  v1::ListSopsRequest sops;
  sops.set_parent("orgs/default");
  sops.set_view(static_cast<v1::SopView>(7));
  auto listed = registry_->ListSops(caller_, sops);
  EXPECT_EQ(listed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(listed.status().message(), HasSubstr("view: unknown value 7"));
  v1::ListSopRevisionsRequest revisions;
  revisions.set_name(sop.name());
  revisions.set_view(static_cast<v1::SopView>(7));
  auto history = registry_->ListSopRevisions(caller_, revisions);
  EXPECT_EQ(history.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(history.status().message(), HasSubstr("view: unknown value 7"));
}

TEST_F(SopRegistryTest, PublishedSopsSurviveANewRegistryOnTheSameStore) {
  ASSERT_TRUE(Publish(Create("mql").name()).ok());
  Create("draft-only");
  registry_ = NewRegistry();
  EXPECT_EQ(registry_->published_count(), 1u);
  EXPECT_THAT(LookupIds(), ElementsAre("orgs/default/sops/mql"));
}

// A head whose name does not parse, stored under orgs/default's key
// "broken" as a damaged database would hold it.
void PlantHeadWithAMalformedName(InMemorySopStore& store, v1::Sop::State state) {
  v1::Sop head = Parse<v1::Sop>(kMqlSop);
  head.set_name("orgs/default/sops/Not A Name");
  head.set_state(state);
  head.set_revision_id("1");
  if (state == v1::Sop::PUBLISHED) head.set_published_revision_id("1");
  store.PutHeadUnchecked("default", "broken", head);
}

TEST_F(SopRegistryTest, ListOverAHeadWithAMalformedNameIsDataLossNamingIt) {
  Create("mql");
  PlantHeadWithAMalformedName(store_, v1::Sop::DRAFT);
  registry_ = NewRegistry();
  v1::ListSopsRequest list;
  list.set_parent("orgs/default");
  const absl::StatusOr<v1::ListSopsResponse> listed = registry_->ListSops(caller_, list);
  EXPECT_EQ(listed.status().code(), absl::StatusCode::kDataLoss) << listed.status();
  EXPECT_THAT(listed.status().message(),
              HasSubstr("storage: SOP head \"orgs/default/sops/Not A Name\" is corrupt: name: "));
  // The registry still serves the records that are intact.
  v1::GetSopRequest get;
  get.set_name("orgs/default/sops/mql");
  EXPECT_TRUE(registry_->GetSop(caller_, get).ok());
}

TEST_F(SopRegistryTest, StartOverAPublishedHeadWithAMalformedNameIsDataLossNamingIt) {
  PlantHeadWithAMalformedName(store_, v1::Sop::PUBLISHED);
  const auto registry = SopRegistry::Create(&store_, &clock_, LinearSopMatcher::Build, options_);
  EXPECT_EQ(registry.status().code(), absl::StatusCode::kDataLoss) << registry.status();
  EXPECT_THAT(registry.status().message(),
              HasSubstr("SOP head \"orgs/default/sops/Not A Name\" is corrupt"));
}

TEST_F(SopRegistryTest, LookupRejectsMalformedContextNamingTheField) {
  v1::LookupSopsRequest request;
  EXPECT_THAT(registry_->LookupSops(caller_, request).status().message(), HasSubstr("context: is required"));
  *request.mutable_context() = Parse<v1::CrmContext>(kMqlLead);
  (*request.mutable_context()->mutable_fields())["bad key"].set_bool_value(true);
  auto result = registry_->LookupSops(caller_, request);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(), HasSubstr("context.fields[\"bad key\"]"));
  *request.mutable_context() = Parse<v1::CrmContext>(kMqlLead);
  request.set_max_results(-1);
  EXPECT_THAT(registry_->LookupSops(caller_, request).status().message(), HasSubstr("max_results"));
}

TEST_F(SopRegistryTest, LookupIgnoresUnknownFields) {
  ASSERT_TRUE(Publish(Create("mql").name()).ok());
  EXPECT_THAT(LookupIds(R"pb(org: "orgs/default" record_type: "Lead"
                             fields { key: "lead_status"
                                      value { string_value: "MQL – New Handoff" } }
                             fields { key: "x_custom__c" value { number_value: 1 } })pb"),
              ElementsAre("orgs/default/sops/mql"));
}

constexpr char kPricingSop[] = R"pb(
  title: "Pricing & Discount Playbook"
  owner: "Sales Operations Manager"
  visibility_roles: AE
  targeting_rules {
    record_types: "Lead"
    conditions { field: "lead_status" equals { string_value: "MQL – New Handoff" } }
  }
)pb";

TEST_F(SopRegistryTest, ReaderWithoutDraftAccessGetsThePublishedRevision) {
  v1::Sop sop = *Publish(Create("mql").name());
  sop.set_title("Unpublished rename");
  ASSERT_TRUE(Update(sop).ok());
  const Caller sdr = MakeCaller(RoleBit(v1::SDR));
  auto seen = registry_->GetSop(sdr, Parse<v1::GetSopRequest>("name: 'orgs/default/sops/mql'"));
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(seen->title(), "MQL Acceptance & Handoff");
  EXPECT_EQ(registry_->GetSop(caller_, Parse<v1::GetSopRequest>("name: 'orgs/default/sops/mql'"))
                ->title(),
            "Unpublished rename");
}

TEST_F(SopRegistryTest, DraftsAreInvisibleAndHistoryIsDeniedToReaders) {
  Create("draft");
  ASSERT_TRUE(Publish(Create("live").name()).ok());
  const Caller sdr = MakeCaller(RoleBit(v1::SDR));
  EXPECT_EQ(registry_->GetSop(sdr, Parse<v1::GetSopRequest>("name: 'orgs/default/sops/draft'"))
                .status(),
            error::SopNotFound("orgs/default/sops/draft"));
  v1::ListSopsRequest list;
  list.set_parent("orgs/default");
  auto listed = registry_->ListSops(sdr, list);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->sops_size(), 1);
  EXPECT_EQ(listed->sops(0).name(), "orgs/default/sops/live");
  EXPECT_EQ(registry_
                ->ListSopRevisions(sdr, Parse<v1::ListSopRevisionsRequest>(
                                            "name: 'orgs/default/sops/live'"))
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(SopRegistryTest, HiddenSopLooksExactlyLikeAMissingOne) {
  ASSERT_TRUE(Publish(Create("pricing", kPricingSop).name()).ok());
  const Caller sdr = MakeCaller(RoleBit(v1::SDR));
  const Caller ae = MakeCaller(RoleBit(v1::AE));
  for (const char* id : {"pricing", "no-such-sop"}) {
    const std::string name = std::string("orgs/default/sops/") + id;
    EXPECT_EQ(registry_->GetSop(sdr, Parse<v1::GetSopRequest>("name: '" + name + "'")).status(),
              error::SopNotFound(name));
    EXPECT_EQ(registry_
                  ->GetSopRevision(sdr, Parse<v1::GetSopRevisionRequest>(
                                            "name: '" + name + "/revisions/1'"))
                  .status(),
              error::RevisionNotFound(name + "/revisions/1"));
  }
  v1::LookupSopsRequest lookup;
  *lookup.mutable_context() = Parse<v1::CrmContext>(kMqlLead);
  EXPECT_EQ(registry_->LookupSops(sdr, lookup)->matches_size(), 0);
  EXPECT_EQ(registry_->LookupSops(ae, lookup)->matches_size(), 1);
  EXPECT_TRUE(registry_->GetSop(ae, Parse<v1::GetSopRequest>("name: 'orgs/default/sops/pricing'"))
                  .ok());
}

// An AE-only SOP whose owner label and owner user id an SDR could carry.
constexpr char kOwnedPricingSop[] = R"pb(
  title: "Pricing & Discount Playbook"
  owner: "Deal Desk Manager"
  owner_user_id: "sam@example.com"
  visibility_roles: AE
  targeting_rules {
    record_types: "Lead"
    conditions { field: "lead_status" equals { string_value: "MQL – New Handoff" } }
  }
)pb";

TEST_F(SopRegistryTest, OwnershipNeverShowsAnSopTheOwnersRolesDoNotSee) {
  v1::Sop pricing = *Publish(Create("pricing", kOwnedPricingSop).name());
  pricing.set_title("Unpublished discount ladder");
  ASSERT_TRUE(Update(pricing).ok());  // a draft ahead of the published revision
  Caller owner = MakeCaller(RoleBit(v1::SDR));
  owner.user_id = "sam@example.com";
  Caller labelled = MakeCaller(RoleBit(v1::SDR));
  labelled.user_id = "deal desk manager";
  labelled.display_name = "Deal Desk Manager";
  for (const Caller& sdr : {owner, labelled}) {
    const std::vector<std::string> missing = ReadPathAnswers(sdr, "no-such-sop");
    EXPECT_THAT(missing,
                ::testing::Contains("GetSop: NOT_FOUND: SOP orgs/default/sops/X not found"));
    EXPECT_EQ(ReadPathAnswers(sdr, "pricing"), missing) << sdr.user_id;
  }
  // The AE owner reads the draft and history.
  Caller ae_owner = MakeCaller(RoleBit(v1::AE));
  ae_owner.user_id = "sam@example.com";
  auto draft =
      registry_->GetSop(ae_owner, Parse<v1::GetSopRequest>("name: 'orgs/default/sops/pricing'"));
  ASSERT_TRUE(draft.ok()) << draft.status();
  EXPECT_EQ(draft->title(), "Unpublished discount ladder");
  auto history = registry_->ListSopRevisions(
      ae_owner, Parse<v1::ListSopRevisionsRequest>("name: 'orgs/default/sops/pricing'"));
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ(history->revisions_size(), 3);
}

TEST_F(SopRegistryTest, OwnerOfAVisibleSopReadsItsDraftAndHistory) {
  v1::Sop mql = Parse<v1::Sop>(kMqlSop);
  mql.set_owner_user_id("sam@example.com");
  v1::CreateSopRequest create;
  create.set_parent("orgs/default");
  create.set_sop_id("mql");
  *create.mutable_sop() = mql;
  ASSERT_TRUE(registry_->CreateSop(caller_, create).ok());
  mql = *Publish("orgs/default/sops/mql");
  mql.set_title("Unpublished rename");
  ASSERT_TRUE(Update(mql).ok());

  Caller owner = MakeCaller(RoleBit(v1::SDR));
  owner.user_id = "sam@example.com";
  auto draft = registry_->GetSop(owner, Parse<v1::GetSopRequest>("name: 'orgs/default/sops/mql'"));
  ASSERT_TRUE(draft.ok()) << draft.status();
  EXPECT_EQ(draft->title(), "Unpublished rename");
  auto history = registry_->ListSopRevisions(
      owner, Parse<v1::ListSopRevisionsRequest>("name: 'orgs/default/sops/mql'"));
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ(history->revisions_size(), 3);
  EXPECT_TRUE(
      registry_
          ->CheckTargeting(owner, Parse<v1::CheckTargetingRequest>("name: 'orgs/default/sops/mql'"))
          .ok());

  // Another SDR, and one whose user id only differs in case, read the
  // published revision and no history.
  for (const char* user : {"alex@example.com", "Sam@Example.com"}) {
    Caller reader = MakeCaller(RoleBit(v1::SDR));
    reader.user_id = user;
    EXPECT_EQ(registry_->GetSop(reader, Parse<v1::GetSopRequest>("name: 'orgs/default/sops/mql'"))
                  ->title(),
              "MQL Acceptance & Handoff")
        << user;
    EXPECT_EQ(registry_
                  ->ListSopRevisions(
                      reader, Parse<v1::ListSopRevisionsRequest>("name: 'orgs/default/sops/mql'"))
                  .status(),
              error::PermissionDenied("read SOP history"))
        << user;
  }
}

TEST_F(SopRegistryTest, FreeTextOwnerGrantsNothing) {
  ASSERT_TRUE(Publish(Create("mql").name()).ok());  // owner: "Sales Operations Manager"
  Caller labelled = MakeCaller(RoleBit(v1::SDR));
  labelled.user_id = "sales operations manager";
  labelled.display_name = "Sales Operations Manager";
  Caller reader = MakeCaller(RoleBit(v1::SDR));
  reader.user_id = "alex@example.com";
  EXPECT_EQ(ReadPathAnswers(labelled, "mql"), ReadPathAnswers(reader, "mql"));
  EXPECT_EQ(registry_
                ->ListSopRevisions(
                    labelled, Parse<v1::ListSopRevisionsRequest>("name: 'orgs/default/sops/mql'"))
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
}

// Counts head reads, to see which answers come from the store.
class CountingSopStore : public InMemorySopStore {
 public:
  absl::StatusOr<v1::Sop> GetHead(const SopName& name) const override {
    ++head_reads;
    return InMemorySopStore::GetHead(name);
  }
  mutable std::atomic<int> head_reads{0};
};

TEST(SopRegistryVisibilityTest, HiddenSopIsNotFoundWithoutReadingItsBody) {
  FakeClock clock;
  CountingSopStore store;
  auto registry = SopRegistry::Create(&store, &clock, LinearSopMatcher::Build).value();
  const Caller editor = MakeCaller(RoleBit(v1::SALES_OPS));
  v1::CreateSopRequest create;
  create.set_parent("orgs/default");
  create.set_sop_id("pricing");
  *create.mutable_sop() = Parse<v1::Sop>(kOwnedPricingSop);
  ASSERT_TRUE(registry->CreateSop(editor, create).ok());
  ASSERT_TRUE(
      registry
          ->PublishSop(editor, Parse<v1::PublishSopRequest>("name: 'orgs/default/sops/pricing'"))
          .ok());

  Caller sdr = MakeCaller(RoleBit(v1::SDR));
  sdr.user_id = "sam@example.com";  // the owner: still hidden from an SDR
  const int reads = store.head_reads;
  for (const char* id : {"pricing", "no-such-sop"}) {
    const std::string name = std::string("orgs/default/sops/") + id;
    EXPECT_EQ(registry->GetSop(sdr, Parse<v1::GetSopRequest>("name: '" + name + "'")).status(),
              error::SopNotFound(name));
    EXPECT_EQ(
        registry->ListSopRevisions(sdr, Parse<v1::ListSopRevisionsRequest>("name: '" + name + "'"))
            .status(),
        error::SopNotFound(name));
  }
  EXPECT_EQ(store.head_reads, reads);
  // A caller who may see it reads it.
  const Caller ae = MakeCaller(RoleBit(v1::AE));
  EXPECT_TRUE(
      registry->GetSop(ae, Parse<v1::GetSopRequest>("name: 'orgs/default/sops/pricing'")).ok());
  EXPECT_EQ(store.head_reads, reads + 1);
}

TEST_F(SopRegistryTest, AnotherOrgsSopsLookMissing) {
  ASSERT_TRUE(Publish(Create("mql").name()).ok());
  const Caller outsider = MakeCaller(kAllRoles, "acme");
  EXPECT_EQ(
      registry_->GetSop(outsider, Parse<v1::GetSopRequest>("name: 'orgs/default/sops/mql'"))
          .status(),
      error::SopNotFound("orgs/default/sops/mql"));
  v1::DeleteSopRequest del;
  del.set_name("orgs/default/sops/mql");
  EXPECT_EQ(registry_->DeleteSop(outsider, del).status().code(), absl::StatusCode::kNotFound);
  v1::LookupSopsRequest lookup;
  *lookup.mutable_context() = Parse<v1::CrmContext>(kMqlLead);
  EXPECT_EQ(registry_->LookupSops(outsider, lookup).status().code(),
            absl::StatusCode::kNotFound);
  v1::CreateSopRequest create;
  create.set_parent("orgs/default");
  *create.mutable_sop() = Parse<v1::Sop>(kMqlSop);
  EXPECT_EQ(registry_->CreateSop(outsider, create).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SopRegistryTest, ReadersMayNotWriteOrPublish) {
  ASSERT_TRUE(Publish(Create("mql").name()).ok());
  const Caller sdr = MakeCaller(RoleBit(v1::SDR));
  v1::CreateSopRequest create;
  create.set_parent("orgs/default");
  *create.mutable_sop() = Parse<v1::Sop>(kMqlSop);
  EXPECT_EQ(registry_->CreateSop(sdr, create).status().code(),
            absl::StatusCode::kPermissionDenied);
  v1::PublishSopRequest publish;
  publish.set_name("orgs/default/sops/mql");
  EXPECT_EQ(registry_->PublishSop(sdr, publish).status().code(),
            absl::StatusCode::kPermissionDenied);
  v1::LookupSopsRequest lookup;
  *lookup.mutable_context() = Parse<v1::CrmContext>(kMqlLead);
  lookup.set_include_near_misses(true);
  EXPECT_EQ(registry_->LookupSops(sdr, lookup).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(store_.write_count(), 2);
}

TEST_F(SopRegistryTest, WriteWhoseDeadlinePassedIsNotDone) {
  v1::Sop sop = Create("mql");
  Caller late = caller_;
  late.deadline = clock_.Now() - absl::Seconds(1);
  v1::PublishSopRequest publish;
  publish.set_name(sop.name());
  EXPECT_EQ(registry_->PublishSop(late, publish).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(store_.write_count(), 1);
}

TEST_F(SopRegistryTest, PublishWarnsAboutTiesAndCheckTargetingFindsThem) {
  ASSERT_TRUE(Publish(Create("first").name()).ok());
  EXPECT_TRUE(last_ties_.empty());
  v1::Sop twin = Create("twin");  // same rule: same priority and specificity
  auto check = registry_->CheckTargeting(
      caller_, Parse<v1::CheckTargetingRequest>("name: 'orgs/default/sops/twin'"));
  ASSERT_TRUE(check.ok()) << check.status();
  ASSERT_EQ(check->ties_size(), 1);
  EXPECT_EQ(check->ties(0).sop(), "orgs/default/sops/first");
  EXPECT_EQ(check->ties(0).priority(), 100);
  EXPECT_EQ(check->ties(0).example_context().record_type(), "Lead");
  EXPECT_EQ(check->ties(0).example_context().fields().at("lead_status").string_value(),
            "MQL – New Handoff");

  ASSERT_TRUE(Publish(twin.name()).ok());
  ASSERT_EQ(last_ties_.size(), 1u);
  EXPECT_EQ(last_ties_[0].sop(), "orgs/default/sops/first");

  twin = *registry_->GetSop(caller_, Parse<v1::GetSopRequest>("name: 'orgs/default/sops/twin'"));
  twin.mutable_targeting_rules(0)->set_priority(101);
  ASSERT_TRUE(Update(twin).ok());
  EXPECT_EQ(registry_
                ->CheckTargeting(caller_, Parse<v1::CheckTargetingRequest>(
                                              "name: 'orgs/default/sops/twin'"))
                ->ties_size(),
            0);
}

TEST_F(SopRegistryTest, NearMissesNameTheConditionThatFailed) {
  ASSERT_TRUE(Publish(Create("mql").name()).ok());
  v1::LookupSopsRequest lookup;
  *lookup.mutable_context() = Parse<v1::CrmContext>(R"pb(
    org: "orgs/default" record_type: "Lead"
    fields { key: "lead_status" value { string_value: "MQL - New Handoff" } }
  )pb");
  lookup.set_include_near_misses(true);
  auto response = registry_->LookupSops(caller_, lookup);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->matches_size(), 0);
  ASSERT_EQ(response->near_misses_size(), 1);
  const v1::NearMiss& miss = response->near_misses(0);
  EXPECT_EQ(miss.sop(), "orgs/default/sops/mql");
  EXPECT_EQ(miss.failed_condition_index(), 0);
  EXPECT_EQ(miss.failed_condition().field(), "lead_status");
  EXPECT_EQ(miss.actual().string_value(), "MQL - New Handoff");  // a hyphen, not an en dash
}

// LookupSopsWire against the response LookupSops builds, serialised.
void ExpectWireIsTheResponse(const SopRegistry& registry, const Caller& caller,
                             const v1::LookupSopsRequest& request) {
  auto response = registry.LookupSops(caller, request);
  ASSERT_TRUE(response.ok()) << response.status();
  std::string wire = "kept";
  int matches = -1;
  ASSERT_TRUE(registry.LookupSopsWire(caller, request, &wire, &matches).ok());
  EXPECT_EQ(wire, "kept" + response->SerializeAsString());
  EXPECT_EQ(matches, response->matches_size());
}

TEST_F(SopRegistryTest, LookupWireIsTheSerialisedResponse) {
  absl::StatusOr<v1::Sop> mql = Publish(Create("mql").name());
  ASSERT_TRUE(mql.ok()) << mql.status();
  ASSERT_TRUE(Publish(Create("other").name()).ok());
  v1::LookupSopsRequest request;
  *request.mutable_context() = Parse<v1::CrmContext>(kMqlLead);
  ExpectWireIsTheResponse(*registry_, caller_, request);
  // Twice: the second lookup uses the parts the first one encoded.
  ExpectWireIsTheResponse(*registry_, caller_, request);

  // A republished revision is answered with its own body and revision.
  mql->set_title("MQL Acceptance, revised");
  auto updated = Update(*mql, {"title"});
  ASSERT_TRUE(updated.ok()) << updated.status();
  ASSERT_TRUE(Publish(mql->name()).ok());
  auto response = registry_->LookupSops(caller_, request);
  ASSERT_TRUE(response.ok());
  ASSERT_EQ(response->matches_size(), 2);
  EXPECT_EQ(response->matches(0).sop_body().title(), "MQL Acceptance, revised");
  ExpectWireIsTheResponse(*registry_, caller_, request);

  // Near misses follow the matches; a registry reloaded from the store
  // answers the same.
  request.set_include_near_misses(true);
  (*request.mutable_context()->mutable_fields())["lead_status"].set_string_value("MQL");
  ExpectWireIsTheResponse(*registry_, caller_, request);
  registry_ = NewRegistry();
  ExpectWireIsTheResponse(*registry_, caller_, request);
  request.set_include_near_misses(false);
  *request.mutable_context() = Parse<v1::CrmContext>(kMqlLead);
  ExpectWireIsTheResponse(*registry_, caller_, request);
}

TEST_F(SopRegistryTest, LookupWireFailsLikeLookupAndWritesNothing) {
  ASSERT_TRUE(Publish(Create("mql").name()).ok());
  v1::LookupSopsRequest request;
  *request.mutable_context() = Parse<v1::CrmContext>(kMqlLead);
  request.set_max_results(-1);
  std::string wire;
  const absl::Status status = registry_->LookupSopsWire(caller_, request, &wire);
  EXPECT_EQ(status, registry_->LookupSops(caller_, request).status());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(wire, "");
  request.set_max_results(0);
  const Caller other_org = MakeCaller(RoleBit(v1::SALES_OPS), "acme");
  EXPECT_EQ(registry_->LookupSopsWire(other_org, request, &wire).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(wire, "");
}

TEST_F(SopRegistryTest, BulkLoadedSopsArePublishedForTheNextRegistry) {
  std::vector<std::pair<SopName, v1::Sop>> sops;
  for (const char* id : {"bulk-a", "bulk-b"}) {
    sops.emplace_back(SopName{"default", id}, Parse<v1::Sop>(kMqlSop));
  }
  ASSERT_TRUE(BulkLoadPublishedSops(store_, clock_, caller_, sops).ok());
  EXPECT_EQ(BulkLoadPublishedSops(store_, clock_, caller_, sops).code(),
            absl::StatusCode::kAlreadyExists);
  sops = {{SopName{"default", "bulk-bad"}, Parse<v1::Sop>("title: 'no owner'")}};
  EXPECT_EQ(BulkLoadPublishedSops(store_, clock_, caller_, sops).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_.write_count(), 2);

  registry_ = NewRegistry();
  EXPECT_EQ(registry_->published_count(), 2u);
  EXPECT_THAT(LookupIds(), ::testing::UnorderedElementsAre("orgs/default/sops/bulk-a",
                                                           "orgs/default/sops/bulk-b"));
  auto history = registry_->ListSopRevisions(
      caller_, Parse<v1::ListSopRevisionsRequest>("name: 'orgs/default/sops/bulk-a'"));
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->revisions_size(), 1);
  EXPECT_EQ(history->revisions(0).snapshot().state(), v1::Sop::PUBLISHED);
}

constexpr char kStepsOutOfOrderSop[] = R"pb(
  title: "Steps written out of order"
  owner: "Sales Ops"
  targeting_rules {
    record_types: "Lead" priority: 100
    conditions { field: "lead_status" equals { string_value: "MQL – New Handoff" } }
  }
  steps { ordinal: 20 title: "Second by ordinal" }
  steps { ordinal: 10 title: "First by ordinal" }
)pb";

TEST_F(SopRegistryTest, StepsAreStoredGotAndLookedUpInOrdinalOrder) {
  const v1::Sop created = Create("steps", kStepsOutOfOrderSop);
  ASSERT_EQ(created.steps_size(), 2);
  EXPECT_EQ(created.steps(0).ordinal(), 10);
  EXPECT_EQ(created.steps(1).ordinal(), 20);

  auto got =
      registry_->GetSop(caller_, Parse<v1::GetSopRequest>("name: 'orgs/default/sops/steps'"));
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->steps_size(), 2);
  EXPECT_EQ(got->steps(0).title(), "First by ordinal");
  EXPECT_EQ(got->steps(1).title(), "Second by ordinal");

  // The same steps sent again in file order change nothing.
  v1::Sop resent = Parse<v1::Sop>(kStepsOutOfOrderSop);
  resent.set_name(created.name());
  const int writes = store_.write_count();
  auto updated = Update(resent, {"steps"});
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->revision_id(), "1");
  EXPECT_EQ(store_.write_count(), writes);

  ASSERT_TRUE(Publish(created.name()).ok());
  v1::LookupSopsRequest lookup;
  *lookup.mutable_context() = Parse<v1::CrmContext>(kMqlLead);
  auto response = registry_->LookupSops(caller_, lookup);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->matches_size(), 1);
  const v1::SopMatch& match = response->matches(0);
  EXPECT_EQ(match.current_step_index(), 0);
  EXPECT_EQ(match.sop_body().steps(match.current_step_index()).title(), "First by ordinal");
  ExpectWireIsTheResponse(*registry_, caller_, lookup);
}

TEST_F(SopRegistryTest, BulkLoadStoresStepsInOrdinalOrder) {
  const std::vector<std::pair<SopName, v1::Sop>> sops = {
      {SopName{"default", "steps"}, Parse<v1::Sop>(kStepsOutOfOrderSop)}};
  ASSERT_TRUE(BulkLoadPublishedSops(store_, clock_, caller_, sops).ok());
  registry_ = NewRegistry();
  auto got =
      registry_->GetSop(caller_, Parse<v1::GetSopRequest>("name: 'orgs/default/sops/steps'"));
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->steps_size(), 2);
  EXPECT_EQ(got->steps(0).ordinal(), 10);
  EXPECT_EQ(got->steps(1).ordinal(), 20);
}

TEST_F(SopRegistryTest, LookupWithoutOrgMatchesInTheCallersOrg) {
  ASSERT_TRUE(Publish(Create("mql").name()).ok());
  v1::LookupSopsRequest request;
  *request.mutable_context() = Parse<v1::CrmContext>(kMqlLead);
  request.mutable_context()->clear_org();
  auto response = registry_->LookupSops(caller_, request);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->matches_size(), 1);
  EXPECT_EQ(response->matches(0).sop(), "orgs/default/sops/mql");
  ExpectWireIsTheResponse(*registry_, caller_, request);

  request.mutable_context()->set_org("orgs/other");
  EXPECT_EQ(registry_->LookupSops(caller_, request).status(),
            error::OrgNotFound("orgs/other"));
  std::string wire;
  EXPECT_EQ(registry_->LookupSopsWire(caller_, request, &wire).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(wire, "");
}

}  // namespace
}  // namespace sopsidebar
