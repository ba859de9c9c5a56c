// sopd: the SOP Sidebar server. Parses flags, starts SopdServer, and serves
// until SIGINT or SIGTERM; or, with --bootstrap-admin, issues a server-admin
// token on a stopped sopd's data dir and exits; or, with --restore-from,
// restores a backup into a data dir without a database and exits. Flags are parsed here only.
#include <sys/stat.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/proto_time.h"
#include "server/app/bootstrap_admin.h"
#include "server/app/restore.h"
#include "server/app/sopd_server.h"
#include "server/common/command_line.h"
#include "server/common/log.h"
#include "server/main/config_file.h"

namespace {

// Blocks SIGINT/SIGTERM in every thread (gRPC's threads inherit the mask),
// so that main can wait for them synchronously. A shell starting sopd in the
// background without job control leaves SIGINT ignored, and sigwait never
// sees an ignored signal: restore the default first.
sigset_t BlockShutdownSignals() {
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

constexpr char kUsage[] = R"(sopd: the SOP Sidebar server.

usage: sopd [--config FILE] [--data-dir DIR] [--grpc-listen HOST:PORT]
            [--store rocksdb|etcd --etcd-endpoints URL,... [--etcd-prefix P]
             [--etcd-cacert PEM] [--etcd-cert PEM --etcd-key PEM]
             [--etcd-user NAME --etcd-password-file FILE] [--etcd-connect-timeout D]
             [--advertise-address HOST:PORT] [--peer-cacert PEM]]
            [--import DIR [--import-overwrite]]
            [--tls-cert PEM --tls-key PEM [--tls-client-ca PEM]]
            [--insecure-listen-any] [--max-watches-per-token N] [--event-retention-days N]
            [--http-listen HOST:PORT] [--cors-origin ORIGIN ...]
            [--http-static-dir DIR] [--http-demo-tokens FILE] [--http-public-url URL]
            [--log-format text|json] [--log-level LEVEL] [--access-log]
            [--metrics-from-any-peer]
            [--shutdown-grace DURATION]
            [--drafter-model-url URL --drafter-model MODEL [--drafter-timeout DURATION]]
            [--webhook-backoff-base DURATION] [--webhook-backoff-cap DURATION]
            [--webhook-attempt-timeout DURATION] [--review-due-scan-interval DURATION]
       sopd [--data-dir DIR] --bootstrap-admin
       sopd --data-dir DIR --restore-from BACKUP
)";

}  // namespace

ABSL_FLAG(std::string, data_dir, sopsidebar::SopdServer::Options().data_dir,
          "RocksDB data lives under DIR/db; the first start writes the admin token to "
          "DIR/admin.token (mode 0600). DIR and DIR/db are the owner's only (0700); sopd refuses "
          "them if group or others may write them");
ABSL_FLAG(std::string, grpc_listen, sopsidebar::SopdServer::Options().listen_address,
          "gRPC address HOST:PORT; port 0 picks a free port");
ABSL_FLAG(std::string, import, "",
          "create and publish the SOPs of the files in DIR (or one file) that orgs/default "
          "lacks, before serving; existing SOPs are kept as they are");
ABSL_FLAG(bool, import_overwrite, false,
          "with --import: also update existing SOPs to their files and publish them (reverts "
          "edits made since)");
ABSL_FLAG(std::string, tls_cert, "", "serve TLS with this PEM certificate chain (with --tls-key)");
ABSL_FLAG(std::string, tls_key, "", "the PEM private key for --tls-cert");
ABSL_FLAG(std::string, tls_client_ca, "",
          "also require client certificates signed by this PEM CA (mTLS)");
ABSL_FLAG(bool, insecure_listen_any, false, "allow plaintext on a non-loopback address");
ABSL_FLAG(std::string, http_listen, sopsidebar::HttpGatewayOptions().listen_address,
          "Connect/HTTP gateway address HOST:PORT for browsers and CRM sandboxes (the panel); "
          "port 0 picks a free port; empty turns it off. TLS with the --tls-* flags, as gRPC");
ABSL_FLAG(std::vector<std::string>, cors_origin, {},
          "an origin (https://crm.example.com) whose pages may call the gateway; repeatable or "
          "comma-separated; none by default");
ABSL_FLAG(std::string, http_static_dir, "",
          "serve the files under DIR on the gateway: the panel bundle (/panel/) and the demo "
          "page (/demo/), e.g. plugins/web-panel/dist");
