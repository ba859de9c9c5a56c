// SopSearch over the Xapian index, on the shipped example SOPs
// (examples/sops): relevance of written queries, visibility by org and role,
// the index following the catalog, and bad requests.
#include "server/domain/search/sop_search.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/sopfile/sop_file.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"
#include "server/domain/matching/linear_sop_matcher.h"
#include "server/domain/registry/sop_registry.h"
#include "server/domain/store/in_memory_sop_store.h"
#include "server/search/xapian_text_index.h"

namespace sopsidebar {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPricing[] = "orgs/default/sops/pricing-discount-playbook";
constexpr char kFeedback[] = "orgs/default/sops/post-disqualification-feedback";
constexpr char kMql[] = "orgs/default/sops/mql-acceptance-handoff";
constexpr char kDemo[] = "orgs/default/sops/demo-appointment-booking";
constexpr char kCadence[] = "orgs/default/sops/first-touch-outreach-cadence";
constexpr char kContent[] = "orgs/default/sops/content-usage-asset-request";

constexpr char kZebraSop[] = R"pb(
  title: "Zebra Onboarding Checklist"
  owner: "Sales Operations Manager"
  purpose: "Welcome a zebra account after signature."
  targeting_rules {
    record_types: "Opportunity"
    priority: 10
    conditions {
      field: "stage"
      equals { string_value: "Closed Won" }
    }
  }
  steps { ordinal: 1 title: "Send the welcome kit" instructions: "Ship the striped mug." }
)pb";

Caller MakeCaller(RoleSet roles, const std::string& org = "default") {
  Caller caller;
  caller.org = org;
  caller.user_id = "rep@example.com";
  caller.roles = roles;
  return caller;
}

v1::SearchSopsRequest Query(const std::string& text, const std::string& parent = "orgs/default") {
  v1::SearchSopsRequest request;
  request.set_parent(parent);
  request.set_query(text);
  return request;
}

std::vector<std::string> Names(const v1::SearchSopsResponse& response) {
  std::vector<std::string> names;
  for (const v1::SearchResult& result : response.results()) names.push_back(result.sop());
  return names;
}

std::string SnippetText(const v1::SearchResult& result) {
  std::string text;
  for (const v1::SnippetPart& part : result.snippet()) text += part.text();
  return text;
}

class SopSearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::vector<SopFile>> files = LoadSopFiles(SOP_EXAMPLES_DIR);
    ASSERT_TRUE(files.ok()) << files.status();
    ASSERT_EQ(files->size(), 6u);
    std::vector<std::pair<SopName, v1::Sop>> sops;
    for (const SopFile& file : *files) sops.emplace_back(SopName{"default", file.sop_id}, file.sop);
    ASSERT_TRUE(BulkLoadPublishedSops(store_, clock_, admin_, sops).ok());
    auto registry = SopRegistry::Create(&store_, &clock_, LinearSopMatcher::Build);
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = std::move(registry).value();
    auto index = XapianTextIndex::Create();
    ASSERT_TRUE(index.ok()) << index.status();
    auto search = SopSearch::Create(registry_.get(), std::move(index).value());
    ASSERT_TRUE(search.ok()) << search.status();
    search_ = std::move(search).value();
    registry_->SetCatalogListener([search = search_.get()] { search->CatalogChanged(); });
  }
  void TearDown() override {
    if (registry_) registry_->SetCatalogListener(nullptr);
  }

  v1::SearchSopsResponse Search(const Caller& caller, const std::string& text) {
    absl::StatusOr<v1::SearchSopsResponse> found = search_->SearchSops(caller, Query(text));
    EXPECT_TRUE(found.ok()) << text << ": " << found.status();
    return found.value_or(v1::SearchSopsResponse());
  }

  std::string CreateAndPublish(const std::string& id, const std::string& body) {
    v1::CreateSopRequest create;
    create.set_parent("orgs/default");
    create.set_sop_id(id);
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(body, create.mutable_sop()));
    auto created = registry_->CreateSop(admin_, create);
    EXPECT_TRUE(created.ok()) << created.status();
    v1::PublishSopRequest publish;
    publish.set_name(created->name());
    auto published = registry_->PublishSop(admin_, publish);
    EXPECT_TRUE(published.ok()) << published.status();
    return created->name();
  }

  InMemorySopStore store_;
  FakeClock clock_;
  const Caller admin_ = MakeCaller(RoleBit(v1::ADMIN));
  // Sees every example: AE for the pricing playbook, a sales manager for
  // the feedback SOP.
  const Caller manager_ = MakeCaller(RoleBit(v1::AE) | RoleBit(v1::SALES_MANAGER));
  const Caller sdr_ = MakeCaller(RoleBit(v1::SDR));
  const Caller ae_ = MakeCaller(RoleBit(v1::AE));
  const Caller marketing_ = MakeCaller(RoleBit(v1::MARKETING));
  std::unique_ptr<SopRegistry> registry_;
  std::unique_ptr<SopSearch> search_;
};

