// Command lines of the project's programs (sopd, the bench tools), parsed with
// Abseil flags. Each main defines its flags with ABSL_FLAG (snake_case names)
// and calls ParseCommandLineOrExit once, first thing; nothing else reads
// argv. Flags are written with dashes on the command line (--data-dir DIR or
// --data-dir=DIR, as sopd has always taken them); the snake_case spelling
// works too.
#ifndef SOPSIDEBAR_SERVER_COMMON_COMMAND_LINE_H_
#define SOPSIDEBAR_SERVER_COMMON_COMMAND_LINE_H_

#include <string>
#include <vector>

namespace sopsidebar {

struct CommandLine {
  // The program's name, at the start of its messages ("sopd").
  std::string program;
  // What --help prints before the flags: what the program does and its
  // synopsis. Required.
  std::string usage;
  // The file that defines the program's flags (its main's __FILE__): --help
  // lists the flags defined there. Required.
  std::string flags_file;
  // What --version prints, e.g. "sopd 0.1.0"; empty: Abseil's default
  // (the program's name).
  std::string version;
};

// Sets the flags from argv. Returns when every argument is a flag this
// program defines, with a good value. Otherwise exits: --help or -h print
// CommandLineHelp and exit 0; --version prints `version` and exits 0;
// --helpfull also lists Abseil's own flags (--flagfile, --fromenv …) and
// exits 1, as Abseil does; an unknown flag, a flag without its value or with
// a bad one, or an argument that is not a flag prints an error naming it
// and exits 1.
void ParseCommandLineOrExit(int argc, char** argv, const CommandLine& command_line);

// `args` (argv without argv[0]) with each --dashed-name of a defined flag
// rewritten to --dashed_name, the name Abseil knows; values and unknown
// flags are left as they are (errors then name them as they were typed).
std::vector<std::string> WithFlagNamesInSnakeCase(std::vector<std::string> args);

// `args` (after WithFlagNamesInSnakeCase) with every occurrence of a list
// flag (std::vector<std::string>, e.g. --cors_origin) joined into one
// comma-separated value at the first occurrence's place: such a flag may be
// repeated (--cors-origin A --cors-origin B), where Abseil keeps only the
// last value. A list flag given once, or as A,B, is left as it is.
std::vector<std::string> WithListFlagsJoined(std::vector<std::string> args);

// What --help prints: `usage`, then each flag defined in `flags_file`, in
// dashed spelling, with its default and help text.
std::string CommandLineHelp(const CommandLine& command_line);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_COMMON_COMMAND_LINE_H_