ABSL_FLAG(std::string, http_demo_tokens, "",
          "serve FILE as /demo/tokens.json, the demo page's sign-in tokens; only on a loopback "
          "--http-listen");
ABSL_FLAG(std::string, http_public_url, "",
          "the scheme and host HubSpot calls the gateway at (https://sopd.example.com), which "
          "its request signatures cover; default: the listener's scheme and the Host header");
ABSL_FLAG(int, http_threads, sopsidebar::HttpGatewayOptions().threads,
          "threads running every gateway connection (open streams hold none)");
ABSL_FLAG(int, max_watches_per_token, static_cast<int>(
              sopsidebar::LookupWatchHub::Options().max_watches_per_token),
          "open WatchSops streams one token may hold (a panel per open record tab); more are "
          "RESOURCE_EXHAUSTED");
ABSL_FLAG(int, event_retention_days,
          absl::ToInt64Hours(sopsidebar::SopdServer::Options().event_retention) / 24,
          "days raw analytics events are kept before compaction drops them (the per-day figures "
          "are kept for good); older events are refused");
ABSL_FLAG(std::string, store, "rocksdb",
          "where SOPs, tokens, maps, templates, webhooks and the audit trail live: rocksdb (the "
          "data dir's database, one node) or etcd (the cluster --etcd-endpoints names, shared by "
          "several sopd nodes; panel events stay in the data dir); docs/SCALING.md");
ABSL_FLAG(std::vector<std::string>, etcd_endpoints, {},
          "with --store=etcd: the etcd members, comma-separated: http://host:2379 or "
          "https://host:2379");
ABSL_FLAG(std::string, etcd_prefix, sopsidebar::EtcdOptions().prefix,
          "with --store=etcd: the key prefix everything sopd writes lives under (ends with /)");
ABSL_FLAG(std::string, etcd_cacert, "",
          "with https etcd endpoints: the PEM CA bundle that verifies etcd (default: the "
          "system's roots)");
ABSL_FLAG(std::string, etcd_cert, "", "with https etcd endpoints: a PEM client certificate");
ABSL_FLAG(std::string, etcd_key, "", "the PEM private key of --etcd-cert");
ABSL_FLAG(std::string, etcd_user, "", "with --store=etcd: the etcd user sopd authenticates as");
ABSL_FLAG(std::string, etcd_password_file, "",
          "with --etcd-user: a file holding that user's password (one line)");
ABSL_FLAG(absl::Duration, etcd_connect_timeout,
          sopsidebar::SopdServer::Options().etcd_connect_timeout,
          "with --store=etcd: how long a start waits for an unreachable etcd, retrying with "
          "backoff, before it gives up");
ABSL_FLAG(std::string, advertise_address, "",
          "with --store=etcd: host:port the other sopd nodes reach this node's gRPC port at, "
          "for reports over every node's events (default: --grpc-listen's host and port)");
ABSL_FLAG(std::string, peer_cacert, "",
          "with --store=etcd and --tls-cert: the PEM CAs that verify the other sopd nodes' "
          "certificates (default: --tls-client-ca, else the system's roots)");
ABSL_FLAG(std::string, config, "",
          "read flags from this YAML file first (keys: the flag names with underscores, as "
          "data_dir: /var/lib/sopd); flags on the command line override it");
ABSL_FLAG(std::string, log_format, "text",
          "text (one line: time, 'sopd:', message, key=value fields) or json (JSON lines with "
          "ts, level, msg and the fields)");
ABSL_FLAG(std::string, log_level, "info", "the least level logged: debug, info, warn or error");
ABSL_FLAG(bool, access_log, sopsidebar::Dispatcher::Options().access_log,
          "an info line per API call (method, code, latency_ms, caller token name, user, peer; "
          "never a token), at most 10,000 per 10 s; off by default (it costs lookup "
          "throughput)");
ABSL_FLAG(bool, metrics_from_any_peer, false,
          "answer GET /metrics on the gateway to any peer, not only loopback ones");
ABSL_FLAG(absl::Duration, shutdown_grace, sopsidebar::SopdServer::Options().shutdown_grace,
          "on SIGTERM or SIGINT: how long calls in flight may take to finish before they are "
          "cancelled (new calls are refused at once, open watches told to reconnect); a "
          "duration such as 10s, 1m30s or 500ms");
