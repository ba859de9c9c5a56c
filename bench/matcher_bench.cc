// Lookup latency of the indexed engine against the linear baseline, index
// memory, cold start and incremental write cost, on the seeded CRM workload
// (server/domain/matching/workload.h).
//
//   matcher_bench [--quick] [--rules=N[,N...]] [--rate=about_one|one_percent]
//                 [Google Benchmark flags]
//
// Sizes: 1k, 100k and 1M rules (--quick: 1k and 100k, short runs; --rules:
// the sizes given, e.g. to profile one; --rate: that match rate only). For each
// size and each match-rate setting it registers Google Benchmark cases
// (BM_Match/<engine>/<rate>/<rules>), runs them, then prints its own
// per-lookup percentiles and ends with one line per size (about one match
// per context):
//   match rules=N indexed_p50_us=… linear_p50_us=… speedup=… bytes_per_rule=…
//   cold_start_ms=…
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "benchmark/benchmark.h"
#include "server/common/command_line.h"
#include "server/domain/matching/indexed_sop_matcher.h"
#include "server/domain/matching/linear_sop_matcher.h"
#include "server/domain/matching/workload.h"

namespace sopsidebar {
namespace {

using Clock = std::chrono::steady_clock;

double Micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

// Bytes malloc has handed out, including blocks it mmapped separately.
size_t HeapInUse() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * v.size()));
  std::nth_element(v.begin(), v.begin() + i, v.end());
  return v[i];
}

// A lookup as sopd makes it: the context has just been parsed from the
// request, so it is in cache and in fresh allocations. Queries are kept
// serialized and parsed (untimed) before each timed Match; matching 2,000
// contexts kept in memory from the start would instead time cache misses on
// the benchmark's own data.
class FreshQueries {
 public:
  explicit FreshQueries(const std::vector<WorkloadQuery>& queries) : queries_(queries) {
    wire_.reserve(queries.size());
    for (const WorkloadQuery& q : queries) wire_.push_back(q.context.SerializeAsString());
  }
  size_t size() const { return queries_.size(); }

  // Query `i`, its context parsed anew (valid until the next call).
  MatchQuery Parse(size_t i) {
    context_ = std::make_unique<v1::CrmContext>();
    context_->ParseFromString(wire_[i]);
    MatchQuery q = queries_[i].AsMatchQuery(10);
    q.context = context_.get();
    return q;
  }

 private:
  const std::vector<WorkloadQuery>& queries_;
  std::vector<std::string> wire_;
  std::unique_ptr<v1::CrmContext> context_;
};

// Per-lookup latencies of `matcher` over `queries`, `passes` times.
std::vector<double> LookupLatencies(const SopMatcher& matcher,
                                    const std::vector<WorkloadQuery>& queries, int passes,
                                    double* mean_matches) {
  FreshQueries fresh(queries);
  std::vector<double> us;
  us.reserve(queries.size() * passes);
  size_t matches = 0;
  for (int pass = 0; pass < passes; ++pass) {
    for (size_t i = 0; i < fresh.size(); ++i) {
      const MatchQuery mq = fresh.Parse(i);
      const auto start = Clock::now();
      std::vector<SopMatchResult> results = matcher.Match(mq);
      us.push_back(Micros(Clock::now() - start));
      matches += results.size();
      benchmark::DoNotOptimize(results);
    }
  }
  if (mean_matches != nullptr) *mean_matches = static_cast<double>(matches) / us.size();
  return us;
}

struct Setup {
  int rules = 0;
  MatchRate rate = MatchRate::kAboutOne;
  std::unique_ptr<CrmWorkload> workload;
  std::vector<WorkloadQuery> queries;
  std::unique_ptr<const SopMatcher> indexed;
  std::unique_ptr<const SopMatcher> linear;
  double bytes_per_rule = 0;
  double cold_start_ms = 0;
};

