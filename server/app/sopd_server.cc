#include "server/app/sopd_server.h"

#include <atomic>
#include <fstream>
#include <memory>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "plugins/drafting/builtin/builtin_drafter.h"
#include "plugins/drafting/openai/openai_drafter.h"
#include "server/api/served_api.h"
#include "server/app/data_dir.h"
#include "server/common/clock.h"
#include "server/common/log.h"
#include "server/domain/analytics/analytics.h"
#include "server/domain/auth/access_registry.h"
#include "server/domain/backup/backup_source.h"
#include "server/domain/matching/indexed_sop_matcher.h"
#include "server/domain/registry/sop_registry.h"
#include "server/domain/search/sop_search.h"
#include "server/domain/templates/template_registry.h"
#include "server/search/xapian_text_index.h"
#include "server/service/grpc_server.h"
#include "server/service/peer_service.h"
#include "server/storage/etcd/etcd_node_registry.h"
#include "server/storage/etcd/etcd_store.h"
#include "server/storage/rocksdb_store.h"

namespace sopsidebar {
namespace {

absl::StatusOr<std::string> ReadPem(absl::string_view flag, const std::string& path) {
  std::ifstream in(path);
  std::stringstream contents;
  contents << in.rdbuf();
  if (!in || contents.str().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": cannot read ", path));
  }
  return contents.str();
}

absl::StatusOr<std::optional<TlsServerOptions>> LoadTls(const SopdServer::Options& options) {
  if (options.tls_cert_file.empty() && options.tls_key_file.empty()) {
    if (!options.tls_client_ca_file.empty()) {
      return absl::InvalidArgumentError("--tls-client-ca needs --tls-cert and --tls-key");
    }
    return std::nullopt;
  }
  if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  TlsServerOptions tls;
  SOP_ASSIGN_OR_RETURN(tls.cert_chain_pem, ReadPem("--tls-cert", options.tls_cert_file));
  SOP_ASSIGN_OR_RETURN(tls.private_key_pem, ReadPem("--tls-key", options.tls_key_file));
  if (!options.tls_client_ca_file.empty()) {
    SOP_ASSIGN_OR_RETURN(tls.client_ca_pem, ReadPem("--tls-client-ca", options.tls_client_ca_file));
  }
  return tls;
}

// Keeps a node's registries in step with the shared store.
class RegistryFollower : public StoreChangeListener {
 public:
  RegistryFollower(SopRegistry* registry, AccessRegistry* access, CrmMaps* crm)
      : registry_(registry), access_(access), crm_(crm) {}
  void HeadStored(v1::Sop head) override { registry_->ApplyStoredHead(std::move(head)); }
  void TokenStored(const internal::v1::TokenRecord& record) override {
    access_->ApplyStoredToken(record);
  }
  void OrgStored(const v1::Org& org) override { access_->ApplyStoredOrg(org); }
  void RoleMapStored(const v1::RoleMap& map) override { crm_->ApplyStoredRoleMap(map); }
  void FieldMapStored(const v1::FieldMap& map) override { crm_->ApplyStoredFieldMap(map); }

 private:
  SopRegistry* const registry_;
  AccessRegistry* const access_;
  CrmMaps* const crm_;
};

// host:port other nodes reach this one's gRPC port at: `advertise`, or the
// host of `listen` with the port bound.
absl::StatusOr<std::string> AdvertisedAddress(absl::string_view advertise, absl::string_view listen,
                                              int port) {
  const absl::string_view given = advertise.empty() ? listen : advertise;
  const size_t colon = given.rfind(':');
  int given_port = 0;
  if (colon == absl::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(given.substr(colon + 1), &given_port) || given_port < 0 ||
      given_port > 65535) {
    return error::InvalidField("--advertise-address", "is not host:port");
  }
  if (!advertise.empty()) {
    if (given_port == 0) return error::InvalidField("--advertise-address", "has port 0");
    return std::string(advertise);
  }
  const absl::string_view host = given.substr(0, colon);
  if (host == "0.0.0.0" || host == "[::]") {
    return error::InvalidField(
        "--advertise-address",
        absl::StrCat("is needed with --store=etcd when --grpc-listen (", listen,
                     ") names every interface: the host:port other sopd nodes reach this one at"));
  }
  return absl::StrCat(host, ":", port);
}

}  // namespace

