// What coverage-gap recording costs a lookup: LookupSopsWire (the lookup as
// sopd serves it) on a registry loaded with the seeded CRM workload, without
// a sink and with a CoverageRecorder (as sopd wires it), in process so that
// the figure does not drown in gRPC's noise.
//
//   coverage_bench [--quick] [--rules=N[,N...]] [--rounds=R]
//                  [Google Benchmark flags]
//
// The registry holds the workload sopbench_load writes (one org, seed 1,
// about one match per context) and the lookups are the ones sopbench sends
// (2,000 contexts, seed 2, an SDR caller), so the share of lookups that
// match nothing is sopd's under scripts/bench. Two mixes: "workload" (those
// contexts, as sopbench sends them) and "all_miss" (2,000 contexts, drawn
// further, that match nothing: every lookup records, the worst case). Each
// lookup's request is parsed anew (untimed) before the timed call, as sopd
// parses it. The two variants alternate over R rounds (default 9; --quick
// 5), each round one pass per variant (at least 20,000 lookups; --quick
// 5,000) in alternating order. One line per size and mix:
//   coverage rules=N mix=workload misses=32.0% lookup_ns_without=… lookup_ns_with=…
//     cost=+1.2% record_ns=… record_share=0.40%
// misses: the share of lookups that match nothing; lookup_ns_*: the medians
// of the rounds' mean ns per lookup; cost: the median of the rounds'
// with/without ratio, minus one. record_ns is CoverageRecorder::Unmatched
// timed alone, call by call, on a context just read as a lookup leaves it
// (the median of R runs over the missing contexts), and
// record_share = misses × record_ns / lookup_ns_without: the same cost,
// derived without the noise of two lookup timings.
// Google Benchmark cases (BM_Lookup/<without|with>/<mix>/<rules>) run too
// when --benchmark_filter is given.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "common/auth/caller.h"
#include "common/model/roles.h"
#include "server/common/clock.h"
#include "server/common/command_line.h"
#include "server/domain/analytics/coverage_recorder.h"
#include "server/domain/crm/crm_maps.h"
#include "server/domain/matching/indexed_sop_matcher.h"
#include "server/domain/matching/workload.h"
#include "server/domain/registry/crm_lookup.h"
#include "server/domain/registry/sop_registry.h"
#include "server/domain/store/in_memory_auth_store.h"
#include "server/domain/store/in_memory_sop_store.h"

