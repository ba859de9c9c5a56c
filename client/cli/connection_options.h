// From sopctl's global options to the client library's ConnectionOptions.
// The token and TLS files are read here, by the CLI: the library takes
// their contents.
#ifndef SOPSIDEBAR_CLIENT_CLI_CONNECTION_OPTIONS_H_
#define SOPSIDEBAR_CLIENT_CLI_CONNECTION_OPTIONS_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/cli/args.h"
#include "client/connection.h"

namespace sopsidebar::cli {

// A file's whole contents, or an error whose message says why it cannot be
// read (without naming the file).
using FileReader = std::function<absl::StatusOr<std::string>(const std::string& path)>;

// Reads a file from disk; the message of an error is strerror's ("No such
// file or directory").
absl::StatusOr<std::string> ReadFileContents(const std::string& path);

// The file `path`, read with `read_file`, trimmed of surrounding whitespace:
// a token or secret. INVALID_ARGUMENT when it cannot be read or is blank,
// naming the file and `what` it is ("token file"). Thread-safe when
// `read_file` is.
absl::StatusOr<std::string> ReadTrimmedFile(const FileReader& read_file, absl::string_view what,
                                            const std::string& path);

// The server and timeout of `global`, its token (the token file's
// contents trimmed of surrounding whitespace), its TLS options (the PEM
// files' contents), read with `read_file`, and its viewer. INVALID_ARGUMENT naming the file
// when one cannot be read or the token file is blank. Checks nothing else:
// the library rejects options it cannot use on the first call. Thread-safe
// when `read_file` is.
absl::StatusOr<client::ConnectionOptions> MakeConnectionOptions(const GlobalOptions& global,
                                                                const FileReader& read_file);

}  // namespace sopsidebar::cli

#endif  // SOPSIDEBAR_CLIENT_CLI_CONNECTION_OPTIONS_H_
