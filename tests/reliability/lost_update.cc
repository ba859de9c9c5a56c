// lost_update: concurrent read-modify-writes on one SOP, through the real
// sopd binary and the client library. Each of N clients adds markers of its
// own to the SOP's tags, one at a time: GetSop, append the marker, UpdateSop
// with the etag it read; ABORTED (stale etag) means read again and retry.
// A history checker then reads the revision chain and the head:
//   lost          an acknowledged marker missing from the head, or
//                 dropped by a later revision;
//   duplicated    a marker added by more than one revision, or present
//                 twice;
//   out_of_order  a marker not added by the revision its update returned,
//                 or a client's markers not in the order it added them;
//   broken_links  a revision that is not its predecessor plus one marker.
// Prints one line per round and the totals; exits 1 unless all are 0.
//
// Usage: lost_update --sopd=PATH [--clients=8] [--updates=20] [--rounds=1]
//                    [--dir=PATH]
// (clients x updates must stay within the 200 tags an SOP may have.)
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/client.h"
#include "client/connection.h"
#include "tests/reliability/harness_flags.h"
#include "tests/reliability/sopd_process.h"

namespace sopsidebar {
namespace {

struct Config {
  std::string sopd;
  int clients = 8;
  int updates = 20;
  int rounds = 1;
  std::string dir;
};

bool ParseFlags(int argc, char** argv, Config* config) {
  if (!test::HarnessFlags("lost_update")
           .Text("sopd", &config->sopd)
           .Positive("clients", &config->clients)
           .Positive("updates", &config->updates)
           .Positive("rounds", &config->rounds)
           .Text("dir", &config->dir)
           .Parse(argc, argv)) {
    return false;
  }
  if (config->sopd.empty()) {
    std::fprintf(stderr, "lost_update: --sopd=PATH (the sopd binary) is required\n");
    return false;
  }
  if (config->clients * config->updates > 200) {
    std::fprintf(stderr, "lost_update: --clients x --updates must be at most 200 (tags per SOP)\n");
    return false;
  }
  return true;
}

client::Client ClientFor(const std::string& address, const std::string& token) {
  client::ConnectionOptions options;
  options.target = address;
  options.token = token;
  return client::Client(client::MakeGrpcConnection(options));
}

std::string Marker(int client, int update) { return absl::StrCat("c", client, "-u", update); }

int64_t RevisionNumber(absl::string_view text) {
  int64_t n = -1;
  size_t slash = text.rfind('/');
  if (slash != absl::string_view::npos) text = text.substr(slash + 1);
  return absl::SimpleAtoi(text, &n) ? n : -1;
}

struct Ack {
  std::string marker;
  int64_t revision = 0;
};

struct ClientResult {
  std::vector<Ack> acks;
  int64_t aborted = 0;
  int64_t errors = 0;
  std::string last_error;
};

// One client: adds its markers one after the other, each by
// read-modify-write with the etag.
void RunClient(client::Client client, const std::string& sop, int id, int updates,
               ClientResult* result) {
  for (int u = 1; u <= updates; ++u) {
    const std::string marker = Marker(id, u);
    for (int attempt = 0; attempt < 1000; ++attempt) {
      absl::StatusOr<v1::Sop> read = client.GetSop(sop);
      if (!read.ok()) {
        ++result->errors;
        result->last_error = read.status().ToString();
        continue;
      }
      v1::UpdateSopRequest update;
      update.mutable_sop()->set_name(sop);
      update.mutable_sop()->set_etag(read->etag());
      *update.mutable_sop()->mutable_tags() = read->tags();
      update.mutable_sop()->add_tags(marker);
      update.mutable_update_mask()->add_paths("tags");
      absl::StatusOr<v1::Sop> written = client.UpdateSop(update);
      if (written.ok()) {
        result->acks.push_back({marker, RevisionNumber(written->revision_id())});
        break;
      }
      if (written.status().code() == absl::StatusCode::kAborted) {
        ++result->aborted;
      } else {
        ++result->errors;
        result->last_error = written.status().ToString();
      }
    }
  }
}

struct Findings {
  int64_t acked = 0;
  int64_t aborted = 0;
  int64_t errors = 0;
  int64_t revisions = 0;
  int64_t lost = 0;
  int64_t duplicated = 0;
  int64_t out_of_order = 0;
  int64_t broken_links = 0;
};

// The history checker.
absl::StatusOr<Findings> Check(client::Client& client, const std::string& sop,
                               const std::vector<ClientResult>& results) {
  Findings found;
  v1::ListSopRevisionsRequest list;
  list.set_name(sop);
  absl::StatusOr<std::vector<v1::SopRevision>> revisions = client.ListAllSopRevisions(list);
  if (!revisions.ok()) return revisions.status();
  std::sort(revisions->begin(), revisions->end(), [](const auto& a, const auto& b) {
    return RevisionNumber(a.name()) < RevisionNumber(b.name());
  });
  found.revisions = static_cast<int64_t>(revisions->size());
  // The revision that added each marker.
  std::map<std::string, std::vector<int64_t>> added_by;
  for (size_t i = 1; i < revisions->size(); ++i) {
    const auto& before = (*revisions)[i - 1].snapshot().tags();
    const auto& after = (*revisions)[i].snapshot().tags();
    const int64_t number = RevisionNumber((*revisions)[i].name());
    const bool extends = after.size() == before.size() + 1 &&
                         std::equal(before.begin(), before.end(), after.begin());
    if (!extends) ++found.broken_links;
    // A marker of `before` that `after` no longer has was lost.
    for (const std::string& tag : before) {
      if (std::find(after.begin(), after.end(), tag) == after.end()) ++found.lost;
    }
    for (const std::string& tag : after) {
      if (std::find(before.begin(), before.end(), tag) == before.end()) {
        added_by[tag].push_back(number);
      }
    }
  }
  absl::StatusOr<v1::Sop> head = client.GetSop(sop);
  if (!head.ok()) return head.status();
  std::map<std::string, int> in_head;
  for (const std::string& tag : head->tags()) ++in_head[tag];
  for (const ClientResult& result : results) {
    found.acked += static_cast<int64_t>(result.acks.size());
    found.aborted += result.aborted;
    found.errors += result.errors;
    int64_t previous = 0;
    for (const Ack& ack : result.acks) {
      const int copies = in_head[ack.marker];
      if (copies == 0) ++found.lost;
      if (copies > 1) ++found.duplicated;
      const std::vector<int64_t>& by = added_by[ack.marker];
      if (by.size() > 1) ++found.duplicated;
      if (by.size() != 1 || by[0] != ack.revision || ack.revision <= previous) {
        ++found.out_of_order;
      }
      previous = ack.revision;
    }
  }
  return found;
}

int Run(const Config& config) {
  const std::string dir =
      config.dir.empty()
          ? (std::filesystem::temp_directory_path() / absl::StrCat("lost_update-", ::getpid()))
                .string()
          : config.dir;
  std::filesystem::remove_all(dir);
  std::printf("lost_update: clients=%d updates_per_client=%d rounds=%d dir=%s\n", config.clients,
              config.updates, config.rounds, dir.c_str());
  absl::StatusOr<std::unique_ptr<test::SopdProcess>> sopd =
      test::SopdProcess::Start(config.sopd, dir);
  if (!sopd.ok()) {
    std::fprintf(stderr, "lost_update: %s\n", sopd.status().ToString().c_str());
    return 1;
  }
  const std::string address = (*sopd)->address();
  client::Client admin = ClientFor(address, (*sopd)->AdminToken());
  std::vector<std::string> tokens;
  for (int c = 0; c < config.clients; ++c) {
    v1::CreateTokenRequest request;
    request.set_parent("orgs/default");
    request.mutable_token()->set_user_id(absl::StrCat("writer-", c));
    request.mutable_token()->add_roles(v1::SALES_OPS);
    absl::StatusOr<v1::CreateTokenResponse> token = admin.CreateToken(request);
    if (!token.ok()) {
      std::fprintf(stderr, "lost_update: CreateToken: %s\n", token.status().ToString().c_str());
      return 1;
    }
    tokens.push_back(token->secret());
  }
  Findings total;
  const absl::Time start = absl::Now();
  for (int round = 1; round <= config.rounds; ++round) {
    v1::CreateSopRequest create;
    create.set_parent("orgs/default");
    create.set_sop_id(absl::StrCat("lost-update-", round));
    create.mutable_sop()->set_title("Lost update check");
    create.mutable_sop()->set_owner("Sales Ops");
    create.mutable_sop()->add_targeting_rules()->add_record_types("Lead");
    absl::StatusOr<v1::Sop> sop = admin.CreateSop(create);
    if (!sop.ok()) {
      std::fprintf(stderr, "lost_update: CreateSop: %s\n", sop.status().ToString().c_str());
      return 1;
    }
    const absl::Time round_start = absl::Now();
    std::vector<ClientResult> results(config.clients);
    std::vector<std::thread> threads;
    for (int c = 0; c < config.clients; ++c) {
      threads.emplace_back(RunClient, ClientFor(address, tokens[c]), sop->name(), c, config.updates,
                           &results[c]);
    }
    for (std::thread& t : threads) t.join();
    const double seconds = absl::ToDoubleSeconds(absl::Now() - round_start);
    absl::StatusOr<Findings> found = Check(admin, sop->name(), results);
    if (!found.ok()) {
      std::fprintf(stderr, "lost_update: check: %s\n", found.status().ToString().c_str());
      return 1;
    }
    for (const ClientResult& r : results) {
      if (!r.last_error.empty()) std::printf("  a client's last error: %s\n", r.last_error.c_str());
    }
    std::printf(
        "round %d: acked=%lld of %d aborted_retries=%lld errors=%lld revisions=%lld "
        "updates_per_s=%.0f lost=%lld duplicated=%lld out_of_order=%lld broken_links=%lld\n",
        round, static_cast<long long>(found->acked), config.clients * config.updates,
        static_cast<long long>(found->aborted), static_cast<long long>(found->errors),
        static_cast<long long>(found->revisions), found->acked / std::max(seconds, 1e-3),
        static_cast<long long>(found->lost), static_cast<long long>(found->duplicated),
        static_cast<long long>(found->out_of_order), static_cast<long long>(found->broken_links));
    total.acked += found->acked;
    total.aborted += found->aborted;
    total.errors += found->errors;
    total.revisions += found->revisions;
    total.lost += found->lost;
    total.duplicated += found->duplicated;
    total.out_of_order += found->out_of_order;
    total.broken_links += found->broken_links;
    // Every update must have been acknowledged in the end.
    if (found->acked != config.clients * config.updates) ++total.lost;
  }
  (*sopd)->Stop(SIGTERM);
  std::filesystem::remove_all(dir);
  std::printf(
      "lost_update total: rounds=%d acked=%lld aborted_retries=%lld errors=%lld revisions=%lld "
      "lost=%lld duplicated=%lld out_of_order=%lld broken_links=%lld seconds=%.1f\n",
      config.rounds, static_cast<long long>(total.acked), static_cast<long long>(total.aborted),
      static_cast<long long>(total.errors), static_cast<long long>(total.revisions),
      static_cast<long long>(total.lost), static_cast<long long>(total.duplicated),
      static_cast<long long>(total.out_of_order), static_cast<long long>(total.broken_links),
      absl::ToDoubleSeconds(absl::Now() - start));
  return total.lost == 0 && total.duplicated == 0 && total.out_of_order == 0 &&
                 total.broken_links == 0 && total.errors == 0
             ? 0
             : 1;
}

}  // namespace
}  // namespace sopsidebar

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // Figures appear as each round ends.
  sopsidebar::Config config;
  if (!sopsidebar::ParseFlags(argc, argv, &config)) return 2;
  return sopsidebar::Run(config);
}