absl::StatusOr<std::unique_ptr<SopdServer>> SopdServer::Start(const Options& options) {
  const absl::Time start = absl::Now();
  absl::Time phase_start = start;
  // The time since the previous call (or `start`).
  auto lap = [&phase_start] {
    const absl::Time now = absl::Now();
    const absl::Duration elapsed = now - phase_start;
    phase_start = now;
    return elapsed;
  };
  std::unique_ptr<SopdServer> server(new SopdServer());
  StartupTimes& times = server->startup_times_;
  server->options_ = options;
  server->start_time_ = start;
  server->metrics_ = std::make_unique<MetricsRegistry>();
  SOP_ASSIGN_OR_RETURN(std::optional<TlsServerOptions> tls, LoadTls(options));
  // Owner-only directories keep whatever RocksDB creates in them private
  // even when the process umask would leave the files readable. Start does
  // not set the umask itself (sopd's main does): it is process-wide, and a
  // library must not change it under the program that embeds it (tests).
  SOP_ASSIGN_OR_RETURN(const DataDirPaths paths, PrepareDataDir(options.data_dir));
  // Before RocksDB touches the files: a newer sopd's data dir stays as it is.
  SOP_ASSIGN_OR_RETURN(const DataDirFormat format, CheckDataFormat(paths));
  RocksDbStore::Options store_options;
  store_options.event_retention = options.event_retention;
  store_options.create_if_missing = !format.has_database;
  store_options.on_write_path_change = [db = paths.db](bool degraded, const absl::Status& cause) {
    LogLine(degraded ? absl::StrCat("write path degraded: ", cause.message())
                     : absl::StrCat("write path recovered: writes to ", db, " succeed again"));
  };
  absl::StatusOr<std::unique_ptr<RocksDbStore>> store = RocksDbStore::Open(paths.db, store_options);
  if (!store.ok()) return error::DatabaseUnusable(paths.db, store.status());
  server->store_ = *std::move(store);
  SOP_RETURN_IF_ERROR(RecordDataFormat(paths, format));
  server->sops_ = server->store_.get();
  server->auth_ = server->store_.get();
  server->template_store_ = server->store_.get();
  server->webhook_store_ = server->store_.get();
  if (options.store == Options::Store::kEtcd) {
    EtcdStore::Options etcd_options;
    etcd_options.etcd = options.etcd;
    etcd_options.connect_timeout = options.etcd_connect_timeout;
    etcd_options.on_connect_retry = [](const absl::Status& status) {
      LogLine(absl::StrCat("waiting for etcd: ", status.message()));
    };
    SOP_ASSIGN_OR_RETURN(server->etcd_, EtcdStore::Open(std::move(etcd_options)));
    server->sops_ = server->etcd_.get();
    server->auth_ = server->etcd_.get();
    server->template_store_ = server->etcd_.get();
    server->webhook_store_ = server->etcd_.get();
  }
  times.open_store = lap();
  SOP_ASSIGN_OR_RETURN(server->access_, AccessRegistry::Create(server->auth_, &Clock::Real()));
  SOP_ASSIGN_OR_RETURN(server->crm_, CrmMaps::Create(server->auth_, &Clock::Real()));
  times.tokens = lap();
  // Full builds happen at start only (later writes derive snapshots
  // incrementally); the factory outlives Start, so it shares the sum.
  auto index_build = std::make_shared<std::atomic<int64_t>>(0);
  SopMatcherFactory timed_build = [index_build](std::vector<PublishedSopPtr> sops) {
    const absl::Time build_start = absl::Now();
    std::unique_ptr<const SopMatcher> matcher = IndexedSopMatcher::Build(std::move(sops));
    index_build->fetch_add(absl::ToInt64Nanoseconds(absl::Now() - build_start));
    return matcher;
  };
  SOP_ASSIGN_OR_RETURN(server->registry_,
                       SopRegistry::Create(server->sops_, &Clock::Real(), timed_build));
  server->registry_->SetOrgPolicySource(OrgPoliciesOf(server->access_.get()));
  // One audit chain per org for every write: SOPs and comments (the
  // registry's own), tokens and orgs, CRM maps.
  server->access_->SetAuditLog(&server->registry_->audit());
  server->crm_->SetAuditLog(&server->registry_->audit());
  // Templates: their writes join the org's audit chain; CreateSop from a
  // template reads them.
  server->templates_ = std::make_unique<TemplateRegistry>(server->template_store_, &Clock::Real(),
                                                          &server->registry_->audit());
  server->registry_->SetTemplateSource(server->templates_.get());
  // After the audit log is wired: the first start's org and admin token are
  // the chain's first events.
  SOP_ASSIGN_OR_RETURN(std::optional<std::string> admin_secret,
                       server->access_->BootstrapAdminToken());
  if (admin_secret) {
    server->admin_token_path_ = paths.admin_token;
    SOP_RETURN_IF_ERROR(WriteSecretFile(server->admin_token_path_, *admin_secret));
  }
  times.load_catalog = lap();
  times.index_build = absl::Nanoseconds(index_build->load());
  if (!options.import_dir.empty()) {
    SOP_ASSIGN_OR_RETURN(
        server->import_summary_,
        ImportSopFiles(*server->registry_, options.import_dir, options.import_existing));
  }
  times.import = lap();
  Analytics::Options analytics_options;
  analytics_options.retention = options.event_retention;
  if (server->etcd_ != nullptr) {
    // Each node keeps the panel events it received: reports ask the others.
    SOP_ASSIGN_OR_RETURN(server->node_id_, LoadOrCreateNodeId(paths));
    EtcdNodeRegistry::Options nodes_options;
    nodes_options.etcd = options.etcd;
    SOP_ASSIGN_OR_RETURN(server->nodes_, EtcdNodeRegistry::Open(std::move(nodes_options)));
    PeerClient::Options peer_options;
    peer_options.secret = server->nodes_->peer_secret();
    if (tls) {
      PeerClient::Options::Tls& peer_tls = peer_options.tls.emplace();
      if (!options.peer_ca_file.empty()) {
        SOP_ASSIGN_OR_RETURN(peer_tls.root_certs_pem,
                             ReadPem("--peer-cacert", options.peer_ca_file));
      } else {
        peer_tls.root_certs_pem = tls->client_ca_pem;
      }
      // Nodes that require client certificates get this node's.
      if (!tls->client_ca_pem.empty()) {
        peer_tls.cert_chain_pem = tls->cert_chain_pem;
        peer_tls.private_key_pem = tls->private_key_pem;
      }
    } else if (!options.peer_ca_file.empty()) {
      return absl::InvalidArgumentError("--peer-cacert needs --tls-cert and --tls-key");
    }
    server->peers_ = std::make_unique<PeerClient>(std::move(peer_options));
    analytics_options.cluster =
        Analytics::Options::Cluster{server->node_id_, server->nodes_.get(), server->peers_.get()};
  }
  server->analytics_ =
      std::make_unique<Analytics>(server->store_.get(), server->sops_, server->registry_.get(),
                                  server->crm_.get(), &Clock::Real(), analytics_options);
  // After the import: the index starts with every published SOP.
  SOP_ASSIGN_OR_RETURN(std::unique_ptr<XapianTextIndex> search_index, XapianTextIndex::Create());
  SOP_ASSIGN_OR_RETURN(server->search_,
                       SopSearch::Create(server->registry_.get(), std::move(search_index)));
  BackupSource::Options backup_options;
  backup_options.scratch_dir = paths.backup_scratch;
  backup_options.sopd_version = kSopdVersion;
  backup_options.chunk_bytes = options.backup_chunk_bytes;
  // A backup is a copy of the data dir's database: with etcd, that holds
  // only this node's events, and etcd's own snapshots back up the rest
  // (docs/SCALING.md), so the backup methods are not served.
  if (server->etcd_ == nullptr) {
    SOP_ASSIGN_OR_RETURN(server->backups_,
                         BackupSource::Create(server->store_.get(), backup_options));
  }
  // Drafters: the built-in one always, the model one when configured.
  server->builtin_drafter_ = std::make_unique<BuiltinDrafter>();
  if (!options.drafter_model_url.empty()) {
    OpenAiDrafterOptions model_options;
    model_options.base_url = options.drafter_model_url;
    model_options.model = options.drafter_model;
    model_options.timeout = options.drafter_timeout;
    absl::StatusOr<std::unique_ptr<OpenAiDrafter>> model =
        OpenAiDrafter::Create(std::move(model_options));
    if (!model.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the model drafter (--drafter-model-url, --drafter-model, "
                       "--drafter-timeout): ",
                       model.status().message()));
    }
    server->model_drafter_ = *std::move(model);
  }
  server->authoring_ = std::make_unique<Authoring>(
      server->registry_.get(), server->builtin_drafter_.get(), server->model_drafter_.get());
  ChangeEvents::Options events_options = options.events;
  events_options.node_id = server->node_id_;  // empty on one node
  SOP_ASSIGN_OR_RETURN(server->events_,
                       ChangeEvents::Create(server->webhook_store_, server->registry_.get(),
                                            &Clock::Real(), events_options));
  server->registry_->SetChangeSink(server->events_.get());
  ServedApi::Options api_options;
  api_options.extras.authoring = server->authoring_.get();
  api_options.dispatcher = options.dispatcher;
  api_options.watches = options.watches;
  api_options.extras.analytics = server->analytics_.get();
  api_options.extras.search = server->search_.get();
  api_options.metrics = server->metrics_.get();
  api_options.extras.backups = server->backups_.get();
  api_options.extras.events = server->events_.get();
  api_options.extras.templates = server->templates_.get();
  // From here on, changes made on other nodes reach this node's state;
  // the follower watches from the revision the store opened at, so nothing
  // written since the registries loaded is missed.
  if (server->etcd_ != nullptr) {
    server->follower_ = std::make_unique<RegistryFollower>(
        server->registry_.get(), server->access_.get(), server->crm_.get());
    server->etcd_->StartFollowing(server->follower_.get());
    EtcdStore* const etcd = server->etcd_.get();
    server->registry_->SetStoreRevisionSource([etcd] { return etcd->follow_revision(); });
  }
  SOP_ASSIGN_OR_RETURN(server->api_, ServedApi::Create(server->registry_.get(),
                                                       server->access_.get(), server->crm_.get(),
                                                       api_options));
  GrpcServerOptions grpc_options;
  grpc_options.listen_address = options.listen_address;
  grpc_options.tls = std::move(tls);
  grpc_options.insecure_listen_any = options.insecure_listen_any;
  if (server->nodes_ != nullptr) {
    grpc_options.peer = PeerServiceOptions{server->analytics_.get(), server->nodes_->peer_secret()};
  }
  SOP_ASSIGN_OR_RETURN(server->grpc_, GrpcServer::Start(grpc_options, server->api_->methods(),
                                                        server->api_->dispatcher()));
  if (server->nodes_ != nullptr) {
    // Live for the other nodes' reports once it serves.
    SOP_ASSIGN_OR_RETURN(std::string address,
                         AdvertisedAddress(options.advertise_address, options.listen_address,
                                           server->grpc_->port()));
    SOP_RETURN_IF_ERROR(server->nodes_->Register({server->node_id_, std::move(address), true}));
  }
  if (!options.http.listen_address.empty()) {
    HttpGatewayOptions http_options = options.http;
    http_options.tls = grpc_options.tls;
    http_options.insecure_listen_any = options.insecure_listen_any;
    SopdServer* const self = server.get();
    http_options.metrics = [self] { return self->MetricsText(); };
    http_options.readiness = [self] { return self->Readiness(); };
    http_options.degraded = [self] { return self->WritePathNote(); };
    if (server->etcd_ != nullptr) {
      http_options.store_state = [self] { return self->StoreStateNote(); };
    }
    SOP_ASSIGN_OR_RETURN(server->http_, HttpGateway::Start(http_options, server->api_->methods(),
                                                           server->api_->dispatcher()));
  }
  times.grpc_start = lap();
  times.total = absl::Now() - start;
  server->AddServerMetrics();
  server->started_ = true;
  return server;
}

