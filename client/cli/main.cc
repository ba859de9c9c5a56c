// sopctl: the command-line client of sopd. Flags are parsed here only.
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "client/cli/args.h"
#include "client/cli/commands.h"
#include "client/client.h"
#include "client/connection.h"

int main(int argc, char** argv) {
  using namespace sopsidebar;  // NOLINT: main only.
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << cli::Usage();
    return 2;
  }
  absl::StatusOr<cli::Invocation> invocation =
      cli::ParseCommandLine(args, [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        if (value == nullptr) return std::nullopt;
        return std::string(value);
      });
  if (!invocation.ok()) {
    std::cerr << absl::StatusCodeToString(invocation.status().code()) << ": "
              << invocation.status().message() << "\nRun \"sopctl --help\" for usage.\n";
    return 2;
  }
  if (invocation->help) {
    std::cout << invocation->usage;
    return 0;
  }
  client::ConnectionOptions options;
  options.target = invocation->global.server;
  options.timeout = invocation->global.timeout;
  options.author = invocation->global.author;
  client::Client client(client::MakeGrpcConnection(options));
  return cli::RunCommand(*invocation, client, std::cout, std::cerr);
}
