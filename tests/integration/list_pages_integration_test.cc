// List pages against a real sopd (SopdServer on a loopback port, RocksDB in a
// temp dir) through the client library at gRPC's default 4 MiB receive
// limit: however large the SOPs, every page arrives, each under the limit.
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/sopd_fixture.h"

namespace sopsidebar {
namespace {

// gRPC's default for the messages a client receives.
constexpr size_t kDefaultClientReceiveLimit = 4 * 1024 * 1024;
constexpr int kRevisions = 5;

// An SOP of about 3 MB, just under the per-SOP size limit: 100 steps and 50
// cadence touches with 20 000-character texts, told apart by `tag`.
v1::Sop LargeSop(const std::string& tag) {
  v1::Sop sop;
  sop.set_title(absl::StrCat("Large SOP ", tag));
  sop.set_owner("Sales Ops");
  const std::string text(20000, 'x');
  for (int i = 1; i <= 100; ++i) {
    v1::Step* step = sop.add_steps();
    step->set_ordinal(i);
    step->set_title(absl::StrCat("Step ", i));
    step->set_instructions(text);
  }
  for (int day = 1; day <= 50; ++day) {
    v1::CadenceTouch* touch = sop.add_cadence();
    touch->set_day(day);
    touch->set_channel(v1::EMAIL);
    touch->set_action(text);
  }
  return sop;
}

class ListPagesIntegrationTest : public test::SopdFixture {
 protected:
  void SetUp() override {
    StartServer();
    ops_token_ = IssueToken(admin_token_, "ops@example.com", {v1::SALES_OPS});
  }

  // Creates `id` and updates it until it has kRevisions revisions of about
  // 3 MB each.
  void CreateLargeHistory(client::Client& client, const std::string& id) {
    v1::CreateSopRequest create;
    create.set_parent("orgs/default");
    create.set_sop_id(id);
    *create.mutable_sop() = LargeSop("1");
    auto created = client.CreateSop(create);
    ASSERT_TRUE(created.ok()) << created.status();
    for (int revision = 2; revision <= kRevisions; ++revision) {
      v1::UpdateSopRequest update;
      *update.mutable_sop() = LargeSop(absl::StrCat(revision));
      update.mutable_sop()->set_name(created->name());
      auto updated = client.UpdateSop(update);
      ASSERT_TRUE(updated.ok()) << updated.status();
    }
  }

  std::string ops_token_;
};

// Lists every page of `request` with `list`, page_size 1000; returns the
// names of the items in order and prints each page's size.
template <typename Request, typename List, typename Items>
std::vector<std::string> ListEveryPage(Request request, List list, Items items) {
  request.set_page_size(1000);
  std::vector<std::string> names;
  for (int pages = 1; pages <= 10; ++pages) {
    auto page = list(request);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) break;
    EXPECT_LT(page->ByteSizeLong(), kDefaultClientReceiveLimit);
    const auto& page_items = items(*page);
    std::cout << "page " << pages << ": " << page_items.size() << " items, " << page->ByteSizeLong()
              << " bytes\n";
    for (const auto& item : page_items) names.push_back(item.name());
    if (page->next_page_token().empty()) break;
    request.set_page_token(page->next_page_token());
  }
  return names;
}

std::vector<std::string> RevisionNames(const std::string& sop) {
  std::vector<std::string> names;
  for (int revision = kRevisions; revision >= 1; --revision) {
    names.push_back(absl::StrCat(sop, "/revisions/", revision));
  }
  return names;
}

TEST_F(ListPagesIntegrationTest, ThousandRevisionPageOfLargeSopArrivesUnderTheReceiveLimit) {
  client::Client client = ClientFor(ops_token_);
  ASSERT_NO_FATAL_FAILURE(CreateLargeHistory(client, "large"));
  v1::ListSopRevisionsRequest request;
  request.set_name("orgs/default/sops/large");
  EXPECT_EQ(
      ListEveryPage(
          request, [&](const auto& r) { return client.ListSopRevisions(r); },
          [](const v1::ListSopRevisionsResponse& page) -> const auto& { return page.revisions(); }),
      RevisionNames(request.name()));
}

TEST_F(ListPagesIntegrationTest, FullRevisionsOfLargeSopArriveOnPagesUnderTheReceiveLimit) {
  client::Client client = ClientFor(ops_token_);
  ASSERT_NO_FATAL_FAILURE(CreateLargeHistory(client, "large"));
  v1::ListSopRevisionsRequest request;
  request.set_name("orgs/default/sops/large");
  request.set_view(v1::SOP_VIEW_FULL);
  int pages = 0;
  int full_snapshots = 0;
  EXPECT_EQ(ListEveryPage(
                request, [&](const auto& r) { return client.ListSopRevisions(r); },
                [&](const v1::ListSopRevisionsResponse& page) -> const auto& {
                  ++pages;
                  for (const auto& r : page.revisions()) {
                    if (r.snapshot().steps_size() == 100) ++full_snapshots;
                  }
                  return page.revisions();
                }),
            RevisionNames(request.name()));
  EXPECT_GT(pages, 1);
  EXPECT_GE(full_snapshots, kRevisions);
}

TEST_F(ListPagesIntegrationTest, ThousandSopPageOfLargeSopsArrivesUnderTheReceiveLimit) {
  client::Client client = ClientFor(ops_token_);
  std::vector<std::string> created;
  for (const char* id : {"large-a", "large-b", "large-c"}) {
    v1::CreateSopRequest create;
    create.set_parent("orgs/default");
    create.set_sop_id(id);
    *create.mutable_sop() = LargeSop(id);
    auto sop = client.CreateSop(create);
    ASSERT_TRUE(sop.ok()) << sop.status();
    created.push_back(sop->name());
  }
  v1::ListSopsRequest request;
  request.set_parent("orgs/default");
  EXPECT_EQ(ListEveryPage(
                request, [&](const auto& r) { return client.ListSops(r); },
                [](const v1::ListSopsResponse& page) -> const auto& { return page.sops(); }),
            created);
}

}  // namespace
}  // namespace sopsidebar