ABSL_FLAG(std::string, drafter_model_url, "",
          "DraftSop's model drafter: the base URL of an OpenAI-compatible chat-completions "
          "server (llama.cpp, Ollama, vLLM), e.g. http://127.0.0.1:11434; plain http; empty "
          "(the default): only the built-in drafter");
ABSL_FLAG(std::string, drafter_model, "",
          "with --drafter-model-url: the model as that server names it (llama3.1:8b)");
ABSL_FLAG(absl::Duration, drafter_timeout, sopsidebar::SopdServer::Options().drafter_timeout,
          "with --drafter-model-url: how long each request to the model may take (a draft "
          "makes at most two); a duration such as 60s or 2m");
ABSL_FLAG(absl::Duration, webhook_backoff_base,
          sopsidebar::SopdServer::Options().events.backoff_base,
          "webhooks: the wait before a failed delivery's first retry; retry n waits a random "
          "time up to min(cap, base * 2^(n-1)) (full jitter); docs/EVENTS.md");
ABSL_FLAG(absl::Duration, webhook_backoff_cap, sopsidebar::SopdServer::Options().events.backoff_cap,
          "webhooks: the longest wait between two attempts of a delivery");
ABSL_FLAG(absl::Duration, webhook_attempt_timeout,
          sopsidebar::SopdServer::Options().events.attempt_timeout,
          "webhooks: one attempt's deadline (connect, send, answer); past it the attempt failed");
ABSL_FLAG(absl::Duration, review_due_scan_interval,
          sopsidebar::SopdServer::Options().events.review_due_scan_interval,
          "how often published SOPs are checked for a review that fell due (REVIEW_DUE events)");
ABSL_FLAG(bool, bootstrap_admin, false,
          "with sopd stopped: issue a new server-admin ADMIN token for orgs/default, write it to "
          "DIR/admin.token (mode 0600), print where, and exit (recovers a lost or revoked server "
          "admin)");

ABSL_FLAG(std::string, restore_from, "",
          "with sopd stopped: check the backup in this directory (sopctl admin backup wrote it) "
          "against its manifest, restore it as DIR/db (DIR/db must be missing or empty), and "
          "exit; then start sopd on DIR to serve it");