TEST_F(SopSearchTest, WrittenQueriesFindTheirSopFirst) {
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"disqualifcation codes", kFeedback},  // a typo
      {"pric", kPricing},                    // a prefix
      {"5 minute first contact", kCadence},
      {"demo no-show", kDemo},
      {"discount approval", kPricing},
      {"BANT qualification", kDemo},
      {"nurture track", kFeedback},
      {"\"lead source\"", kFeedback},
      {"request a new asset", kContent},
      {"linkedin connection request", kCadence},
  };
  for (const auto& [query, top] : expected) {
    v1::SearchSopsResponse found = Search(manager_, query);
    ASSERT_FALSE(found.results().empty()) << query;
    EXPECT_EQ(found.results(0).sop(), top)
        << query << " found " << absl::StrJoin(Names(found), ", ");
  }
}

TEST_F(SopSearchTest, MisspeltQueryIsAnsweredAsCorrected) {
  v1::SearchSopsResponse found = Search(manager_, "disqualifcation codes");
  EXPECT_EQ(found.corrected_query(), "disqualification codes");
  EXPECT_THAT(Names(found), Contains(kFeedback));

  EXPECT_EQ(Search(manager_, "disqualification codes").corrected_query(), "");
  // Known words are not corrected: by their stem ("minute" of "minutes"),
  // and the parts of a hyphenated word.
  EXPECT_EQ(Search(manager_, "5 minute first contact").corrected_query(), "");
  EXPECT_EQ(Search(manager_, "demo no-show").corrected_query(), "");
  // The last word too, when the query as typed finds nothing.
  v1::SearchSopsResponse last = Search(manager_, "disqualifcation");
  EXPECT_EQ(last.corrected_query(), "disqualification");
  ASSERT_FALSE(last.results().empty());
  EXPECT_EQ(last.results(0).sop(), kFeedback);
  // An SDR, who does not see that SOP, is shown the one the SDR does.
  v1::SearchSopsResponse for_sdr = Search(sdr_, "disqualifcation codes");
  EXPECT_EQ(for_sdr.corrected_query(), "disqualification codes");
  ASSERT_FALSE(for_sdr.results().empty());
  EXPECT_EQ(for_sdr.results(0).sop(), kMql);
}

TEST_F(SopSearchTest, ResultCarriesTitleLiveRevisionAndHighlightedSnippet) {
  v1::SearchSopsResponse found = Search(manager_, "round-robin calendar");
  ASSERT_FALSE(found.results().empty());
  const v1::SearchResult& top = found.results(0);
  EXPECT_EQ(top.sop(), kDemo);
  EXPECT_EQ(top.title(), "Demo & Appointment Booking");
  EXPECT_EQ(top.revision_id(), "1");
  EXPECT_GT(top.score(), 0);
  std::vector<std::string> highlighted;
  for (const v1::SnippetPart& part : top.snippet()) {
    if (part.highlighted()) highlighted.push_back(absl::AsciiStrToLower(part.text()));
    EXPECT_THAT(part.text(), Not(HasSubstr("&amp;")));
    EXPECT_THAT(part.text(), Not(HasSubstr("<b>")));
  }
  EXPECT_THAT(highlighted, Contains(HasSubstr("calendar")));
}

