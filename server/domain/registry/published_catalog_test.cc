#include "server/domain/registry/published_catalog.h"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/domain/matching/indexed_sop_matcher.h"
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

class PublishedCatalogEngineTest : public ::testing::TestWithParam<SopMatcherFactory> {};

TEST_P(PublishedCatalogEngineTest, WritesAreVisibleBeforeTheyReturn) {
  PublishedCatalog catalog(GetParam());
  catalog.Reset({Published("a", R"pb(targeting_rules { record_types: "Lead" })pb")});
  catalog.Put(Published("b", R"pb(targeting_rules { record_types: "Lead" })pb"));
  EXPECT_EQ(MatchCount(catalog), 2u);
  catalog.Write({Published("c", R"pb(targeting_rules { record_types: "Lead" })pb")},
                {SopName{"default", "a"}, SopName{"default", "b"}});
  EXPECT_EQ(MatchCount(catalog), 1u);
  EXPECT_EQ(catalog.size(), 1u);
  catalog.Remove(SopName{"default", "never-published"});
  EXPECT_EQ(catalog.size(), 1u);
}

// Readers on two threads while a writer replaces or removes pairs of SOPs
// in single writes: every lookup must see each pair whole (both at the same
// revision, or neither).
TEST_P(PublishedCatalogEngineTest, ConcurrentLookupsNeverSeeHalfAWrite) {
  constexpr int kPairs = 6;
  PublishedCatalog catalog(GetParam());
  auto pair_sop = [](absl::string_view side, int k, int revision) -> PublishedSopPtr {
    return MakePublishedSop(
        SopName{"default", absl::StrCat("p", k, side)}, revision, absl::FromUnixSeconds(1000),
        test::ParseText<v1::Sop>(R"pb(targeting_rules { record_types: "Lead" })pb"));
  };
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::atomic<int> lookups{0};
  auto reader = [&] {
    v1::CrmContext context = Context(kLead);
    while (!stop.load()) {
      std::vector<SopMatchResult> results =
          catalog.Snapshot()->Match(MatchQuery{"default", &context, 100, kAllRoles});
      std::vector<int64_t> a(kPairs, -1), b(kPairs, -1);
      for (const SopMatchResult& r : results) {
        const std::string& id = r.sop->name.sop;
        const int k = std::stoi(id.substr(1, id.size() - 2));
        (id.back() == 'a' ? a : b)[k] = r.sop->revision;
      }
      if (a != b) torn.fetch_add(1);
      lookups.fetch_add(1);
    }
  };
  std::thread r1(reader), r2(reader);
  while (lookups.load() == 0) std::this_thread::yield();
  // At least 600 writes, and on until the readers have looked often.
  for (int i = 1; i <= 600 || (lookups.load() < 2000 && i <= 200000); ++i) {
    const int k = i % kPairs;
    if (i % 5 == 0) {
      catalog.Write({}, {SopName{"default", absl::StrCat("p", k, "a")},
                         SopName{"default", absl::StrCat("p", k, "b")}});
    } else {
      catalog.Write({pair_sop("a", k, i), pair_sop("b", k, i)}, {});
    }
  }
  stop.store(true);
  r1.join();
  r2.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_GE(lookups.load(), 2000);
}

// A full build of a large set takes a while; lookups on the current
// snapshot keep completing meanwhile.
TEST_P(PublishedCatalogEngineTest, LookupsKeepCompletingWhileAWriterBuilds) {
  PublishedCatalog catalog(GetParam());
  catalog.Put(Published("a", R"pb(targeting_rules { record_types: "Lead" })pb"));
  std::vector<PublishedSopPtr> large;
  for (int i = 0; i < 40000; ++i) {
    large.push_back(Published(
        absl::StrCat("s", i),
        absl::StrCat(R"pb(targeting_rules { record_types: "Lead"
                            conditions { field: "owner" equals { string_value: "o)pb",
                     i, R"pb(" } }
                            conditions { field: "score" range { min: )pb", i % 100,
                     R"pb( } } })pb")));
  }
  std::atomic<bool> started{false}, stop{false};
  std::atomic<int> lookups{0};
  std::thread reader([&] {
    v1::CrmContext context = Context(kLead);
    while (!stop.load()) {
      if (catalog.Snapshot()->Match(MatchQuery{"default", &context, 10, kAllRoles}).empty()) {
        continue;
      }
      started.store(true);
      lookups.fetch_add(1);
    }
  });
  while (!started.load()) std::this_thread::yield();
  const int before = lookups.load();
  catalog.Reset(std::move(large));
  const int during = lookups.load() - before;
  stop.store(true);
  reader.join();
  EXPECT_GT(during, 0);
  EXPECT_EQ(catalog.size(), 40000u);
}

INSTANTIATE_TEST_SUITE_P(Engines, PublishedCatalogEngineTest,
                         ::testing::Values(SopMatcherFactory(LinearSopMatcher::Build),
                                           SopMatcherFactory(IndexedSopMatcher::Build)),
                         [](const auto& info) {
                           return info.index == 0 ? std::string("Linear")
                                                  : std::string("Indexed");
                         });

}  // namespace
}  // namespace sopsidebar
