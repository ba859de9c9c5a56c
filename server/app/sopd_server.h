// sopd as an object: opens the store, loads the registry, imports SOP files,
// serves gRPC. main() only parses flags into Options; tests start the same
// object on port 0.
#ifndef SOPSIDEBAR_SERVER_APP_SOPD_SERVER_H_
#define SOPSIDEBAR_SERVER_APP_SOPD_SERVER_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/api/dispatcher.h"
#include "server/app/sop_import.h"
#include "server/common/metrics.h"
#include "server/domain/analytics/analytics.h"
#include "server/domain/authoring/authoring.h"
#include "server/domain/events/change_events.h"
#include "server/domain/registry/lookup_watch.h"
#include "server/domain/store/store_changes.h"
#include "server/http/http_gateway.h"
#include "server/storage/etcd/etcd_options.h"

namespace sopsidebar {

inline constexpr char kSopdVersion[] = "0.1.0";

class RocksDbStore;
class SopRegistry;
class SopSearch;
class AccessRegistry;
class BackupSource;
class TemplateRegistry;
class GrpcServer;
class ServedApi;
class HttpGateway;
class EtcdStore;
class EtcdNodeRegistry;
class PeerClient;
class SopStore;
class AuthStore;
class TemplateStore;
class WebhookStore;
class StoreChangeListener;

class SopdServer {
 public:
  struct Options {
    // Holds the RocksDB database (under db/); created owner-only (0700) if
    // missing (see data_dir.h). With the etcd store, the database holds
    // only this node's panel events.
    std::string data_dir = "./var/sopd";
    // Where SOPs, tokens, CRM maps, templates, webhooks and the audit trail
    // live (--store): kRocksDb, the data dir's database (one node), or
    // kEtcd, the etcd cluster `etcd` names, which several sopd nodes share
    // (docs/SCALING.md). Panel events stay in the data dir either way.
    enum class Store { kRocksDb, kEtcd };
    Store store = Store::kRocksDb;
    EtcdOptions etcd;
    // With kEtcd: how long Start waits for an unreachable cluster, retrying
    // with backoff, before it fails with UNAVAILABLE.
    absl::Duration etcd_connect_timeout = absl::Seconds(30);
    // With kEtcd: host:port the other nodes reach this node's gRPC port at,
    // for reports over every node (docs/SCALING.md). Empty: the listen
    // address with the bound port, which must then name a host other nodes
    // can reach (not 0.0.0.0).
    std::string advertise_address;
    // With kEtcd and TLS: the PEM CAs that verify the other nodes'
    // certificates when this node asks them for reports. Empty:
    // tls_client_ca_file's, else the system's roots.
    std::string peer_ca_file;
    // host:port; port 0 picks a free port.
    std::string listen_address = "127.0.0.1:50051";
    // When set, the SOPs in this directory's files that orgs/default lacks
    // are created and published before serving; a bad file stops the start.
    std::string import_dir;
    // What the import does to an SOP that already exists. Default kKeep:
    // edits made since an earlier import survive a restart; kUpdate updates
    // it to the file and publishes it.
    ExistingSop import_existing = ExistingSop::kKeep;
    // PEM files. cert and key together turn TLS on; client_ca also requires
    // client certificates signed by it (mTLS).
    std::string tls_cert_file;
    std::string tls_key_file;
    std::string tls_client_ca_file;
    // Serve plaintext on a non-loopback address (refused otherwise).
    bool insecure_listen_any = false;
    // Queues and threads for calls that read or write storage, and the cap
    // on a call's deadline.
    Dispatcher::Options dispatcher;
    // Limits of WatchSops.
    LookupWatchHub::Options watches;
    // The Connect/HTTP gateway (docs/HTTP.md): off when http.listen_address
    // is empty, as it is here (sopd's --http-listen defaults to
    // 127.0.0.1:8080). Its TLS and insecure_listen_any are set from the
    // fields above (the same certificate serves both listeners).
    HttpGatewayOptions http = WithoutHttp();
    // How long raw analytics events are kept (docs/ANALYTICS.md); the
    // per-day figures are kept for good.
    absl::Duration event_retention = Analytics::Options().retention;
    // Bytes per chunk of a backup stream (AdminService.CreateBackup); tests
    // use small ones to stream many chunks. At most, and by default, 1 MiB.
    size_t backup_chunk_bytes = 1 << 20;
    // The model drafter of DraftSop (docs/AUTHORING.md): an
    // OpenAI-compatible chat-completions server at drafter_model_url
    // ("http://127.0.0.1:11434") serving drafter_model, each request
    // answered within drafter_timeout. Off when drafter_model_url is empty
    // (DraftSop's "model" drafter is then FAILED_PRECONDITION); the built-in
    // drafter is always there. sopd's --drafter-model-url, --drafter-model
    // and --drafter-timeout.
    std::string drafter_model_url;
    std::string drafter_model;
    absl::Duration drafter_timeout = absl::Seconds(60);
    // How long Shutdown() lets calls in flight finish before cancelling
    // them (sopd's --shutdown-grace). Default 10 s.
    absl::Duration shutdown_grace = absl::Seconds(10);
    // EventService: webhook retries and attempts, the REVIEW_DUE scan
    // (docs/EVENTS.md; sopd's --webhook-* and --review-due-scan-interval).
    ChangeEvents::Options events;
  };