std::unique_ptr<Setup> Prepare(int rules, MatchRate rate) {
  auto s = std::make_unique<Setup>();
  s->rules = rules;
  s->rate = rate;
  CrmWorkloadOptions options;
  options.rules = rules;
  options.match_rate = rate;
  options.seed = 42;
  s->workload = std::make_unique<CrmWorkload>(options);
  s->queries = s->workload->Queries(rules >= 1000000 ? 1000 : 2000, 4242);
  malloc_trim(0);
  const size_t before = HeapInUse();
  const auto start = Clock::now();
  s->indexed = IndexedSopMatcher::Build(s->workload->sops());
  s->cold_start_ms = Micros(Clock::now() - start) / 1000;
  s->bytes_per_rule = static_cast<double>(HeapInUse() - before) / rules;
  s->linear = LinearSopMatcher::Build(s->workload->sops());
  return s;
}

struct WriteCost {
  double mean_us = 0, p50_us = 0, p99_us = 0, max_us = 0;
};

// Chained single-SOP writes (half new SOPs, half new revisions of existing
// ones) on a copy of the full build, as PublishedCatalog::Put does them.
WriteCost MeasureWrites(const Setup& s, int writes) {
  std::vector<double> us;
  std::unique_ptr<const SopMatcher> current = s.indexed->WithChanges({}, {});
  const auto& sops = s.workload->sops();
  for (int i = 0; i < writes; ++i) {
    PublishedSopPtr fresh = s.workload->NewSop(i, 7);
    if (i % 2 == 1) {
      const PublishedSopPtr& old = sops[(static_cast<size_t>(i) * 7919) % sops.size()];
      fresh = MakePublishedSop(old->name, old->revision + 1, fresh->publish_time, fresh->body);
    }
    const auto start = Clock::now();
    current = current->WithChanges({fresh}, {});
    us.push_back(Micros(Clock::now() - start));
  }
  WriteCost cost;
  for (double u : us) cost.mean_us += u / us.size();
  cost.p50_us = Percentile(us, 0.5);
  cost.p99_us = Percentile(us, 0.99);
  cost.max_us = *std::max_element(us.begin(), us.end());
  return cost;
}

const char* RateName(MatchRate rate) {
  return rate == MatchRate::kAboutOne ? "about_one" : "one_percent";
}

