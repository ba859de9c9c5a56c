// The backup drill: a real sopd (SopdServer on a loopback port, RocksDB on
// disk) with several orgs' SOPs, revisions, sign-offs, comments, tokens,
// analytics events and their audit trails; an online backup taken with
// sopctl's writer while concurrent clients keep writing; the backup restored
// (sopd --restore-from's code) into a fresh data dir and served by a second
// sopd. Checks that every write acknowledged before the backup began is in
// the restored data exactly as it was, that the restore is internally
// consistent (each org's audit trail is a prefix of the live one, intact,
// ending at the manifest's head; the manifest's counts are what the restored
// sopd serves), and prints the backup's size and time and the recovery
// time. SOP_DRILL_SOPS_PER_ORG scales the load (default 12).
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "client/cli/backup_writer.h"
#include "server/app/restore.h"
#include "sopsidebar/v1/analytics_service.pb.h"
#include "tests/integration/sopd_fixture.h"

namespace sopsidebar {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string>& Orgs() {
  static const auto* const orgs = new std::vector<std::string>{"default", "acme", "globex"};
  return *orgs;
}

int SopsPerOrg() {
  const char* scale = std::getenv("SOP_DRILL_SOPS_PER_ORG");
  return scale != nullptr && std::atoi(scale) > 0 ? std::atoi(scale) : 12;
}

v1::Sop Body(const std::string& title) {
  v1::Sop sop;
  sop.set_title(title);
  sop.set_owner("Sales Ops");
  sop.set_purpose("Drill load");
  auto* rule = sop.add_targeting_rules();
  rule->add_record_types("Lead");
  auto* cond = rule->add_conditions();
  cond->set_field("lead_status");
  cond->mutable_equals()->set_string_value(title);
  auto* step = sop.add_steps();
  step->set_ordinal(1);
  step->set_title("Call within 5 minutes");
  return sop;
}

// Everything one org's readers can see: the state to compare.
struct OrgState {
  std::map<std::string, std::string> sops;       // name -> serialized head
  std::map<std::string, std::string> revisions;  // revision name -> serialized
  std::map<std::string, std::string> tokens;     // name -> serialized
  std::vector<v1::AuditEvent> audit;
  v1::AuditHead head;
};

OrgState ReadOrg(client::Client& c, const std::string& org) {
  OrgState state;
  v1::ListSopsRequest list;
  list.set_parent("orgs/" + org);
  list.set_show_deleted(true);
  auto sops = c.ListAllSops(list);
  EXPECT_TRUE(sops.ok()) << sops.status();
  for (const v1::Sop& sop : sops.value_or(std::vector<v1::Sop>{})) {
    state.sops[sop.name()] = sop.SerializeAsString();
    v1::ListSopRevisionsRequest revisions;
    revisions.set_name(sop.name());
    auto all = c.ListAllSopRevisions(revisions);
    EXPECT_TRUE(all.ok()) << all.status();
    for (const v1::SopRevision& r : all.value_or(std::vector<v1::SopRevision>{})) {
      state.revisions[r.name()] = r.SerializeAsString();
    }
  }
  v1::ListTokensRequest tokens;
  tokens.set_parent("orgs/" + org);
  tokens.set_show_inactive(true);
  auto all_tokens = c.ListAllTokens(tokens);
  EXPECT_TRUE(all_tokens.ok()) << all_tokens.status();
  for (const v1::Token& t : all_tokens.value_or(std::vector<v1::Token>{})) {
    state.tokens[t.name()] = t.SerializeAsString();
  }
  v1::ListAuditEventsRequest audit;
  audit.set_parent("orgs/" + org);
  audit.set_page_size(1000);
  auto events = c.ListAllAuditEvents(audit);
  EXPECT_TRUE(events.ok()) << events.status();
  state.audit = events.value_or(std::vector<v1::AuditEvent>{});
  v1::GetAuditHeadRequest head;
  head.set_parent("orgs/" + org);
  auto got = c.GetAuditHead(head);
  EXPECT_TRUE(got.ok()) << got.status();
  state.head = got.value_or(v1::AuditHead());
  return state;
}

// Checks that every entry of `before` is in `after`, unchanged.
void ExpectContains(const std::map<std::string, std::string>& after,
                    const std::map<std::string, std::string>& before, const std::string& what,
                    int* checked) {
  for (const auto& [name, bytes] : before) {
    auto it = after.find(name);
    if (it == after.end()) {
      ADD_FAILURE() << what << " " << name << " is missing from the restore";
    } else {
      EXPECT_EQ(it->second, bytes) << what << " " << name << " differs in the restore";
    }
    ++*checked;
  }
}

class BackupDrillTest : public test::SopdFixture {
 protected:
  void SetUp() override {
    // Small chunks: a backup is hundreds of messages, many sent while the
    // one before is still being written, so a transport that dropped or
    // coalesced one would break the stream.
    options_.backup_chunk_bytes = 2048;
    StartServer();
    admin_ = std::make_unique<client::Client>(ClientFor(admin_token_));
    root_ = fs::path(options_.data_dir).string() + "-drill";
    fs::remove_all(root_);
  }
  void TearDown() override {
    restored_.reset();
    fs::remove_all(root_);
  }

