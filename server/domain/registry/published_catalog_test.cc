#include "server/domain/registry/published_catalog.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
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

TEST(PublishedCatalogTest, SopsAreTheLatestPublishedRevisionOfEachName) {
  PublishedCatalog catalog(LinearSopMatcher::Build);
  catalog.Put(Published("a", R"pb(title: "first")pb"));
  catalog.Put(Published("b", R"pb(title: "other")pb"));
  catalog.Put(Published("a", R"pb(title: "second")pb"));
  catalog.Remove(SopName{"default", "b"});
  std::vector<PublishedSopPtr> sops = catalog.Sops();
  ASSERT_EQ(sops.size(), 1u);
  EXPECT_EQ(sops[0]->name.sop, "a");
  EXPECT_EQ(sops[0]->body.title(), "second");
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
  // always see both or neither. The writer goes on (up to 20 s) until the
  // reader has looked often and seen the set change many times, so the test
  // cannot pass on a reader that never ran or never saw a write.
  constexpr int kLookups = 2000;
  constexpr int kChanges = 20;
  PublishedCatalog catalog(LinearSopMatcher::Build);
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0}, lookups{0}, changes{0};
  std::thread reader([&] {
    v1::CrmContext context = Context(kLead);
    size_t previous = 0;
    while (!stop.load()) {
      size_t n = catalog.Snapshot()->Match(MatchQuery{"default", &context, 10, kAllRoles}).size();
      if (n != 0 && n != 2) torn.fetch_add(1);
      if (n != previous) changes.fetch_add(1);
      previous = n;
      lookups.fetch_add(1);
    }
  });
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  for (int i = 0; i < 2000 || ((lookups.load() < kLookups || changes.load() < kChanges) &&
                               absl::Now() < deadline);
       ++i) {
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
  EXPECT_GE(lookups.load(), kLookups);
  EXPECT_GE(changes.load(), kChanges) << "the reader saw too few of the writes";
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
  std::atomic<int> lookups{0}, changes{0};
  auto reader = [&] {
    v1::CrmContext context = Context(kLead);
    std::vector<int64_t> previous(kPairs, -1);
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
      if (a != previous) changes.fetch_add(1);
      previous = a;
      lookups.fetch_add(1);
    }
  };
  std::thread r1(reader), r2(reader);
  while (lookups.load() == 0) std::this_thread::yield();
  // At least 600 writes, and on until the readers have looked often and
  // seen many of the writes.
  for (int i = 1; i <= 600 || ((lookups.load() < 2000 || changes.load() < 50) && i <= 200000);
       ++i) {
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
  EXPECT_GE(changes.load(), 50) << "the readers saw too few of the writes";
}

// A publisher is held inside its build (the factory waits) until a reader
// has completed lookups on the current snapshot: a reader that waits for a
// publisher never gets there, and the test fails after 10 s instead of
// hanging.
TEST_P(PublishedCatalogEngineTest, LookupsCompleteWhileAPublisherIsHeldInItsBuild) {
  constexpr int kLookupsWhileHeld = 100;
  std::atomic<bool> hold{false};
  std::atomic<int> lookups{0};
  int lookups_while_held = -1;
  const SopMatcherFactory build = GetParam();
  PublishedCatalog catalog([&](std::vector<PublishedSopPtr> sops) {
    if (hold.load()) {
      const int before = lookups.load();
      const absl::Time deadline = absl::Now() + absl::Seconds(10);
      while (lookups.load() < before + kLookupsWhileHeld && absl::Now() < deadline) {
        std::this_thread::yield();
      }
      lookups_while_held = lookups.load() - before;
    }
    return build(std::move(sops));
  });
  catalog.Reset({Published("a", R"pb(targeting_rules { record_types: "Lead" })pb")});
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    v1::CrmContext context = Context(kLead);
    while (!stop.load()) {
      if (catalog.Snapshot()->Match(MatchQuery{"default", &context, 10, kAllRoles}).size() == 1) {
        lookups.fetch_add(1);
      }
    }
  });
  while (lookups.load() == 0) std::this_thread::yield();
  hold.store(true);
  catalog.Reset({Published("a", R"pb(targeting_rules { record_types: "Lead" })pb"),
                 Published("b", R"pb(targeting_rules { record_types: "Lead" })pb")});
  stop.store(true);
  reader.join();
  EXPECT_GE(lookups_while_held, kLookupsWhileHeld) << "lookups waited for the publisher";
  EXPECT_EQ(catalog.size(), 2u);
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