  // Prepares the data dir (PrepareDataDir: owner-only, older ones
  // tightened). On a data dir without tokens, creates the bootstrap admin
  // token and writes it to <data_dir>/admin.token, readable by the owner
  // only. Does not change the process umask; sopd's main sets 077.
  //
  // Errors: FAILED_PRECONDITION for a data or database dir group or others
  // may write (naming it, its mode and the chmod to run), for one a newer
  // sopd wrote (its FORMAT file; see CheckDataFormat), and for files sopd
  // may not read or write; DATA_LOSS for a damaged database (naming the
  // file when RocksDB does, and saying to restore a backup); the store's (e.g.
  // FAILED_PRECONDITION when another sopd holds the data dir), the import's
  // (INVALID_ARGUMENT naming file and field),
  // INVALID_ARGUMENT for unreadable or half-given TLS files,
  // FAILED_PRECONDITION for plaintext on a non-loopback address, UNAVAILABLE
  // when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<SopdServer>> Start(const Options& options);
  // Gateway options whose empty listen address turns the gateway off.
  static HttpGatewayOptions WithoutHttp() {
    HttpGatewayOptions off;
    off.listen_address.clear();
    return off;
  }
  ~SopdServer();

  int port() const;
  // The gateway's bound port; 0 when it is off.
  int http_port() const;
  // What the import at start did (all zero without --import).
  const ImportSummary& import_summary() const { return import_summary_; }
  // Where the bootstrap admin token was written at this start; empty when
  // the data dir already had tokens.
  const std::string& admin_token_path() const { return admin_token_path_; }
  // "plaintext", "tls" or "mtls".
  const char* transport() const;
  size_t published_count() const;
  // Whether writes are refused for now because the disk holding the data
  // dir filled up; reads and lookups are served either way, and writes
  // resume by themselves once space is freed (logged both ways). gRPC
  // health stays SERVING meanwhile: a replica that answers lookups is still
  // worth routing to. Thread-safe.
  bool write_path_degraded() const;

  // Where Start spent its time, for the start-up log line and benchmarks.
  struct StartupTimes {
    absl::Duration open_store;  // RocksDB open (and recovery)
    absl::Duration tokens;      // access registry and bootstrap token
    // Loading the published catalog: the scan, decoding, and the index
    // build, which is also given on its own.
    absl::Duration load_catalog;
    absl::Duration index_build;
    absl::Duration import;      // --import
    absl::Duration grpc_start;  // until the servers listen
    absl::Duration total;
  };
  const StartupTimes& startup_times() const { return startup_times_; }

  // What GET /readyz and gRPC health answer: OK once Start has finished and
  // the index is loaded; UNAVAILABLE saying why otherwise ("shutting down"
  // once Shutdown has begun). A full disk keeps it OK: lookups and reads are
  // still served (see WritePathNote). Thread-safe.
  absl::Status Readiness() const;