namespace {

struct Flags {
  sopsidebar::SopdServer::Options server;
  bool bootstrap_admin = false;
  std::string restore_from;
};

// The flags a configuration file may not set: they act once, or name it.
const std::vector<std::string> kNotInConfigFile = {"config", "bootstrap_admin", "restore_from"};

// Sets the flags --config's file names, before the command line is parsed,
// so that flags given there override the file. Exits 1 on a bad file.
sopsidebar::ConfigOrigins ApplyConfigFileOrExit(int argc, char** argv) {
  auto path = sopsidebar::ConfigFileArgument(
      std::vector<std::string>(argv + std::min(argc, 1), argv + argc));
  if (path.ok() && !path->has_value()) return {};
  auto origins =
      path.ok() ? sopsidebar::ApplyConfigFile(**path, {__FILE__, kNotInConfigFile}) : path.status();
  if (!origins.ok()) {
    std::cerr << "sopd: " << origins.status().message() << std::endl;
    std::exit(1);
  }
  return *std::move(origins);
}

// " (FILE:LINE)" when the configuration file set flag `name`, for messages
// about its value.
std::string Origin(const sopsidebar::ConfigOrigins& origins, const std::string& name) {
  const auto it = origins.find(name);
  return it == origins.end() ? "" : absl::StrCat(" (set at ", it->second, ")");
}

// Exits on --help, --version and usage errors (see ParseCommandLineOrExit)
// and on a bad configuration file.
Flags ParseFlags(int argc, char** argv) {
  const sopsidebar::ConfigOrigins origins = ApplyConfigFileOrExit(argc, argv);
  sopsidebar::ParseCommandLineOrExit(
      argc, argv,
      sopsidebar::CommandLine{"sopd", kUsage, __FILE__,
                              absl::StrCat("sopd ", sopsidebar::kSopdVersion)});
  Flags parsed;
  sopsidebar::SopdServer::Options& options = parsed.server;
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.listen_address = absl::GetFlag(FLAGS_grpc_listen);
  const std::string store = absl::GetFlag(FLAGS_store);
  if (store == "etcd") {
    options.store = sopsidebar::SopdServer::Options::Store::kEtcd;
  } else if (store != "rocksdb") {
    std::cerr << "sopd: --store must be rocksdb or etcd, not \"" << store << "\""
              << Origin(origins, "store") << std::endl;
    std::exit(1);
  }
  options.etcd.endpoints = absl::GetFlag(FLAGS_etcd_endpoints);
  if (options.store == sopsidebar::SopdServer::Options::Store::kEtcd &&
      options.etcd.endpoints.empty()) {
    std::cerr << "sopd: --store=etcd needs --etcd-endpoints (http://127.0.0.1:2379,...)"
              << Origin(origins, "store") << std::endl;
    std::exit(1);
  }
  options.etcd.prefix = absl::GetFlag(FLAGS_etcd_prefix);
  options.etcd.ca_file = absl::GetFlag(FLAGS_etcd_cacert);
  options.etcd.cert_file = absl::GetFlag(FLAGS_etcd_cert);
  options.etcd.key_file = absl::GetFlag(FLAGS_etcd_key);
  options.etcd.user = absl::GetFlag(FLAGS_etcd_user);
  const std::string password_file = absl::GetFlag(FLAGS_etcd_password_file);
  if (!password_file.empty()) {
    std::ifstream in(password_file);
    std::string password;
    if (!in || !std::getline(in, password) || password.empty()) {
      std::cerr << "sopd: --etcd-password-file: cannot read a password from " << password_file
                << Origin(origins, "etcd_password_file") << std::endl;
      std::exit(1);
    }
    options.etcd.password = password;
  }
  options.etcd_connect_timeout = absl::GetFlag(FLAGS_etcd_connect_timeout);
  options.advertise_address = absl::GetFlag(FLAGS_advertise_address);
  options.peer_ca_file = absl::GetFlag(FLAGS_peer_cacert);
  options.import_dir = absl::GetFlag(FLAGS_import);
  if (absl::GetFlag(FLAGS_import_overwrite)) {
    options.import_existing = sopsidebar::ExistingSop::kUpdate;
  }
  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  options.tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca);
  options.insecure_listen_any = absl::GetFlag(FLAGS_insecure_listen_any);
  const int max_watches = absl::GetFlag(FLAGS_max_watches_per_token);
  if (max_watches < 1) {
    std::cerr << "sopd: --max-watches-per-token must be at least 1"
              << Origin(origins, "max_watches_per_token") << std::endl;
    std::exit(1);
  }
  options.watches.max_watches_per_token = static_cast<size_t>(max_watches);
  const int retention_days = absl::GetFlag(FLAGS_event_retention_days);
  if (retention_days < 1) {
    std::cerr << "sopd: --event-retention-days must be at least 1"
              << Origin(origins, "event_retention_days") << std::endl;
    std::exit(1);
  }
  options.event_retention = absl::Hours(24) * retention_days;
  options.http.listen_address = absl::GetFlag(FLAGS_http_listen);
  options.http.cors_origins = absl::GetFlag(FLAGS_cors_origin);
  options.http.static_dir = absl::GetFlag(FLAGS_http_static_dir);
  options.http.demo_tokens_file = absl::GetFlag(FLAGS_http_demo_tokens);
  options.http.public_url = absl::GetFlag(FLAGS_http_public_url);
  options.http.threads = absl::GetFlag(FLAGS_http_threads);
  if (options.http.threads < 1) {
    std::cerr << "sopd: --http-threads must be at least 1" << Origin(origins, "http_threads")
              << std::endl;
    std::exit(1);
  }
  const std::optional<sopsidebar::LogFormat> log_format =
      sopsidebar::ParseLogFormat(absl::GetFlag(FLAGS_log_format));
  const std::optional<sopsidebar::LogLevel> log_level =
      sopsidebar::ParseLogLevel(absl::GetFlag(FLAGS_log_level));
  if (!log_format || !log_level) {
    std::cerr << "sopd: "
              << (log_format ? "--log-level must be debug, info, warn or error"
                             : "--log-format must be text or json")
              << Origin(origins, log_format ? "log_level" : "log_format") << std::endl;
    std::exit(1);
  }
  sopsidebar::SetLogOptions(*log_format, *log_level);
  options.dispatcher.access_log = absl::GetFlag(FLAGS_access_log);
  options.http.metrics_from_any_peer = absl::GetFlag(FLAGS_metrics_from_any_peer);
  options.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  if (options.shutdown_grace < absl::ZeroDuration() ||
      options.shutdown_grace == absl::InfiniteDuration()) {
    std::cerr << "sopd: --shutdown-grace must be a finite duration of 0s or more" << std::endl;
    std::exit(1);
  }
  options.drafter_model_url = absl::GetFlag(FLAGS_drafter_model_url);
  options.drafter_model = absl::GetFlag(FLAGS_drafter_model);
  options.drafter_timeout = absl::GetFlag(FLAGS_drafter_timeout);
  if (!options.drafter_model_url.empty() && options.drafter_model.empty()) {
    std::cerr << "sopd: --drafter-model-url needs --drafter-model (the model to ask)"
              << Origin(origins, "drafter_model_url") << std::endl;
    std::exit(1);
  }
  if (options.drafter_timeout <= absl::ZeroDuration() ||
      options.drafter_timeout == absl::InfiniteDuration()) {
    std::cerr << "sopd: --drafter-timeout must be a finite duration over 0s"
              << Origin(origins, "drafter_timeout") << std::endl;
    std::exit(1);
  }
  options.events.backoff_base = absl::GetFlag(FLAGS_webhook_backoff_base);
  options.events.backoff_cap = absl::GetFlag(FLAGS_webhook_backoff_cap);
  options.events.attempt_timeout = absl::GetFlag(FLAGS_webhook_attempt_timeout);
  options.events.review_due_scan_interval = absl::GetFlag(FLAGS_review_due_scan_interval);
  for (const auto& [flag, value] :
       {std::pair<const char*, absl::Duration>{"webhook-backoff-base", options.events.backoff_base},
        {"webhook-backoff-cap", options.events.backoff_cap},
        {"webhook-attempt-timeout", options.events.attempt_timeout},
        {"review-due-scan-interval", options.events.review_due_scan_interval}}) {
    if (value <= absl::ZeroDuration() || value == absl::InfiniteDuration()) {
      std::cerr << "sopd: --" << flag << " must be a finite duration over 0s, like 1s or 5m"
                << std::endl;
      std::exit(1);
    }
  }
  if (options.events.backoff_cap < options.events.backoff_base) {
    std::cerr << "sopd: --webhook-backoff-cap must be at least --webhook-backoff-base" << std::endl;
    std::exit(1);
  }
  parsed.bootstrap_admin = absl::GetFlag(FLAGS_bootstrap_admin);
  parsed.restore_from = absl::GetFlag(FLAGS_restore_from);
  if (parsed.bootstrap_admin && !parsed.restore_from.empty()) {
    std::cerr << "sopd: --bootstrap-admin and --restore-from are separate steps: run one, then "
                 "the other"
              << std::endl;
    std::exit(1);
  }
  return parsed;
}

