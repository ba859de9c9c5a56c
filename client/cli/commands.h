// sopctl's commands, run against the client library.
#ifndef SOPSIDEBAR_CLIENT_CLI_COMMANDS_H_
#define SOPSIDEBAR_CLIENT_CLI_COMMANDS_H_

#include <ostream>

#include "client/cli/args.h"
#include "client/client.h"

namespace sopsidebar::cli {

// The exit statuses of sopctl.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
// A bad command line, or no access token: nothing was sent.
inline constexpr int kExitUsage = 2;
// `check --fail-on-ties` found ties.
inline constexpr int kExitTiesFound = 3;

// Runs `invocation` (a parsed command line that is not a help request).
// Writes results to `out` and each error to `err` as "<CODE>: <message>"
// (CODE as absl::StatusCodeToString names it); for UNAUTHENTICATED the
// message ends by saying how to pass a token to sopctl. Without a token
// (none of --token, --token-file, $SOPCTL_TOKEN, $SOPCTL_TOKEN_FILE) calls
// nothing: writes "sopctl: no access token: ..." and returns kExitUsage.
// `token create` writes only the secret and a newline to `out` (with -o
// json: the whole response) and its summary to `err`. `publish` (in text
// mode) and `apply --publish` write a warning line to `err` for each tie of a
// published SOP. Returns the exit
// status: kExitOk on success (ties included, unless `check --fail-on-ties`
// found some: kExitTiesFound), kExitFailed when a call or an SOP file
// failed. `lookup --watch` blocks, printing each result to `out` (flushed)
// until the stream ends: kExitOk when sopd ended it normally, else its error
// as any failed call. `apply` and `validate` write the warnings of the SOP files to
// `err`, and when files are wrong every error on its own line,
// "<file>:<line>: <path>: <reason>", without a CODE. `apply` stops at the
// first failing SOP; the ones before it stay written. `fieldmap set` reads
// its file likewise (ParseFieldMapFile) and sends nothing when it is wrong.
// `token create --hubspot-client-secret-file` reads the secret (trimmed)
// before the call: INVALID_ARGUMENT naming the file, and nothing sent, when
// it cannot be read or is blank. `audit verify --head-file` reads the saved
// AuditHead (JSON) likewise (INVALID_ARGUMENT naming the file when it is no
// AuditHead) and returns kExitFailed, after printing the verdict, when the
// trail is not intact. `diff` colours its lines only when
// `invocation.color` is set. `diagram` reads its SOP file (errors as
// `validate` writes them) or gets the SOP from sopd, draws it
// (common/diagram) and writes the text, or the image Graphviz's `dot`
// renders (FAILED_PRECONDITION saying to install graphviz without it), to
// `out` or to its -o file; an SOP without steps is INVALID_ARGUMENT naming
// `steps`.
int RunCommand(const Invocation& invocation, client::Client& client, std::ostream& out,
               std::ostream& err);

// True for the commands that read files only, with no server and no token:
// `validate`, and `diagram` of a file.
bool RunsOffline(const Invocation& invocation);

// Runs a command RunsOffline says needs no server, as RunCommand would:
// `validate` writes "valid <file>: <name>" on `out` per file when every file
// is valid (kExitOk), else kExitFailed; `diagram` as below.
int RunOffline(const Invocation& invocation, std::ostream& out, std::ostream& err);

}  // namespace sopsidebar::cli

#endif  // SOPSIDEBAR_CLIENT_CLI_COMMANDS_H_