TEST_F(SopSearchTest, ScoresAreBestFirst) {
  v1::SearchSopsResponse found = Search(manager_, "handoff");
  ASSERT_GE(found.results_size(), 2);
  for (int i = 1; i < found.results_size(); ++i) {
    EXPECT_GE(found.results(i - 1).score(), found.results(i).score());
  }
}

TEST_F(SopSearchTest, SdrNeverSeesAeOrMarketingOnlySops) {
  for (const char* query :
       {"pricing discount margin", "disqualification feedback campaign", "pric", "margin",
        "campaign dashboard", "lead", "the", "deal desk", "nurture"}) {
    v1::SearchSopsResponse found = Search(sdr_, query);
    EXPECT_THAT(Names(found), Not(Contains(kPricing))) << query;
    EXPECT_THAT(Names(found), Not(Contains(kFeedback))) << query;
    for (const v1::SearchResult& result : found.results()) {
      EXPECT_THAT(SnippetText(result), Not(HasSubstr("margin"))) << query;
      EXPECT_THAT(SnippetText(result), Not(HasSubstr("campaign"))) << query;
    }
  }
  // Nor is a misspelling corrected towards their words.
  v1::SearchSopsResponse corrected = Search(sdr_, "margn");
  EXPECT_EQ(corrected.corrected_query(), "");
  EXPECT_TRUE(corrected.results().empty());
  EXPECT_EQ(Search(ae_, "margn").corrected_query(), "margin");
}

TEST_F(SopSearchTest, AeAndMarketingCallersSeeTheirSops) {
  EXPECT_EQ(Search(ae_, "pricing discount margin").results(0).sop(), kPricing);
  EXPECT_THAT(Names(Search(ae_, "disqualification feedback campaign")), Not(Contains(kFeedback)));
  EXPECT_EQ(Search(marketing_, "disqualification feedback campaign").results(0).sop(), kFeedback);
  EXPECT_THAT(Names(Search(marketing_, "pricing discount margin")), Not(Contains(kPricing)));
}

TEST_F(SopSearchTest, AnotherOrgSeesNoneOfThem) {
  const Caller other = MakeCaller(RoleBit(v1::AE) | RoleBit(v1::MARKETING), "other");
  auto own = search_->SearchSops(other, Query("pricing disqualification demo", "orgs/other"));
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_TRUE(own->results().empty());
  EXPECT_EQ(own->corrected_query(), "");

  auto theirs = search_->SearchSops(other, Query("pricing", "orgs/default"));
  EXPECT_EQ(theirs.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SopSearchTest, IndexFollowsPublishDeleteAndUndelete) {
  EXPECT_TRUE(Search(sdr_, "zebra").results().empty());
  const std::string zebra = CreateAndPublish("zebra-onboarding", kZebraSop);
  EXPECT_THAT(Names(Search(sdr_, "zebra")), ElementsAre(zebra));
  EXPECT_THAT(Names(Search(sdr_, "striped mug")), ElementsAre(zebra));

  v1::DeleteSopRequest remove;
  remove.set_name(zebra);
  ASSERT_TRUE(registry_->DeleteSop(admin_, remove).ok());
  EXPECT_TRUE(Search(sdr_, "zebra").results().empty());

  v1::UndeleteSopRequest undelete;
  undelete.set_name(zebra);
  ASSERT_TRUE(registry_->UndeleteSop(admin_, undelete).ok());
  EXPECT_THAT(Names(Search(sdr_, "zebra")), ElementsAre(zebra));
}

TEST_F(SopSearchTest, IndexFollowsARepublishThatNarrowsVisibility) {
  const std::string zebra = CreateAndPublish("zebra-onboarding", kZebraSop);
  ASSERT_THAT(Names(Search(sdr_, "zebra")), ElementsAre(zebra));
  const std::string ae_only = absl::StrCat(kZebraSop, " visibility_roles: AE");
  v1::UpdateSopRequest update;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(ae_only, update.mutable_sop()));
  update.mutable_sop()->set_name(zebra);
  ASSERT_TRUE(registry_->UpdateSop(admin_, update).ok());
  // The draft is not searched: the live revision still is everyone's.
  EXPECT_THAT(Names(Search(sdr_, "zebra")), ElementsAre(zebra));
  v1::PublishSopRequest publish;
  publish.set_name(zebra);
  auto published = registry_->PublishSop(admin_, publish);
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_TRUE(Search(sdr_, "zebra").results().empty());
  v1::SearchSopsResponse for_ae = Search(ae_, "zebra");
  ASSERT_THAT(Names(for_ae), ElementsAre(zebra));
  EXPECT_EQ(for_ae.results(0).revision_id(), published->sop().published_revision_id());
}

