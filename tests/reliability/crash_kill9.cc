// crash_kill9: kill -9 of the real sopd binary under concurrent writes,
// checked against an expected-state file kept outside the server.
//
// Each round starts sopd on the same data dir and lets C clients walk SOPs
// of their own through the governed lifecycle: CreateSop (with a
// request_id), UpdateSop (with the etag), SubmitSop, ApproveSop (by a
// MARKETING_DIRECTOR, who is not the author), PublishSop, then RecordEvents
// (a batch of panel events for the published revision). Before each call a
// client appends "try" to the expected-state file; after an OK it appends
// "ack" with the revision the call returned and fsyncs before counting it.
// Once the round's random share of writes is acknowledged, sopd gets
// SIGKILL mid-stream; it is restarted and the store is checked against the
// file, for every SOP of every round so far:
//   lost        an acknowledged write missing (head behind the acked
//               revision, a revision gone, events not recorded);
//   partial     part of a write: revisions with gaps, a revision whose
//               content is not what its call wrote, an event batch half
//               there;
//   duplicated  more than was written: a head past every write tried, a
//               marker or an SOP twice, a settled SOP that moved.
// A write that was in flight at the kill may be there or not, but whole.
// VerifyAuditLog must report the audit chain intact after every round.
// Prints one line per round and the totals; exits 1 unless all are 0.
//
// Usage: crash_kill9 --sopd=PATH [--rounds=4] [--writes=300] [--clients=4]
//                    [--seed=N] [--dir=PATH]
// --writes is the most acknowledged writes a round waits for before the
// kill (the kill comes after a random number between a quarter and all).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/client.h"
#include "client/connection.h"
#include "tests/reliability/harness_flags.h"
#include "tests/reliability/sopd_process.h"

namespace sopsidebar {
namespace {

constexpr int kEventsPerBatch = 3;
constexpr char kMarker[] = "kill9-update";

struct Config {
  std::string sopd;
  int rounds = 4;
  int writes = 300;
  int clients = 4;
  uint64_t seed = 0;
  std::string dir;
};

bool ParseFlags(int argc, char** argv, Config* config) {
  config->seed = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  if (!test::HarnessFlags("crash_kill9")
           .Text("sopd", &config->sopd)
           .Positive("rounds", &config->rounds)
           .Positive("writes", &config->writes)
           .Positive("clients", &config->clients)
           .Number("seed", &config->seed)
           .Text("dir", &config->dir)
           .Parse(argc, argv)) {
    return false;
  }
  if (config->sopd.empty()) {
    std::fprintf(stderr, "crash_kill9: --sopd=PATH (the sopd binary) is required\n");
    return false;
  }
  return true;
}

// The expected-state file: one line per record, "try KIND SOP" before a
// call and "ack KIND SOP REVISION" after it returned OK (synced to disk
// before the write counts as acknowledged); "settled SOP REVISION" once a
// check found where an SOP stopped.
class ExpectedStateFile {
 public:
  explicit ExpectedStateFile(const std::string& path) : path_(path) {
    file_ = std::fopen(path.c_str(), "a");
  }
  ~ExpectedStateFile() {
    if (file_ != nullptr) std::fclose(file_);
  }
  bool ok() const { return file_ != nullptr; }
  const std::string& path() const { return path_; }

  void Append(const std::string& line, bool sync) {
    std::lock_guard<std::mutex> lock(mu_);
    std::fputs(line.c_str(), file_);
    std::fputc('\n', file_);
    std::fflush(file_);
    if (sync) ::fdatasync(::fileno(file_));
  }

