// Property tests: the indexed engine returns exactly the baseline's results
// (same SOPs, order, rule_index, priority, specificity) and near misses, on
// random SOP sets and contexts, also after random chains of incremental
// writes compared with a from-scratch baseline. Each test also checks that
// its workload gives most queries a match and many several, so the engines
// cannot agree by both finding nothing.
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

// What comparing the engines on some queries found.
struct Comparison {
  int failures = 0;  // comparisons that differed
  int queries = 0;
  int matched = 0;  // queries the compared engine matched at least one SOP for
  int several = 0;  // ... at least two SOPs for
  int near = 0;     // ... found a near miss for

  Comparison& operator+=(const Comparison& o) {
    failures += o.failures;
    queries += o.queries;
    matched += o.matched;
    several += o.several;
    near += o.near;
    return *this;
  }
};

// Compares both engines on `queries`, counting failed comparisons (reporting
// the first few) and what `actual` found.
Comparison CompareEngines(const SopMatcher& expected, const SopMatcher& actual,
                          const std::vector<WorkloadQuery>& queries, const std::string& label) {
  Comparison out;
  out.queries = static_cast<int>(queries.size());
  for (size_t i = 0; i < queries.size(); ++i) {
    for (int k : {1, 3, 100}) {
      const MatchQuery q = queries[i].AsMatchQuery(k);
      const std::vector<SopMatchResult> results = actual.Match(q);
      if (k == 100) {
        out.matched += results.empty() ? 0 : 1;
        out.several += results.size() >= 2 ? 1 : 0;
      }
      const std::string want = Describe(expected.Match(q));
      const std::string got = Describe(results);
      if (want != got && ++out.failures <= 3) {
        ADD_FAILURE() << label << " query " << i << " k=" << k << "\ncontext "
                      << queries[i].context.ShortDebugString() << "\nwant " << want
                      << "\ngot  " << got;
      }
    }
    const MatchQuery q = queries[i].AsMatchQuery();
    const std::vector<NearMiss> misses = actual.NearMisses(q, 50);
    out.near += misses.empty() ? 0 : 1;
    const std::string want = Describe(expected.NearMisses(q, 50));
    const std::string got = Describe(misses);
    if (want != got && ++out.failures <= 3) {
      ADD_FAILURE() << label << " near misses, query " << i << "\ncontext "
                    << queries[i].context.ShortDebugString() << "\nwant " << want << "\ngot  "
                    << got;
    }
  }
  return out;
}

// Agreement proves little when the engines agree on nothing found: the
// workload must give a meaningful share of queries one match and of queries
// several (each a fraction of the queries compared).
void ExpectMatchesFound(const Comparison& c, double min_matched, double min_several,
                        const std::string& label) {
  ASSERT_GT(c.queries, 0) << label;
  const double matched = static_cast<double>(c.matched) / c.queries;
  const double several = static_cast<double>(c.several) / c.queries;
  EXPECT_GE(matched, min_matched) << label << ": " << c.matched << " of " << c.queries
                                  << " queries matched";
  EXPECT_GE(several, min_several) << label << ": " << c.several << " of " << c.queries
                                  << " queries matched several SOPs";
}

TEST(MatcherEquivalenceTest, IndexedAgreesWithLinearOnAdversarialSets) {
  Comparison total;
  for (uint64_t seed = 1; seed <= 300 && total.failures == 0; ++seed) {
    AdversarialWorkload workload(AdversarialOptions{seed, seed % 2 == 0 ? 60 : 15});
    auto linear = LinearSopMatcher::Build(workload.sops());
    auto indexed = IndexedSopMatcher::Build(workload.sops());
    total += CompareEngines(*linear, *indexed, workload.Queries(30, seed * 7919),
                            absl::StrCat("seed ", seed));
  }
  EXPECT_EQ(total.failures, 0);
  ExpectMatchesFound(total, 0.5, 0.3, "adversarial sets");
  EXPECT_GE(static_cast<double>(total.near) / total.queries, 0.5)
      << total.near << " of " << total.queries << " queries had near misses";
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
      const std::string label = absl::StrCat("crm seed ", seed, " rate ", static_cast<int>(rate));
      const Comparison c =
          CompareEngines(*linear, *indexed, workload.Queries(150, seed + 100), label);
      EXPECT_EQ(c.failures, 0);
      if (rate == MatchRate::kAboutOne) {
        ExpectMatchesFound(c, 0.5, 0.2, label);
      } else {
        ExpectMatchesFound(c, 0.7, 0.5, label);
      }
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
  const Comparison c = CompareEngines(*linear, *indexed, workload.Queries(20, 113), "large build");
  EXPECT_EQ(c.failures, 0);
  ExpectMatchesFound(c, 0.5, 0.2, "large build");
}

// Applies random batches of puts and removes to a chain of indexed
// snapshots and checks each against a baseline built from scratch; returns
// what the comparisons found (stopping at the first write that failed).
Comparison CheckIncrementalChain(const std::vector<PublishedSopPtr>& initial,
                           const std::function<PublishedSopPtr(std::mt19937_64&)>& new_sop,
                           const std::vector<WorkloadQuery>& queries, int writes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::map<std::string, PublishedSopPtr> current;
  for (const PublishedSopPtr& sop : initial) current[sop->name.Full()] = sop;
  std::unique_ptr<const SopMatcher> indexed = IndexedSopMatcher::Build(initial);
  Comparison total;
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
    EXPECT_EQ(static_cast<const IndexedSopMatcher&>(*indexed).sop_count(), current.size());
    std::vector<WorkloadQuery> sample(queries.begin() + (w % 4) * (queries.size() / 4),
                                      queries.begin() + (w % 4 + 1) * (queries.size() / 4));
    total += CompareEngines(*linear, *indexed, sample, absl::StrCat("write ", w));
    if (total.failures != 0) break;
  }
  return total;
}

TEST(MatcherEquivalenceTest, IncrementalWritesAgreeWithAFullBaselineOnAdversarialSets) {
  Comparison total;
  for (uint64_t seed = 1; seed <= 6 && total.failures == 0; ++seed) {
    AdversarialWorkload workload(AdversarialOptions{seed, 80});
    total += CheckIncrementalChain(
        workload.sops(), [&](std::mt19937_64& rng) { return workload.NewSop(rng); },
        workload.Queries(40, seed + 1), 150, seed);
  }
  EXPECT_EQ(total.failures, 0);
  ExpectMatchesFound(total, 0.5, 0.3, "incremental adversarial");
}

TEST(MatcherEquivalenceTest, IncrementalWritesAgreeWithAFullBaselineOnCrmWorkloads) {
  CrmWorkloadOptions options;
  options.rules = 2500;
  options.match_rate = MatchRate::kOnePercent;
  CrmWorkload workload(options);
  int i = 0;
  const Comparison c = CheckIncrementalChain(
      workload.sops(),
      [&](std::mt19937_64& rng) {
        // Half new SOPs, half new revisions of existing ones.
        PublishedSopPtr fresh = workload.NewSop(i++, 5);
        if (rng() % 2 == 0) return fresh;
        const PublishedSopPtr& old = workload.sops()[rng() % workload.sops().size()];
        return MakePublishedSop(old->name, old->revision + 1, fresh->publish_time, fresh->body);
      },
      workload.Queries(24, 77), 120, 3);
  EXPECT_EQ(c.failures, 0);
  ExpectMatchesFound(c, 0.5, 0.3, "incremental crm");
}

}  // namespace
}  // namespace sopsidebar