void SopdServer::AddServerMetrics() {
  metrics_->AddCollector([this](MetricWriter& out) {
    out.Gauges("sopd_build_info", "sopd's version; always 1.", {"version"}, {{{kSopdVersion}, 1}});
    out.Gauge("sopd_uptime_seconds", "Seconds since sopd started.",
              absl::ToDoubleSeconds(absl::Now() - start_time_));
    const StartupTimes& t = startup_times_;
    std::vector<MetricWriter::Sample> phases;
    for (const auto& [phase, duration] :
         {std::pair<const char*, absl::Duration>{"open_store", t.open_store},
          {"tokens", t.tokens},
          {"load_catalog", t.load_catalog},
          {"index_build", t.index_build},
          {"import", t.import},
          {"listen", t.grpc_start},
          {"total", t.total}}) {
      phases.push_back({{phase}, absl::ToDoubleSeconds(duration)});
    }
    out.Gauges("sopd_startup_phase_seconds",
               "Where the last start spent its time (index_build is part of load_catalog; total "
               "is the whole start).",
               {"phase"}, phases);
    out.Gauge("sopd_write_path_degraded",
              "1 while writes are refused (a full disk) and reads go on; 0 otherwise.",
              store_->write_path_degraded() ? 1 : 0);
    if (etcd_ != nullptr) {
      const StoreFollowState follow = etcd_->follow_state();
      out.Gauge("sopd_store_revision",
                "The etcd revision this node's lookups reflect (0 with RocksDB).",
                static_cast<double>(follow.revision));
      out.Gauge("sopd_store_seconds_since_contact", "Seconds since this node last heard from etcd.",
                follow.last_contact == absl::InfinitePast()
                    ? -1
                    : absl::ToDoubleSeconds(absl::Now() - follow.last_contact));
    }
    // Through the store port: the engine's figures by name.
    const SopStore& store = *sops_;
    for (const auto& [name, value] : store.EngineStats()) {
      out.Gauge(MetricName("sopd_", name),
                absl::StrCat("The storage engine's ", name, " property."),
                static_cast<double>(value));
    }
  });
}

