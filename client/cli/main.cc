// sopctl: the command-line client of sopd. Flags are parsed here only.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "client/cli/args.h"
#include "client/cli/commands.h"
#include "client/cli/connection_options.h"
#include "client/cli/format.h"
#include "client/client.h"
#include "client/connection.h"

int main(int argc, char** argv) {
  using namespace sopsidebar;  // NOLINT: main only.
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << cli::Usage();
    return cli::kExitUsage;
  }
  absl::StatusOr<cli::Invocation> invocation =
      cli::ParseCommandLine(args, [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        if (value == nullptr) return std::nullopt;
        return std::string(value);
      });
  // Mistakes found before any call are sopctl's, not a server's: no status code.
  const auto usage_error = [](const absl::Status& status) {
    std::cerr << cli::UsageErrorText(status);
    return cli::kExitUsage;
  };
  if (!invocation.ok()) return usage_error(invocation.status());
  if (invocation->help) {
    std::cout << invocation->usage;
    return 0;
  }
  if (invocation->version) {
    std::cout << cli::VersionText();
    return 0;
  }
  // validate and diagram of a file read files only: no token, no server.
  if (cli::RunsOffline(*invocation)) return cli::RunOffline(*invocation, std::cout, std::cerr);
  invocation->color = cli::ShouldColor(isatty(STDOUT_FILENO) == 1, std::getenv("NO_COLOR"));
  absl::StatusOr<client::ConnectionOptions> options =
      cli::MakeConnectionOptions(invocation->global, cli::ReadFileContents);
  if (!options.ok()) return usage_error(options.status());
  client::Client client(client::MakeGrpcConnection(*options));
  return cli::RunCommand(*invocation, client, std::cout, std::cerr);
}