 private:
  const std::string path_;
  std::mutex mu_;
  FILE* file_ = nullptr;
};

enum class Kind { kCreate, kUpdate, kSubmit, kApprove, kPublish, kEvents };
constexpr const char* kKindNames[] = {"create", "update", "submit", "approve", "publish", "events"};

std::optional<Kind> ParseKind(absl::string_view name) {
  for (int k = 0; k < 6; ++k) {
    if (name == kKindNames[k]) return static_cast<Kind>(k);
  }
  return std::nullopt;
}

int64_t RevisionNumber(absl::string_view text) {
  const size_t slash = text.rfind('/');
  if (slash != absl::string_view::npos) text = text.substr(slash + 1);
  int64_t n = -1;
  return absl::SimpleAtoi(text, &n) ? n : -1;
}

std::string SopName(const std::string& id) { return absl::StrCat("orgs/default/sops/", id); }
std::string Title(const std::string& id) { return absl::StrCat("Kill -9 check ", id); }

v1::RecordEventsRequest EventBatch(const std::string& id, const std::string& revision) {
  v1::RecordEventsRequest request;
  request.set_parent("orgs/default");
  for (int e = 0; e < kEventsPerBatch; ++e) {
    v1::Event* event = request.add_events();
    event->set_event_id(absl::StrCat(id, "-event-", e));
    event->set_type(v1::Event::PANEL_SHOWN);
    event->mutable_event_time()->set_seconds(absl::ToUnixSeconds(absl::Now()));
    event->set_sop(SopName(id));
    event->set_revision_id(revision);
    event->mutable_context()->set_record_type("Lead");
    event->mutable_context()->set_record_id(absl::StrCat("00Q-", id));
  }
  return request;
}

// The create of SOP `id`, the same each time it is sent.
v1::CreateSopRequest CreateRequest(const std::string& id) {
  v1::CreateSopRequest r;
  r.set_parent("orgs/default");
  r.set_sop_id(id);
  r.set_request_id(absl::StrCat("create-", id));
  r.mutable_sop()->set_title(Title(id));
  r.mutable_sop()->set_owner("Sales Ops");
  r.mutable_sop()->add_required_approver_roles(v1::MARKETING_DIRECTOR);
  auto* rule = r.mutable_sop()->add_targeting_rules();
  rule->add_record_types("Lead");
  auto* condition = rule->add_conditions();
  condition->set_field("kill9_key");
  condition->mutable_equals()->set_string_value(id);
  return r;
}

// The writer (client number) of SOP "k9-r{round}-c{client}-{n}".
int WriterOf(const std::string& id) {
  const size_t at = id.find("-c");
  int writer = -1;
  if (at == std::string::npos) return writer;
  const std::string rest = id.substr(at + 2);
  return absl::SimpleAtoi(rest.substr(0, rest.find('-')), &writer) ? writer : -1;
}

client::Client ClientFor(const std::string& address, const std::string& token) {
  client::ConnectionOptions options;
  options.target = address;
  options.token = token;
  // Generous: a busy CI machine must not turn a slow call into a failure.
  options.timeout = absl::Seconds(30);
  return client::Client(client::MakeGrpcConnection(options));
}

struct Tokens {
  std::string admin;
  std::vector<std::string> writers;
  std::vector<std::string> approvers;
};

// One client's round: SOP after SOP through the lifecycle until a call
// fails (the kill) or the round is over.
struct Writer {
  int id = 0;
  int round = 0;
  std::optional<client::Client> writer;
  std::optional<client::Client> approver;
  ExpectedStateFile* expected = nullptr;
  std::atomic<int64_t>* acked = nullptr;
  std::atomic<bool>* stop = nullptr;
  std::atomic<bool>* killed = nullptr;
  // A failure while sopd was still up: a bug in sopd or in the harness.
  std::string unexpected;
  std::atomic<bool> failed_early = false;

  // Runs `call` between a "try" and an "ack" line; the revision it returned,
  // or nullopt when it failed.
  template <typename Call>
  std::optional<std::string> Do(Kind kind, const std::string& id, Call call) {
    expected->Append(absl::StrCat("try ", kKindNames[static_cast<int>(kind)], " ", id), false);
    absl::StatusOr<std::string> revision = call();
    if (!revision.ok()) {
      if (!killed->load() && unexpected.empty()) {
        unexpected = absl::StrCat(kKindNames[static_cast<int>(kind)], " ", id, ": ",
                                  revision.status().ToString());
        failed_early = true;
      }
      return std::nullopt;
    }
    expected->Append(
        absl::StrCat("ack ", kKindNames[static_cast<int>(kind)], " ", id, " ", *revision), true);
    acked->fetch_add(1);
    return *revision;
  }

