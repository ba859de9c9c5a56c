// sopbench: LookupSops throughput and latency against a real sopd, measured
// in the same run as a no-op RPC (AdminService.Ping) of the same request
// size, which is the floor any lookup is compared with.
//
//   sopbench --server 127.0.0.1:PORT --token-file FILE --rules N
//            [--seed S] [--match-rate one|percent] [--duration 5s]
//            [--max-requests N] [--concurrency 16] [--cpu K] [--only lookup|noop]
//            [--warmup D] [--raw] [--rounds R]
//
// The contexts come from the same seeded workload sopbench_load wrote into
// the server's data dir. Calls use gRPC's callback API with --concurrency
// calls in flight; each phase is bounded by --duration and --max-requests,
// and only loopback addresses are accepted. Ends with one line:
//   rpc rules=N lookup_qps=X noop_qps=Y ratio=R p50_us=A p99_us=B
// The two phases alternate --rounds times (default 5), each round running
// for --duration / R per phase, so that both see the same machine: the QPS
// printed are the medians of the rounds, the ratio the median of each
// round's lookup/no-op ratio, and the latencies are over all rounds.
// Each phase is warmed up first for --warmup (default a quarter of
// --duration, at most 1s; 0 skips it). --only runs one of the two phases and
// prints no ratio: for profiling the server on one kind of call, e.g. with
// --max-requests bounding the run under callgrind.
// --connect HOST:PORT replaces the no-op phase with the same lookups sent to
// sopd's Connect gateway at that address as JSON (HTTP/1.1 keep-alive, one
// connection per slot, responses kept as bytes): the last line is then
//   http rules=N connect_json_qps=X grpc_qps=Y ratio=X/Y
// and --raw is implied, so that neither client parses responses.
// --mixed measures lookups under writes instead (docs/PERFORMANCE.md, Under
// load): --concurrency lookups in flight as fast as they go (raw, as with
// --raw) while one writer, on a channel of its own with --write-token-file's
// token (SALES_OPS or ADMIN), makes --writes-per-second synced writes, on a
// fixed schedule: UpdateSop of a few SOPs of its own (record type
// MixedBench, which no lookup asks for, so the lookups' results stay the
// same), every --publish-every-th a PublishSop of one (the catalog changes,
// so the lookups run on fresh snapshots). For --duration after a warm-up;
// the last line is
//   mixed rules=N lookups_qps=X lookup_p99_ms=A writes_per_s=W write_p99_ms=B
//         errors=E lookup_target=PASS|FAIL write_target=PASS|FAIL
// with the targets lookup p99 <= --lookup-p99-target-ms (5) and write p99 <=
// --write-p99-target-ms (50). Failed calls are counted, not fatal; sopbench
// exits 1 when any failed, and 0 whether or not the targets were met.
// --raw sends both phases' requests pre-serialised and keeps the responses
// as bytes (a generic stub): the client then does the same work for a lookup
// as for a Ping, and the ratio is the server's alone. Without it the client
// parses every response, and a lookup's (SOP bodies) costs the client about
// as much CPU as the server spends answering it.
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/bench/http_load.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "server/common/command_line.h"
#include "server/domain/matching/workload.h"
#include "sopsidebar/v1/admin_service.grpc.pb.h"
#include "sopsidebar/v1/context_service.grpc.pb.h"
#include "sopsidebar/v1/sop_service.grpc.pb.h"

ABSL_FLAG(std::string, server, "", "sopd's address, 127.0.0.1:PORT (loopback only); required");
ABSL_FLAG(std::string, token_file, "", "a file holding the bearer token to call with; required");
ABSL_FLAG(int, rules, sopsidebar::CrmWorkloadOptions().rules,
          "rules of the workload sopbench_load wrote (same --seed and --match-rate)");