namespace sopsidebar {
namespace {

using Steady = std::chrono::steady_clock;

// Counts what it is told (to find the contexts that match nothing).
class CountingSink final : public UnmatchedLookupSink {
 public:
  void Unmatched(absl::string_view, const v1::CrmContext&) override { ++count; }
  int64_t count = 0;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

struct Setup {
  int rules = 0;
  InMemorySopStore store;
  InMemoryAuthStore auth;
  std::unique_ptr<CrmMaps> maps;
  std::unique_ptr<SopRegistry> registry;
  Caller caller;
  std::vector<std::string> workload;  // serialised requests, as sopbench sends them
  size_t workload_misses = 0;         // of them, those that match nothing
  std::vector<std::string> all_miss;  // contexts that match nothing
};

std::unique_ptr<Setup> Prepare(int rules) {
  auto s = std::make_unique<Setup>();
  s->rules = rules;
  // sopbench_load's and sopbench's workload.
  CrmWorkloadOptions options;
  options.orgs = 1;
  options.rules = rules;
  CrmWorkload generated(options);
  Caller loader;
  loader.org = "default";
  loader.user_id = "coverage_bench";
  std::vector<std::pair<SopName, v1::Sop>> sops;
  for (const PublishedSopPtr& sop : generated.sops()) {
    sops.emplace_back(SopName{"default", sop->name.sop}, sop->body);
  }
  absl::Status loaded = BulkLoadPublishedSops(s->store, Clock::Real(), loader, sops);
  if (!loaded.ok()) {
    std::fprintf(stderr, "coverage_bench: %s\n", loaded.ToString().c_str());
    std::exit(1);
  }
  s->registry = SopRegistry::Create(&s->store, &Clock::Real(), IndexedSopMatcher::Build).value();
  s->maps = CrmMaps::Create(&s->auth, &Clock::Real()).value();
  s->caller.org = "default";
  s->caller.user_id = "bench@example.com";
  s->caller.roles = RoleBit(v1::SDR);
  for (WorkloadQuery& q : generated.Queries(2000, options.seed + 1)) {
    v1::LookupSopsRequest request;
    *request.mutable_context() = std::move(q.context);
    request.mutable_context()->set_org("orgs/default");
    CountingSink sink;
    std::string out;
    absl::Status status = LookupSopsWire(*s->registry, *s->maps, s->caller, request, &out, &sink);
    if (!status.ok()) {
      std::fprintf(stderr, "coverage_bench: %s\n", status.ToString().c_str());
      std::exit(1);
    }
    s->workload.push_back(request.SerializeAsString());
    if (sink.count > 0) ++s->workload_misses;
  }
  // Up to 2,000 contexts that match nothing, from more draws (at 100k rules
  // few of sopbench's 2,000 miss).
  for (WorkloadQuery& q : generated.Queries(50000, options.seed + 2)) {
    if (s->all_miss.size() == 2000) break;
    v1::LookupSopsRequest request;
    *request.mutable_context() = std::move(q.context);
    request.mutable_context()->set_org("orgs/default");
    CountingSink sink;
    std::string out;
    if (!LookupSopsWire(*s->registry, *s->maps, s->caller, request, &out, &sink).ok()) continue;
    if (sink.count > 0) s->all_miss.push_back(request.SerializeAsString());
  }
  return s;
}

// Mean ns of LookupSopsWire over `lookups` lookups cycling through
// `requests` (each parsed anew, untimed).
double PassNs(const Setup& s, const std::vector<std::string>& requests, UnmatchedLookupSink* sink,
              size_t lookups) {
  Steady::duration total{};
  v1::LookupSopsRequest request;
  std::string out;
  for (size_t i = 0; i < lookups; ++i) {
    const std::string& wire = requests[i % requests.size()];
    request.Clear();
    request.ParseFromString(wire);
    out.clear();
    const auto start = Steady::now();
    absl::Status status = LookupSopsWire(*s.registry, *s.maps, s.caller, request, &out, sink);
    total += Steady::now() - start;
    benchmark::DoNotOptimize(status);
    benchmark::DoNotOptimize(out.data());
  }
  return std::chrono::duration<double, std::nano>(total).count() / lookups;
}

// Mean ns of CoverageRecorder::Unmatched alone, on the contexts of
// `requests` (parsed beforehand): what one recorded miss costs. As in a
// lookup, the context has just been read (ByteSizeLong walks it, untimed);
// each call is timed on its own and the clock's own cost, timed the same
// way around nothing, is taken off.
double RecordNs(const std::vector<std::string>& requests, CoverageRecorder& recorder,
                size_t calls) {
  std::vector<v1::LookupSopsRequest> parsed(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) parsed[i].ParseFromString(requests[i]);
  Steady::duration recording{}, clock{};
  for (size_t i = 0; i < calls; ++i) {
    const v1::CrmContext& context = parsed[i % parsed.size()].context();
    benchmark::DoNotOptimize(context.ByteSizeLong());
    auto start = Steady::now();
    recorder.Unmatched("default", context);
    recording += Steady::now() - start;
    start = Steady::now();
    benchmark::ClobberMemory();
    clock += Steady::now() - start;
  }
  return std::max(0.0, std::chrono::duration<double, std::nano>(recording - clock).count() / calls);
}

void RegisterLookups(const Setup& s, CoverageRecorder* recorder) {
  for (const auto& [mix, requests] :
       {std::make_pair("workload", &s.workload), std::make_pair("all_miss", &s.all_miss)}) {
    for (UnmatchedLookupSink* sink : {static_cast<UnmatchedLookupSink*>(nullptr),
                                      static_cast<UnmatchedLookupSink*>(recorder)}) {
      const Setup* setup = &s;
      const std::vector<std::string>* r = requests;
      benchmark::RegisterBenchmark(
          absl::StrCat("BM_Lookup/", sink == nullptr ? "without" : "with", "/", mix, "/", s.rules)
              .c_str(),
          [setup, r, sink](benchmark::State& state) {
            v1::LookupSopsRequest request;
            std::string out;
            size_t i = 0;
            for (auto _ : state) {
              state.PauseTiming();
              request.Clear();
              request.ParseFromString((*r)[i]);
              out.clear();
              if (++i == r->size()) i = 0;
              state.ResumeTiming();
              benchmark::DoNotOptimize(LookupSopsWire(*setup->registry, *setup->maps, setup->caller,
                                                      request, &out, sink));
            }
          })
          ->Unit(benchmark::kNanosecond);
    }
  }
}

}  // namespace
}  // namespace sopsidebar

ABSL_FLAG(bool, quick, false, "fewer rounds");
ABSL_FLAG(std::vector<std::string>, rules, {},
          "the sizes to run, comma-separated rule counts (default 1000,100000)");
ABSL_FLAG(int, rounds, 0, "rounds of alternating passes (default 9; --quick 5)");

int main(int argc, char** argv) {
  using namespace sopsidebar;  // NOLINT: a benchmark's main
  // --benchmark_* flags are Google Benchmark's; the rest are ours.
  std::vector<char*> ours, benchmark_args = {argv[0]};
  bool run_gbench = false;
  for (int i = 0; i < argc; ++i) {
    const bool theirs = i > 0 && absl::StartsWith(argv[i], "--benchmark_");
    if (theirs && absl::StartsWith(argv[i], "--benchmark_filter")) run_gbench = true;
    (theirs ? benchmark_args : ours).push_back(argv[i]);
  }
  ParseCommandLineOrExit(
      static_cast<int>(ours.size()), ours.data(),
      CommandLine{"coverage_bench",
                  "coverage_bench: LookupSopsWire without and with coverage recording.\n\n"
                  "usage: coverage_bench [--quick] [--rules=N[,N...]] [--rounds=R]\n"
                  "                      [--benchmark_... (Google Benchmark's flags)]\n",
                  __FILE__, ""});
  const bool quick = absl::GetFlag(FLAGS_quick);
  std::vector<int> sizes;
  for (const std::string& n : absl::GetFlag(FLAGS_rules)) {
    int rules = 0;
    if (!absl::SimpleAtoi(n, &rules) || rules <= 0) {
      std::fprintf(stderr, "coverage_bench: --rules wants positive counts, got '%s'\n", n.c_str());
      return 2;
    }
    sizes.push_back(rules);
  }
  if (sizes.empty()) sizes = {1000, 100000};
  int rounds = absl::GetFlag(FLAGS_rounds);
  if (rounds <= 0) rounds = quick ? 5 : 9;
  int bench_argc = static_cast<int>(benchmark_args.size());
  benchmark::Initialize(&bench_argc, benchmark_args.data());
  if (benchmark::ReportUnrecognizedArguments(bench_argc, benchmark_args.data())) return 2;

  CoverageRecorder recorder;
  std::vector<std::unique_ptr<Setup>> setups;
  for (int rules : sizes) {
    std::fprintf(stderr, "preparing %d rules...\n", rules);
    setups.push_back(Prepare(rules));
    RegisterLookups(*setups.back(), &recorder);
  }
  if (run_gbench) benchmark::RunSpecifiedBenchmarks();

  for (const auto& s : setups) {
    for (const auto& [mix, requests] :
         {std::make_pair("workload", &s->workload), std::make_pair("all_miss", &s->all_miss)}) {
      if (requests->empty()) continue;
      // At least 20,000 lookups a pass (--quick: 5,000); a warm-up pass of
      // each, then alternating rounds.
      const size_t lookups = std::max(requests->size(), quick ? size_t{5000} : size_t{20000});
      PassNs(*s, *requests, nullptr, lookups);
      PassNs(*s, *requests, &recorder, lookups);
      std::vector<double> without, with, ratio;
      for (int round = 0; round < rounds; ++round) {
        double a = 0, b = 0;
        if (round % 2 == 0) {
          a = PassNs(*s, *requests, nullptr, lookups);
          b = PassNs(*s, *requests, &recorder, lookups);
        } else {
          b = PassNs(*s, *requests, &recorder, lookups);
          a = PassNs(*s, *requests, nullptr, lookups);
        }
        without.push_back(a);
        with.push_back(b);
        ratio.push_back(b / a);
      }
      const double miss_share = requests == &s->all_miss
                                    ? 1.0
                                    : static_cast<double>(s->workload_misses) / requests->size();
      // The recorder's own cost per lookup: one Unmatched per miss.
      std::vector<double> record;
      for (int round = 0; round < rounds && !s->all_miss.empty(); ++round) {
        record.push_back(RecordNs(s->all_miss, recorder, lookups));
      }
      const double record_ns = Median(record);
      std::printf(
          "coverage rules=%d mix=%s misses=%.1f%% lookup_ns_without=%.0f lookup_ns_with=%.0f "
          "cost=%+.1f%% record_ns=%.0f record_share=%.2f%%\n",
          s->rules, mix, 100 * miss_share, Median(without), Median(with), 100 * (Median(ratio) - 1),
          record_ns, 100 * miss_share * record_ns / Median(without));
    }
  }
  return 0;
}
