#include "server/common/command_line.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <utility>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace sopsidebar {
namespace {

absl::string_view Basename(absl::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == absl::string_view::npos ? path : path.substr(slash + 1);
}

// `text` in lines of at most `width` characters (longer words stay whole),
// each after `indent`.
std::string Wrap(absl::string_view text, absl::string_view indent, size_t width) {
  std::string out;
  std::string line;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (!line.empty() && indent.size() + line.size() + 1 + word.size() > width) {
      absl::StrAppend(&out, indent, line, "\n");
      line.clear();
    }
    absl::StrAppend(&line, line.empty() ? "" : " ", word);
  }
  if (!line.empty()) absl::StrAppend(&out, indent, line, "\n");
  return out;
}

bool IsHelp(absl::string_view arg) { return arg == "--help" || arg == "-help" || arg == "-h"; }

}  // namespace

std::vector<std::string> WithFlagNamesInSnakeCase(std::vector<std::string> args) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string& arg = args[i];
    if (arg == "--") break;  // what follows is not flags
    if (arg.size() < 2 || arg[0] != '-') continue;
    const size_t dashes = absl::StartsWith(arg, "--") ? 2 : 1;
    const size_t end = std::min(arg.find('='), arg.size());
    const std::string name = absl::StrReplaceAll(arg.substr(dashes, end - dashes), {{"-", "_"}});
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) continue;
    arg.replace(dashes, end - dashes, name);
    // "--name VALUE": the value is not a flag, whatever it looks like.
    if (end == arg.size() && !flag->IsOfType<bool>()) ++i;
  }
  return args;
}

std::vector<std::string> WithListFlagsJoined(std::vector<std::string> args) {
  struct Joined {
    size_t at;  // index in `out` of the first occurrence
    std::vector<std::string> values;
  };
  std::vector<std::pair<std::string, Joined>> lists;  // by flag name, in order
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      out.insert(out.end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
      break;
    }
    const size_t end = std::min(arg.find('='), arg.size());
    const absl::CommandLineFlag* flag =
        absl::StartsWith(arg, "--") ? absl::FindCommandLineFlag(arg.substr(2, end - 2)) : nullptr;
    if (flag == nullptr || !flag->IsOfType<std::vector<std::string>>() ||
        (end == arg.size() && i + 1 == args.size())) {
      out.push_back(arg);
      continue;
    }
    const std::string value = end < arg.size() ? arg.substr(end + 1) : args[++i];
    auto it = std::find_if(lists.begin(), lists.end(),
                           [&](const auto& list) { return list.first == flag->Name(); });
    if (it == lists.end()) {
      lists.emplace_back(flag->Name(), Joined{out.size(), {value}});
      out.push_back("");  // filled in below
    } else {
      it->second.values.push_back(value);
    }
  }
  for (const auto& [name, joined] : lists) {
    out[joined.at] = absl::StrCat("--", name, "=", absl::StrJoin(joined.values, ","));
  }
  return out;
}

std::string CommandLineHelp(const CommandLine& command_line) {
  std::vector<const absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (Basename(flag->Filename()) == Basename(command_line.flags_file)) flags.push_back(flag);
  }
  std::sort(flags.begin(), flags.end(),
            [](const auto* a, const auto* b) { return a->Name() < b->Name(); });
  std::string out = command_line.usage;
  if (!absl::EndsWith(out, "\n")) out += "\n";
  out += "\nflags (--name VALUE or --name=VALUE):\n";
  for (const absl::CommandLineFlag* flag : flags) {
    absl::StrAppend(&out, "  --", absl::StrReplaceAll(flag->Name(), {{"_", "-"}}));
    const std::string default_value = flag->DefaultValue();
    if (!flag->IsOfType<bool>() && !default_value.empty()) {
      absl::StrAppend(&out, " (default ", default_value, ")");
    }
    absl::StrAppend(&out, "\n", Wrap(flag->Help(), "      ", 80));
  }
  absl::StrAppend(&out,
                  "  --help      print this and exit\n"
                  "  --helpfull  also list Abseil's flags (--flagfile FILE: flags from a file)\n"
                  "  --version   print the version and exit\n");
  return out;
}

void ParseCommandLineOrExit(int argc, char** argv, const CommandLine& command_line) {
  absl::SetProgramUsageMessage(command_line.usage);
  absl::FlagsUsageConfig config;
  const std::string flags_file(Basename(command_line.flags_file));
  auto defined_here = [flags_file](absl::string_view file) { return Basename(file) == flags_file; };
  config.contains_help_flags = defined_here;
  config.contains_helpshort_flags = defined_here;
  config.contains_helppackage_flags = defined_here;
  if (!command_line.version.empty()) {
    config.version_string = [version = command_line.version] { return version + "\n"; };
  }
  absl::SetFlagsUsageConfig(config);

  std::vector<std::string> args = WithListFlagsJoined(
      WithFlagNamesInSnakeCase(std::vector<std::string>(argv + std::min(argc, 1), argv + argc)));
  for (const std::string& arg : args) {
    if (arg == "--") break;
    if (IsHelp(arg)) {
      std::cout << CommandLineHelp(command_line);
      std::exit(0);
    }
  }
  std::vector<char*> abseil_argv = {argv[0]};
  for (std::string& arg : args) abseil_argv.push_back(arg.data());
  const std::vector<char*> positional =
      absl::ParseCommandLine(static_cast<int>(abseil_argv.size()), abseil_argv.data());
  if (positional.size() > 1) {
    std::cerr << command_line.program << ": unexpected argument " << positional[1]
              << " (every argument is a flag; see --help)" << std::endl;
    std::exit(1);
  }
}

}  // namespace sopsidebar