absl::Status SopdServer::Readiness() const {
  if (draining_) return absl::UnavailableError("shutting down");
  if (!started_) return absl::UnavailableError("starting");
  return absl::OkStatus();
}

std::string SopdServer::StoreStateNote() const {
  if (etcd_ == nullptr) return "";
  const StoreFollowState follow = etcd_->follow_state();
  if (follow.last_contact == absl::InfinitePast()) return "store revision 0, etcd not heard yet";
  return absl::StrFormat("store revision %d, etcd heard %.1f s ago", follow.revision,
                         absl::ToDoubleSeconds(absl::Now() - follow.last_contact));
}

std::string SopdServer::WritePathNote() const {
  if (store_->write_path_degraded()) return "writes refused: the disk holding the data dir is full";
  if (etcd_ != nullptr && !etcd_->follow_state().connected) {
    return "etcd unreachable: writes refused, lookups served from memory";
  }
  const SopStore& store = *sops_;
  for (const auto& [name, value] : store.EngineStats()) {
    if (name == "rocksdb.is-write-stopped" && value != 0) return "writes stopped by the store";
  }
  return "";
}

std::string SopdServer::MetricsText() const { return metrics_->Render(); }

SopdServer::~SopdServer() {
  // Open watches end first, so that the servers need not wait for them; the
  // servers next: no call may reach a destroyed registry or store. The
  // dispatcher then runs what is still queued.
  if (api_ != nullptr) api_->watches()->Shutdown();
  // No more changes from other nodes: the registries are about to go.
  if (etcd_ != nullptr) etcd_->StopFollowing();
  http_.reset();
  grpc_.reset();
  api_.reset();
  if (registry_ != nullptr) registry_->SetChangeSink(nullptr);
  events_.reset();
  backups_.reset();
  search_.reset();
  analytics_.reset();
  // No longer live for the other nodes' reports.
  nodes_.reset();
  peers_.reset();
  registry_.reset();
  access_.reset();
  etcd_.reset();
  store_.reset();
}

int SopdServer::port() const { return grpc_->port(); }

int SopdServer::http_port() const { return http_ == nullptr ? 0 : http_->port(); }

size_t SopdServer::published_count() const { return registry_->published_count(); }

bool SopdServer::write_path_degraded() const { return store_->write_path_degraded(); }

const char* SopdServer::transport() const {
  if (options_.tls_cert_file.empty()) return "plaintext";
  return options_.tls_client_ca_file.empty() ? "tls" : "mtls";
}

void SopdServer::Shutdown(absl::Duration grace) {
  if (draining_.exchange(true)) return;
  const absl::Time deadline = absl::Now() + grace;
  // New calls are refused first, so that a watcher told to reconnect
  // cannot open its next watch here.
  grpc_->StartDrain();
  if (http_ != nullptr) http_->StartDrain();
  api_->watches()->Shutdown();
  // Change streams are closed (UNAVAILABLE) and deliveries stop; PENDING
  // ones stay stored for the next start.
  events_->Shutdown();
  grpc_->Shutdown(deadline);
  if (http_ != nullptr) http_->Shutdown(deadline);
}

void SopdServer::Wait() { grpc_->Wait(); }

}  // namespace sopsidebar