// --restore-from: the exit status.
int RunRestore(const std::string& backup_dir, const std::string& data_dir) {
  auto restored = sopsidebar::RestoreBackup(backup_dir, data_dir);
  if (!restored.ok()) {
    std::cerr << "sopd: " << absl::StatusCodeToString(restored.status().code()) << ": "
              << restored.status().message() << std::endl;
    return 1;
  }
  const sopsidebar::v1::BackupContents& c = restored->manifest.contents();
  std::cout << "sopd: restored " << backup_dir << " into " << restored->db << ": "
            << restored->files << " files, " << restored->bytes << " bytes checked in "
            << absl::ToInt64Milliseconds(restored->elapsed) << " ms; backup of "
            << absl::FormatTime(absl::RFC3339_sec,
                                sopsidebar::FromProtoTimestamp(restored->manifest.create_time()),
                                absl::UTCTimeZone())
            << " by sopd " << restored->manifest.sopd_version() << ": " << c.orgs() << " orgs, "
            << c.sops() << " SOPs, " << c.revisions() << " revisions, " << c.tokens() << " tokens, "
            << c.audit_events() << " audit events" << std::endl;
  for (const sopsidebar::v1::AuditHead& head : c.audit_heads()) {
    std::cout << "sopd: audit head " << head.org() << " " << head.sequence() << " " << head.hash()
              << std::endl;
  }
  std::cout << "sopd: start sopd with --data-dir " << data_dir << " to serve it" << std::endl;
  return 0;
}

