#include "server/domain/registry/published_catalog.h"

#include <atomic>
#include <thread>

#include "gtest/gtest.h"
#include "server/domain/matching/linear_sop_matcher.h"
#include "server/domain/matching/test_sops.h"

namespace sopsidebar {
namespace {

using test::Context;
using test::Published;

constexpr char kLead[] = R"pb(org: "orgs/default" record_type: "Lead")pb";

size_t MatchCount(const PublishedCatalog& catalog) {
  v1::CrmContext context = Context(kLead);
  return catalog.Snapshot()->Match(MatchQuery{"default", &context, 100, kAllRoles}).size();
}

TEST(PublishedCatalogTest, PutAndRemoveAreVisibleToTheNextSnapshot) {
  PublishedCatalog catalog(LinearSopMatcher::Build);
  EXPECT_EQ(MatchCount(catalog), 0u);
  catalog.Put(Published("a", R"pb(targeting_rules { record_types: "Lead" })pb"));
  EXPECT_EQ(MatchCount(catalog), 1u);
  catalog.Put(Published("a", R"pb(targeting_rules { record_types: "Contact" })pb"));
  EXPECT_EQ(MatchCount(catalog), 0u);
  EXPECT_EQ(catalog.size(), 1u);
  catalog.Remove(SopName{"default", "a"});
  EXPECT_EQ(catalog.size(), 0u);
}

TEST(PublishedCatalogTest, HeldSnapshotIsUnaffectedByLaterWrites) {
  PublishedCatalog catalog(LinearSopMatcher::Build);
  catalog.Put(Published("a", R"pb(targeting_rules { record_types: "Lead" })pb"));
  std::shared_ptr<const SopMatcher> held = catalog.Snapshot();
  catalog.Remove(SopName{"default", "a"});
  v1::CrmContext context = Context(kLead);
  EXPECT_EQ(held->Match(MatchQuery{"default", &context, 10, kAllRoles}).size(), 1u);
  EXPECT_EQ(MatchCount(catalog), 0u);
}

TEST(PublishedCatalogTest, ConcurrentLookupsSeeWholeSnapshots) {
  // Each write replaces SOP "a" and "b" together via Reset; a reader must
  // always see both or neither.
  PublishedCatalog catalog(LinearSopMatcher::Build);
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::thread reader([&] {
    v1::CrmContext context = Context(kLead);
    while (!stop.load()) {
      size_t n = catalog.Snapshot()->Match(MatchQuery{"default", &context, 10, kAllRoles}).size();
      if (n != 0 && n != 2) torn.fetch_add(1);
    }
  });
  for (int i = 0; i < 2000; ++i) {
    if (i % 2 == 0) {
      catalog.Reset({Published("a", R"pb(targeting_rules { record_types: "Lead" })pb"),
                     Published("b", R"pb(targeting_rules { record_types: "Lead" })pb")});
    } else {
      catalog.Reset({});
    }
  }
  stop.store(true);
  reader.join();
  EXPECT_EQ(torn.load(), 0);
}

}  // namespace
}  // namespace sopsidebar