void RegisterLookups(const Setup& s) {
  for (const auto& [engine, matcher] :
       {std::make_pair("indexed", s.indexed.get()), std::make_pair("linear", s.linear.get())}) {
    if (std::string(engine) == "linear" && s.rules >= 1000000) continue;  // too slow
    const SopMatcher* m = matcher;
    const std::vector<WorkloadQuery>* queries = &s.queries;
    benchmark::RegisterBenchmark(
        absl::StrCat("BM_Match/", engine, "/", RateName(s.rate), "/", s.rules).c_str(),
        [m, queries](benchmark::State& state) {
          FreshQueries fresh(*queries);
          size_t i = 0;
          for (auto _ : state) {
            const MatchQuery q = fresh.Parse(i);
            const auto start = Clock::now();
            benchmark::DoNotOptimize(m->Match(q));
            state.SetIterationTime(std::chrono::duration<double>(Clock::now() - start).count());
            if (++i == fresh.size()) i = 0;
          }
        })
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace
}  // namespace sopsidebar

ABSL_FLAG(bool, quick, false, "1k and 100k rules only, short runs");
ABSL_FLAG(std::vector<std::string>, rules, {},
          "the sizes to run, comma-separated rule counts (default 1000,100000,1000000)");
ABSL_FLAG(std::string, rate, "", "one match rate only: about_one or one_percent (default both)");

int main(int argc, char** argv) {
  using namespace sopsidebar;  // NOLINT: a benchmark's main
  // --benchmark_* flags are Google Benchmark's; the rest are ours.
  std::vector<char*> ours, benchmark_args = {argv[0]};
  for (int i = 0; i < argc; ++i) {
    (i > 0 && absl::StartsWith(argv[i], "--benchmark_") ? benchmark_args : ours).push_back(argv[i]);
  }
  ParseCommandLineOrExit(
      static_cast<int>(ours.size()), ours.data(),
      CommandLine{"matcher_bench",
                  "matcher_bench: the indexed matcher against the linear one, in process.\n\n"
                  "usage: matcher_bench [--quick] [--rules=N[,N...]] "
                  "[--rate=about_one|one_percent]\n"
                  "                     [--benchmark_... (Google Benchmark's flags)]\n",
                  __FILE__, ""});
  const bool quick = absl::GetFlag(FLAGS_quick);
  std::vector<int> sizes;
  for (const std::string& n : absl::GetFlag(FLAGS_rules)) {
    int rules = 0;
    if (!absl::SimpleAtoi(n, &rules) || rules <= 0) {
      std::fprintf(stderr, "matcher_bench: --rules wants positive counts, got '%s'\n", n.c_str());
      return 2;
    }
    sizes.push_back(rules);
  }
  std::vector<MatchRate> rates = {MatchRate::kAboutOne, MatchRate::kOnePercent};
  const std::string rate = absl::GetFlag(FLAGS_rate);
  if (rate == RateName(MatchRate::kAboutOne)) {
    rates = {MatchRate::kAboutOne};
  } else if (rate == RateName(MatchRate::kOnePercent)) {
    rates = {MatchRate::kOnePercent};
  } else if (!rate.empty()) {
    std::fprintf(stderr, "matcher_bench: --rate wants about_one or one_percent\n");
    return 2;
  }
  std::string min_time = "--benchmark_min_time=0.05";
  if (quick) benchmark_args.push_back(min_time.data());
  int bench_argc = static_cast<int>(benchmark_args.size());
  benchmark::Initialize(&bench_argc, benchmark_args.data());
  if (benchmark::ReportUnrecognizedArguments(bench_argc, benchmark_args.data())) return 2;

  if (sizes.empty()) {
    sizes = {1000, 100000};
    if (!quick) sizes.push_back(1000000);
  }
  std::vector<std::unique_ptr<Setup>> setups;
  for (int rules : sizes) {
    for (MatchRate rate : rates) {
      std::fprintf(stderr, "preparing %d rules, %s...\n", rules, RateName(rate));
      setups.push_back(Prepare(rules, rate));
      RegisterLookups(*setups.back());
    }
  }
  benchmark::RunSpecifiedBenchmarks();

  std::vector<std::string> summary;
  for (const auto& s : setups) {
    const int passes = quick ? 1 : 3;
    double indexed_matches = 0;
    const std::vector<double> indexed =
        LookupLatencies(*s->indexed, s->queries, passes, &indexed_matches);
    const size_t linear_sample = s->rules >= 1000000 ? 20 : (s->rules >= 100000 ? 200 : 2000);
    std::vector<WorkloadQuery> sample(
        s->queries.begin(), s->queries.begin() + std::min(linear_sample, s->queries.size()));
    const std::vector<double> linear = LookupLatencies(*s->linear, sample, 1, nullptr);
    const double ip50 = Percentile(indexed, 0.5), lp50 = Percentile(linear, 0.5);
    const WriteCost writes = MeasureWrites(*s, quick ? 300 : 1000);
    std::printf(
        "detail rules=%d rate=%s mean_matches=%.2f indexed_p50_us=%.2f "
        "indexed_p99_us=%.2f "
        "linear_p50_us=%.1f speedup=%.1f bytes_per_rule=%.0f "
        "cold_start_ms=%.1f "
        "write_mean_us=%.0f write_p50_us=%.0f write_p99_us=%.0f "
        "write_max_us=%.0f\n",
        s->rules, RateName(s->rate), indexed_matches, ip50, Percentile(indexed, 0.99), lp50,
        lp50 / ip50, s->bytes_per_rule, s->cold_start_ms, writes.mean_us, writes.p50_us,
        writes.p99_us, writes.max_us);
    if (s->rate == MatchRate::kAboutOne) {
      summary.push_back(
          absl::StrFormat("match rules=%d indexed_p50_us=%.2f linear_p50_us=%.1f speedup=%.1f "
                          "bytes_per_rule=%.0f cold_start_ms=%.1f",
                          s->rules, ip50, lp50, lp50 / ip50, s->bytes_per_rule, s->cold_start_ms));
    }
  }
  for (const std::string& line : summary) std::printf("%s\n", line.c_str());
  return 0;
}