  // Several orgs, each with SOPs of 3 revisions, published, some signed off
  // and commented, tokens and analytics events.
  void Load() {
    for (const std::string& org : Orgs()) {
      if (org != "default") {
        v1::CreateOrgRequest create;
        create.set_org_id(org);
        ASSERT_TRUE(admin_->CreateOrg(create).ok());
      }
      // SOPs and audit trails are read and written within their org.
      org_admins_[org] = IssueToken(admin_token_, "admin-" + org, {v1::ADMIN}, org);
      client::Client org_admin = ClientFor(org_admins_[org]);
      const std::string vp = IssueToken(admin_token_, "vp-" + org, {v1::VP_SALES}, org);
      IssueToken(admin_token_, "sdr-" + org, {v1::SDR}, org);
      client::Client approver = ClientFor(vp);
      v1::RecordEventsRequest events;
      events.set_parent("orgs/" + org);
      for (int i = 0; i < SopsPerOrg(); ++i) {
        v1::CreateSopRequest create;
        create.set_parent("orgs/" + org);
        create.set_sop_id(absl::StrCat("sop-", i));
        *create.mutable_sop() = Body(absl::StrCat("SOP ", i));
        const bool signed_off = i % 3 == 0;
        if (signed_off) create.mutable_sop()->add_required_approver_roles(v1::VP_SALES);
        auto sop = org_admin.CreateSop(create);
        ASSERT_TRUE(sop.ok()) << sop.status();
        for (int rev = 0; rev < 2; ++rev) {
          v1::UpdateSopRequest update;
          update.mutable_sop()->set_name(sop->name());
          update.mutable_sop()->set_purpose(absl::StrCat("Drill load, edit ", rev));
          update.mutable_update_mask()->add_paths("purpose");
          sop = org_admin.UpdateSop(update);
          ASSERT_TRUE(sop.ok()) << sop.status();
        }
        if (signed_off) {
          v1::SubmitSopRequest submit;
          submit.set_name(sop->name());
          sop = org_admin.SubmitSop(submit);
          ASSERT_TRUE(sop.ok()) << sop.status();
          v1::ApproveSopRequest approve;
          approve.set_name(sop->name());
          approve.set_revision_id(sop->revision_id());
          approve.set_role(v1::VP_SALES);
          ASSERT_TRUE(approver.ApproveSop(approve).ok());
        }
        auto published = org_admin.PublishSop(sop->name());
        ASSERT_TRUE(published.ok()) << published.status();
        if (i % 4 == 1) {
          v1::AddCommentRequest comment;
          comment.set_parent(sop->name());
          comment.mutable_comment()->set_text("Checked in the drill");
          ASSERT_TRUE(org_admin.AddComment(comment).ok());
        }
        v1::Event* e = events.add_events();
        e->set_event_id(absl::StrCat("drill-", org, "-", i));
        e->set_type(v1::Event::PANEL_SHOWN);
        e->mutable_event_time()->set_seconds(absl::ToUnixSeconds(absl::Now()));
        e->set_sop(sop->name());
        e->set_revision_id(published->sop().published_revision_id());
        e->mutable_context()->set_record_type("Lead");
        e->mutable_context()->set_record_id(absl::StrCat("00Q-", i));
        ++events_recorded_;
      }
      auto recorded =
          ClientFor(IssueToken(admin_token_, "rep-" + org, {v1::SDR}, org)).RecordEvents(events);
      ASSERT_TRUE(recorded.ok()) << recorded.status();
      ASSERT_EQ(recorded->recorded(), events.events_size());
    }
  }

