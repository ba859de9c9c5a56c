// Property tests: the indexed engine returns exactly the baseline's results
// (same SOPs, order, rule_index, priority, specificity) and near misses, on
// random SOP sets and contexts, also after random chains of incremental
// writes compared with a from-scratch baseline.
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/domain/matching/indexed_sop_matcher.h"
#include "server/domain/matching/linear_sop_matcher.h"
#include "server/domain/matching/workload.h"

namespace sopsidebar {
namespace {

std::string Describe(const std::vector<SopMatchResult>& results) {
  std::string out;
  for (const SopMatchResult& r : results) {
    absl::StrAppend(&out, r.sop->name.Full(), "@", r.sop->revision, "#", r.rule_index, " p",
                    r.priority, " s", r.specificity, "; ");
  }
  return out;
}

std::string Describe(const std::vector<NearMiss>& misses) {
  std::string out;
  for (const NearMiss& m : misses) {
    absl::StrAppend(&out, m.sop->name.Full(), "#", m.rule_index, " c", m.failed_condition, " p",
                    m.priority, " s", m.specificity, "; ");
  }
  return out;
}

// Compares both engines on `queries`; returns how many comparisons failed
// (reporting the first few).
int CompareEngines(const SopMatcher& expected, const SopMatcher& actual,
                   const std::vector<WorkloadQuery>& queries, const std::string& label) {
  int failures = 0;
  for (size_t i = 0; i < queries.size(); ++i) {
    for (int k : {1, 3, 100}) {
      const MatchQuery q = queries[i].AsMatchQuery(k);
      const std::string want = Describe(expected.Match(q));
      const std::string got = Describe(actual.Match(q));
      if (want != got && ++failures <= 3) {
        ADD_FAILURE() << label << " query " << i << " k=" << k << "\ncontext "
                      << queries[i].context.ShortDebugString() << "\nwant " << want
                      << "\ngot  " << got;
      }
    }
    const MatchQuery q = queries[i].AsMatchQuery();
    const std::string want = Describe(expected.NearMisses(q, 50));
    const std::string got = Describe(actual.NearMisses(q, 50));
    if (want != got && ++failures <= 3) {
      ADD_FAILURE() << label << " near misses, query " << i << "\ncontext "
                    << queries[i].context.ShortDebugString() << "\nwant " << want << "\ngot  "
                    << got;
    }
  }
  return failures;
}

TEST(MatcherEquivalenceTest, IndexedAgreesWithLinearOnAdversarialSets) {
  int failures = 0;
  for (uint64_t seed = 1; seed <= 300 && failures == 0; ++seed) {
    AdversarialWorkload workload(AdversarialOptions{seed, seed % 2 == 0 ? 60 : 15});
    auto linear = LinearSopMatcher::Build(workload.sops());
    auto indexed = IndexedSopMatcher::Build(workload.sops());
    failures += CompareEngines(*linear, *indexed, workload.Queries(30, seed * 7919),
                               absl::StrCat("seed ", seed));
  }
  EXPECT_EQ(failures, 0);
}

TEST(MatcherEquivalenceTest, IndexedAgreesWithLinearOnCrmWorkloads) {
  for (MatchRate rate : {MatchRate::kAboutOne, MatchRate::kOnePercent}) {
    for (uint64_t seed : {11, 12}) {
      CrmWorkloadOptions options;
      options.seed = seed;
      options.rules = 3000;
      options.match_rate = rate;
      CrmWorkload workload(options);
      auto linear = LinearSopMatcher::Build(workload.sops());
      auto indexed = IndexedSopMatcher::Build(workload.sops());
      EXPECT_EQ(CompareEngines(*linear, *indexed, workload.Queries(150, seed + 100),
                               absl::StrCat("crm seed ", seed)),
                0);
    }
  }
}

// Full builds this large compile on several threads (when the machine has
// them); the result must not depend on it.
TEST(MatcherEquivalenceTest, LargeBuildsAgreeWithLinear) {
  CrmWorkloadOptions options;
  options.seed = 13;
  options.rules = 60000;
  CrmWorkload workload(options);
  ASSERT_GE(workload.sops().size(), 40000u);
  auto linear = LinearSopMatcher::Build(workload.sops());
  auto indexed = IndexedSopMatcher::Build(workload.sops());
  EXPECT_EQ(CompareEngines(*linear, *indexed, workload.Queries(20, 113), "large build"), 0);
}

// Applies random batches of puts and removes to a chain of indexed
// snapshots and checks each against a baseline built from scratch.
void CheckIncrementalChain(const std::vector<PublishedSopPtr>& initial,
                           const std::function<PublishedSopPtr(std::mt19937_64&)>& new_sop,
                           const std::vector<WorkloadQuery>& queries, int writes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::map<std::string, PublishedSopPtr> current;
  for (const PublishedSopPtr& sop : initial) current[sop->name.Full()] = sop;
  std::unique_ptr<const SopMatcher> indexed = IndexedSopMatcher::Build(initial);
  for (int w = 0; w < writes; ++w) {
    std::vector<PublishedSopPtr> puts;
    std::vector<SopName> removes;
    const int n = std::uniform_int_distribution<int>(1, 4)(rng);
    for (int i = 0; i < n; ++i) {
      if (!current.empty() && std::uniform_int_distribution<int>(0, 2)(rng) == 0) {
        auto it = current.begin();
        std::advance(it, std::uniform_int_distribution<size_t>(0, current.size() - 1)(rng));
        removes.push_back(it->second->name);
      } else {
        puts.push_back(new_sop(rng));
      }
    }
    for (const SopName& name : removes) current.erase(name.Full());
    for (const PublishedSopPtr& sop : puts) current[sop->name.Full()] = sop;
    indexed = indexed->WithChanges(puts, removes);
    std::vector<PublishedSopPtr> all;
    for (const auto& [name, sop] : current) all.push_back(sop);
    auto linear = LinearSopMatcher::Build(all);
    ASSERT_EQ(static_cast<const IndexedSopMatcher&>(*indexed).sop_count(), current.size());
    std::vector<WorkloadQuery> sample(queries.begin() + (w % 4) * (queries.size() / 4),
                                      queries.begin() + (w % 4 + 1) * (queries.size() / 4));
    ASSERT_EQ(CompareEngines(*linear, *indexed, sample, absl::StrCat("write ", w)), 0);
  }
}

TEST(MatcherEquivalenceTest, IncrementalWritesAgreeWithAFullBaselineOnAdversarialSets) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    AdversarialWorkload workload(AdversarialOptions{seed, 80});
    CheckIncrementalChain(
        workload.sops(), [&](std::mt19937_64& rng) { return workload.NewSop(rng); },
        workload.Queries(40, seed + 1), 150, seed);
  }
}

TEST(MatcherEquivalenceTest, IncrementalWritesAgreeWithAFullBaselineOnCrmWorkloads) {
  CrmWorkloadOptions options;
  options.rules = 2500;
  options.match_rate = MatchRate::kOnePercent;
  CrmWorkload workload(options);
  int i = 0;
  CheckIncrementalChain(
      workload.sops(),
      [&](std::mt19937_64& rng) {
        // Half new SOPs, half new revisions of existing ones.
        PublishedSopPtr fresh = workload.NewSop(i++, 5);
        if (rng() % 2 == 0) return fresh;
        const PublishedSopPtr& old = workload.sops()[rng() % workload.sops().size()];
        return MakePublishedSop(old->name, old->revision + 1, fresh->publish_time, fresh->body);
      },
      workload.Queries(24, 77), 120, 3);
}

}  // namespace
}  // namespace sopsidebar
