// sopbench_load: writes a generated, CRM-shaped SOP workload straight into a
// sopd data dir (as published SOPs in orgs/default), so sopd can be started
// on it and measured: start-up time and, with sopbench, lookups over gRPC.
//
//   sopbench_load --data-dir DIR --rules N [--seed S] [--match-rate one|percent]
//
// The data dir must not hold a running sopd. Writes are not synced one by
// one (a failed load is simply run again); the store syncs when it closes.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "server/common/clock.h"
#include "server/domain/matching/workload.h"
#include "server/domain/registry/sop_registry.h"
#include "server/storage/rocksdb_store.h"

namespace {

constexpr char kUsage[] =
    "usage: sopbench_load --data-dir DIR --rules N [--seed S] [--match-rate one|percent]\n";

[[noreturn]] void Usage(const std::string& problem) {
  std::cerr << "sopbench_load: " << problem << "\n" << kUsage;
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string data_dir;
  sopsidebar::CrmWorkloadOptions workload;
  workload.orgs = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--data-dir") {
      data_dir = value();
    } else if (arg == "--rules") {
      if (!absl::SimpleAtoi(value(), &workload.rules) || workload.rules <= 0) {
        Usage("--rules needs a positive number");
      }
    } else if (arg == "--seed") {
      if (!absl::SimpleAtoi(value(), &workload.seed)) Usage("--seed needs a number");
    } else if (arg == "--match-rate") {
      const std::string rate = value();
      if (rate == "one") {
        workload.match_rate = sopsidebar::MatchRate::kAboutOne;
      } else if (rate == "percent") {
        workload.match_rate = sopsidebar::MatchRate::kOnePercent;
      } else {
        Usage("--match-rate is one or percent");
      }
    } else {
      Usage("unknown argument " + arg);
    }
  }
  if (data_dir.empty()) Usage("--data-dir is required");

  const absl::Time start = absl::Now();
  sopsidebar::CrmWorkload generated(workload);
  auto store = sopsidebar::RocksDbStore::Open(
      (std::filesystem::path(data_dir) / "db").string(),
      sopsidebar::RocksDbStore::Options{/*sync_writes=*/false});
  if (!store.ok()) {
    std::cerr << "sopbench_load: " << store.status() << std::endl;
    return 1;
  }
  sopsidebar::Caller loader;
  loader.org = "default";
  loader.user_id = "sopbench_load";
  constexpr size_t kChunk = 10000;
  std::vector<std::pair<sopsidebar::SopName, sopsidebar::v1::Sop>> chunk;
  size_t loaded = 0;
  for (const sopsidebar::PublishedSopPtr& sop : generated.sops()) {
    // One org, so that one token (of orgs/default) sees the whole workload.
    chunk.emplace_back(sopsidebar::SopName{"default", sop->name.sop}, sop->body);
    if (chunk.size() == kChunk || loaded + chunk.size() == generated.sops().size()) {
      absl::Status written = sopsidebar::BulkLoadPublishedSops(
          **store, sopsidebar::Clock::Real(), loader, chunk);
      if (!written.ok()) {
        std::cerr << "sopbench_load: " << written << std::endl;
        return 1;
      }
      loaded += chunk.size();
      chunk.clear();
    }
  }
  store->reset();
  std::cout << "loaded " << loaded << " SOPs (" << workload.rules << " rules) into "
            << data_dir << " in " << absl::ToInt64Milliseconds(absl::Now() - start) << " ms"
            << std::endl;
  return 0;
}
