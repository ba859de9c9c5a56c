// sopbench_load: writes a generated, CRM-shaped SOP workload straight into a
// sopd data dir (as published SOPs in orgs/default), or into the etcd store
// several sopd nodes share, so sopd can be started on it and measured:
// start-up time and, with sopbench, lookups over gRPC.
//
//   sopbench_load --data-dir DIR --rules N [--seed S] [--match-rate one|percent]
//   sopbench_load --etcd-endpoints URL,... --rules N [...]
//
// The data dir must not hold a running sopd. Writes are not synced one by
// one (a failed load is simply run again); the store syncs when it closes.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/time/clock.h"
#include "server/common/clock.h"
#include "server/common/command_line.h"
#include "server/domain/matching/workload.h"
#include "server/domain/registry/sop_registry.h"
#include "server/storage/etcd/etcd_store.h"
#include "server/storage/rocksdb_store.h"

ABSL_FLAG(std::string, data_dir, "",
          "the sopd data dir to load into (DIR/db); required without --etcd-endpoints");
ABSL_FLAG(std::vector<std::string>, etcd_endpoints, {},
          "load into the etcd store at these endpoints (sopd's --store=etcd, default prefix) "
          "instead of a data dir");
ABSL_FLAG(int, rules, sopsidebar::CrmWorkloadOptions().rules, "targeting rules in all");
ABSL_FLAG(uint64_t, seed, sopsidebar::CrmWorkloadOptions().seed, "the workload's seed");
ABSL_FLAG(std::string, match_rate, "one", "the workload's match rate: one or percent");

namespace {

constexpr char kUsage[] =
    "sopbench_load: writes a generated SOP workload into a sopd data dir.\n\n"
    "usage: sopbench_load --data-dir DIR --rules N [--seed S] [--match-rate one|percent]\n"
    "       sopbench_load --etcd-endpoints URL,... --rules N [...]\n";

[[noreturn]] void Usage(const std::string& problem) {
  std::cerr << "sopbench_load: " << problem << "\n" << kUsage;
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  sopsidebar::ParseCommandLineOrExit(
      argc, argv, sopsidebar::CommandLine{"sopbench_load", kUsage, __FILE__, ""});
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  sopsidebar::CrmWorkloadOptions workload;
  workload.orgs = 1;
  workload.rules = absl::GetFlag(FLAGS_rules);
  if (workload.rules <= 0) Usage("--rules needs a positive number");
  workload.seed = absl::GetFlag(FLAGS_seed);
  const std::string rate = absl::GetFlag(FLAGS_match_rate);
  if (rate == "one") {
    workload.match_rate = sopsidebar::MatchRate::kAboutOne;
  } else if (rate == "percent") {
    workload.match_rate = sopsidebar::MatchRate::kOnePercent;
  } else {
    Usage("--match-rate is one or percent");
  }
  const std::vector<std::string> etcd_endpoints = absl::GetFlag(FLAGS_etcd_endpoints);
  if (data_dir.empty() == etcd_endpoints.empty()) {
    Usage("give --data-dir or --etcd-endpoints (one of them)");
  }

  const absl::Time start = absl::Now();
  sopsidebar::CrmWorkload generated(workload);
  absl::StatusOr<std::unique_ptr<sopsidebar::SopStore>> store;
  if (!etcd_endpoints.empty()) {
    sopsidebar::EtcdStore::Options etcd_options;
    etcd_options.etcd.endpoints = etcd_endpoints;
    store = sopsidebar::EtcdStore::Open(etcd_options);
  } else {
    sopsidebar::RocksDbStore::Options store_options;
    store_options.sync_writes = false;  // a bulk load that starts over if it fails
    store = sopsidebar::RocksDbStore::Open((std::filesystem::path(data_dir) / "db").string(),
                                           store_options);
  }
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
            << (data_dir.empty() ? "etcd" : data_dir) << " in "
            << absl::ToInt64Milliseconds(absl::Now() - start) << " ms" << std::endl;
  return 0;
}