  void Run() {
    for (int n = 1; !stop->load(); ++n) {
      const std::string id = absl::StrCat("k9-r", round, "-c", this->id, "-", n);
      if (!Lifecycle(id)) return;
    }
  }

  bool Lifecycle(const std::string& id) {
    std::string etag;
    auto keep = [&etag](const absl::StatusOr<v1::Sop>& sop) -> absl::StatusOr<std::string> {
      if (!sop.ok()) return sop.status();
      etag = sop->etag();
      return sop->revision_id();
    };
    if (!Do(Kind::kCreate, id, [&] { return keep(writer->CreateSop(CreateRequest(id))); })) {
      return false;
    }
    if (!Do(Kind::kUpdate, id, [&] {
          v1::UpdateSopRequest r;
          r.mutable_sop()->set_name(SopName(id));
          r.mutable_sop()->set_etag(etag);
          r.mutable_sop()->add_tags(kMarker);
          r.mutable_update_mask()->add_paths("tags");
          return keep(writer->UpdateSop(r));
        })) {
      return false;
    }
    if (!Do(Kind::kSubmit, id, [&] {
          v1::SubmitSopRequest r;
          r.set_name(SopName(id));
          r.set_etag(etag);
          return keep(writer->SubmitSop(r));
        })) {
      return false;
    }
    if (!Do(Kind::kApprove, id, [&] {
          v1::ApproveSopRequest r;
          r.set_name(SopName(id));
          r.set_etag(etag);
          r.set_role(v1::MARKETING_DIRECTOR);
          r.set_comment("signed off by crash_kill9");
          return keep(approver->ApproveSop(r));
        })) {
      return false;
    }
    std::optional<std::string> published = Do(Kind::kPublish, id, [&] {
      v1::PublishSopRequest r;
      r.set_name(SopName(id));
      r.set_etag(etag);
      absl::StatusOr<v1::PublishSopResponse> response = writer->PublishSop(r);
      if (!response.ok()) return absl::StatusOr<std::string>(response.status());
      return keep(response->sop());
    });
    if (!published) return false;
    return Do(Kind::kEvents, id,
              [&]() -> absl::StatusOr<std::string> {
                absl::StatusOr<v1::RecordEventsResponse> response =
                    writer->RecordEvents(EventBatch(id, *published));
                if (!response.ok()) return response.status();
                if (response->recorded() != kEventsPerBatch) {
                  return absl::InternalError(
                      absl::StrCat("recorded ", response->recorded(), " of ", kEventsPerBatch));
                }
                return *published;
              })
        .has_value();
  }
};

struct Findings {
  int64_t lost = 0;
  int64_t partial = 0;
  int64_t duplicated = 0;
  int64_t sops = 0;
  // Acknowledged writes in the expected-state file, all rounds so far (a
  // create re-sent after a kill counts once more).
  int64_t acked = 0;
  int64_t unknown = 0;
  int64_t creates_resent = 0;
};

struct SopRecord {
  // Acknowledged writes: kind -> revision.
  std::map<Kind, int64_t> acked;
  std::set<Kind> tried;
  std::optional<int64_t> settled;
};

// Reads the expected-state file back.
absl::StatusOr<std::map<std::string, SopRecord>> ReadExpected(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::map<std::string, SopRecord> sops;
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    std::vector<std::string> f = absl::StrSplit(line, ' ');
    const auto bad = [&] {
      return absl::DataLossError(absl::StrCat(path, ":", line_number, ": bad line: ", line));
    };
    if (f.size() == 3 && f[0] == "settled") {
      int64_t revision;
      if (!absl::SimpleAtoi(f[2], &revision)) return bad();
      sops[f[1]].settled = revision;
      continue;
    }
    if (f.size() < 3) return bad();
    std::optional<Kind> kind = ParseKind(f[1]);
    if (!kind) return bad();
    SopRecord& sop = sops[f[2]];
    if (f[0] == "try" && f.size() == 3) {
      sop.tried.insert(*kind);
    } else if (f[0] == "ack" && f.size() == 4) {
      int64_t revision;
      if (!absl::SimpleAtoi(f[3], &revision)) return bad();
      sop.acked[*kind] = revision;
    } else {
      return bad();
    }
  }
  return sops;
}

// Checks every SOP of the expected-state file on the restarted sopd.
absl::StatusOr<Findings> Check(const std::string& address, const Tokens& tokens,
                               ExpectedStateFile& expected, std::vector<std::string>* problems) {
  client::Client admin = ClientFor(address, tokens.admin);
  absl::StatusOr<std::map<std::string, SopRecord>> sops = ReadExpected(expected.path());
  if (!sops.ok()) return sops.status();
  Findings found;
  auto problem = [&](int64_t* counter, int64_t n, const std::string& what) {
    *counter += n;
    if (problems->size() < 20) problems->push_back(what);
  };
  // Every SOP on the server must be one the file knows of.
  v1::ListSopsRequest list;
  list.set_parent("orgs/default");
  list.set_show_deleted(true);
  absl::StatusOr<std::vector<v1::Sop>> all = admin.ListAllSops(list);
  if (!all.ok()) return all.status();
  std::map<std::string, int> on_server;
  for (const v1::Sop& sop : *all) {
    const std::string id = sop.name().substr(sop.name().rfind('/') + 1);
    if (!absl::StartsWith(id, "k9-")) continue;
    if (++on_server[id] > 1 || !sops->count(id)) {
      problem(&found.duplicated, 1, absl::StrCat(id, " is on the server but was never created"));
    }
  }
  for (auto& [id, record] : *sops) {
    ++found.sops;
    found.acked += static_cast<int64_t>(record.acked.size());
    int64_t last_acked = 0;
    for (const auto& [kind, revision] : record.acked) {
      if (kind != Kind::kEvents) last_acked = std::max(last_acked, revision);
    }
    int64_t unknown = 0;
    for (Kind kind : record.tried) {
      if (!record.acked.count(kind) && kind != Kind::kEvents) ++unknown;
    }
    found.unknown += unknown;
    absl::StatusOr<v1::Sop> head = admin.GetSop(SopName(id));
    int64_t head_revision = 0;
    if (head.ok()) {
      head_revision = RevisionNumber(head->revision_id());
    } else if (head.status().code() != absl::StatusCode::kNotFound) {
      return head.status();
    }
    // A create in flight at the kill, sent again with its request_id by its
    // writer: it must answer with the SOP it made, if it made one, and never
    // make a second.
    if (record.tried.count(Kind::kCreate) && !record.acked.count(Kind::kCreate)) {
      const int writer = WriterOf(id);
      if (writer < 0 || writer >= static_cast<int>(tokens.writers.size())) {
        return absl::DataLossError(absl::StrCat("no writer for ", id));
      }
      absl::StatusOr<v1::Sop> again =
          ClientFor(address, tokens.writers[writer]).CreateSop(CreateRequest(id));
      if (!again.ok()) return again.status();
      ++found.creates_resent;
      if (head_revision > 0 && again->revision_id() != head->revision_id()) {
        problem(&found.duplicated, 1,
                absl::StrCat(id, ": the create sent again answered revision ", again->revision_id(),
                             ", head at ", head_revision));
      }
      if (head_revision == 0) {
        head = again;
        head_revision = RevisionNumber(again->revision_id());
        record.acked[Kind::kCreate] = head_revision;
        expected.Append(absl::StrCat("ack create ", id, " ", head_revision), true);
      }
    }
    if (record.settled && head_revision != *record.settled) {
      problem(head_revision < *record.settled ? &found.lost : &found.duplicated, 1,
              absl::StrCat(id, " moved from revision ", *record.settled, " to ", head_revision));
    }
    for (const auto& [kind, revision] : record.acked) {
      if (kind != Kind::kEvents && revision > head_revision) {
        problem(&found.lost, 1,
                absl::StrCat(id, ": acked ", kKindNames[static_cast<int>(kind)], " at revision ",
                             revision, ", head at ", head_revision));
      }
    }
    if (head_revision > last_acked + unknown) {
      problem(&found.duplicated, head_revision - last_acked - unknown,
              absl::StrCat(id, ": head at revision ", head_revision, " past every write tried"));
    }
    if (head_revision == 0) continue;
    if (head->tags_size() > 1) {
      problem(&found.duplicated, 1, absl::StrCat(id, ": the update's marker is there twice"));
    }
    v1::ListSopRevisionsRequest revisions_request;
    revisions_request.set_name(SopName(id));
    revisions_request.set_view(v1::SOP_VIEW_FULL);
    absl::StatusOr<std::vector<v1::SopRevision>> revisions =
        admin.ListAllSopRevisions(revisions_request);
    if (!revisions.ok()) return revisions.status();
    std::map<int64_t, const v1::SopRevision*> by_number;
    for (const v1::SopRevision& revision : *revisions) {
      by_number[RevisionNumber(revision.name())] = &revision;
    }
    for (int64_t r = 1; r <= head_revision; ++r) {
      if (!by_number.count(r)) problem(&found.partial, 1, absl::StrCat(id, ": no revision ", r));
    }
    if (static_cast<int64_t>(by_number.size()) != head_revision) {
      problem(&found.partial, 1,
              absl::StrCat(id, ": ", by_number.size(), " revisions, head at ", head_revision));
    }
    // Each acknowledged write's revision holds what that call wrote.
    for (const auto& [kind, number] : record.acked) {
      if (kind == Kind::kEvents || !by_number.count(number)) continue;
      const v1::Sop& snapshot = by_number[number]->snapshot();
      bool right = snapshot.title() == Title(id);
      switch (kind) {
        case Kind::kCreate:
          right = right && snapshot.tags_size() == 0;
          break;
        case Kind::kUpdate:
          right = right && snapshot.tags_size() == 1 && snapshot.tags(0) == kMarker;
          break;
        case Kind::kSubmit:
          right = right && snapshot.review().state() == v1::DraftReview::IN_REVIEW;
          break;
        case Kind::kApprove:
          right = right && snapshot.review().state() == v1::DraftReview::APPROVED;
          break;
        case Kind::kPublish:
          right = right && head->published_revision_id() == absl::StrCat(number);
          break;
        case Kind::kEvents:
          break;
      }
      if (!right) {
        problem(&found.partial, 1,
                absl::StrCat(id, ": revision ", number, " is not what its ",
                             kKindNames[static_cast<int>(kind)], " wrote"));
      }
    }
    // Events: sent again, an acknowledged batch is all duplicates; a batch
    // in flight at the kill is all or nothing (and all there afterwards).
    if (record.tried.count(Kind::kEvents) && record.acked.count(Kind::kPublish)) {
      const std::string published = absl::StrCat(record.acked[Kind::kPublish]);
      absl::StatusOr<v1::RecordEventsResponse> again =
          admin.RecordEvents(EventBatch(id, published));
      if (!again.ok()) return again.status();
      const int duplicates = again->duplicates();
      if (record.acked.count(Kind::kEvents)) {
        if (duplicates != kEventsPerBatch) {
          problem(&found.lost, kEventsPerBatch - duplicates,
                  absl::StrCat(id, ": ", kEventsPerBatch - duplicates, " acked events missing"));
        }
      } else {
        if (duplicates != 0 && duplicates != kEventsPerBatch) {
          problem(&found.partial, 1,
                  absl::StrCat(id, ": ", duplicates, " of the batch in flight were recorded"));
        }
        expected.Append(absl::StrCat("ack events ", id, " ", published), true);
      }
    }
    if (!record.settled && unknown > 0) {
      expected.Append(absl::StrCat("settled ", id, " ", head_revision), true);
    }
  }
  return found;
}

absl::StatusOr<Tokens> MakeTokens(const std::string& address, const std::string& admin_token,
                                  int clients) {
  Tokens tokens;
  tokens.admin = admin_token;
  client::Client admin = ClientFor(address, admin_token);
  auto issue = [&](const std::string& user, v1::Role role) -> absl::StatusOr<std::string> {
    v1::CreateTokenRequest request;
    request.set_parent("orgs/default");
    request.mutable_token()->set_user_id(user);
    request.mutable_token()->add_roles(role);
    absl::StatusOr<v1::CreateTokenResponse> token = admin.CreateToken(request);
    if (!token.ok()) return token.status();
    return token->secret();
  };
  for (int c = 0; c < clients; ++c) {
    absl::StatusOr<std::string> writer = issue(absl::StrCat("writer-", c), v1::SALES_OPS);
    if (!writer.ok()) return writer.status();
    absl::StatusOr<std::string> approver =
        issue(absl::StrCat("approver-", c), v1::MARKETING_DIRECTOR);
    if (!approver.ok()) return approver.status();
    tokens.writers.push_back(*writer);
    tokens.approvers.push_back(*approver);
  }
  return tokens;
}

int Run(const Config& config) {
  const std::string dir =
      config.dir.empty()
          ? (std::filesystem::temp_directory_path() / absl::StrCat("crash_kill9-", ::getpid()))
                .string()
          : config.dir;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string data_dir = dir + "/data";
  ExpectedStateFile expected(dir + "/expected-state");
  if (!expected.ok()) {
    std::fprintf(stderr, "crash_kill9: cannot create %s/expected-state\n", dir.c_str());
    return 1;
  }
  std::printf("crash_kill9: rounds=%d writes<=%d clients=%d seed=%llu dir=%s\n", config.rounds,
              config.writes, config.clients, static_cast<unsigned long long>(config.seed),
              dir.c_str());
  std::mt19937_64 random(config.seed);
  absl::StatusOr<std::unique_ptr<test::SopdProcess>> sopd =
      test::SopdProcess::Start(config.sopd, data_dir);
  if (!sopd.ok()) {
    std::fprintf(stderr, "crash_kill9: %s\n", sopd.status().ToString().c_str());
    return 1;
  }
  absl::StatusOr<Tokens> tokens =
      MakeTokens((*sopd)->address(), (*sopd)->AdminToken(), config.clients);
  if (!tokens.ok()) {
    std::fprintf(stderr, "crash_kill9: tokens: %s\n", tokens.status().ToString().c_str());
    return 1;
  }
  Findings total;
  int64_t total_acked = 0;
  bool failed = false;
  const absl::Time start = absl::Now();
  for (int round = 1; round <= config.rounds && !failed; ++round) {
    const int64_t kill_after = std::uniform_int_distribution<int64_t>(
        std::max(1, config.writes / 4), config.writes)(random);
    std::atomic<int64_t> acked = 0;
    std::atomic<bool> stop = false, killed = false;
    std::vector<Writer> writers(config.clients);
    for (int c = 0; c < config.clients; ++c) {
      writers[c].id = c;
      writers[c].round = round;
      writers[c].writer = ClientFor((*sopd)->address(), tokens->writers[c]);
      writers[c].approver = ClientFor((*sopd)->address(), tokens->approvers[c]);
      writers[c].expected = &expected;
      writers[c].acked = &acked;
      writers[c].stop = &stop;
      writers[c].killed = &killed;
    }
    const absl::Time round_start = absl::Now();
    std::vector<std::thread> threads;
    for (Writer& w : writers) threads.emplace_back([&w] { w.Run(); });
    while (acked.load() < kill_after) {
      bool any_unexpected = false;
      for (const Writer& w : writers) any_unexpected |= w.failed_early.load();
      if (any_unexpected) break;
      absl::SleepFor(absl::Microseconds(200));
    }
    killed = true;
    const int status = (*sopd)->Stop(SIGKILL);
    stop = true;
    for (std::thread& t : threads) t.join();
    const double seconds = absl::ToDoubleSeconds(absl::Now() - round_start);
    for (const Writer& w : writers) {
      if (!w.unexpected.empty()) {
        std::printf("round %d: a call failed while sopd was up: %s\n", round, w.unexpected.c_str());
        failed = true;
      }
    }
    const bool killed_by_signal = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    sopd->reset();
    const absl::Time restart = absl::Now();
    sopd = test::SopdProcess::Start(config.sopd, data_dir);
    if (!sopd.ok()) {
      std::printf("round %d: sopd does not start again: %s\n", round,
                  sopd.status().ToString().c_str());
      return 1;
    }
    const double restart_seconds = absl::ToDoubleSeconds(absl::Now() - restart);
    client::Client admin = ClientFor((*sopd)->address(), tokens->admin);
    std::vector<std::string> problems;
    absl::StatusOr<Findings> found = Check((*sopd)->address(), *tokens, expected, &problems);
    if (!found.ok()) {
      std::printf("round %d: check failed: %s\n", round, found.status().ToString().c_str());
      return 1;
    }
    v1::VerifyAuditLogRequest verify;
    verify.set_parent("orgs/default");
    absl::StatusOr<v1::VerifyAuditLogResponse> audit = admin.VerifyAuditLog(verify);
    const bool audit_ok = audit.ok() && audit->intact();
    for (const std::string& p : problems) std::printf("  %s\n", p.c_str());
    std::printf(
        "round %d: killed_by_sigkill=%s acked_this_round=%lld writes_per_s=%.0f restart_s=%.2f "
        "sops=%lld acked_checked=%lld in_flight=%lld creates_resent=%lld lost=%lld partial=%lld "
        "duplicated=%lld "
        "audit=%s (%lld events)\n",
        round, killed_by_signal ? "yes" : "no", static_cast<long long>(acked.load()),
        acked.load() / std::max(seconds, 1e-3), restart_seconds,
        static_cast<long long>(found->sops), static_cast<long long>(found->acked),
        static_cast<long long>(found->unknown), static_cast<long long>(found->creates_resent),
        static_cast<long long>(found->lost), static_cast<long long>(found->partial),
        static_cast<long long>(found->duplicated),
        audit_ok ? "intact" : (audit.ok() ? audit->problem().c_str() : "unreadable"),
        audit.ok() ? static_cast<long long>(audit->events_checked()) : 0LL);
    if (!audit_ok || !killed_by_signal) failed = true;
    total.lost += found->lost;
    total.partial += found->partial;
    total.duplicated += found->duplicated;
    total_acked += acked.load();
    total.sops = found->sops;
    total.unknown = found->unknown;
  }
  (*sopd)->Stop(SIGTERM);
  std::printf(
      "crash_kill9 total: rounds=%d acked_writes=%lld sops=%lld in_flight_at_kills=%lld "
      "lost=%lld partial=%lld duplicated=%lld audit=%s seconds=%.1f\n",
      config.rounds, static_cast<long long>(total_acked), static_cast<long long>(total.sops),
      static_cast<long long>(total.unknown), static_cast<long long>(total.lost),
      static_cast<long long>(total.partial), static_cast<long long>(total.duplicated),
      failed ? "FAILED" : "intact after every round", absl::ToDoubleSeconds(absl::Now() - start));
  const bool clean = !failed && total.lost == 0 && total.partial == 0 && total.duplicated == 0;
  if (clean) std::filesystem::remove_all(dir);
  return clean ? 0 : 1;
}

}  // namespace
}  // namespace sopsidebar

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // Figures appear as each round ends.
  sopsidebar::Config config;
  if (!sopsidebar::ParseFlags(argc, argv, &config)) return 2;
  return sopsidebar::Run(config);
}
