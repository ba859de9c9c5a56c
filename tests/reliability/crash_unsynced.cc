// crash_unsynced: power cuts under the RocksDB store. Each round opens the
// store on a PowerCutFileSystem, lets writer threads put SOP changes (head +
// revision in one batch) and analytics events (event + mark + aggregate
// delta in one batch) through it, cuts the power after a random number of
// file operations (sometimes while the store is still opening), drops
// every byte and directory entry that was never synced, and the next round
// (or the final check) reopens and checks the store against what the
// writers were told:
//   lost      an acknowledged write that is not there;
//   partial   part of one write without the rest (a revision without its
//             head, an event without its mark or its count);
//   phantom   a write that was never attempted.
// Writes that failed at the cut have an unknown outcome: either is fine,
// but all or nothing. Prints one line per round and the totals; exits 1
// unless lost = partial = phantom = 0.
//
// Usage: crash_unsynced [--rounds=200] [--writers=4] [--writes=30]
//                       [--seed=N] [--dir=PATH]
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/proto_time.h"
#include "server/storage/power_cut_file_system.h"
#include "server/storage/rocksdb_store.h"
#include "tests/reliability/harness_flags.h"

namespace sopsidebar {
namespace {

constexpr char kOrg[] = "default";
constexpr DayNumber kDay = 20000;

struct Config {
  int rounds = 200;
  int writers = 4;
  int writes = 30;
  uint64_t seed = 0;
  std::string dir;
};

bool ParseFlags(int argc, char** argv, Config* config) {
  config->seed = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  return test::HarnessFlags("crash_unsynced")
      .Positive("rounds", &config->rounds)
      .Positive("writers", &config->writers)
      .Positive("writes", &config->writes)
      .Number("seed", &config->seed)
      .Text("dir", &config->dir)
      .Parse(argc, argv);
}

std::string SopId(int writer) { return absl::StrCat("sop-", writer); }
std::string Title(int writer, int64_t revision) {
  return absl::StrCat("writer ", writer, " revision ", revision);
}
std::string EventId(int writer, int64_t n) { return absl::StrCat("ev-", writer, "-", n); }
std::string Mark(int writer, int64_t n) { return absl::StrCat("mark/", writer, "/", n); }

SopWrite SopChange(int writer, int64_t revision) {
  SopWrite write;
  const SopName name{kOrg, SopId(writer)};
  write.head.set_name(name.Full());
  write.head.set_title(Title(writer, revision));
  write.head.set_owner("crash_unsynced");
  write.head.set_revision_id(absl::StrCat(revision));
  write.revision.set_name(RevisionName{name, revision}.Full());
  *write.revision.mutable_snapshot() = write.head;
  write.revision.set_author("crash_unsynced");
  return write;
}

EventWrite EventChange(int writer, int64_t n) {
  EventWrite write;
  write.org = kOrg;
  internal::v1::StoredEvent event;
  event.mutable_event()->set_event_id(EventId(writer, n));
  event.mutable_event()->set_type(v1::Event::PANEL_SHOWN);
  *event.mutable_event()->mutable_event_time() =
      ToProtoTimestamp(absl::FromUnixSeconds(int64_t{kDay} * 86400 + n));
  event.set_rep("rep@example.com");
  write.events.push_back(std::move(event));
  write.marks.push_back(Mark(writer, n));
  write.marks_time = absl::FromUnixSeconds(int64_t{kDay} * 86400);
  AggregateDelta delta;
  delta.day = kDay;
  delta.dimensions.set_sop(SopId(writer));
  delta.dimensions.set_rep("rep@example.com");
  (*delta.delta.mutable_counts())["shown"] = 1;
  write.deltas.push_back(std::move(delta));
  return write;
}

// What one writer was told, carried over rounds.
struct Expected {
  // SOP revisions: 1..acked acknowledged; attempted > acked only for the
  // write the cut interrupted.
  int64_t acked_revision = 0;
  int64_t attempted_revision = 0;
  // Events by number: true once acknowledged (or found after a cut),
  // false while the outcome is unknown; absent never written or found
  // missing after a cut.
  std::map<int64_t, bool> events;
  int64_t next_event = 1;
};

struct Findings {
  int64_t lost = 0;
  int64_t partial = 0;
  int64_t phantom = 0;
};

// Checks the store against `expected` and settles the unknown outcomes to
// what the store holds.
absl::StatusOr<Findings> Check(RocksDbStore& store, std::vector<Expected>& expected) {
  Findings found;
  std::map<std::string, int64_t> shown;
  absl::Status scan =
      store.ForEachAggregate(kOrg, kDay, kDay,
                             [&](DayNumber, const internal::v1::AggregateDimensions& dims,
                                 const internal::v1::EventAggregate& aggregate) {
                               auto count = aggregate.counts().find("shown");
                               if (count != aggregate.counts().end())
                                 shown[dims.sop()] += count->second;
                               return absl::OkStatus();
                             });
  if (!scan.ok()) return scan;
  for (int w = 0; w < static_cast<int>(expected.size()); ++w) {
    Expected& e = expected[w];
    const SopName name{kOrg, SopId(w)};
    int64_t head_revision = 0;
    absl::StatusOr<v1::Sop> head = store.GetHead(name);
    if (head.ok()) {
      if (!absl::SimpleAtoi(head->revision_id(), &head_revision) ||
          head->title() != Title(w, head_revision)) {
        ++found.partial;
      }
    } else if (head.status().code() != absl::StatusCode::kNotFound) {
      return head.status();
    }
    if (head_revision < e.acked_revision) found.lost += e.acked_revision - head_revision;
    if (head_revision > e.attempted_revision) ++found.phantom;
    // Every revision up to the head, none past it.
    for (int64_t r = 1; r <= head_revision + 1; ++r) {
      absl::StatusOr<v1::SopRevision> revision = store.GetRevision({name, r});
      const bool there = revision.ok() && revision->snapshot().title() == Title(w, r);
      if (there != (r <= head_revision)) ++found.partial;
    }
    e.acked_revision = e.attempted_revision = head_revision;

    int64_t present = 0;
    for (auto it = e.events.begin(); it != e.events.end();) {
      const auto [n, acked] = *it;
      absl::StatusOr<std::vector<bool>> seen =
          store.Seen(kOrg, std::vector<std::string>{EventId(w, n), Mark(w, n)});
      if (!seen.ok()) return seen.status();
      if ((*seen)[0] != (*seen)[1]) ++found.partial;
      if (!(*seen)[0]) {
        if (acked) ++found.lost;
        it = e.events.erase(it);
        continue;
      }
      ++present;
      it->second = true;
      ++it;
    }
    // Events never attempted (numbers below next_event were all tracked).
    absl::StatusOr<std::vector<bool>> beyond =
        store.Seen(kOrg, std::vector<std::string>{EventId(w, e.next_event)});
    if (!beyond.ok()) return beyond.status();
    if ((*beyond)[0]) ++found.phantom;
    // The aggregate counts each event once, in the event's own batch.
    if (shown[SopId(w)] != present) ++found.partial;
  }
  return found;
}

// One writer's round: alternate SOP changes and events until `writes` are
// done or the power is gone (the first failure).
void Write(RocksDbStore& store, int writer, int writes, Expected& e, std::atomic<int64_t>* acked) {
  for (int i = 0; i < writes; ++i) {
    absl::Status status;
    if (i % 2 == 0) {
      const int64_t revision = e.acked_revision + 1;
      e.attempted_revision = revision;
      status = store.Write(SopChange(writer, revision));
      if (status.ok()) e.acked_revision = revision;
    } else {
      const int64_t n = e.next_event++;
      e.events[n] = false;
      status = store.Write(EventChange(writer, n));
      if (status.ok()) e.events[n] = true;
    }
    if (!status.ok()) return;
    acked->fetch_add(1);
  }
}

int Run(const Config& config) {
  const std::string dir =
      config.dir.empty()
          ? (std::filesystem::temp_directory_path() / absl::StrCat("crash_unsynced-", ::getpid()))
                .string()
          : config.dir;
  std::filesystem::remove_all(dir);
  std::printf("crash_unsynced: rounds=%d writers=%d writes_per_writer=%d seed=%llu dir=%s\n",
              config.rounds, config.writers, config.writes,
              static_cast<unsigned long long>(config.seed), dir.c_str());
  std::mt19937_64 random(config.seed);
  auto fs = std::make_shared<PowerCutFileSystem>();
  RocksDbStore::Options options;
  options.env = PowerCutFileSystem::NewEnv(fs);
  // Old events must not age out of the check.
  options.event_retention = absl::InfiniteDuration();
  std::vector<Expected> expected(config.writers);
  Findings total;
  int64_t total_acked = 0, total_unknown = 0, cuts_in_open = 0;
  uint64_t bytes_dropped = 0;
  int64_t files_deleted = 0, files_restored = 0;
  const absl::Time start = absl::Now();
  // Group commit makes it about one file operation per write, plus the
  // open's: most cuts land while the writers write.
  const int64_t span = 60 + int64_t{config.writers} * config.writes;
  auto add = [&](const Findings& found) {
    total.lost += found.lost;
    total.partial += found.partial;
    total.phantom += found.phantom;
  };
  auto drop = [&](int round) -> bool {
    absl::StatusOr<PowerCutFileSystem::Losses> losses = fs->DropUnsyncedData();
    if (!losses.ok()) {
      std::printf("round %d: %s\n", round, losses.status().ToString().c_str());
      return false;
    }
    bytes_dropped += losses->bytes_dropped;
    files_deleted += losses->files_deleted;
    files_restored += losses->files_restored;
    return true;
  };
  // Each round opens the store with the cut already planned (so that some
  // cuts hit the open itself), checks what the previous cut left, writes
  // until the cut, and closes.
  for (int round = 1; round <= config.rounds; ++round) {
    const int64_t cut_after = std::uniform_int_distribution<int64_t>(0, span)(random);
    fs->CutPowerAfter(cut_after);
    absl::StatusOr<std::unique_ptr<RocksDbStore>> store = RocksDbStore::Open(dir, options);
    const bool cut_in_open = !store.ok();
    if (cut_in_open) {
      ++cuts_in_open;
      if (!drop(round)) return 1;
      store = RocksDbStore::Open(dir, options);
    }
    if (!store.ok()) {
      std::printf("round %d: the store does not open after the cut: %s\n", round,
                  store.status().ToString().c_str());
      return 1;
    }
    absl::StatusOr<Findings> found = Check(**store, expected);
    if (!found.ok()) {
      std::printf("round %d: check failed: %s\n", round, found.status().ToString().c_str());
      return 1;
    }
    add(*found);
    std::atomic<int64_t> acked = 0;
    if (!cut_in_open) {
      std::vector<std::thread> writers;
      for (int w = 0; w < config.writers; ++w) {
        writers.emplace_back(Write, std::ref(**store), w, config.writes, std::ref(expected[w]),
                             &acked);
      }
      for (std::thread& t : writers) t.join();
    }
    int64_t unknown = 0;
    for (const Expected& e : expected) {
      unknown += e.attempted_revision - e.acked_revision;
      for (const auto& [n, ok] : e.events) unknown += ok ? 0 : 1;
    }
    fs->CutPower();
    store = absl::StatusOr<std::unique_ptr<RocksDbStore>>(nullptr);
    const uint64_t dropped_before = bytes_dropped;
    if (!drop(round)) return 1;
    std::printf(
        "round %d: found lost=%lld partial=%lld phantom=%lld; cut_after=%lld%s acked=%lld "
        "unknown=%lld dropped_bytes=%llu\n",
        round, static_cast<long long>(found->lost), static_cast<long long>(found->partial),
        static_cast<long long>(found->phantom), static_cast<long long>(cut_after),
        cut_in_open ? " (in open)" : "", static_cast<long long>(acked.load()),
        static_cast<long long>(unknown),
        static_cast<unsigned long long>(bytes_dropped - dropped_before));
    total_acked += acked.load();
    total_unknown += unknown;
  }
  {
    absl::StatusOr<std::unique_ptr<RocksDbStore>> store = RocksDbStore::Open(dir, options);
    if (!store.ok()) {
      std::printf("final: the store does not open after the cut: %s\n",
                  store.status().ToString().c_str());
      return 1;
    }
    absl::StatusOr<Findings> found = Check(**store, expected);
    if (!found.ok()) {
      std::printf("final: check failed: %s\n", found.status().ToString().c_str());
      return 1;
    }
    add(*found);
    std::printf("final check: lost=%lld partial=%lld phantom=%lld\n",
                static_cast<long long>(found->lost), static_cast<long long>(found->partial),
                static_cast<long long>(found->phantom));
  }
  std::filesystem::remove_all(dir);
  std::printf(
      "crash_unsynced total: rounds=%d acked_writes=%lld unknown_outcome=%lld "
      "cuts_during_open=%lld dropped_bytes=%llu deleted_files=%lld restored_files=%lld "
      "lost=%lld partial=%lld phantom=%lld seconds=%.1f\n",
      config.rounds, static_cast<long long>(total_acked), static_cast<long long>(total_unknown),
      static_cast<long long>(cuts_in_open), static_cast<unsigned long long>(bytes_dropped),
      static_cast<long long>(files_deleted), static_cast<long long>(files_restored),
      static_cast<long long>(total.lost), static_cast<long long>(total.partial),
      static_cast<long long>(total.phantom), absl::ToDoubleSeconds(absl::Now() - start));
  return total.lost == 0 && total.partial == 0 && total.phantom == 0 ? 0 : 1;
}

}  // namespace
}  // namespace sopsidebar

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // Figures appear as each round ends.
  sopsidebar::Config config;
  if (!sopsidebar::ParseFlags(argc, argv, &config)) return 2;
  return sopsidebar::Run(config);
}
