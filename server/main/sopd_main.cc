// sopd: the SOP Sidebar server. Parses flags, starts SopdServer, and serves
// until SIGINT or SIGTERM; or, with --bootstrap-admin, issues a server-admin
// token on a stopped sopd's data dir and exits. Flags are parsed here only.
#include <sys/stat.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/app/bootstrap_admin.h"
#include "server/app/sopd_server.h"

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

usage: sopd [--data-dir DIR] [--grpc-listen HOST:PORT]
            [--import DIR [--import-overwrite]]
            [--tls-cert PEM --tls-key PEM [--tls-client-ca PEM]]
            [--insecure-listen-any]
       sopd [--data-dir DIR] --bootstrap-admin

  --data-dir DIR          RocksDB data lives under DIR/db (default ./var/sopd);
                          the first start writes the admin token to
                          DIR/admin.token (mode 0600). DIR and DIR/db are the
                          owner's only (0700); sopd refuses them if group or
                          others may write them
  --grpc-listen HOST:PORT gRPC address; port 0 picks a free port
                          (default 127.0.0.1:50051)
  --import DIR            create and publish the SOPs of the files in DIR (or
                          one file) that orgs/default lacks, before serving;
                          existing SOPs are kept as they are
  --import-overwrite      with --import: also update existing SOPs to their
                          files and publish them (reverts edits made since)
  --tls-cert, --tls-key   serve TLS with this certificate chain and key
  --tls-client-ca PEM     also require client certificates signed by this CA
  --insecure-listen-any   allow plaintext on a non-loopback address
  --bootstrap-admin       with sopd stopped: issue a new server-admin ADMIN
                          token for orgs/default, write it to DIR/admin.token
                          (mode 0600), print where, and exit (recovers a lost
                          or revoked server admin)
  --version               print the version
)";

struct Flags {
  sopsidebar::SopdServer::Options server;
  bool bootstrap_admin = false;
};

// Parses "--name VALUE" and "--name=VALUE"; exits 2 on a usage error.
Flags ParseFlags(int argc, char** argv) {
  Flags parsed;
  sopsidebar::SopdServer::Options& options = parsed.server;
  const std::pair<const char*, std::string*> flags[] = {
      {"--data-dir", &options.data_dir},
      {"--grpc-listen", &options.listen_address},
      {"--import", &options.import_dir},
      {"--tls-cert", &options.tls_cert_file},
      {"--tls-key", &options.tls_key_file},
      {"--tls-client-ca", &options.tls_client_ca_file},
  };
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (arg == "--insecure-listen-any") {
      options.insecure_listen_any = true;
      continue;
    }
    if (arg == "--import-overwrite") {
      options.import_existing = sopsidebar::ExistingSop::kUpdate;
      continue;
    }
    if (arg == "--bootstrap-admin") {
      parsed.bootstrap_admin = true;
      continue;
    }
    if (arg == "--version") {
      std::cout << "sopd " << sopsidebar::kSopdVersion << std::endl;
      std::exit(0);
    }
    bool known = false;
    for (const auto& [name, target] : flags) {
      if (arg == name) {
        if (i + 1 >= argc) {
          std::cerr << "sopd: " << name << " needs a value\n" << kUsage;
          std::exit(2);
        }
        *target = argv[++i];
        known = true;
      } else if (absl::StartsWith(arg, absl::StrCat(name, "="))) {
        *target = arg.substr(std::string(name).size() + 1);
        known = true;
      }
    }
    if (!known) {
      std::cerr << "sopd: unknown argument " << arg << "\n" << kUsage;
      std::exit(2);
    }
  }
  return parsed;
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
  std::cerr << "sopd " << sopsidebar::kSopdVersion << " listening on " << host << ":"
            << (*server)->port() << " (" << (*server)->transport()
            << (loopback_only ? ", loopback only" : "") << ") data_dir=" << options.data_dir
            << " published_sops=" << (*server)->published_count() << std::endl;

  int signal = 0;
  sigwait(&signals, &signal);
  std::cerr << "sopd: " << (signal == SIGINT ? "SIGINT" : "SIGTERM") << ", shutting down"
            << std::endl;
  (*server)->Shutdown();
  (*server)->Wait();
  server->reset();
  std::cerr << "sopd: stopped" << std::endl;
  return 0;
}