ABSL_FLAG(uint64_t, seed, sopsidebar::CrmWorkloadOptions().seed, "the workload's seed");
ABSL_FLAG(std::string, match_rate, "one", "the workload's match rate: one or percent");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(5), "how long both phases run in all");
ABSL_FLAG(int64_t, max_requests, 2'000'000, "at most this many calls per phase and round");
ABSL_FLAG(int, concurrency, 16, "calls in flight, 1 to 1024");
ABSL_FLAG(int, cpu, -1, "pin sopbench to this CPU; -1: no pinning");
ABSL_FLAG(std::string, only, "", "run one phase only, lookup or noop (no ratio)");
ABSL_FLAG(std::optional<absl::Duration>, warmup, std::nullopt,
          "warm-up per phase; unset: a quarter of --duration, at most 1s; 0 skips it");
ABSL_FLAG(bool, raw, false, "send pre-serialised requests and keep responses as bytes");
ABSL_FLAG(int, rounds, 5, "alternate the phases this many times (1 to 100)");
ABSL_FLAG(bool, mixed, false,
          "lookups while a writer makes --writes-per-second synced writes (see the top of "
          "sopbench.cc); prints the mixed line");
ABSL_FLAG(std::string, write_token_file, "",
          "with --mixed: a file holding a SALES_OPS or ADMIN token for the writes; required");
ABSL_FLAG(double, writes_per_second, 20, "with --mixed: the writer's rate, 0.1 to 1000");
ABSL_FLAG(int, publish_every, 5, "with --mixed: every N-th write is a PublishSop (N >= 1)");
ABSL_FLAG(double, lookup_p99_target_ms, 5, "with --mixed: the lookup p99 target");
ABSL_FLAG(double, write_p99_target_ms, 50, "with --mixed: the write p99 target");
ABSL_FLAG(std::string, connect, "",
          "the Connect gateway's 127.0.0.1:PORT: compare lookups over Connect JSON with gRPC "
          "instead of with the no-op");

