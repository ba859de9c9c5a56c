// sopd's configuration file (--config FILE): a YAML mapping of flag names to
// values, read before the command line so that flags given there override
// it. The keys are exactly the flags `--help` lists (those defined in the
// program's main file), minus the one-shot ones the caller excludes; new
// flags are keys as soon as they are defined. Only main uses this.
#ifndef SOPSIDEBAR_SERVER_MAIN_CONFIG_FILE_H_
#define SOPSIDEBAR_SERVER_MAIN_CONFIG_FILE_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sopsidebar {

struct ConfigFileOptions {
  // The file defining the flags a configuration file may set (the main's
  // __FILE__, as CommandLine::flags_file). Required.
  std::string flags_file;
  // Flags of `flags_file` a configuration file may not set (snake_case
  // names): one-shot actions such as bootstrap_admin, and config itself.
  // Default: none.
  std::vector<std::string> excluded;
};

// Where each flag a configuration file set came from: flag name (snake_case)
// → "FILE:LINE".
using ConfigOrigins = std::map<std::string, std::string>;

// Reads the YAML file `path` and sets each flag it names to its value.
// A key is a flag's name with underscores or dashes (data_dir, data-dir);
// a value is a scalar, as the flag would take it on the command line
// (`http_listen: ""` for an empty string), or, for a list flag
// (std::vector<std::string>, e.g. cors_origin), a sequence of scalars or one
// comma-separated scalar. An empty file sets nothing.
// Returns the origins of the flags set. Errors, each naming the file and,
// where there is one, the line and key ("FILE:LINE: KEY: reason"):
// INVALID_ARGUMENT for a YAML syntax error, a document that is not a
// mapping, an unknown or excluded key, a key given twice, a value of the
// wrong shape (no value, a mapping, a sequence for a flag that is not a
// list, a list item with a comma) or one the flag does not take (abc for a
// number); NOT_FOUND / PERMISSION_DENIED / INVALID_ARGUMENT when the file
// cannot be read ("FILE: cannot read the configuration file: why"). On an error, flags set by
// earlier keys keep their new values (the caller exits).
// Not thread-safe: sets global flags; call from main before other threads.
absl::StatusOr<ConfigOrigins> ApplyConfigFile(const std::string& path,
                                              const ConfigFileOptions& options);

// The flags a configuration file may set under `options`, snake_case,
// sorted. Thread-safe.
std::vector<std::string> ConfigurableFlags(const ConfigFileOptions& options);

// The value of --config in `args` (argv without argv[0]; --config FILE or
// --config=FILE, before any "--"), or nullopt when it is absent or lacks its
// value (then the command-line parser reports it). INVALID_ARGUMENT when
// --config is given more than once.
absl::StatusOr<std::optional<std::string>> ConfigFileArgument(const std::vector<std::string>& args);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_MAIN_CONFIG_FILE_H_