  // Client for `org`'s ADMIN on the server at `port` (0: the live one).
  client::Client OrgAdmin(const std::string& org, int port = 0) {
    client::ConnectionOptions options = ConnectionTo(org_admins_.at(org));
    if (port != 0) options.target = absl::StrCat("127.0.0.1:", port);
    return client::Client(client::MakeGrpcConnection(options));
  }

  std::unique_ptr<client::Client> admin_;
  std::map<std::string, std::string> org_admins_;
  std::string root_;
  std::unique_ptr<SopdServer> restored_;
  int events_recorded_ = 0;
};

TEST_F(BackupDrillTest, ABackupTakenUnderConcurrentWritesRestoresEveryAcknowledgedWrite) {
  ASSERT_NO_FATAL_FAILURE(Load());
  std::map<std::string, OrgState> before;
  for (const std::string& org : Orgs()) {
    client::Client c = OrgAdmin(org);
    before[org] = ReadOrg(c, org);
  }

  // Writers that keep creating and updating SOPs in every org during the
  // backup; each remembers when each write was acknowledged.
  struct Ack {
    std::string org;
    std::string sop;
    std::string revision_id;
    absl::Time time;
  };
  absl::Mutex mu;
  std::vector<Ack> acks;
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      std::vector<client::Client> clients;
      for (const std::string& org : Orgs()) clients.push_back(OrgAdmin(org));
      for (int n = 0; !stop; ++n) {
        const std::string& org = Orgs()[n % Orgs().size()];
        client::Client& c = clients[n % Orgs().size()];
        v1::CreateSopRequest create;
        create.set_parent("orgs/" + org);
        create.set_sop_id(absl::StrCat("live-", w, "-", n));
        *create.mutable_sop() = Body(absl::StrCat("Live ", w, " ", n));
        auto sop = c.CreateSop(create);
        if (!sop.ok()) {
          ++failures;
          continue;
        }
        absl::MutexLock lock(&mu);
        acks.push_back({org, sop->name(), sop->revision_id(), absl::Now()});
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(300));  // some writes land before it
  const absl::Time backup_start = absl::Now();
  const std::string dest = root_ + "/backup";
  absl::StatusOr<cli::WrittenBackup> backup = cli::WriteBackup(*admin_, dest);
  const absl::Duration backup_time = absl::Now() - backup_start;
  absl::SleepFor(absl::Milliseconds(200));  // and some after it
  stop = true;
  for (std::thread& t : writers) t.join();
  ASSERT_TRUE(backup.ok()) << backup.status();
  EXPECT_EQ(failures.load(), 0);
  std::map<std::string, OrgState> live;
  for (const std::string& org : Orgs()) {
    client::Client c = OrgAdmin(org);
    live[org] = ReadOrg(c, org);
  }

  // Recovery: restore into a fresh data dir, start sopd on it, serve.
  const absl::Time recovery_start = absl::Now();
  absl::StatusOr<RestoreSummary> restore = RestoreBackup(dest, root_ + "/restored");
  ASSERT_TRUE(restore.ok()) << restore.status();
  const absl::Duration restore_time = absl::Now() - recovery_start;
  SopdServer::Options restored_options = options_;
  restored_options.data_dir = root_ + "/restored";
  auto restored = SopdServer::Start(restored_options);
  ASSERT_TRUE(restored.ok()) << restored.status();
  restored_ = *std::move(restored);
  EXPECT_TRUE(restored_->admin_token_path().empty()) << "a restored database has its tokens";
  client::ConnectionOptions to_restored = ConnectionTo(admin_token_);
  to_restored.target = absl::StrCat("127.0.0.1:", restored_->port());
  client::Client r(client::MakeGrpcConnection(to_restored));
  ASSERT_TRUE(r.WhoAmI(v1::WhoAmIRequest()).ok());
  const absl::Duration recovery_time = absl::Now() - recovery_start;

  const v1::BackupContents& contents = backup->manifest.contents();
  std::map<std::string, v1::AuditHead> manifest_heads;
  for (const v1::AuditHead& head : contents.audit_heads()) manifest_heads[head.org()] = head;
  EXPECT_EQ(manifest_heads.size(), Orgs().size());
  int sops = 0, revisions = 0, tokens = 0, audit_events = 0, checked = 0;
  for (const std::string& org : Orgs()) {
    SCOPED_TRACE(org);
    client::Client r_org = OrgAdmin(org, restored_->port());
    const OrgState got = ReadOrg(r_org, org);
    // Every write acknowledged before the backup began, as it was.
    ExpectContains(got.sops, before[org].sops, "SOP", &checked);
    ExpectContains(got.revisions, before[org].revisions, "revision", &checked);
    ExpectContains(got.tokens, before[org].tokens, "token", &checked);
    // Consistent: the restored trail is intact, ends at the manifest's
    // head, and is the live trail up to there; every revision and SOP head
    // it holds is one the live server acknowledged.
    const v1::AuditHead& head = manifest_heads["orgs/" + org];
    EXPECT_EQ(got.head.sequence(), head.sequence());
    EXPECT_EQ(got.head.hash(), head.hash());
    EXPECT_GE(head.sequence(), before[org].head.sequence());
    v1::VerifyAuditLogRequest verify;
    verify.set_parent("orgs/" + org);
    *verify.mutable_expected_head() = head;
    auto verdict = r_org.VerifyAuditLog(verify);
    ASSERT_TRUE(verdict.ok()) << verdict.status();
    EXPECT_TRUE(verdict->intact()) << verdict->problem();
    ASSERT_LE(got.audit.size(), live[org].audit.size());
    for (size_t i = 0; i < got.audit.size(); ++i) {
      EXPECT_EQ(got.audit[i].SerializeAsString(), live[org].audit[i].SerializeAsString())
          << "audit event " << got.audit[i].sequence();
    }
    ExpectContains(live[org].revisions, got.revisions, "restored revision", &checked);
    for (const auto& [name, bytes] : got.sops) {
      if (name.find("/sops/live-") != std::string::npos) {
        EXPECT_EQ(live[org].sops[name], bytes) << name;
      }
    }
    sops += static_cast<int>(got.sops.size());
    revisions += static_cast<int>(got.revisions.size());
    tokens += static_cast<int>(got.tokens.size());
    audit_events += static_cast<int>(got.audit.size());
  }
  int acked_before = 0, acked_during = 0, acked_in_backup = 0;
  for (const Ack& ack : acks) {
    v1::GetSopRequest get;
    get.set_name(ack.sop);
    const bool present = OrgAdmin(ack.org, restored_->port()).GetSop(get).ok();
    if (ack.time < backup_start) {
      ++acked_before;
      EXPECT_TRUE(present) << ack.sop << " was acknowledged before the backup began";
    } else {
      ++acked_during;
    }
    acked_in_backup += present;
  }
  EXPECT_GT(acked_before, 0);
  EXPECT_GT(acked_during, 0);
  // What the manifest says the backup holds is what the restored sopd serves.
  auto orgs = r.ListAllOrgs(v1::ListOrgsRequest());
  ASSERT_TRUE(orgs.ok());
  EXPECT_EQ(contents.orgs(), static_cast<int64_t>(orgs->size()));
  EXPECT_EQ(contents.sops(), sops);
  EXPECT_EQ(contents.revisions(), revisions);
  EXPECT_EQ(contents.tokens(), tokens);
  EXPECT_EQ(contents.audit_events(), audit_events);
  EXPECT_EQ(contents.analytics_events(), events_recorded_);

  std::cout << "backup drill: " << Orgs().size() << " orgs x " << SopsPerOrg()
            << " SOPs loaded; backup " << backup->files << " files, " << backup->bytes
            << " bytes in " << absl::ToInt64Milliseconds(backup_time) << " ms while 2 writers "
            << "ran (" << acked_before << " writes acked before it, " << acked_during
            << " during/after, " << acked_in_backup << " of them in it); recovery "
            << absl::ToInt64Milliseconds(recovery_time) << " ms (restore "
            << absl::ToInt64Milliseconds(restore_time) << " ms + start until serving "
            << absl::ToInt64Milliseconds(recovery_time - restore_time) << " ms); verified " << sops
            << " SOPs, " << revisions << " revisions, " << tokens << " tokens, " << audit_events
            << " audit events, " << contents.analytics_events() << " analytics events, "
            << manifest_heads.size() << " audit heads; " << checked << " records compared"
            << std::endl;
}

TEST_F(BackupDrillTest, ACorruptedBackupFileIsRefusedNamingItAndNothingIsRestored) {
  ASSERT_NO_FATAL_FAILURE(Load());
  const std::string dest = root_ + "/backup";
  absl::StatusOr<cli::WrittenBackup> backup = cli::WriteBackup(*admin_, dest);
  ASSERT_TRUE(backup.ok()) << backup.status();
  std::string victim;
  for (const v1::BackupFile& file : backup->manifest.files()) {
    if (fs::path(file.path()).extension() == ".sst") victim = file.path();
  }
  ASSERT_FALSE(victim.empty());
  {
    std::fstream f(fs::path(dest) / victim, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(fs::path(dest) / victim) / 2));
    const char flipped = static_cast<char>(f.peek() ^ 0x01);
    f.put(flipped);
  }
  absl::StatusOr<RestoreSummary> restore = RestoreBackup(dest, root_ + "/restored");
  EXPECT_EQ(restore.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(restore.status().message().find(victim), std::string::npos) << restore.status();
  EXPECT_FALSE(fs::exists(root_ + "/restored/db"));
  std::cout << "corrupted backup: " << restore.status().message() << std::endl;
}

TEST_F(BackupDrillTest, OnlyAServerAdminMayTakeABackupAndDestMustBeNew) {
  const std::string org_admin = IssueToken(admin_token_, "org-admin", {v1::ADMIN});
  client::Client c = ClientFor(org_admin);
  const std::string dest = root_ + "/backup";
  absl::StatusOr<cli::WrittenBackup> denied = cli::WriteBackup(c, dest);
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied) << denied.status();
  EXPECT_FALSE(fs::exists(dest));
  EXPECT_TRUE(!fs::exists(root_) || fs::is_empty(root_)) << "no partial directory is left";

  fs::create_directories(dest);
  std::ofstream(dest + "/keep") << "operator's file";
  absl::StatusOr<cli::WrittenBackup> refused = cli::WriteBackup(*admin_, dest);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find(dest), std::string::npos) << refused.status();
  EXPECT_TRUE(fs::exists(dest + "/keep"));
}

}  // namespace
}  // namespace sopsidebar
