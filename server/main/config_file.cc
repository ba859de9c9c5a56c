#include "server/main/config_file.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "common/errors.h"
#include "yaml-cpp/yaml.h"

namespace sopsidebar {
namespace {

absl::string_view Basename(absl::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == absl::string_view::npos ? path : path.substr(slash + 1);
}

// The configuration file's errors are start-up diagnostics, printed by main
// before sopd serves anything, like the command line's: no API caller sees
// them, so they are built here rather than in the API's catalogue
// (common/errors.h), whose QuoteInput they use.

// INVALID_ARGUMENT "PATH:LINE: KEY: REASON"; LINE 0 and an empty KEY are
// left out.
absl::Status SettingError(absl::string_view path, int line, absl::string_view key,
                          absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(path, line > 0 ? absl::StrCat(":", line) : "",
                                                 ": ", key, key.empty() ? "" : ": ", reason));
}

// `code` "PATH: cannot read the configuration file: DETAIL".
absl::Status UnreadableError(absl::StatusCode code, absl::string_view path,
                             absl::string_view detail) {
  return absl::Status(code, absl::StrCat(path, ": cannot read the configuration file: ", detail));
}

bool IsConfigurable(const absl::CommandLineFlag& flag, const ConfigFileOptions& options) {
  return Basename(flag.Filename()) == Basename(options.flags_file) &&
         std::find(options.excluded.begin(), options.excluded.end(), flag.Name()) ==
             options.excluded.end();
}

// The file's text, or why it cannot be read.
absl::StatusOr<std::string> ReadConfigFile(const std::string& path) {
  struct stat info;
  if (::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
    return UnreadableError(absl::StatusCode::kInvalidArgument, path, "it is a directory");
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    const absl::StatusCode code = err == ENOENT   ? absl::StatusCode::kNotFound
                                  : err == EACCES ? absl::StatusCode::kPermissionDenied
                                                  : absl::StatusCode::kInvalidArgument;
    return UnreadableError(code, path, err != 0 ? std::strerror(err) : "cannot open it");
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return UnreadableError(absl::StatusCode::kInvalidArgument, path, "read error");
  return text.str();
}

// What the command line would say for `value`, the YAML value of `flag`.
absl::StatusOr<std::string> FlagText(const std::string& path, int line, const std::string& key,
                                     const absl::CommandLineFlag& flag, const YAML::Node& value) {
  const bool is_list = flag.IsOfType<std::vector<std::string>>();
  switch (value.Type()) {
    case YAML::NodeType::Scalar:
      return value.Scalar();
    case YAML::NodeType::Sequence: {
      if (!is_list) {
        return SettingError(path, line, key,
                            "takes one value, not a list (only list flags such as "
                            "cors_origin take a list)");
      }
      std::vector<std::string> items;
      for (const YAML::Node& item : value) {
        const int item_line = item.Mark().line + 1;
        if (!item.IsScalar()) {
          return SettingError(path, item_line, key, "a list item must be a plain value");
        }
        if (absl::StrContains(item.Scalar(), ',')) {
          return SettingError(path, item_line, key,
                              absl::StrCat("list item ", error::QuoteInput(item.Scalar()),
                                           " holds a comma, which separates items"));
        }
        items.push_back(item.Scalar());
      }
      return absl::StrJoin(items, ",");
    }
    case YAML::NodeType::Map:
      return SettingError(path, line, key, "takes a value, not a mapping");
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return SettingError(path, line, key,
                      "has no value (write \"\" for an empty one, or leave the key out "
                      "for the default)");
}

}  // namespace

absl::StatusOr<ConfigOrigins> ApplyConfigFile(const std::string& path,
                                              const ConfigFileOptions& options) {
  absl::StatusOr<std::string> text = ReadConfigFile(path);
  if (!text.ok()) return text.status();
  YAML::Node root;
  try {
    root = YAML::Load(*text);
  } catch (const YAML::ParserException& e) {
    return SettingError(path, e.mark.line + 1, "", absl::StrCat("not YAML: ", e.msg));
  }
  ConfigOrigins origins;
  if (root.IsNull()) return origins;
  if (!root.IsMap()) {
    return SettingError(path, root.Mark().line + 1, "",
                        "the file must be a mapping of flag names to values "
                        "(data_dir: /var/lib/sopd)");
  }
  std::map<std::string, int> lines;  // flag name → line it was set at
  for (const auto& entry : root) {
    const int line = entry.first.Mark().line + 1;
    if (!entry.first.IsScalar()) {
      return SettingError(path, line, "", "a key must be a flag name");
    }
    const std::string key = entry.first.Scalar();
    const std::string name = absl::StrReplaceAll(key, {{"-", "_"}});
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr || Basename(flag->Filename()) != Basename(options.flags_file)) {
      return SettingError(path, line, key,
                          "unknown key: the keys are the flags --help lists, with "
                          "underscores (data_dir, grpc_listen …)");
    }
    if (!IsConfigurable(*flag, options)) {
      return SettingError(path, line, key, "is a one-shot flag: give it on the command line");
    }
    if (const auto seen = lines.find(name); seen != lines.end()) {
      return SettingError(path, line, key,
                          absl::StrCat("given twice (first at line ", seen->second, ")"));
    }
    lines.emplace(name, line);
    absl::StatusOr<std::string> value = FlagText(path, line, key, *flag, entry.second);
    if (!value.ok()) return value.status();
    std::string parse_error;
    if (!flag->ParseFrom(*value, &parse_error)) {
      return SettingError(path, line, key,
                          absl::StrCat("bad value ", error::QuoteInput(*value), ": ", parse_error));
    }
    origins.emplace(name, absl::StrCat(path, ":", line));
  }
  return origins;
}

std::vector<std::string> ConfigurableFlags(const ConfigFileOptions& options) {
  std::vector<std::string> names;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (IsConfigurable(*flag, options)) names.emplace_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<std::optional<std::string>> ConfigFileArgument(
    const std::vector<std::string>& args) {
  std::optional<std::string> path;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") break;
    std::optional<std::string> value;
    if (arg == "--config" || arg == "-config") {
      if (i + 1 == args.size()) break;
      value = args[++i];
    } else if (absl::StartsWith(arg, "--config=") || absl::StartsWith(arg, "-config=")) {
      value = arg.substr(arg.find('=') + 1);
    }
    if (!value.has_value()) continue;
    if (path.has_value()) {
      return absl::InvalidArgumentError("--config is given more than once; give one file");
    }
    path = std::move(value);
  }
  return path;
}

}  // namespace sopsidebar