TEST_F(SopSearchTest, PageSizeLimitsResults) {
  v1::SearchSopsRequest request = Query("the lead");
  request.set_page_size(2);
  auto found = search_->SearchSops(manager_, request);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->results_size(), 2);
}

TEST_F(SopSearchTest, BadRequestsAreRejected) {
  auto code_and_message = [&](const Caller& caller, const v1::SearchSopsRequest& request) {
    absl::Status status = search_->SearchSops(caller, request).status();
    return std::make_pair(status.code(), std::string(status.message()));
  };
  auto empty = code_and_message(sdr_, Query(""));
  EXPECT_EQ(empty.first, absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(empty.second, HasSubstr("query"));

  std::string at_limit;
  for (int i = 0; i < 500; ++i) at_limit += "\xC3\xA9";  // é: 500 characters, 1000 bytes
  EXPECT_TRUE(search_->SearchSops(sdr_, Query(at_limit)).ok());
  auto too_long = code_and_message(sdr_, Query(at_limit + "e"));
  EXPECT_EQ(too_long.first, absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(too_long.second, HasSubstr("query"));

  for (int page_size : {-1, 51}) {
    v1::SearchSopsRequest request = Query("lead");
    request.set_page_size(page_size);
    auto bad = code_and_message(sdr_, request);
    EXPECT_EQ(bad.first, absl::StatusCode::kInvalidArgument) << page_size;
    EXPECT_THAT(bad.second, HasSubstr("page_size"));
  }
  v1::SearchSopsRequest fifty = Query("lead");
  fifty.set_page_size(50);
  EXPECT_TRUE(search_->SearchSops(sdr_, fifty).ok());

  EXPECT_EQ(code_and_message(sdr_, Query("lead", "orgs/other")).first, absl::StatusCode::kNotFound);
  auto malformed = code_and_message(sdr_, Query("lead", "default"));
  EXPECT_EQ(malformed.first, absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(malformed.second, HasSubstr("parent"));

  // Operators are words, never a syntax error.
  EXPECT_TRUE(search_->SearchSops(sdr_, Query("lead AND (NOT \"demo")).ok());
}

TEST_F(SopSearchTest, IntegrationTokenMayNotSearch) {
  const Caller integration = MakeCaller(RoleBit(v1::INTEGRATION));
  EXPECT_EQ(search_->SearchSops(integration, Query("lead")).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(SopSearchTest, SearchesRunWhilePublishesChangeTheIndex) {
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!done.load()) {
        if (!search_->SearchSops(manager_, Query("zebra lead")).ok()) ++failures;
      }
    });
  }
  for (int i = 0; i < 10; ++i) CreateAndPublish(absl::StrCat("zebra-", i), kZebraSop);
  done = true;
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(failures.load(), 0);
  v1::SearchSopsRequest request = Query("zebra");
  request.set_page_size(50);
  auto found = search_->SearchSops(manager_, request);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->results_size(), 10);
}

}  // namespace
}  // namespace sopsidebar
