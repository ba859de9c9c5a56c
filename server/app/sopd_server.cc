#include "server/app/sopd_server.h"

#include <atomic>
#include <fstream>
#include <memory>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "server/api/served_api.h"
#include "server/app/data_dir.h"
#include "server/common/clock.h"
#include "server/domain/analytics/analytics.h"
#include "server/domain/auth/access_registry.h"
#include "server/domain/matching/indexed_sop_matcher.h"
#include "server/domain/registry/sop_registry.h"
#include "server/domain/search/sop_search.h"
#include "server/search/xapian_text_index.h"
#include "server/service/grpc_server.h"
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
    SOP_ASSIGN_OR_RETURN(tls.client_ca_pem,
                         ReadPem("--tls-client-ca", options.tls_client_ca_file));
  }
  return tls;
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
  SOP_ASSIGN_OR_RETURN(std::optional<TlsServerOptions> tls, LoadTls(options));
  // Owner-only directories keep whatever RocksDB creates in them private
  // even when the process umask would leave the files readable. Start does
  // not set the umask itself (sopd's main does): it is process-wide, and a
  // library must not change it under the program that embeds it (tests).
  SOP_ASSIGN_OR_RETURN(const DataDirPaths paths, PrepareDataDir(options.data_dir));
  RocksDbStore::Options store_options;
  store_options.event_retention = options.event_retention;
  SOP_ASSIGN_OR_RETURN(server->store_, RocksDbStore::Open(paths.db, store_options));
  times.open_store = lap();
  SOP_ASSIGN_OR_RETURN(server->access_,
                       AccessRegistry::Create(server->store_.get(), &Clock::Real()));
  SOP_ASSIGN_OR_RETURN(server->crm_, CrmMaps::Create(server->store_.get(), &Clock::Real()));
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
                       SopRegistry::Create(server->store_.get(), &Clock::Real(), timed_build));
  server->registry_->SetOrgPolicySource(OrgPoliciesOf(server->access_.get()));
  // One audit chain per org for every write: SOPs and comments (the
  // registry's own), tokens and orgs, CRM maps.
  server->access_->SetAuditLog(&server->registry_->audit());
  server->crm_->SetAuditLog(&server->registry_->audit());
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
  server->analytics_ = std::make_unique<Analytics>(server->store_.get(), server->store_.get(),
                                                   server->registry_.get(), server->crm_.get(),
                                                   &Clock::Real(), analytics_options);
  // After the import: the index starts with every published SOP.
  SOP_ASSIGN_OR_RETURN(std::unique_ptr<XapianTextIndex> search_index, XapianTextIndex::Create());
  SOP_ASSIGN_OR_RETURN(server->search_,
                       SopSearch::Create(server->registry_.get(), std::move(search_index)));
  ServedApi::Options api_options;
  api_options.dispatcher = options.dispatcher;
  api_options.watches = options.watches;
  api_options.extras.analytics = server->analytics_.get();
  api_options.extras.search = server->search_.get();
  SOP_ASSIGN_OR_RETURN(server->api_, ServedApi::Create(server->registry_.get(),
                                                       server->access_.get(), server->crm_.get(),
                                                       api_options));
  GrpcServerOptions grpc_options;
  grpc_options.listen_address = options.listen_address;
  grpc_options.tls = std::move(tls);
  grpc_options.insecure_listen_any = options.insecure_listen_any;
  SOP_ASSIGN_OR_RETURN(server->grpc_, GrpcServer::Start(grpc_options, server->api_->methods(),
                                                        server->api_->dispatcher()));
  if (!options.http.listen_address.empty()) {
    HttpGatewayOptions http_options = options.http;
    http_options.tls = grpc_options.tls;
    http_options.insecure_listen_any = options.insecure_listen_any;
    SOP_ASSIGN_OR_RETURN(server->http_, HttpGateway::Start(http_options, server->api_->methods(),
                                                           server->api_->dispatcher()));
  }
  times.grpc_start = lap();
  times.total = absl::Now() - start;
  return server;
}

SopdServer::~SopdServer() {
  // Open watches end first, so that the servers need not wait for them; the
  // servers next: no call may reach a destroyed registry or store. The
  // dispatcher then runs what is still queued.
  if (api_ != nullptr) api_->watches()->Shutdown();
  http_.reset();
  grpc_.reset();
  api_.reset();
  search_.reset();
  analytics_.reset();
  registry_.reset();
  access_.reset();
  store_.reset();
}

int SopdServer::port() const { return grpc_->port(); }

int SopdServer::http_port() const { return http_ == nullptr ? 0 : http_->port(); }

size_t SopdServer::published_count() const { return registry_->published_count(); }

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
  grpc_->Shutdown(deadline);
  if (http_ != nullptr) http_->Shutdown(deadline);
}

void SopdServer::Wait() { grpc_->Wait(); }

}  // namespace sopsidebar
