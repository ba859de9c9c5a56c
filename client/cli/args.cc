#include "client/cli/args.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "server/domain/model/names.h"
#include "server/domain/model/sop_file.h"

namespace sopsidebar::cli {
namespace {

struct FlagSpec {
  absl::string_view name;  // Without dashes.
  bool takes_value;
  bool repeatable;
};

struct CommandSpec {
  Command command;
  absl::string_view name;
  absl::string_view summary;
  // The one positional argument's name, or empty for none.
  absl::string_view argument;
  std::vector<FlagSpec> flags;
  absl::string_view usage;
};

const std::vector<FlagSpec>& GlobalFlags() {
  static const auto* const kFlags = new std::vector<FlagSpec>{
      {"server", true, false}, {"org", true, false},     {"output", true, false},
      {"author", true, false}, {"timeout", true, false}, {"help", false, false}};
  return *kFlags;
}

constexpr absl::string_view kGlobalUsage = R"(Global flags (before or after the command):
  --server ADDR      sopd's gRPC address (default $SOPCTL_SERVER, else 127.0.0.1:50051)
  --org ORG          the org of bare SOP ids and of lookups (default "default")
  -o, --output FMT   text or json (default text); json is the proto JSON mapping
  --author NAME      recorded as the author of changes
                     (default $SOPCTL_AUTHOR, else $USER, else anonymous)
  --timeout DUR      deadline of each call, e.g. 10s, 500ms, 1m (default 10s)
  -h, --help         show help
)";

// Shared by the commands that take a NAME.
constexpr absl::string_view kNameHelp =
    "NAME is a full name (orgs/ORG/sops/ID) or a bare ID in the org of --org.\n";

const std::vector<CommandSpec>& Commands() {
  static const auto* const kCommands = new std::vector<CommandSpec>{
      {Command::kLookup,
       "lookup",
       "rank the published SOPs that apply to a CRM record",
       "",
       {{"record-type", true, false},
        {"field", true, true},
        {"field-json", true, true},
        {"record-id", true, false},
        {"max", true, false}},
       R"(Usage: sopctl lookup --record-type TYPE [--field NAME=VALUE]...
                     [--field-json NAME=JSON]... [--record-id ID] [--max N]
Ranks the published SOPs that apply to a CRM record and says why each matched.
  --record-type TYPE      the record type, e.g. Lead (required)
  --field NAME=VALUE      a field of the record, split at the first '='; VALUE is
                          typed: 82, -1.5, 1e3 are numbers, true/false bools, null
                          null, anything else (007, +1555, MQL) a string
  --field-json NAME=JSON  a field given as JSON, e.g. 'zip="02134"' or 'tags=["a","b"]'
  --record-id ID          the record's id
  --max N                 at most N matches (server default 10)
Example:
  sopctl lookup --record-type Lead --field 'lead_status=MQL – New Handoff' --field lead_score=82
)"},
      {Command::kGet,
       "get",
       "show an SOP",
       "NAME",
       {},
       R"(Usage: sopctl get NAME
Shows an SOP's current draft and state. With -o json the output can be edited
and given back to "sopctl apply -f".
)"},
      {Command::kList,
       "list",
       "list SOPs",
       "",
       {{"filter", true, false}, {"show-deleted", false, false}, {"page-size", true, false}},
       R"(Usage: sopctl list [--filter FILTER] [--show-deleted] [--page-size N]
Lists the org's SOPs (every page).
  --filter FILTER   terms joined by AND: state = DRAFT|PUBLISHED|DELETED,
                    owner = "...", tags:"..."
  --show-deleted    include soft-deleted SOPs
  --page-size N     SOPs per call (server default 50)
)"},
      {Command::kHistory,
       "history",
       "list an SOP's revisions, newest first",
       "NAME",
       {},
       R"(Usage: sopctl history NAME
Lists every revision of an SOP, newest first: id, time, author, change.
)"},
      {Command::kApply,
       "apply",
       "create or update SOPs from YAML/JSON files",
       "",
       {{"file", true, false}, {"publish", false, false}},
       R"(Usage: sopctl apply -f FILE|DIR [--publish]
Creates or updates SOPs from a YAML or JSON file, or from every *.yaml, *.yml and
*.json file in a directory. Every file is checked before anything is sent. The
SOP id is the one in the file's name field, else the file's base name.
Prints "created", "updated" or "unchanged" and the SOP's name for each file.
  -f, --file PATH   the file or directory (required)
  --publish         also publish each SOP whose draft is not the published revision
)"},
      {Command::kPublish,
       "publish",
       "publish an SOP's current draft",
       "NAME",
       {},
       R"(Usage: sopctl publish NAME
Makes an SOP's current draft the revision that lookups match.
)"},
      {Command::kDelete,
       "delete",
       "soft-delete an SOP",
       "NAME",
       {},
       R"(Usage: sopctl delete NAME
Soft-deletes an SOP: it stops matching and is hidden from lists.
)"},
      {Command::kUndelete,
       "undelete",
       "restore a soft-deleted SOP",
       "NAME",
       {},
       R"(Usage: sopctl undelete NAME
Restores a soft-deleted SOP.
)"},
  };
  return *kCommands;
}

const CommandSpec* FindCommand(absl::string_view name) {
  for (const CommandSpec& spec : Commands()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

const FlagSpec* FindFlag(const std::vector<FlagSpec>& flags, absl::string_view name) {
  for (const FlagSpec& flag : flags) {
    if (flag.name == name) return &flag;
  }
  return nullptr;
}

std::string CommandUsage(const CommandSpec& spec) {
  return absl::StrCat(spec.usage, spec.argument.empty() ? "" : kNameHelp, "\n", kGlobalUsage);
}

absl::Status UsageError(absl::string_view message) { return absl::InvalidArgumentError(message); }

absl::StatusOr<int> PositiveInt(absl::string_view flag, absl::string_view text) {
  int value;
  if (!absl::SimpleAtoi(text, &value) || value <= 0) {
    return UsageError(
        absl::StrCat("--", flag, ": expected a positive integer, got \"", text, "\""));
  }
  return value;
}

// Flag values by name, in the order given.
using FlagValues = std::map<std::string, std::vector<std::string>, std::less<>>;

std::optional<std::string> Single(const FlagValues& flags, absl::string_view name) {
  auto it = flags.find(name);
  if (it == flags.end()) return std::nullopt;
  return it->second.back();
}

absl::Status ResolveGlobals(const FlagValues& flags, const EnvLookup& env, GlobalOptions* global) {
  global->server =
      Single(flags, "server").value_or(env("SOPCTL_SERVER").value_or("127.0.0.1:50051"));
  if (auto org = Single(flags, "org")) {
    if (!IsValidResourceId(*org)) {
      return UsageError(absl::StrCat(
          "--org: \"", *org, "\" is not an org id (1-63 of [a-z0-9-], starting with a letter)"));
    }
    global->org = *org;
  }
  if (auto output = Single(flags, "output")) {
    if (*output == "json") {
      global->output = OutputFormat::kJson;
    } else if (*output != "text") {
      return UsageError(absl::StrCat("--output: expected text or json, got \"", *output, "\""));
    }
  }
  std::optional<std::string> author = Single(flags, "author");
  if (!author) author = env("SOPCTL_AUTHOR");
  if (!author || author->empty()) author = env("USER");
  global->author = author && !author->empty() ? *author : "anonymous";
  if (auto timeout = Single(flags, "timeout")) {
    if (!absl::ParseDuration(*timeout, &global->timeout) ||
        global->timeout <= absl::ZeroDuration() || global->timeout == absl::InfiniteDuration()) {
      return UsageError(absl::StrCat("--timeout: expected a positive duration such as 10s, got \"",
                                     *timeout, "\""));
    }
  }
  return absl::OkStatus();
}

absl::Status BuildLookup(const FlagValues& flags, const std::string& org,
                         v1::LookupSopsRequest* request) {
  v1::CrmContext& context = *request->mutable_context();
  context.set_org(OrgName(org));
  std::optional<std::string> type = Single(flags, "record-type");
  if (!type) return UsageError("lookup needs --record-type, e.g. --record-type Lead");
  context.set_record_type(*type);
  context.set_record_id(Single(flags, "record-id").value_or(""));
  for (bool as_json : {false, true}) {
    auto it = flags.find(as_json ? "field-json" : "field");
    if (it == flags.end()) continue;
    for (const std::string& flag : it->second) {
      absl::StatusOr<std::pair<std::string, google::protobuf::Value>> field =
          ParseFieldFlag(flag, as_json);
      if (!field.ok()) return field.status();
      if (!context.mutable_fields()->insert({field->first, field->second}).second) {
        return UsageError(absl::StrCat("field \"", field->first, "\" is given twice"));
      }
    }
  }
  if (auto max = Single(flags, "max")) {
    absl::StatusOr<int> n = PositiveInt("max", *max);
    if (!n.ok()) return n.status();
    request->set_max_results(*n);
  }
  return absl::OkStatus();
}

absl::Status BuildList(const FlagValues& flags, const std::string& org,
                       v1::ListSopsRequest* request) {
  request->set_parent(OrgName(org));
  request->set_filter(Single(flags, "filter").value_or(""));
  request->set_show_deleted(flags.count("show-deleted") > 0);
  if (auto size = Single(flags, "page-size")) {
    absl::StatusOr<int> n = PositiveInt("page-size", *size);
    if (!n.ok()) return n.status();
    request->set_page_size(*n);
  }
  return absl::OkStatus();
}

}  // namespace

std::string Usage() {
  std::string usage =
      "sopctl: manage SOP Sidebar SOPs and see which apply to a CRM record.\n\n"
      "Usage: sopctl [global flags] COMMAND [flags] [NAME]\n\nCommands:\n";
  for (const CommandSpec& spec : Commands()) {
    absl::StrAppend(&usage, "  ", spec.name, std::string(10 - spec.name.size(), ' '), spec.summary,
                    "\n");
  }
  absl::StrAppend(&usage, "\n", kGlobalUsage, "\n", kNameHelp,
                  "Run \"sopctl COMMAND --help\" for a command's flags.\n"
                  "Exit status: 0 success, 1 error from the server or in a file, 2 bad usage.\n");
  return usage;
}

std::string ResolveSopName(absl::string_view name_or_id, absl::string_view org) {
  if (absl::StrContains(name_or_id, '/')) return std::string(name_or_id);
  return SopName{std::string(org), std::string(name_or_id)}.Full();
}

absl::StatusOr<std::pair<std::string, google::protobuf::Value>> ParseFieldFlag(
    absl::string_view flag, bool as_json) {
  const absl::string_view option = as_json ? "--field-json" : "--field";
  const size_t eq = flag.find('=');
  if (eq == absl::string_view::npos || eq == 0) {
    return UsageError(absl::StrCat(option, ": expected NAME=", as_json ? "JSON" : "VALUE",
                                   ", got \"", flag, "\""));
  }
  std::string name(flag.substr(0, eq));
  const absl::string_view text = flag.substr(eq + 1);
  if (!as_json) return std::make_pair(std::move(name), InferScalarValue(text));
  google::protobuf::Value value;
  const auto parsed = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(text.data(), text.size()), &value);
  if (!parsed.ok()) {
    return UsageError(absl::StrCat(option, " ", name, ": \"", text,
                                   "\" is not JSON (strings need quotes: ", name, "='\"text\"')"));
  }
  return std::make_pair(std::move(name), std::move(value));
}

absl::StatusOr<Invocation> ParseCommandLine(const std::vector<std::string>& args,
                                            const EnvLookup& env) {
  const CommandSpec* command = nullptr;
  std::vector<std::string> positional;
  FlagValues flags;
  bool only_positional = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (only_positional || arg.size() < 2 || arg[0] != '-') {
      if (command == nullptr) {
        command = FindCommand(arg);
        if (command == nullptr) return UsageError(absl::StrCat("unknown command \"", arg, "\""));
      } else {
        positional.push_back(arg);
      }
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    std::string name;
    std::optional<std::string> value;
    if (absl::StartsWith(arg, "--")) {
      const size_t eq = arg.find('=');
      name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      if (eq != std::string::npos) value = arg.substr(eq + 1);
    } else if (arg == "-o") {
      name = "output";
    } else if (arg == "-h") {
      name = "help";
    } else if (arg == "-f") {
      name = "file";
    } else {
      return UsageError(absl::StrCat("unknown flag ", arg));
    }
    const FlagSpec* spec = FindFlag(GlobalFlags(), name);
    if (spec == nullptr && command != nullptr) spec = FindFlag(command->flags, name);
    if (spec == nullptr) {
      return UsageError(
          command == nullptr
              ? absl::StrCat("unknown flag ", arg, " (a command's flags go after the command)")
              : absl::StrCat("unknown flag ", arg, " for ", command->name));
    }
    if (spec->takes_value && !value) {
      if (i + 1 == args.size()) return UsageError(absl::StrCat(arg, " needs a value"));
      value = args[++i];
    } else if (!spec->takes_value && value) {
      return UsageError(absl::StrCat("--", name, " takes no value"));
    }
    std::vector<std::string>& values = flags[name];
    if (!values.empty() && !spec->repeatable) {
      return UsageError(absl::StrCat("--", name, " is given twice"));
    }
    values.push_back(value.value_or(""));
  }

  Invocation invocation;
  if (flags.count("help")) {
    invocation.help = true;
    invocation.usage = command == nullptr ? Usage() : CommandUsage(*command);
    return invocation;
  }
  if (command == nullptr) return UsageError("no command given");
  invocation.command = command->command;
  if (absl::Status status = ResolveGlobals(flags, env, &invocation.global); !status.ok()) {
    return status;
  }
  const size_t wanted = command->argument.empty() ? 0 : 1;
  if (positional.size() != wanted) {
    return UsageError(
        wanted == 0
            ? absl::StrCat(command->name, " takes no arguments, got \"", positional[0], "\"")
            : absl::StrCat(command->name, " needs exactly one ", command->argument));
  }
  const std::string& org = invocation.global.org;
  switch (command->command) {
    case Command::kLookup:
      if (absl::Status s = BuildLookup(flags, org, &invocation.lookup); !s.ok()) return s;
      break;
    case Command::kList:
      if (absl::Status s = BuildList(flags, org, &invocation.list); !s.ok()) return s;
      break;
    case Command::kApply: {
      std::optional<std::string> file = Single(flags, "file");
      if (!file) return UsageError("apply needs -f FILE|DIR");
      invocation.apply_path = *file;
      invocation.publish = flags.count("publish") > 0;
      break;
    }
    case Command::kGet:
    case Command::kHistory:
    case Command::kPublish:
    case Command::kDelete:
    case Command::kUndelete:
      invocation.name = ResolveSopName(positional[0], org);
      break;
  }
  return invocation;
}

}  // namespace sopsidebar::cli