// --bootstrap-admin: the exit status.
int RunBootstrapAdmin(const std::string& data_dir) {
  auto path = sopsidebar::BootstrapAdmin(data_dir);
  if (!path.ok()) {
    std::cerr << "sopd: " << absl::StatusCodeToString(path.status().code()) << ": "
              << path.status().message() << std::endl;
    return 1;
  }
  std::cout << "sopd: wrote a new server-admin ADMIN token for orgs/default to " << *path
            << " (owner-only); start sopd and use it with: sopctl --token-file " << *path
            << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Before anything creates a file: every file and directory sopd makes
  // (the database's, the admin token) is the owner's only.
  ::umask(077);
  const Flags flags = ParseFlags(argc, argv);
  if (flags.bootstrap_admin) return RunBootstrapAdmin(flags.server.data_dir);
  if (!flags.restore_from.empty()) return RunRestore(flags.restore_from, flags.server.data_dir);
  const sopsidebar::SopdServer::Options& options = flags.server;
  const sigset_t signals = BlockShutdownSignals();
  auto server = sopsidebar::SopdServer::Start(options);
  if (!server.ok()) {
    std::cerr << "sopd: " << absl::StatusCodeToString(server.status().code()) << ": "
              << server.status().message() << std::endl;
    return 1;
  }
  const std::string host = options.listen_address.substr(0, options.listen_address.rfind(':'));
  if (!options.import_dir.empty()) {
    const auto& s = (*server)->import_summary();
    std::cerr << "sopd: imported " << options.import_dir << ": " << s.created << " created, "
              << s.updated << " updated, " << s.unchanged << " unchanged, " << s.kept << " kept, "
              << s.published << " published" << std::endl;
  }
  if (!(*server)->admin_token_path().empty()) {
    std::cerr << "sopd: created the admin token for orgs/default in "
              << (*server)->admin_token_path()
              << " (owner-only); use it with: sopctl --token-file "
              << (*server)->admin_token_path() << std::endl;
  }
  const auto& times = (*server)->startup_times();
  auto ms = [](absl::Duration d) { return absl::ToInt64Milliseconds(d); };
  std::cerr << "sopd: started in " << ms(times.total) << " ms: store open " << ms(times.open_store)
            << " ms, tokens " << ms(times.tokens) << " ms, published catalog "
            << ms(times.load_catalog) << " ms (of which index build " << ms(times.index_build)
            << " ms), import " << ms(times.import) << " ms, gRPC " << ms(times.grpc_start) << " ms"
            << std::endl;
  const bool loopback_only =
      std::string((*server)->transport()) == "plaintext" && !options.insecure_listen_any;
  if ((*server)->http_port() != 0) {
    const std::string http_host =
        options.http.listen_address.substr(0, options.http.listen_address.rfind(':'));
    const std::string base = absl::StrCat(
        std::string((*server)->transport()) == "plaintext" ? "http" : "https", "://", http_host,
        ":", (*server)->http_port());
    std::cerr << "sopd: Connect/HTTP on " << base << "/ ("
              << (options.http.static_dir.empty()
                      ? "no static files"
                      : absl::StrCat("the demo CRM page at ", base, "/demo/"))
              << ")" << std::endl;
  }
  std::cerr << "sopd " << sopsidebar::kSopdVersion << " listening on " << host << ":"
            << (*server)->port() << " (" << (*server)->transport()
            << (loopback_only ? ", loopback only" : "") << ") data_dir=" << options.data_dir
            << " store="
            << (options.store == sopsidebar::SopdServer::Options::Store::kEtcd
                    ? absl::StrCat("etcd(", absl::StrJoin(options.etcd.endpoints, ","), ")")
                    : std::string("rocksdb"))
            << " published_sops=" << (*server)->published_count() << std::endl;

  int signal = 0;
  sigwait(&signals, &signal);
  std::cerr << "sopd: " << (signal == SIGINT ? "SIGINT" : "SIGTERM")
            << ", draining: new calls refused, watches told to reconnect, calls in flight have "
            << absl::FormatDuration(options.shutdown_grace) << std::endl;
  const absl::Time drain_start = absl::Now();
  (*server)->Shutdown();
  (*server)->Wait();
  server->reset();
  std::cerr << "sopd: stopped after " << ms(absl::Now() - drain_start) << " ms" << std::endl;
  return 0;
}
