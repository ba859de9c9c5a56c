#include "server/app/sopd_server.h"

#include <filesystem>

#include "server/common/clock.h"
#include "server/common/status_macros.h"
#include "server/domain/matching/linear_sop_matcher.h"
#include "server/domain/registry/sop_registry.h"
#include "server/service/grpc_server.h"
#include "server/storage/rocksdb_sop_store.h"

namespace sopsidebar {

absl::StatusOr<std::unique_ptr<SopdServer>> SopdServer::Start(const Options& options) {
  std::unique_ptr<SopdServer> server(new SopdServer());
  const std::string db_path = (std::filesystem::path(options.data_dir) / "db").string();
  SOP_ASSIGN_OR_RETURN(server->store_, RocksDbSopStore::Open(db_path));
  SOP_ASSIGN_OR_RETURN(server->registry_,
                       SopRegistry::Create(server->store_.get(), &Clock::Real(),
                                           LinearSopMatcher::Build));
  if (!options.import_dir.empty()) {
    SOP_ASSIGN_OR_RETURN(server->import_summary_,
                         ImportSopFiles(*server->registry_, options.import_dir,
                                        Caller{"sopd --import"}));
  }
  GrpcServerOptions grpc_options;
  grpc_options.listen_address = options.listen_address;
  SOP_ASSIGN_OR_RETURN(server->grpc_, GrpcServer::Start(grpc_options, server->registry_.get()));
  return server;
}

SopdServer::~SopdServer() {
  // The server goes first: no call may reach a destroyed registry or store.
  grpc_.reset();
  registry_.reset();
  store_.reset();
}

int SopdServer::port() const { return grpc_->port(); }

size_t SopdServer::published_count() const { return registry_->published_count(); }

void SopdServer::Shutdown(absl::Duration grace) { grpc_->Shutdown(grace); }

void SopdServer::Wait() { grpc_->Wait(); }

}  // namespace sopsidebar
