// sopd as an object: opens the store, loads the registry, imports SOP files,
// serves gRPC. main() only parses flags into Options; tests start the same
// object on port 0.
#ifndef SOPSIDEBAR_SERVER_APP_SOPD_SERVER_H_
#define SOPSIDEBAR_SERVER_APP_SOPD_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/app/sop_import.h"

namespace sopsidebar {

inline constexpr char kSopdVersion[] = "0.1.0";

class SopStore;
class SopRegistry;
class GrpcServer;

class SopdServer {
 public:
  struct Options {
    // Holds the RocksDB database (under db/); created if missing.
    std::string data_dir = "./var/sopd";
    // host:port; port 0 picks a free port.
    std::string listen_address = "127.0.0.1:50051";
    // When set, SOP files in this directory are applied and published in
    // orgs/default before serving; a bad file stops the start.
    std::string import_dir;
  };

  // Errors: the store's (e.g. FAILED_PRECONDITION when another sopd holds
  // the data dir), the import's (INVALID_ARGUMENT naming file and field),
  // UNAVAILABLE when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<SopdServer>> Start(const Options& options);
  ~SopdServer();

  int port() const;
  // What the import at start did (all zero without --import).
  const ImportSummary& import_summary() const { return import_summary_; }
  size_t published_count() const;

  // Stops serving; calls in flight get `grace` to finish. Idempotent.
  void Shutdown(absl::Duration grace = absl::Seconds(5));
  // Blocks until Shutdown has finished.
  void Wait();

 private:
  SopdServer() = default;

  std::unique_ptr<SopStore> store_;
  std::unique_ptr<SopRegistry> registry_;
  std::unique_ptr<GrpcServer> grpc_;
  ImportSummary import_summary_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_APP_SOPD_SERVER_H_