namespace sopsidebar::bench {
namespace {

constexpr char kUsage[] =
    "sopbench: LookupSops against a no-op RPC over gRPC, against a real sopd.\n\n"
    "usage: sopbench --server 127.0.0.1:PORT --token-file FILE --rules N [--seed S]\n"
    "                [--match-rate one|percent] [--duration 5s] [--max-requests N]\n"
    "                [--concurrency 16] [--cpu K] [--only lookup|noop] [--warmup D] [--raw]\n"
    "                [--rounds 5]\n"
    "       sopbench --mixed --write-token-file FILE [--writes-per-second 20]\n"
    "                [--publish-every 5] [--lookup-p99-target-ms 5] [--write-p99-target-ms 50]\n"
    "                (and --server, --token-file, --rules, --duration, --concurrency ...)\n";

struct Flags {
  std::string server;
  std::string token_file;
  CrmWorkloadOptions workload;
  absl::Duration duration;
  std::optional<absl::Duration> warmup;
  int64_t max_requests;
  int concurrency;
  int cpu;
  bool run_lookup = true;
  bool run_noop = true;
  bool raw;
  int rounds;
  std::string connect;  // the gateway's address; empty: the no-op phase
  bool mixed = false;
  std::string write_token_file;
  double writes_per_second = 20;
  int publish_every = 5;
  double lookup_p99_target_ms = 5;
  double write_p99_target_ms = 50;
};

[[noreturn]] void Usage(const std::string& problem) {
  std::cerr << "sopbench: " << problem << "\n" << kUsage;
  std::exit(2);
}

Flags ParseFlags(int argc, char** argv) {
  ParseCommandLineOrExit(argc, argv, CommandLine{"sopbench", kUsage, __FILE__, ""});
  Flags flags;
  flags.server = absl::GetFlag(FLAGS_server);
  flags.token_file = absl::GetFlag(FLAGS_token_file);
  flags.workload.orgs = 1;
  flags.workload.rules = absl::GetFlag(FLAGS_rules);
  if (flags.workload.rules <= 0) Usage("bad value for --rules");
  flags.workload.seed = absl::GetFlag(FLAGS_seed);
  const std::string rate = absl::GetFlag(FLAGS_match_rate);
  if (rate != "one" && rate != "percent") Usage("bad value for --match-rate");
  flags.workload.match_rate = rate == "one" ? MatchRate::kAboutOne : MatchRate::kOnePercent;
  flags.rounds = absl::GetFlag(FLAGS_rounds);
  if (flags.rounds <= 0 || flags.rounds > 100) Usage("bad value for --rounds");
  flags.duration = absl::GetFlag(FLAGS_duration);
  if (flags.duration <= absl::ZeroDuration()) Usage("bad value for --duration");
  flags.max_requests = absl::GetFlag(FLAGS_max_requests);
  if (flags.max_requests <= 0) Usage("bad value for --max-requests");
  flags.concurrency = absl::GetFlag(FLAGS_concurrency);
  if (flags.concurrency <= 0 || flags.concurrency > 1024) Usage("bad value for --concurrency");
  flags.cpu = absl::GetFlag(FLAGS_cpu);
  if (flags.cpu < -1) Usage("bad value for --cpu");
  flags.warmup = absl::GetFlag(FLAGS_warmup);
  if (flags.warmup && *flags.warmup < absl::ZeroDuration()) Usage("bad value for --warmup");
  flags.connect = absl::GetFlag(FLAGS_connect);
  flags.raw = absl::GetFlag(FLAGS_raw) || !flags.connect.empty();
  const std::string only = absl::GetFlag(FLAGS_only);
  if (!only.empty()) {
    if (only != "lookup" && only != "noop") Usage("bad value for --only");
    flags.run_lookup = only == "lookup";
    flags.run_noop = only == "noop";
  }
  flags.mixed = absl::GetFlag(FLAGS_mixed);
  flags.write_token_file = absl::GetFlag(FLAGS_write_token_file);
  flags.writes_per_second = absl::GetFlag(FLAGS_writes_per_second);
  flags.publish_every = absl::GetFlag(FLAGS_publish_every);
  flags.lookup_p99_target_ms = absl::GetFlag(FLAGS_lookup_p99_target_ms);
  flags.write_p99_target_ms = absl::GetFlag(FLAGS_write_p99_target_ms);
  if (flags.mixed) {
    if (flags.write_token_file.empty()) Usage("--mixed needs --write-token-file");
    if (!(flags.writes_per_second >= 0.1 && flags.writes_per_second <= 1000)) {
      Usage("bad value for --writes-per-second");
    }
    if (flags.publish_every < 1) Usage("bad value for --publish-every");
    if (!(flags.lookup_p99_target_ms > 0) || !(flags.write_p99_target_ms > 0)) {
      Usage("bad value for a --*-p99-target-ms");
    }
    if (!flags.connect.empty() || !only.empty())
      Usage("--mixed takes neither --connect nor --only");
    flags.raw = true;
  }
  if (flags.server.empty() || flags.token_file.empty()) {
    Usage("--server and --token-file are required");
  }
  // Load is only ever sent to this machine.
  if (!absl::StartsWith(flags.server, "127.") && !absl::StartsWith(flags.server, "localhost:") &&
      !absl::StartsWith(flags.server, "[::1]:")) {
    Usage("--server must be a loopback address");
  }
  if (!flags.connect.empty() && !absl::StartsWith(flags.connect, "127.")) {
    Usage("--connect must be a loopback IPv4 address");
  }
  return flags;
}

// A closed loop: `concurrency` slots, each issuing its next call when the
// previous one completes, until the deadline or the request budget.
class ClosedLoop {
 public:
  // Starts one call for slot `slot` and calls `done(status)` on completion.
  using Issue = std::function<void(int slot, grpc::ClientContext* ctx,
                                   std::function<void(const grpc::Status&)> done)>;

  struct Result {
    int64_t ok = 0;
    int64_t failed = 0;
    std::string first_error;
    absl::Duration elapsed;
    std::vector<double> latencies_us;
  };