  // Why writes are refused for now ("writes refused: the disk holding the
  // data dir is full", "etcd unreachable: ..."), or empty while they work;
  // GET /readyz adds it to its 200 answer. Thread-safe.
  std::string WritePathNote() const;
  // With the etcd store, the store revision this node's lookups reflect
  // and how long since it last heard from etcd ("store revision 1234, etcd
  // heard 0.2 s ago"), which GET /readyz adds to its 200 answer; empty with
  // RocksDB. Thread-safe.
  std::string StoreStateNote() const;

  // The text GET /metrics serves (docs/OPERATIONS.md, Monitoring).
  std::string MetricsText() const;

  // Drains, then stops serving (sopd runs it on SIGTERM and SIGINT):
  //   1. draining() turns true, gRPC health turns NOT_SERVING, and every
  //      call that arrives from now on, on gRPC or the gateway, is refused
  //      with UNAVAILABLE (error::ShuttingDown; clients retry elsewhere);
  //      the listeners stop accepting connections;
  //   2. every open WatchSops stream gets a last message, `reconnect`, and
  //      ends with UNAVAILABLE;
  //   3. calls in flight get until `grace` from now to finish and answer;
  //      then the rest are cancelled (their callers get CANCELLED). A method
  //      still running then is waited for (a write completes its fsync), as
  //      the store closes only after it.
  // Returns once both transports have stopped. Idempotent: a second call
  // returns at once.
  void Shutdown(absl::Duration grace);
  // Shutdown with Options::shutdown_grace.
  void Shutdown() { Shutdown(options_.shutdown_grace); }
  // Blocks until Shutdown has finished.
  void Wait();
  // True from the start of Shutdown on: the server is draining and not
  // ready for new calls (readiness probes report it). Thread-safe.
  bool draining() const { return draining_.load(std::memory_order_relaxed); }

 private:
  SopdServer() = default;
  // Build info, uptime, start-up phases and the store's figures.
  void AddServerMetrics();

  Options options_;
  // Declared first: the gateway serving it, and the API counting into it,
  // go before it.
  std::unique_ptr<MetricsRegistry> metrics_;
  absl::Time start_time_;
  std::atomic<bool> started_{false};
  // The data dir's database: every store port with Store::kRocksDb, panel
  // events only with kEtcd.
  std::unique_ptr<RocksDbStore> store_;
  // With kEtcd: the shared store, and what keeps this node's state in step
  // with it (declared after the registries it calls, so destroyed first).
  std::unique_ptr<EtcdStore> etcd_;
  // With etcd: the cluster's nodes, and how this node asks the others.
  std::unique_ptr<EtcdNodeRegistry> nodes_;
  std::unique_ptr<PeerClient> peers_;
  std::string node_id_;
  // The store ports the registries use: store_ or etcd_.
  SopStore* sops_ = nullptr;
  AuthStore* auth_ = nullptr;
  TemplateStore* template_store_ = nullptr;
  WebhookStore* webhook_store_ = nullptr;
  std::unique_ptr<AccessRegistry> access_;
  std::unique_ptr<CrmMaps> crm_;
  std::unique_ptr<SopRegistry> registry_;
  std::unique_ptr<Analytics> analytics_;
  std::unique_ptr<SopSearch> search_;
  std::unique_ptr<BackupSource> backups_;
  std::unique_ptr<Drafter> builtin_drafter_;
  std::unique_ptr<Drafter> model_drafter_;  // null without a model
  std::unique_ptr<Authoring> authoring_;
  // Destroyed after the servers and the API: no call reaches it then.
  std::unique_ptr<ChangeEvents> events_;
  // After registry_, whose audit log it appends to.
  std::unique_ptr<TemplateRegistry> templates_;
  std::unique_ptr<ServedApi> api_;
  std::unique_ptr<GrpcServer> grpc_;
  std::unique_ptr<HttpGateway> http_;
  std::unique_ptr<StoreChangeListener> follower_;
  ImportSummary import_summary_;
  std::string admin_token_path_;
  StartupTimes startup_times_;
  std::atomic<bool> draining_{false};
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_APP_SOPD_SERVER_H_