  static Result Run(int concurrency, absl::Duration duration, int64_t max_requests,
                    const Issue& issue) {
    ClosedLoop loop(concurrency, absl::Now() + duration, max_requests, issue);
    const absl::Time start = absl::Now();
    for (int s = 0; s < concurrency; ++s) loop.Next(s);
    std::unique_lock<std::mutex> lock(loop.mu_);
    loop.all_done_.wait(lock, [&] { return loop.active_ == 0; });
    Result result;
    result.elapsed = absl::Now() - start;
    for (Slot& slot : loop.slots_) {
      result.ok += slot.ok;
      result.failed += slot.failed;
      if (result.first_error.empty()) result.first_error = slot.first_error;
      result.latencies_us.insert(result.latencies_us.end(), slot.latencies_us.begin(),
                                 slot.latencies_us.end());
    }
    return result;
  }

 private:
  struct Slot {
    std::unique_ptr<grpc::ClientContext> ctx;
    absl::Time started;
    int64_t ok = 0;
    int64_t failed = 0;
    std::string first_error;
    std::vector<double> latencies_us;
  };

  ClosedLoop(int concurrency, absl::Time deadline, int64_t max_requests, const Issue& issue)
      : slots_(concurrency),
        deadline_(deadline),
        budget_(max_requests),
        issue_(issue),
        active_(concurrency) {}

  void Next(int s) {
    if (absl::Now() >= deadline_ || budget_.fetch_sub(1) <= 0) {
      std::lock_guard<std::mutex> lock(mu_);
      if (--active_ == 0) all_done_.notify_all();
      return;
    }
    Slot& slot = slots_[s];
    slot.ctx = std::make_unique<grpc::ClientContext>();
    slot.ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    slot.started = absl::Now();
    issue_(s, slot.ctx.get(), [this, s](const grpc::Status& status) {
      Slot& done = slots_[s];
      done.latencies_us.push_back(absl::ToDoubleMicroseconds(absl::Now() - done.started));
      if (status.ok()) {
        ++done.ok;
      } else if (done.failed++ == 0) {
        done.first_error = status.error_message();
      }
      Next(s);
    });
  }

  std::vector<Slot> slots_;
  const absl::Time deadline_;
  std::atomic<int64_t> budget_;
  const Issue& issue_;
  std::mutex mu_;
  std::condition_variable all_done_;
  int active_;
};

grpc::ByteBuffer Serialized(const google::protobuf::MessageLite& message) {
  grpc::Slice slice(message.SerializeAsString());
  return grpc::ByteBuffer(&slice, 1);
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(p * v.size()));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k];
}

struct Phase {
  double qps = 0;
  double p50 = 0, p99 = 0, p999 = 0;
};

double Qps(const ClosedLoop::Result& r) { return r.ok / absl::ToDoubleSeconds(r.elapsed); }

// Adds `part` (a round) to `all`.
void Merge(ClosedLoop::Result part, ClosedLoop::Result* all) {
  all->ok += part.ok;
  all->failed += part.failed;
  if (all->first_error.empty()) all->first_error = std::move(part.first_error);
  all->elapsed += part.elapsed;
  all->latencies_us.insert(all->latencies_us.end(), part.latencies_us.begin(),
                           part.latencies_us.end());
}

// Prints a phase's figures over all its rounds (its QPS over their summed
// time); exits when calls failed.
Phase Summarize(const std::string& name, ClosedLoop::Result r) {
  if (r.failed > 0) {
    std::cerr << "sopbench: " << r.failed << " " << name << " calls failed: " << r.first_error
              << std::endl;
    std::exit(1);
  }
  Phase p;
  p.qps = Qps(r);
  p.p50 = Percentile(r.latencies_us, 0.50);
  p.p99 = Percentile(r.latencies_us, 0.99);
  p.p999 = Percentile(r.latencies_us, 0.999);
  std::cout << absl::StrFormat("%-6s calls=%d qps=%.0f p50_us=%.1f p99_us=%.1f p99.9_us=%.1f\n",
                               name, r.ok, p.qps, p.p50, p.p99, p.p999);
  return p;
}

// The bearer token in `path`; exits when there is none.
std::string ReadToken(const std::string& path) {
  std::ifstream in(path);
  std::string token((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  token = std::string(absl::StripAsciiWhitespace(token));
  if (token.empty()) Usage("cannot read a token from " + path);
  return token;
}

// The writer of --mixed: a channel and token of its own, synced writes on a
// fixed schedule to SOPs of its own that no lookup matches.
class MixedWriter {
 public:
  static constexpr int kSops = 4;

  MixedWriter(const std::string& server, const std::string& token, const Flags& flags)
      : stub_(v1::SopService::NewStub(
            grpc::CreateChannel(server, grpc::InsecureChannelCredentials()))),
        authorization_("Bearer " + token),
        period_(absl::Seconds(1) / flags.writes_per_second),
        publish_every_(flags.publish_every) {}

  // Creates the writer's SOPs, those a run before did not (ALREADY_EXISTS
  // is fine); false with the error printed otherwise.
  bool Prepare() {
    for (int i = 0; i < kSops; ++i) {
      v1::CreateSopRequest request;
      request.set_parent("orgs/default");
      request.set_sop_id(Id(i));
      request.mutable_sop()->set_title(absl::StrCat("sopbench --mixed writer SOP ", i));
      request.mutable_sop()->set_owner("sopbench");
      request.mutable_sop()->add_targeting_rules()->add_record_types("MixedBench");
      grpc::ClientContext ctx;
      Prepare(&ctx);
      v1::Sop created;
      const grpc::Status status = stub_->CreateSop(&ctx, request, &created);
      if (!status.ok() && status.error_code() != grpc::StatusCode::ALREADY_EXISTS) {
        std::cerr << "sopbench: cannot create the writer's SOP " << Id(i) << ": "
                  << status.error_message() << std::endl;
        return false;
      }
    }
    return true;
  }

  struct Result {
    int64_t writes = 0;
    int64_t publishes = 0;
    int64_t errors = 0;
    std::string first_error;
    absl::Duration elapsed;
    std::vector<double> latencies_ms;
  };

  // Writes until `deadline`, one write per period; a write that ends late
  // delays the next ones (no burst to catch up).
  Result Run(absl::Time deadline) {
    Result result;
    const absl::Time start = absl::Now();
    absl::Time next = start;
    for (int64_t i = 0; next < deadline; ++i) {
      absl::SleepFor(next - absl::Now());
      const bool publish = (i + 1) % publish_every_ == 0;
      const std::string name = absl::StrCat("orgs/default/sops/", Id(static_cast<int>(i % kSops)));
      grpc::ClientContext ctx;
      Prepare(&ctx);
      const absl::Time begin = absl::Now();
      grpc::Status status;
      if (publish) {
        v1::PublishSopRequest request;
        request.set_name(name);
        v1::PublishSopResponse response;
        status = stub_->PublishSop(&ctx, request, &response);
      } else {
        v1::UpdateSopRequest request;
        request.mutable_sop()->set_name(name);
        request.mutable_sop()->set_purpose(absl::StrCat("write ", i, " of sopbench --mixed"));
        request.mutable_update_mask()->add_paths("purpose");
        v1::Sop response;
        status = stub_->UpdateSop(&ctx, request, &response);
      }
      const absl::Time end = absl::Now();
      result.latencies_ms.push_back(absl::ToDoubleMilliseconds(end - begin));
      ++result.writes;
      result.publishes += publish ? 1 : 0;
      if (!status.ok() && result.errors++ == 0) {
        result.first_error =
            absl::StrCat(publish ? "PublishSop: " : "UpdateSop: ", status.error_message());
      }
      next = std::max(next + period_, end);
    }
    result.elapsed = absl::Now() - start;
    return result;
  }

 private:
  static std::string Id(int i) { return absl::StrCat("sopbench-mixed-", i); }
  void Prepare(grpc::ClientContext* ctx) const {
    ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    ctx->AddMetadata("authorization", authorization_);
  }

  const std::unique_ptr<v1::SopService::Stub> stub_;
  const std::string authorization_;
  const absl::Duration period_;
  const int publish_every_;
};

// --mixed: lookups through `lookup` while a MixedWriter writes; prints the
// mixed line. The exit status: 1 when calls failed.
int RunMixed(const Flags& flags, const ClosedLoop::Issue& lookup) {
  MixedWriter writer(flags.server, ReadToken(flags.write_token_file), flags);
  if (!writer.Prepare()) return 1;
  const absl::Duration warmup =
      flags.warmup.value_or(std::min(flags.duration / 4, absl::Seconds(1)));
  if (warmup > absl::ZeroDuration()) {
    ClosedLoop::Run(flags.concurrency, warmup, flags.max_requests, lookup);
  }
  MixedWriter::Result writes;
  std::thread writing([&] { writes = writer.Run(absl::Now() + flags.duration); });
  ClosedLoop::Result lookups =
      ClosedLoop::Run(flags.concurrency, flags.duration, flags.max_requests, lookup);
  writing.join();

  const double lookup_qps = Qps(lookups);
  const double lookup_p50_ms = Percentile(lookups.latencies_us, 0.5) / 1000;
  const double lookup_p99_ms = Percentile(lookups.latencies_us, 0.99) / 1000;
  const double writes_per_s = writes.writes / absl::ToDoubleSeconds(writes.elapsed);
  const double write_p50_ms = Percentile(writes.latencies_ms, 0.5);
  const double write_p99_ms = Percentile(writes.latencies_ms, 0.99);
  const double write_max_ms =
      writes.latencies_ms.empty()
          ? 0
          : *std::max_element(writes.latencies_ms.begin(), writes.latencies_ms.end());
  const int64_t errors = lookups.failed + writes.errors;
  if (lookups.failed > 0) {
    std::cerr << "sopbench: " << lookups.failed << " lookups failed: " << lookups.first_error
              << std::endl;
  }
  if (writes.errors > 0) {
    std::cerr << "sopbench: " << writes.errors << " writes failed: " << writes.first_error
              << std::endl;
  }
  std::cout << absl::StrFormat(
      "mixed lookups=%d lookup_p50_ms=%.3f writes=%d (publishes=%d) write_p50_ms=%.2f "
      "write_max_ms=%.2f over %s\n",
      lookups.ok, lookup_p50_ms, writes.writes, writes.publishes, write_p50_ms, write_max_ms,
      absl::FormatDuration(flags.duration));
  std::cout << absl::StrFormat(
      "mixed rules=%d lookups_qps=%.0f lookup_p99_ms=%.3f writes_per_s=%.1f write_p99_ms=%.2f "
      "errors=%d lookup_target=%s write_target=%s\n",
      flags.workload.rules, lookup_qps, lookup_p99_ms, writes_per_s, write_p99_ms, errors,
      lookup_p99_ms <= flags.lookup_p99_target_ms ? "PASS" : "FAIL",
      write_p99_ms <= flags.write_p99_target_ms ? "PASS" : "FAIL");
  return errors > 0 ? 1 : 0;
}

int Main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  if (flags.cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(flags.cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) Usage("cannot pin to --cpu");
  }
  const std::string token = ReadToken(flags.token_file);

  // The contexts of the workload sopbench_load wrote, all in orgs/default.
  CrmWorkload workload(flags.workload);
  std::vector<v1::LookupSopsRequest> lookups;
  size_t request_bytes = 0;
  for (WorkloadQuery& q : workload.Queries(2000, flags.workload.seed + 1)) {
    v1::LookupSopsRequest& r = lookups.emplace_back();
    *r.mutable_context() = std::move(q.context);
    r.mutable_context()->set_org("orgs/default");
    request_bytes += r.ByteSizeLong();
  }
  v1::PingRequest ping;
  ping.set_payload(std::string(request_bytes / lookups.size(), 'x'));

  auto channel = grpc::CreateChannel(flags.server, grpc::InsecureChannelCredentials());
  auto context_stub = v1::ContextService::NewStub(channel);
  auto admin_stub = v1::AdminService::NewStub(channel);
  const std::string authorization = "Bearer " + token;

  grpc::GenericStub generic_stub(channel);
  std::vector<grpc::ByteBuffer> raw_lookups;
  grpc::ByteBuffer raw_ping;
  if (flags.raw) {
    for (const v1::LookupSopsRequest& r : lookups) raw_lookups.push_back(Serialized(r));
    raw_ping = Serialized(ping);
  }
  // Per slot, the last raw response of each phase.
  std::vector<grpc::ByteBuffer> raw_responses(flags.concurrency);
  std::vector<grpc::ByteBuffer> raw_ping_responses(flags.concurrency);

  std::vector<v1::LookupSopsResponse> lookup_responses(flags.concurrency);
  std::vector<size_t> next_context(flags.concurrency);
  const ClosedLoop::Issue lookup = [&](int slot, grpc::ClientContext* ctx,
                                       std::function<void(const grpc::Status&)> done) {
    ctx->AddMetadata("authorization", authorization);
    const size_t i = (next_context[slot]++ * flags.concurrency + slot) % lookups.size();
    if (flags.raw) {
      generic_stub.UnaryCall(ctx, "/sopsidebar.v1.ContextService/LookupSops", grpc::StubOptions(),
                             &raw_lookups[i], &raw_responses[slot], std::move(done));
    } else {
      context_stub->async()->LookupSops(ctx, &lookups[i], &lookup_responses[slot], std::move(done));
    }
  };
  std::vector<v1::PingResponse> ping_responses(flags.concurrency);
  const ClosedLoop::Issue noop = [&](int slot, grpc::ClientContext* ctx,
                                     std::function<void(const grpc::Status&)> done) {
    ctx->AddMetadata("authorization", authorization);
    if (flags.raw) {
      generic_stub.UnaryCall(ctx, "/sopsidebar.v1.AdminService/Ping", grpc::StubOptions(),
                             &raw_ping, &raw_ping_responses[slot], std::move(done));
    } else {
      admin_stub->async()->Ping(ctx, &ping, &ping_responses[slot], std::move(done));
    }
  };

  // The same lookups as JSON to the Connect gateway, when asked.
  std::unique_ptr<HttpLoad> http;
  std::vector<std::string> connect_requests;
  if (!flags.connect.empty()) {
    absl::StatusOr<std::unique_ptr<HttpLoad>> connected =
        HttpLoad::Connect(flags.connect, flags.concurrency);
    if (!connected.ok()) Usage(std::string(connected.status().message()));
    http = *std::move(connected);
    for (const v1::LookupSopsRequest& r : lookups) {
      std::string json;
      if (!google::protobuf::util::MessageToJsonString(r, &json).ok()) Usage("bad workload");
      connect_requests.push_back(ConnectRequest(flags.connect,
                                                "/sopsidebar.v1.ContextService/LookupSops",
                                                "application/json", authorization, json));
    }
  }
  const ClosedLoop::Issue connect = [&](int slot, grpc::ClientContext*,
                                        std::function<void(const grpc::Status&)> done) {
    const size_t i = (next_context[slot]++ * flags.concurrency + slot) % lookups.size();
    http->Send(slot, &connect_requests[i], [done = std::move(done)](absl::Status status) {
      done(status.ok() ? grpc::Status::OK
                       : grpc::Status(grpc::StatusCode::UNKNOWN, std::string(status.message())));
    });
  };
  if (flags.mixed) {
    std::cout << absl::StrFormat(
        "sopbench: %s rules=%d concurrency=%d duration=%s mixed writes_per_second=%.1f "
        "publish_every=%d\n",
        flags.server, flags.workload.rules, flags.concurrency, absl::FormatDuration(flags.duration),
        flags.writes_per_second, flags.publish_every);
    return RunMixed(flags, lookup);
  }
  const ClosedLoop::Issue& floor = http ? connect : noop;
  const std::string floor_name = http ? "connect" : "noop";

  std::cout << absl::StrFormat(
      "sopbench: %s rules=%d concurrency=%d duration=%s request_bytes=%d%s\n", flags.server,
      flags.workload.rules, flags.concurrency, absl::FormatDuration(flags.duration),
      ping.payload().size(), flags.raw ? " raw" : "");
  // Warm up the paths (connections, caches), then measure each.
  const absl::Duration warmup =
      flags.warmup.value_or(std::min(flags.duration / 4, absl::Seconds(1)));
  if (warmup > absl::ZeroDuration()) {
    if (flags.run_lookup) ClosedLoop::Run(flags.concurrency, warmup, flags.max_requests, lookup);
    if (flags.run_noop) ClosedLoop::Run(flags.concurrency, warmup, flags.max_requests, floor);
  }
  // Rounds alternate the phases; a phase's figures merge its rounds.
  const absl::Duration round = flags.duration / flags.rounds;
  ClosedLoop::Result lookups_all, noops_all;
  std::vector<double> lookup_qps, noop_qps, ratios;
  // One round of a phase: its QPS, kept with the phase's other rounds.
  auto run_round = [&](const ClosedLoop::Issue& issue, std::vector<double>* qps,
                       ClosedLoop::Result* all) {
    ClosedLoop::Result result =
        ClosedLoop::Run(flags.concurrency, round, flags.max_requests, issue);
    qps->push_back(Qps(result));
    Merge(std::move(result), all);
    return qps->back();
  };
  for (int r = 0; r < flags.rounds; ++r) {
    const double lq = flags.run_lookup ? run_round(lookup, &lookup_qps, &lookups_all) : 0;
    const double nq = flags.run_noop ? run_round(floor, &noop_qps, &noops_all) : 0;
    if (flags.run_lookup && flags.run_noop && flags.rounds > 1) {
      // With --connect: Connect over gRPC; else the lookup over the no-op.
      const double ratio = http ? nq / lq : lq / nq;
      ratios.push_back(ratio);
      std::cout << absl::StrFormat("round %d lookup_qps=%.0f %s_qps=%.0f ratio=%.2f\n", r + 1, lq,
                                   floor_name, nq, ratio);
    }
  }
  Phase l, n;
  if (flags.run_lookup) {
    l = Summarize("lookup", std::move(lookups_all));
    l.qps = Percentile(lookup_qps, 0.5);
    if (flags.raw) {
      for (int slot = 0; slot < flags.concurrency; ++slot) {
        grpc::Slice bytes;
        if (!raw_responses[slot].DumpToSingleSlice(&bytes).ok() ||
            !lookup_responses[slot].ParseFromArray(bytes.begin(), bytes.size())) {
          lookup_responses[slot].Clear();
        }
      }
    }
    size_t response_bytes = 0, matches = 0;
    for (const v1::LookupSopsResponse& r : lookup_responses) {
      response_bytes += r.ByteSizeLong();
      matches += r.matches_size();
    }
    std::cout << absl::StrFormat(
        "lookup response_bytes=%d matches=%.1f (mean of each slot's last)\n",
        response_bytes / lookup_responses.size(),
        static_cast<double>(matches) / lookup_responses.size());
  }
  if (flags.run_noop) {
    n = Summarize(floor_name, std::move(noops_all));
    n.qps = Percentile(noop_qps, 0.5);
  }
  if (!flags.run_lookup || !flags.run_noop) return 0;
  if (http) {
    std::cout << absl::StrFormat("connect response_bytes=%d (slot 0's last, JSON)\n",
                                 http->last_body(0).size());
    std::cout << absl::StrFormat("http rules=%d connect_json_qps=%.0f grpc_qps=%.0f ratio=%.2f\n",
                                 flags.workload.rules, n.qps, l.qps,
                                 ratios.empty() ? n.qps / l.qps : Percentile(ratios, 0.5));
    return 0;
  }
  std::cout << absl::StrFormat(
      "rpc rules=%d lookup_qps=%.0f noop_qps=%.0f ratio=%.2f p50_us=%.1f p99_us=%.1f\n",
      flags.workload.rules, l.qps, n.qps, ratios.empty() ? l.qps / n.qps : Percentile(ratios, 0.5),
      l.p50, l.p99);
  return 0;
}

}  // namespace
}  // namespace sopsidebar::bench

int main(int argc, char** argv) { return sopsidebar::bench::Main(argc, argv); }
