#include "client/cli/args.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/cli/format.h"
#include "client/connection.h"
#include "common/model/names.h"
#include "common/proto_time.h"
#include "common/sopfile/sop_file.h"
#include "common/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"

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
  // Appended to `usage`: what the argument may be.
  absl::string_view argument_help = "";
};

const std::vector<FlagSpec>& GlobalFlags() {
  static const auto* const kFlags = new std::vector<FlagSpec>{
      {"server", true, false},     {"org", true, false},     {"output", true, false},
      {"timeout", true, false}, {"token", true, false},
      {"token-file", true, false}, {"tls", false, false},    {"tls-ca", true, false},
      {"tls-cert", true, false},   {"tls-key", true, false}, {"tls-server-name", true, false},
      {"viewer-id", true, false},  {"viewer-name", true, false},
      {"viewer-crm-role", true, true},
      {"help", false, false},      {"version", false, false}};
  return *kFlags;
}

constexpr absl::string_view kGlobalUsage = R"(Global flags (before or after the command):
  --server ADDR      sopd's gRPC address (default $SOPCTL_SERVER, else 127.0.0.1:50051);
                     several nodes: IP:PORT,IP:PORT (IPv6 as [::1]:PORT) or
                     dns:///NAME:PORT for every address NAME resolves to; calls
                     go round-robin to the nodes that report themselves healthy
  --org ORG          the org of bare SOP and token ids, of lookups, of token
                     commands and of CRM maps (default "default")
  -o, --output FMT   text (alias table) or json (default text); json is the proto
                     JSON mapping; the analytics commands also print csv
  --timeout DUR      deadline of each call, e.g. 10s, 500ms, 1m (default 10s)
  --token TOKEN      the access token, sent on every call; other users can see
                     flags in ps, so prefer --token-file or $SOPCTL_TOKEN
  --token-file FILE  read the token from FILE (surrounding whitespace is ignored)
                     The token is the first of --token, --token-file, $SOPCTL_TOKEN
                     and the file named by $SOPCTL_TOKEN_FILE; none: no token.
  --tls              use TLS, verifying sopd with the system's CA certificates
  --tls-ca FILE      verify sopd with the CA certificates in FILE (PEM); implies --tls
  --tls-cert FILE    client certificate (PEM) for mutual TLS; needs --tls-key,
                     implies --tls
  --tls-key FILE     the client certificate's private key (PEM)
  --tls-server-name NAME
                     the name sopd's certificate must carry when it is not the
                     host of --server (needs TLS)
  --viewer-id ID     with an INTEGRATION token: act for the CRM user ID, as the
                     CRM's integration does, to see what they would see (sent
                     as sop-viewer-id; any other token is PERMISSION_DENIED)
  --viewer-name NAME the viewer's name (needs --viewer-id)
  --viewer-crm-role ROLE
                     one of the viewer's CRM roles (profile, role, team), as the
                     org's role map names them; repeatable (needs --viewer-id)
                     e.g. sopctl --token-file integration.token --viewer-id 005A
                          --viewer-crm-role "Inside Sales" lookup ...
  -h, --help         show help (also: sopctl help [COMMAND])
  --version          print sopctl's version
)";

// Ends a command's help instead of kGlobalUsage, which only `sopctl --help`
// shows: the command's own flags stay easy to find.
constexpr absl::string_view kGlobalFlagsPointer =
    "Global flags (--server, --org, -o, --token-file, ...): see \"sopctl --help\".\n";

// The payload of ParseCommandLine's errors: the command ("token create"),
// group ("token") or nothing ("") whose help says how to fix the error.
constexpr absl::string_view kHelpTopicPayload = "type.sopsidebar.dev/sopctl.HelpTopic";

// Shared by the commands that take an SOP's NAME.
constexpr absl::string_view kNameHelp =
    "NAME is a full name (orgs/ORG/sops/ID) or a bare ID in the org of --org.\n";

// The flags of the analytics commands; `filters`: also --source and --sop
// (coverage gaps name no lead source or SOP).
std::vector<FlagSpec> ReportFlags(bool filters) {
  std::vector<FlagSpec> flags = {{"from", true, false}, {"to", true, false}, {"by", true, false}};
  if (filters) {
    flags.push_back({"source", true, true});
    flags.push_back({"sop", true, false});
  }
  return flags;
}

// Shared by the analytics commands.
constexpr absl::string_view kReportHelp =
    "  --by DIMS      group by these, comma-separated, in order: week, day, source,\n"
    "                 campaign, team, rep, sop, revision, record-type, status\n"
    "                 (default: one row for everything; coverage: record-type,status)\n"
    "  --from DAY     the first UTC day counted, YYYY-MM-DD (default: 30 days back)\n"
    "  --to DAY       the last UTC day counted (default: today)\n"
    "  --source S     only records with this lead_source (repeatable; not coverage)\n"
    "  --sop NAME     only events of this SOP, full name or bare id (not coverage)\n"
    "Prints a table, or -o csv (one header line, RFC 4180) or -o json.\n";

// Shared by the rolemap commands, and the fieldmap ones.
constexpr absl::string_view kRoleMapHelp =
    "CRM is salesforce or hubspot (the map of the org of --org), or a full name\n"
    "(orgs/ORG/roleMaps/CRM).\n";
constexpr absl::string_view kFieldMapHelp =
    "CRM is salesforce or hubspot (the map of the org of --org), or a full name\n"
    "(orgs/ORG/fieldMaps/CRM).\n";

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
        {"max", true, false},
        {"near-misses", false, false},
        {"watch", false, false},
        {"crm", true, false},
        {"as-of", true, false}},
       R"(Usage: sopctl lookup --record-type TYPE [--field NAME=VALUE]...
                     [--field-json NAME=JSON]... [--record-id ID] [--max N]
                     [--crm CRM] [--as-of TIME] [--near-misses | --watch]
Ranks the published SOPs that apply to a CRM record, says why each matched, and
shows the current step: its instructions, the CRM fields to set, its assets.
  --record-type TYPE      the record type, e.g. Lead (required)
  --field NAME=VALUE      a field of the record, split at the first '='; VALUE is
                          typed: 82, -1.5, 1e3 are numbers, true/false bools, null
                          null, anything else (007, +1555, MQL) a string
  --field-json NAME=JSON  a field given as JSON, e.g. 'zip="02134"' or 'tags=["a","b"]'
  --record-id ID          the record's id
  --max N                 at most N matches (server default 10)
  --crm CRM               salesforce or hubspot: the record type and --field
                          names are that CRM's (Lead, Status; 0-1,
                          hs_lead_status), mapped by the org's field map (see
                          "sopctl fieldmap get"); the matches then say which CRM
                          field each condition's field came from
  --near-misses           also list, after the matches, the rules that failed on
                          exactly one condition, with that condition and the
                          record's value, to debug targeting (needs SALES_OPS or
                          ADMIN; others get PERMISSION_DENIED)
  --watch                 after the result, keep watching: whenever a publish,
                          delete, undelete or visibility change alters it, print
                          the new result after a line "--- updated <UTC time>"
                          (with -o json: each result as its own JSON document).
                          Runs until Ctrl-C, or until sopd ends the watch: exit 0
                          when it ends it normally, else the error and exit 1
                          (e.g. UNAUTHENTICATED once the token is revoked).
                          --timeout does not apply. Not with --near-misses
  --as-of TIME            answer as of TIME (RFC 3339, e.g. 2024-05-01T08:00:00Z)
                          with the revisions published then: what a rep saw
                          (compliance replay). Not with --watch
Example:
  sopctl lookup --record-type Lead --field 'lead_status=MQL – New Handoff' --field lead_score=82
  sopctl lookup --record-type Lead --field lead_score=82 --watch
  sopctl lookup --crm salesforce --record-type Lead --field Status=MQL
  sopctl lookup --record-type Lead --field lead_score=82 --as-of 2024-04-01T09:00:00Z
)"},
      {Command::kSearch,
       "search",
       "find published SOPs by their words",
       "QUERY",
       {{"limit", true, false}},
       R"(Usage: sopctl search QUERY [--limit N]
Full-text search over the live SOPs of --org that you may read: title,
purpose, steps, tags and disqualification codes, best match first (BM25).
QUERY is one argument (quote it): words, "quoted phrases", and the last word
also as a prefix ("pric" finds pricing). A misspelt query is answered as
corrected, and the output says so. Prints score, name and title, then an
excerpt with the matched words in bold (on a terminal) or [brackets].
  --limit N   at most N results, 1 to 50 (server default 10)
Example:
  sopctl search 'demo no-show'
  sopctl search '"lead source"' --limit 3 -o json
)"},
      {Command::kGet,
       "get",
       "show an SOP",
       "NAME",
       {{"revision", true, false}},
       R"(Usage: sopctl get NAME [--revision N]
Shows an SOP's current draft and state, with each step's instructions, CRM
fields to set and assets. With -o json the output can be edited and given back
to "sopctl apply -f".
  --revision N   show revision N instead (see "sopctl history"): its content,
                 author and change summary; with -o json the SopRevision
)",
       kNameHelp},
      {Command::kList,
       "list",
       "list SOPs",
       "",
       {{"filter", true, false}, {"show-deleted", false, false}, {"page-size", true, false}},
       R"(Usage: sopctl list [--filter FILTER] [--show-deleted] [--page-size N]
Lists the org's SOPs (every page): name, state, revision, published revision and
title; once any SOP's draft is in review, also REVIEW: DRAFT, IN_REVIEW (awaiting
the approver roles still to sign) or APPROVED.
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
)",
       kNameHelp},
      {Command::kApply,
       "apply",
       "create or update SOPs from YAML/JSON files",
       "",
       {{"file", true, false},
        {"publish", false, false},
        {"dry-run", false, false},
        {"emergency", false, false},
        {"reason", true, false}},
       R"(Usage: sopctl apply -f FILE|DIR [--publish [--emergency --reason TEXT]] [--dry-run]
Creates or updates SOPs from a YAML or JSON file, or from every *.yaml, *.yml and
*.json file in a directory. The SOP id is the one in the file's name field, else
the file's base name. All or nothing: every file is checked, every SOP read and
what the server would refuse (your roles, an org not your token's, a stale
etag, a deleted SOP, with --publish an SOP without targeting rules) found before
the first write; if any file would fail, each failure is printed as
"CODE: FILE: message" on stderr and nothing is written. Then prints one line per
SOP: "created", "updated" or "unchanged" and its name; when your roles see only
what is published, the line ends in: (compared with published revision N: your
roles cannot read drafts).
Should the server still refuse a write, apply stops and prints on stderr the
error, then "applied", "failed" and "not attempted" with each SOP's name.
Exits 0 when every SOP was applied, 1 otherwise.
  -f, --file PATH   the file or directory (required)
  --publish         also take each SOP whose draft is not the published
                    revision live: publishes it when it needs no sign-off or
                    has them all (prints "published" and the name, and on
                    stderr a warning for each tie it now has, see "sopctl
                    publish"); else submits it for review, or leaves it in
                    review, and prints "awaiting sign-off", the name and the
                    roles it waits for
  --emergency       with --publish: publish without the required sign-offs
                    (ADMIN only; each is an emergency publish in the audit trail)
  --reason TEXT     why (required with --emergency)
  --dry-run         check and plan as above, write nothing: prints "would
                    create", "would update", "would publish" or "unchanged" and
                    the name per SOP, then "dry run: nothing written"
)"},
      {Command::kValidate,
       "validate",
       "check SOP files without a server",
       "",
       {{"file", true, false}},
       R"(Usage: sopctl validate -f FILE|DIR
Checks a YAML or JSON SOP file, or every *.yaml, *.yml and *.json file in a
directory, as "sopctl apply" does before it sends anything, but without a
server (no token or --server needed). Prints "valid FILE: NAME" for each file
when all are valid, else every error as "FILE:LINE: PATH: what is wrong", one
per line, on stderr. Warnings ("FILE:LINE: warning: ...") go to stderr.
Exits 0 when every file is valid, 1 otherwise.
  -f, --file PATH   the file or directory (required)
)"},
      {Command::kPublish,
       "publish",
       "publish an SOP's current draft",
       "NAME",
       {{"emergency", false, false}, {"reason", true, false}},
       R"(Usage: sopctl publish NAME [--emergency --reason TEXT]
Makes an SOP's current draft the revision that lookups match. Then warns on
stderr about each tie the SOP now has: a published SOP with a rule of the same
priority and specificity on a record both match, so lookups cannot rank one
above the other. The SOP is published all the same; "sopctl check" finds ties
before publishing. With -o json prints the whole response, ties included, and
no warnings. An SOP with required approvers is published once its draft is
APPROVED (see "sopctl submit" and "sopctl approve").
  --emergency       publish without the required sign-offs (ADMIN only);
                    recorded as an emergency publish in the audit trail
  --reason TEXT     why (required with --emergency, at most 1000 characters)
)",
       kNameHelp},
      {Command::kCheck,
       "check",
       "find the published SOPs an SOP's draft would tie with",
       "NAME",
       {{"fail-on-ties", false, false}},
       R"(Usage: sopctl check NAME [--fail-on-ties]
Checks an SOP's current draft against the published SOPs of its org. Prints
"no ties", or for each tie the other SOP and its revision, the two rules, their
priority and specificity, and an example record both match: lookups could not
rank one above the other. Raise a priority or narrow a rule to resolve it.
Needs draft access. With -o json prints the CheckTargetingResponse. Exits 0
either way, unless --fail-on-ties.
  --fail-on-ties   exit with status 3 when there are ties (for CI)
)",
       kNameHelp},
      {Command::kDelete,
       "delete",
       "soft-delete an SOP",
       "NAME",
       {},
       R"(Usage: sopctl delete NAME
Soft-deletes an SOP: it stops matching and is hidden from lists.
)",
       kNameHelp},
      {Command::kUndelete,
       "undelete",
       "restore a soft-deleted SOP",
       "NAME",
       {},
       R"(Usage: sopctl undelete NAME
Restores a soft-deleted SOP.
)",
       kNameHelp},
      {Command::kWhoAmI,
       "whoami",
       "show whom the token belongs to",
       "",
       {},
       R"(Usage: sopctl whoami
Shows whom the access token belongs to: org, user, display name, roles, the
token's name, and whether it is a server admin token. With --viewer-id and an
INTEGRATION token: the viewer, with the roles the org's role map gives them,
and "via:" the integration acting for them.
)"},
      {Command::kTokenCreate,
       "token create",
       "create an access token and print its secret",
       "",
       {{"user", true, false},
        {"role", true, true},
        {"display-name", true, false},
        {"expires", true, false},
        {"server-admin", false, false},
        {"crm", true, false},
        {"delegable-roles", true, true},
        {"hubspot-portal-id", true, false},
        {"hubspot-client-secret-file", true, false}},
       R"(Usage: sopctl token create --user USER --role ROLE [--role ROLE]...
                           [--display-name NAME] [--expires DUR] [--server-admin]
                           [--crm CRM --delegable-roles ROLE[,ROLE...]
                            [--hubspot-portal-id ID
                             --hubspot-client-secret-file FILE]]
                           [--org ORG]
Creates an access token in the org of --org. Prints the secret alone on stdout
and a summary (name, roles, expiry) on stderr, so T=$(sopctl token create ...)
keeps just the secret. The secret is shown only this once. With -o json prints
the whole response, secret included, as JSON on stdout instead.
Needs ADMIN in the org (a server admin token for any org); nobody can grant a
role they do not hold.
  --user USER           who uses the token, e.g. an email or CRM user id (required)
  --role ROLE           a role of the token, repeatable, at least one: SDR, AE,
                        SALES_MANAGER, SALES_OPS, MARKETING, VP_SALES,
                        MARKETING_DIRECTOR, ADMIN, INTEGRATION (any case)
  --display-name NAME   a readable name for the user
  --expires DUR         lifetime: 30d, 12h, 90m, 3600s, 1d12h... (default: never)
  --server-admin        a server-admin token, which may administer every org;
                        needs a server admin token. Keep one without --expires:
                        sopd refuses to revoke the last of those.
  --crm CRM             INTEGRATION tokens (required there): the CRM the
                        integration serves, salesforce or hubspot; the org's
                        role map for it gives the viewers it acts for their roles
  --delegable-roles ROLE[,ROLE...]
                        INTEGRATION tokens (required there): the most a viewer
                        may get, whatever the role map says; comma-separated
                        and/or repeatable; not INTEGRATION or ADMIN
  --hubspot-portal-id ID
                        HubSpot INTEGRATION tokens: the HubSpot account whose
                        signed requests (hubspot.fetch) act as this token
  --hubspot-client-secret-file FILE
                        with --hubspot-portal-id: read the HubSpot app's client
                        secret, which signs its requests, from FILE (surrounding
                        whitespace is ignored); never given on the command line
Example:
  T=$(sopctl --org acme token create --user dana@acme.com --role SDR --expires 90d)
  sopctl token create --user salesforce-integration --role INTEGRATION --crm salesforce --delegable-roles SDR,AE,SALES_MANAGER
)"},
      {Command::kTokenList,
       "token list",
       "list the org's access tokens",
       "",
       {{"all", false, false}},
       R"(Usage: sopctl token list [--all]
Lists the access tokens of the org of --org (every page), never their secrets:
name, user, roles, creation and expiry times, status (active, revoked,
expired). Needs ADMIN.
  --all   include revoked and expired tokens
)"},
      {Command::kTokenGet,
       "token get",
       "show an access token",
       "NAME",
       {},
       R"(Usage: sopctl token get NAME
Shows one access token, active or not, as token list does, never its secret.
Needs ADMIN.
)",
       "NAME is a full name (orgs/ORG/tokens/ID) or a bare ID in the org of --org.\n"},
      {Command::kTokenRevoke,
       "token revoke",
       "revoke an access token",
       "NAME",
       {},
       R"(Usage: sopctl token revoke NAME
Revokes an access token at once: every later call with it is UNAUTHENTICATED.
Needs ADMIN.
)",
       "NAME is a full name (orgs/ORG/tokens/ID) or a bare ID in the org of --org.\n"},
      {Command::kOrgCreate,
       "org create",
       "create an org",
       "ID",
       {{"display-name", true, false}},
       R"(Usage: sopctl org create ID [--display-name NAME]
Creates the org orgs/ID. Needs a server admin token.
  --display-name NAME   the org's readable name
)",
       "ID is 1-63 of [a-z0-9-], starting with a letter.\n"},
      {Command::kOrgList,
       "org list",
       "list every org",
       "",
       {},
       R"(Usage: sopctl org list
Lists every org (every page): name, display name, creation time. Needs a server
admin token.
)"},
      {Command::kOrgGet,
       "org get",
       "show an org",
       "NAME",
       {},
       R"(Usage: sopctl org get NAME
Shows one org: name, display name, creation time. Needs a server admin token.
)",
       "NAME is a full name (orgs/ID) or a bare ID.\n"},
      {Command::kRoleMapGet,
       "rolemap get",
       "show the org's role map for a CRM",
       "CRM",
       {},
       R"(Usage: sopctl rolemap get CRM
Shows the org's role map for a CRM: which of our roles each CRM role gives the
viewers an INTEGRATION token acts for, one line per entry, "CRM ROLE -> ROLES".
A viewer gets the roles of every entry that matches them, cut to the token's
delegable roles; none matches: no role. With -o json prints the RoleMap.
Needs ADMIN.
)",
       kRoleMapHelp},
      {Command::kRoleMapSet,
       "rolemap set",
       "replace the org's role map for a CRM",
       "CRM",
       {{"entry", true, true}},
       R"(Usage: sopctl rolemap set CRM --entry "CRM ROLE=ROLE[,ROLE...]" [--entry ...]
Replaces the org's role map for a CRM with the entries given (at least one),
then prints it as "rolemap get" does. Needs ADMIN.
  --entry "CRM ROLE=ROLE[,ROLE...]"
                  a CRM role (profile, role or team name, exact and
                  case-sensitive), "user:" and a CRM user id or email (HubSpot
                  viewers), or "*" for every viewer; after the last '=' our
                  roles, comma-separated (any case; not INTEGRATION).
                  Repeatable
Example:
  sopctl rolemap set salesforce --entry "Inside Sales=SDR" --entry "*=SDR"
  sopctl rolemap set hubspot --entry "user:ae@example.com=AE,SDR"
)",
       kRoleMapHelp},
      {Command::kFieldMapGet,
       "fieldmap get",
       "show the org's field map for a CRM",
       "CRM",
       {},
       R"(Usage: sopctl fieldmap get CRM
Shows the org's field map for a CRM: which CRM field becomes which of our
context fields and how its value is read (TYPE), and which CRM object is which
record type. While the org has stored none, sopd's default map for the CRM
applies, and the output says (default map). With -o json prints the FieldMap, which "fieldmap
set --file" reads back. Needs SALES_OPS or ADMIN.
)",
       kFieldMapHelp},
      {Command::kFieldMapSet,
       "fieldmap set",
       "replace the org's field map for a CRM from a file",
       "CRM",
       {{"file", true, false}},
       R"(Usage: sopctl fieldmap set CRM -f FILE
Replaces the org's field map for a CRM with the one in a YAML or JSON file, then
prints it as "fieldmap get" does. CRM fields the map leaves out are dropped from
lookups' contexts. Needs SALES_OPS or ADMIN.
  -f, --file FILE   the map (required):
                      fields:
                        - {crm_field: Status, field: lead_status, type: STRING}
                        - {crm_field: MQL_Score__c, field: lead_score, type: NUMBER}
                      record_types:
                        - {crm_object: "0-1", record_type: Contact}
                    type is STRING, NUMBER, BOOL, TIMESTAMP or STRING_LIST (any
                    case, FIELD_TYPE_ prefix optional); "sopctl fieldmap get CRM
                    -o json" prints a map in this form
)",
       kFieldMapHelp},
      {Command::kSubmit,
       "submit",
       "send an SOP's draft for review",
       "NAME",
       {{"comment", true, false}},
       R"(Usage: sopctl submit NAME [--comment TEXT]
Sends an SOP's draft for review: it becomes IN_REVIEW, awaiting the sign-off of
each required approver role (see "sopctl list" and "sopctl get"). Any later
change returns it to DRAFT. The SOP's owner or an editor (SALES_OPS, ADMIN).
  --comment TEXT   a note for the approvers
)",
       kNameHelp},
      {Command::kApprove,
       "approve",
       "sign off an SOP's draft under review",
       "NAME",
       {{"role", true, false}, {"comment", true, false}, {"revision", true, false}},
       R"(Usage: sopctl approve NAME [--role ROLE] [--comment TEXT] [--revision N]
Signs the revision under review off for one of the SOP's required approver
roles you hold; once every required role has, the draft is APPROVED and
"sopctl publish" may publish it. Each role signs once, and nobody who changed
the draft may approve it.
  --role ROLE      the required role to sign for (any case); may be left out
                   when you hold exactly one required role still awaited
  --comment TEXT   a note with the approval
  --revision N     the revision you reviewed: ABORTED if another one is under
                   review now ("sopctl get NAME" shows it after "Submitted:")
)",
       kNameHelp},
      {Command::kReject,
       "reject",
       "turn down an SOP's draft under review",
       "NAME",
       {{"role", true, false}, {"comment", true, false}, {"revision", true, false}},
       R"(Usage: sopctl reject NAME --comment TEXT [--role ROLE] [--revision N]
Turns the revision under review down: the draft returns to DRAFT and its
approvals are void.
  --comment TEXT   why (required)
  --role ROLE      the required role to reject for, as for "sopctl approve"
  --revision N     the revision you reviewed, as for "sopctl approve"
)",
       kNameHelp},
      {Command::kDiff,
       "diff",
       "show what changed between two revisions of an SOP",
       "NAME REV_A REV_B",
       {},
       R"(Usage: sopctl diff NAME REV_A REV_B
Shows what changed from revision REV_A to REV_B, grouped by section (title,
steps, targeting_rules, ...): each changed field's path, its value before
("-") and after ("+"), and for instructions and other text a line diff.
Coloured when stdout is a terminal and NO_COLOR is unset. With -o json prints
the SopDiff.
Example:
  sopctl diff mql-handoff 3 draft
)",
       "NAME is a full name (orgs/ORG/sops/ID) or a bare ID in the org of --org.\n"
       "REV_A and REV_B are revision ids (see \"sopctl history\"), \"live\" (the\n"
       "published revision) or \"draft\" (the current draft).\n"},
      {Command::kRestore,
       "restore",
       "make an earlier revision's content the draft again",
       "NAME REV",
       {},
       R"(Usage: sopctl restore NAME REV
Makes revision REV's content the SOP's draft again: a new revision, which goes
through review like any change, and is not live until published.
)",
       "NAME is a full name (orgs/ORG/sops/ID) or a bare ID in the org of --org.\n"
       "REV is a revision id (see \"sopctl history\").\n"},
      {Command::kReviewed,
       "reviewed",
       "record that the owner reviewed a published SOP",
       "NAME",
       {{"comment", true, false}},
       R"(Usage: sopctl reviewed NAME [--comment TEXT]
Records that the SOP's owner reviewed the live SOP without changing it: its
next review moves one review cycle on. The owner or an editor.
  --comment TEXT   what the review found
)",
       kNameHelp},
      {Command::kReviewsDue,
       "reviews due",
       "list published SOPs whose review is due",
       "",
       {{"within", true, false}},
       R"(Usage: sopctl reviews due [--within DUR]
Lists the org's published SOPs whose owner review is overdue, soonest first:
name, next review time (UTC), owner, title.
  --within DUR   also those due within DUR from now: 30d, 12h, 1d12h...
)"},
      {Command::kCommentAdd,
       "comment add",
       "comment on an SOP or one of its steps",
       "NAME TEXT",
       {{"step", true, false}},
       R"(Usage: sopctl comment add NAME TEXT [--step N]
Adds a comment (Markdown) on an SOP's draft, or on one of its steps. Anyone
who may read the draft may comment. Prints the comment's name.
  --step N   the step it is on (its ordinal, from 1); default: the whole SOP
)",
       kNameHelp},
      {Command::kCommentList,
       "comment list",
       "list the comments on an SOP",
       "NAME",
       {{"unresolved", false, false}},
       R"(Usage: sopctl comment list NAME [--unresolved]
Lists the comments on an SOP, oldest first: id, step, author, time, whether
resolved, and the text.
  --unresolved   leave resolved comments out
)",
       kNameHelp},
      {Command::kCommentResolve,
       "comment resolve",
       "mark a comment resolved",
       "COMMENT",
       {},
       R"(Usage: sopctl comment resolve COMMENT
Marks a comment resolved: its author, the SOP's owner or an editor.
)",
       "COMMENT is a full name (orgs/ORG/sops/ID/comments/CID) or SOP_ID/CID in the\n"
       "org of --org (\"sopctl comment list\" shows the ids).\n"},
      {Command::kAuditList,
       "audit list",
       "list the org's audit events",
       "",
       {{"sop", true, false},
        {"actor", true, false},
        {"since", true, false},
        {"until", true, false}},
       R"(Usage: sopctl audit list [--sop NAME] [--actor ID] [--since TIME] [--until TIME]
Lists the audit trail of the org of --org, oldest first (every page): sequence,
time (UTC), actor, action, resource and detail. Needs ADMIN, SALES_OPS,
VP_SALES or MARKETING_DIRECTOR.
  --sop NAME     only events on this SOP (full name or bare id) and its comments
  --actor ID     only this user's events
  --since TIME   only events at or after TIME (RFC 3339, e.g. 2024-05-01T00:00:00Z)
  --until TIME   only events before TIME (RFC 3339)
)"},
      {Command::kAuditVerify,
       "audit verify",
       "check that the org's audit trail is intact",
       "",
       {{"head-file", true, false}},
       R"(Usage: sopctl audit verify [--head-file FILE]
Checks every link of the org's audit chain and prints "intact", the events
checked and the head. When a link is broken prints the first broken sequence
and what is wrong, and exits 1.
  --head-file FILE   also check that the head saved earlier in FILE (by
                     "sopctl audit head -o json > FILE") is still in the chain,
                     catching a truncation or rollback
)"},
      {Command::kAuditHead,
       "audit head",
       "show where the org's audit trail ends",
       "",
       {},
       R"(Usage: sopctl audit head
Prints the newest audit event's sequence and hash. Save it elsewhere with
-o json, and give it to "sopctl audit verify --head-file" later.
)"},
      {Command::kAdminBackup,
       "admin backup",
       "write an online backup of every org to a new directory",
       "DEST",
       {},
       R"(Usage: sopctl admin backup DEST
Takes a consistent backup of the whole database (every org) while sopd keeps
serving, and writes it to the new directory DEST: the database's files under
DEST/db and DEST/backup-manifest.json (each file's size and SHA-256, what the
backup holds, each org's audit head). Written to a temporary directory beside
DEST, checked against the manifest and synced, then renamed: DEST is complete
or absent. Needs a server admin token. Restore it with
"sopd --data-dir DIR --restore-from DEST". -o json prints the manifest.
)",
       "DEST must not exist, or be an empty directory.\n"},
      {Command::kWebhookCreate,
       "webhooks create",
       "send the org's SOP changes to a URL, signed",
       "",
       {{"url", true, false},
        {"secret-file", true, false},
        {"secret-env", true, false},
        {"events", true, false},
        {"format", true, false},
        {"max-attempts", true, false},
        {"id", true, false},
        {"description", true, false}},
       R"(Usage: sopctl webhooks create --url URL (--secret-file F | --secret-env VAR)
         [--events TYPES] [--format json|slack] [--max-attempts N] [--id ID]
Creates a webhook: sopd POSTs each of the org's events to URL, signed with
the secret (X-SopSidebar-Signature: t=UNIX,v1=HEX HMAC-SHA256 of "UNIX.BODY";
docs/EVENTS.md), retrying failures with backoff, then dead-lettering them.
Needs SALES_OPS or ADMIN.
  --url URL          an http:// URL (https:// is not supported yet)
  --secret-file F    read the secret (16-256 characters, surrounding whitespace
                     ignored) from F; never given on the command line
  --secret-env VAR   or from the environment variable VAR
  --events TYPES     only these, comma-separated: changed, published, deleted,
                     review-due, sign-off-requested (default: all)
  --format F         json (the event, proto3 JSON; default) or slack
                     ({"text": ...} for a Slack incoming webhook)
  --max-attempts N   attempts before a delivery is dead-lettered, 1-20 (default 5)
  --id ID            the webhook's id (default: generated)
)"},
      {Command::kWebhookList,
       "webhooks list",
       "list the org's webhooks",
       "",
       {},
       R"(Usage: sopctl webhooks list
Lists the org's webhooks (never their secrets). Needs SALES_OPS or ADMIN.
)"},
      {Command::kWebhookGet,
       "webhooks get",
       "show a webhook",
       "NAME",
       {},
       R"(Usage: sopctl webhooks get NAME
Shows one webhook (never its secret). Needs SALES_OPS or ADMIN.
)",
       "NAME is a full name (orgs/ORG/webhooks/ID) or a bare ID in the org of --org.\n"},
      {Command::kWebhookDelete,
       "webhooks delete",
       "delete a webhook and its deliveries",
       "NAME",
       {},
       R"(Usage: sopctl webhooks delete NAME
Deletes a webhook; its pending deliveries are dropped. Needs SALES_OPS or ADMIN.
)",
       "NAME is a full name (orgs/ORG/webhooks/ID) or a bare ID in the org of --org.\n"},
      {Command::kWebhookDeliveries,
       "webhooks deliveries",
       "list a webhook's deliveries (the delivery log)",
       "NAME",
       {{"dead", false, false}},
       R"(Usage: sopctl webhooks deliveries NAME [--dead]
Lists the webhook's deliveries, newest first (the newest 1,000 are kept): state
(PENDING, DELIVERED, DEAD), attempts, replays, last HTTP status and error, event.
Needs SALES_OPS or ADMIN.
  --dead   only the dead-letter list (replay them with "webhooks replay")
)",
       "NAME is a full name (orgs/ORG/webhooks/ID) or a bare ID in the org of --org.\n"},
      {Command::kWebhookReplay,
       "webhooks replay",
       "send a dead-lettered delivery again",
       "DELIVERY",
       {},
       R"(Usage: sopctl webhooks replay DELIVERY
Sends a DEAD delivery again with a fresh retry budget. Needs SALES_OPS or ADMIN.
)",
       "DELIVERY is a full name (orgs/ORG/webhooks/ID/deliveries/ID).\n"},
      {Command::kChanges,
       "changes",
       "print the org's SOP changes as they happen",
       "",
       {{"types", true, false}},
       R"(Usage: sopctl changes [--types TYPES]
Streams the org's events (WatchChanges) from now on, one line each: time,
type, SOP, revision, actor, title. Only SOPs whose draft you may read. Runs
until interrupted; -o json prints each event as a JSON line.
  --types TYPES   only these, comma-separated: changed, published, deleted,
                  review-due, sign-off-requested
)"},
      {Command::kDiagram,
       "diagram",
       "draw an SOP as a flowchart or swimlanes (Mermaid, DOT, SVG, PNG)",
       "NAME_OR_FILE",
       {{"kind", true, false}, {"format", true, false}, {"out", true, false}},
       R"(Usage: sopctl diagram NAME_OR_FILE [--kind flowchart|swimlane]
                      [--format mermaid|dot|svg|png] [-o FILE]
Draws an SOP: its steps in order, a decision before each step with conditions
("yes" into the step, "no" on to the next), time limits on the edges, then the
cadence touches by day, and the disqualification codes as a dashed branch from
the step that records the code. A flowchart's steps show their role and CRM
updates. --kind swimlane puts each step in the lane of its responsible role,
labels the edges leaving a step with the CRM status change it makes
(lead_status -> "SQL - Accepted") and draws handoffs between lanes bold; the
cadence touches go in the lane of the last step that names a role (the SDR's
when none does). A NAME is drawn by sopd (GetSopDiagram: the current draft,
as "sopctl get" shows it; svg and png rendered here from its DOT); a FILE is
read and drawn offline (no server, no token) and must be a valid SOP file
(see "sopctl validate").
  --kind KIND       flowchart (default) or swimlane
  --format FORMAT   mermaid (default) or dot: the diagram's text; svg or png:
                    the DOT rendered by Graphviz's dot (apt-get install
                    graphviz); png needs -o
  -o, --out FILE    write to FILE instead of stdout (here -o is not --output)
Example:
  sopctl diagram examples/sops/mql-acceptance-handoff.yaml --kind swimlane --format svg -o mql.svg
  sopctl diagram mql-acceptance-handoff --format mermaid
)",
       "NAME is a full name (orgs/ORG/sops/ID) or a bare ID in the org of --org;\n"
       "an argument ending in .yaml, .yml or .json is a FILE.\n"},
      {Command::kPreview,
       "preview",
       "show which CRM records an SOP's draft would gain, lose or rerank",
       "NAME_OR_FILE",
       {{"records", true, false}, {"field-map", true, false}},
       R"(Usage: sopctl preview NAME|FILE --records FILE [--field-map salesforce|hubspot]
Before you submit a change: matches each record in the records file against
the published SOPs (what lookups answer today) and against them with the draft
published, for your roles, and prints per record its id, the change and the
top SOP and step today -> with the draft, then the counts. Changes: GAINED (the
draft becomes the top SOP), LOST (it was the top and is not), RERANKED (its rank
changes otherwise), UNCHANGED (same rank), NOT_MATCHED (it matches neither
time). Read only: nothing is stored. A NAME previews the SOP's saved draft
(needs draft access); a FILE (see "sopctl validate") is sent unsaved: an SOP
whose id it names is replaced by it, else it is previewed as a new SOP.
The records file is CSV (a header row; RFC 4180 quoting) or JSONL (one JSON
object per line; the file ends in .jsonl), at most 10,000 records. Columns are
our field names (lead_status, lead_score ...), or with --field-map the CRM's
(Status, LeadSource, NumberOfEmployees, MQL_Score__c ...), checked against and
typed by the org's field map for it ("sopctl fieldmap get"). Columns record_id
(Salesforce also Id, HubSpot hs_object_id) and record_type (default Lead) are
not fields. Any error in the file is reported as FILE:LINE[:COLUMN] and nothing
is sent. With -o json prints the PreviewTargetingResponse.
  --records FILE       the records, CSV or JSONL (required)
  --field-map CRM      the columns are this CRM's field names: salesforce or hubspot
Example:
  sopctl preview mql-acceptance-handoff --records leads.csv --field-map salesforce
  sopctl preview changed/mql.yaml --records leads.jsonl -o json
)",
       "NAME is a full name (orgs/ORG/sops/ID) or a bare ID in the org of --org;\n"
       "an argument ending in .yaml, .yml or .json is a FILE.\n"},
      {Command::kDraft,
       "draft",
       "draft an SOP from a brief with sopd's drafter, saved as a DRAFT",
       "BRIEF",
       {{"model", false, false}, {"id", true, false}, {"dry-run", false, false}},
       R"(Usage: sopctl draft BRIEF [--model] [--id ID] [--dry-run]
Asks sopd to draft an SOP from BRIEF (what you want, in words: see
docs/AUTHORING.md) and saves it as a DRAFT of --org, never published: review
it, edit it, then "sopctl submit". Prints the saved draft as YAML that
"sopctl apply" reads back (save it with > FILE to edit it).
  --model     draft with the model sopd is configured with
              (--drafter-model-url); default: the built-in drafter
  --id ID     the new SOP's id (default: one sopd picks)
  --dry-run   draft and validate, save nothing
Example:
  sopctl draft "inbound MQL, 5-touch cadence over 5 days, call/email, 5-minute first contact"
)",
       "BRIEF: at most 4,000 characters, quoted as one argument.\n"},
      {Command::kAnalyticsSla, "analytics sla", "first-contact SLA compliance", "",
       ReportFlags(/*filters=*/true),
       R"(Usage: sopctl analytics sla [--by DIMS] [--from DAY] [--to DAY] [--source S ...] [--sop NAME]
First contacts inside the SOP's first_contact_window: count, within, compliance
and p50 / p90 time to first contact, one row per group. An SDR or AE sees their
own figures only.
)",
       kReportHelp},
      {Command::kAnalyticsCodes, "analytics codes", "disqualification codes and rejection rates",
       "", ReportFlags(/*filters=*/true),
       R"(Usage: sopctl analytics codes [--by DIMS] [--from DAY] [--to DAY] [--source S ...] [--sop NAME]
Records that reached an SOP with disqualification codes, rejections per code,
and the rejection rate, one row per group.
)",
       kReportHelp},
      {Command::kAnalyticsUsage, "analytics usage", "impressions and step completion per SOP", "",
       ReportFlags(/*filters=*/true),
       R"(Usage: sopctl analytics usage [--by DIMS] [--from DAY] [--to DAY] [--source S ...] [--sop NAME]
Impressions, records shown, steps completed (and per step) and assets opened,
one row per group; --by sop,revision shows whether a new revision changed
behaviour.
)",
       kReportHelp},
      {Command::kAnalyticsCoverage, "analytics coverage", "contexts looked up with no matching SOP",
       "", ReportFlags(/*filters=*/false),
       R"(Usage: sopctl analytics coverage [--by DIMS] [--from DAY] [--to DAY]
Lookups that matched no SOP, by record type and status (or --by), most first.
Needs SALES_MANAGER, SALES_OPS, MARKETING, VP_SALES, MARKETING_DIRECTOR or ADMIN.
)",
       kReportHelp},
      {Command::kTemplatesList,
       "templates list",
       "list the org's SOP templates",
       "",
       {},
       R"(Usage: sopctl templates list
Lists the SOP templates of --org (every page): name, placeholders, required
fields and SLA requirements, and title. Any person role may read templates.
)"},
      {Command::kTemplatesGet,
       "templates get",
       "show an SOP template",
       "NAME",
       {},
       R"(Usage: sopctl templates get NAME
Shows a template: its placeholders (and defaults), the fields and SLA terms an
SOP made from it must carry before it can be submitted, and its SOP. With -o
json the output can be edited and given back to "sopctl templates apply -f".
)",
       "NAME is a full name (orgs/ORG/templates/ID) or a bare ID in the org of --org.\n"},
      {Command::kTemplatesApply,
       "templates apply",
       "create or update SOP templates from YAML/JSON files",
       "",
       {{"file", true, true}},
       R"(Usage: sopctl templates apply -f FILE|DIR [-f FILE|DIR]...
Creates or updates SOP templates from YAML or JSON files (format: docs/AUTHORING.md,
"Templates"; examples/templates holds the shipped ones). The template id is the
one in the file's name field, else the file's base name. Every file is checked
first: if any has a problem, each is printed as "FILE:LINE: PATH: REASON" on
stderr and nothing is sent. Then prints one line per template: "created",
"updated" or "unchanged" and its name. Applying the same files again changes
nothing. Needs SALES_OPS or ADMIN.
  -f, --file PATH   a file or directory (required; repeatable)
Example:
  sopctl templates apply -f examples/templates
)"},
      {Command::kNew,
       "new",
       "create an SOP from a template",
       "",
       {{"template", true, false}, {"set", true, true}, {"id", true, false}},
       R"(Usage: sopctl new --template NAME [--set KEY=VALUE]... [--id ID]
Creates a draft SOP from a template: the template's SOP with its {{KEY}}
placeholders filled from --set (then from their defaults). The SOP keeps the
template's requirements: "sopctl submit" refuses it, naming each unmet one,
until its fields and SLA terms meet them (edit it with "sopctl get -o json" and
"sopctl apply -f"). Prints the created SOP.
  --template NAME   the template: a bare id in the org of --org or
                    orgs/ORG/templates/ID (required)
  --set KEY=VALUE   a placeholder's value, split at the first '=' (repeatable)
  --id ID           the SOP's id (default: one the server picks)
Example:
  sopctl new --template sla-handoff --set team="EMEA SDRs" --id emea-mql-handoff
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

// True when `word` starts two-word commands ("token" of "token create").
bool IsCommandGroup(absl::string_view word) {
  for (const CommandSpec& spec : Commands()) {
    if (absl::StartsWith(spec.name, absl::StrCat(word, " "))) return true;
  }
  return false;
}

// The second words of the commands of `group`: "create, list, revoke".
std::string GroupCommands(absl::string_view group) {
  std::vector<absl::string_view> words;
  for (const CommandSpec& spec : Commands()) {
    if (absl::StartsWith(spec.name, absl::StrCat(group, " "))) {
      words.push_back(spec.name.substr(group.size() + 1));
    }
  }
  return absl::StrJoin(words, ", ");
}

std::string CommandUsage(const CommandSpec& spec) {
  return absl::StrCat(spec.usage, spec.argument_help, "\n", kGlobalFlagsPointer);
}

// Commands and their summaries, one a line, indented.
std::string CommandList(absl::string_view group) {
  std::string list;
  for (const CommandSpec& spec : Commands()) {
    if (!group.empty() && !absl::StartsWith(spec.name, absl::StrCat(group, " "))) continue;
    // Names longer than the column still get two spaces.
    const size_t pad = spec.name.size() + 2 > 14 ? 2 : 14 - spec.name.size();
    absl::StrAppend(&list, "  ", spec.name, std::string(pad, ' '), spec.summary, "\n");
  }
  return list;
}

std::string GroupUsage(absl::string_view group) {
  return absl::StrCat("Usage: sopctl ", group, " COMMAND [flags]\n\nCommands:\n",
                      CommandList(group), "\nRun \"sopctl ", group,
                      " COMMAND --help\" for a command's flags.\n", kGlobalFlagsPointer);
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

// The --by names of the report dimensions.
constexpr std::pair<absl::string_view, v1::AnalyticsDimension> kDimensions[] = {
    {"week", v1::WEEK},         {"day", v1::DAY},           {"source", v1::LEAD_SOURCE},
    {"campaign", v1::CAMPAIGN}, {"team", v1::TEAM},         {"rep", v1::REP},
    {"sop", v1::SOP},           {"revision", v1::REVISION}, {"record-type", v1::RECORD_TYPE},
    {"status", v1::STATUS},
};

std::optional<std::string> Single(const FlagValues& flags, absl::string_view name) {
  auto it = flags.find(name);
  if (it == flags.end()) return std::nullopt;
  return it->second.back();
}

// The value of a flag that must not be empty when given (--token-file=).
absl::StatusOr<std::optional<std::string>> NonEmpty(const FlagValues& flags,
                                                    absl::string_view name) {
  std::optional<std::string> value = Single(flags, name);
  if (value && value->empty()) return UsageError(absl::StrCat("--", name, ": empty value"));
  return value;
}

std::optional<std::string> NonEmptyEnv(const EnvLookup& env, const std::string& name) {
  std::optional<std::string> value = env(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

absl::Status ResolveToken(const FlagValues& flags, const EnvLookup& env, GlobalOptions* global) {
  SOP_ASSIGN_OR_RETURN(const std::optional<std::string> token, NonEmpty(flags, "token"));
  SOP_ASSIGN_OR_RETURN(const std::optional<std::string> file, NonEmpty(flags, "token-file"));
  if (token) {
    global->token = *token;
  } else if (file) {
    global->token_file = *file;
  } else if (auto env_token = NonEmptyEnv(env, "SOPCTL_TOKEN")) {
    global->token = *env_token;
  } else if (auto env_file = NonEmptyEnv(env, "SOPCTL_TOKEN_FILE")) {
    global->token_file = *env_file;
  }
  return absl::OkStatus();
}

absl::Status ResolveTls(const FlagValues& flags, GlobalOptions* global) {
  SOP_ASSIGN_OR_RETURN(const std::optional<std::string> ca, NonEmpty(flags, "tls-ca"));
  SOP_ASSIGN_OR_RETURN(const std::optional<std::string> cert, NonEmpty(flags, "tls-cert"));
  SOP_ASSIGN_OR_RETURN(const std::optional<std::string> key, NonEmpty(flags, "tls-key"));
  SOP_ASSIGN_OR_RETURN(const std::optional<std::string> name, NonEmpty(flags, "tls-server-name"));
  if (cert.has_value() != key.has_value()) {
    return UsageError("--tls-cert and --tls-key go together (mutual TLS)");
  }
  global->tls = flags.count("tls") > 0 || ca || cert;
  if (name && !global->tls) {
    return UsageError("--tls-server-name needs TLS (--tls, --tls-ca or --tls-cert)");
  }
  global->tls_ca_file = ca.value_or("");
  global->tls_cert_file = cert.value_or("");
  global->tls_key_file = key.value_or("");
  global->tls_server_name = name.value_or("");
  return absl::OkStatus();
}

absl::Status ResolveViewer(const FlagValues& flags, GlobalOptions* global) {
  SOP_ASSIGN_OR_RETURN(const std::optional<std::string> id, NonEmpty(flags, "viewer-id"));
  const auto roles = flags.find("viewer-crm-role");
  if (!id && (flags.count("viewer-name") > 0 || roles != flags.end())) {
    return UsageError("--viewer-name and --viewer-crm-role need --viewer-id");
  }
  global->viewer_id = id.value_or("");
  global->viewer_name = Single(flags, "viewer-name").value_or("");
  if (roles != flags.end()) global->viewer_crm_roles = roles->second;
  return absl::OkStatus();
}

// A CRM named on the command line: one sopd has maps for. `what` says where
// ("--crm", "rolemap get").
absl::Status CheckCrm(absl::string_view what, absl::string_view crm) {
  if (absl::c_linear_search(kCrmNames, crm)) return absl::OkStatus();
  return UsageError(absl::StrCat(what, ": unknown CRM \"", crm, "\" (one of ",
                                 absl::StrJoin(kCrmNames, ", "), ")"));
}

// The server's address(es) as the client library takes them: one, a list of
// IP addresses or dns:///NAME:PORT (client::ChannelTargetFor). `what` names
// where it came from, --server or $SOPCTL_SERVER.
absl::Status CheckServer(absl::string_view what, const GlobalOptions& global) {
  absl::StatusOr<client::ChannelTarget> target = client::ChannelTargetFor(global.server, what);
  if (!target.ok()) return UsageError(target.status().message());
  if (global.tls && target->address_list && global.tls_server_name.empty()) {
    return UsageError(absl::StrCat(
        what,
        " lists several IP addresses: TLS then needs --tls-server-name, the name every "
        "node's certificate carries (or name the nodes as dns:///NAME:PORT)"));
  }
  return absl::OkStatus();
}

absl::Status ResolveGlobals(const FlagValues& flags, const EnvLookup& env, GlobalOptions* global) {
  const std::optional<std::string> server_flag = Single(flags, "server");
  const std::optional<std::string> server_env = env("SOPCTL_SERVER");
  global->server = server_flag.value_or(server_env.value_or("127.0.0.1:50051"));
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
    } else if (*output == "csv") {
      global->output = OutputFormat::kCsv;
    } else if (*output != "text" && *output != "table") {
      return UsageError(
          absl::StrCat("--output: expected text (or table), json or csv, got \"", *output, "\""));
    }
  }
  if (auto timeout = Single(flags, "timeout")) {
    if (!absl::ParseDuration(*timeout, &global->timeout) ||
        global->timeout <= absl::ZeroDuration() || global->timeout == absl::InfiniteDuration()) {
      return UsageError(absl::StrCat("--timeout: expected a positive duration such as 10s, got \"",
                                     *timeout, "\""));
    }
  }
  SOP_RETURN_IF_ERROR(ResolveToken(flags, env, global));
  SOP_RETURN_IF_ERROR(ResolveViewer(flags, global));
  SOP_RETURN_IF_ERROR(ResolveTls(flags, global));
  return CheckServer(server_flag ? "--server" : "$SOPCTL_SERVER", *global);
}

absl::Status BuildLookup(const FlagValues& flags, const std::string& org,
                         v1::LookupSopsRequest* request) {
  v1::CrmContext& context = *request->mutable_context();
  context.set_org(OrgName(org));
  std::optional<std::string> type = Single(flags, "record-type");
  if (!type) return UsageError("lookup needs --record-type, e.g. --record-type Lead");
  context.set_record_type(*type);
  context.set_record_id(Single(flags, "record-id").value_or(""));
  if (auto crm = Single(flags, "crm")) {
    SOP_RETURN_IF_ERROR(CheckCrm("--crm", *crm));
    context.set_crm(*crm);
  }
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
  if (auto as_of = Single(flags, "as-of")) {
    if (flags.count("watch") > 0) {
      return UsageError("--as-of and --watch cannot be combined (a watch follows the present)");
    }
    SOP_ASSIGN_OR_RETURN(const absl::Time time, ParseRfc3339("--as-of", *as_of));
    *request->mutable_as_of_time() = ToProtoTimestamp(time);
  }
  request->set_include_near_misses(flags.count("near-misses") > 0);
  if (request->include_near_misses() && flags.count("watch") > 0) {
    return UsageError(
        "--watch and --near-misses cannot be combined (watches carry no near misses)");
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

absl::Status BuildCreateToken(const FlagValues& flags, const std::string& org,
                              v1::CreateTokenRequest* request, std::string* secret_file_out) {
  request->set_parent(OrgName(org));
  v1::Token& token = *request->mutable_token();
  SOP_ASSIGN_OR_RETURN(const std::optional<std::string> user, NonEmpty(flags, "user"));
  if (!user) return UsageError("token create needs --user, e.g. --user dana@example.com");
  token.set_user_id(*user);
  token.set_display_name(Single(flags, "display-name").value_or(""));
  auto roles = flags.find("role");
  if (roles == flags.end()) return UsageError("token create needs --role, e.g. --role SDR");
  for (const std::string& text : roles->second) {
    SOP_ASSIGN_OR_RETURN(const v1::Role role, ParseRole(text));
    token.add_roles(role);
  }
  if (auto expires = Single(flags, "expires")) {
    absl::StatusOr<absl::Duration> ttl = ParseLifetime(*expires);
    if (!ttl.ok()) return UsageError(absl::StrCat("--expires: ", ttl.status().message()));
    request->mutable_ttl()->set_seconds(absl::ToInt64Seconds(*ttl));
  }
  token.set_server_admin(flags.count("server-admin") > 0);
  if (auto crm = Single(flags, "crm")) {
    SOP_RETURN_IF_ERROR(CheckCrm("--crm", *crm));
    token.set_crm(*crm);
  }
  if (auto delegable = flags.find("delegable-roles"); delegable != flags.end()) {
    for (const std::string& text : delegable->second) {
      SOP_ASSIGN_OR_RETURN(const std::vector<v1::Role> roles,
                           ParseRoleList(text, "--delegable-roles"));
      for (v1::Role role : roles) token.add_delegable_roles(role);
    }
  }
  SOP_ASSIGN_OR_RETURN(const std::optional<std::string> portal,
                       NonEmpty(flags, "hubspot-portal-id"));
  token.set_hubspot_portal_id(portal.value_or(""));
  SOP_ASSIGN_OR_RETURN(const std::optional<std::string> secret_file,
                       NonEmpty(flags, "hubspot-client-secret-file"));
  if (portal.has_value() != secret_file.has_value()) {
    return UsageError("--hubspot-portal-id and --hubspot-client-secret-file go together");
  }
  *secret_file_out = secret_file.value_or("");
  return absl::OkStatus();
}

absl::Status BuildUpdateRoleMap(const FlagValues& flags, const std::string& name,
                                v1::UpdateRoleMapRequest* request) {
  request->mutable_role_map()->set_name(name);
  auto entries = flags.find("entry");
  if (entries == flags.end()) {
    return UsageError("rolemap set needs --entry, e.g. --entry \"Inside Sales=SDR\"");
  }
  for (const std::string& text : entries->second) {
    SOP_ASSIGN_OR_RETURN(*request->mutable_role_map()->add_entries(), ParseRoleMapEntry(text));
  }
  return absl::OkStatus();
}

absl::Status BuildPublish(const FlagValues& flags, const std::string& name,
                          v1::PublishSopRequest* request) {
  request->set_name(name);
  request->set_emergency(flags.count("emergency") > 0);
  SOP_ASSIGN_OR_RETURN(const std::optional<std::string> reason, NonEmpty(flags, "reason"));
  if (request->emergency() && !reason) {
    return UsageError("--emergency needs --reason, e.g. --reason \"pricing error live\"");
  }
  if (!request->emergency() && reason) return UsageError("--reason goes with --emergency");
  request->set_reason(reason.value_or(""));
  return absl::OkStatus();
}

// approve and reject: the SOP, --role and --comment (required to reject).
absl::Status BuildSignOff(const CommandSpec& command, const FlagValues& flags,
                          const std::string& name, v1::ApproveSopRequest* approve,
                          v1::RejectSopRequest* reject) {
  v1::Role role = v1::ROLE_UNSPECIFIED;
  if (auto text = Single(flags, "role")) {
    SOP_ASSIGN_OR_RETURN(role, ParseRole(*text));
  }
  SOP_ASSIGN_OR_RETURN(const std::optional<std::string> comment, NonEmpty(flags, "comment"));
  std::string revision_id;
  if (auto revision = Single(flags, "revision")) {
    // The request carries the id alone ("4" for 04).
    SOP_ASSIGN_OR_RETURN(const std::string full,
                         ResolveRevisionName(name, *revision, "--revision", false));
    revision_id = full.substr(full.rfind('/') + 1);
  }
  if (command.command == Command::kApprove) {
    approve->set_name(name);
    approve->set_role(role);
    approve->set_comment(comment.value_or(""));
    approve->set_revision_id(revision_id);
    return absl::OkStatus();
  }
  if (!comment) {
    return UsageError("reject needs --comment saying why, e.g. --comment \"step 2 is wrong\"");
  }
  reject->set_name(name);
  reject->set_role(role);
  reject->set_comment(*comment);
  reject->set_revision_id(revision_id);
  return absl::OkStatus();
}

absl::Status BuildAuditList(const FlagValues& flags, const std::string& org,
                            v1::ListAuditEventsRequest* request) {
  request->set_parent(OrgName(org));
  SOP_ASSIGN_OR_RETURN(const std::optional<std::string> sop, NonEmpty(flags, "sop"));
  if (sop) request->set_resource(ResolveSopName(*sop, org));
  SOP_ASSIGN_OR_RETURN(const std::optional<std::string> actor, NonEmpty(flags, "actor"));
  request->set_actor(actor.value_or(""));
  std::optional<absl::Time> since, until;
  if (auto text = Single(flags, "since")) {
    SOP_ASSIGN_OR_RETURN(since, ParseRfc3339("--since", *text));
    *request->mutable_start_time() = ToProtoTimestamp(*since);
  }
  if (auto text = Single(flags, "until")) {
    SOP_ASSIGN_OR_RETURN(until, ParseRfc3339("--until", *text));
    *request->mutable_end_time() = ToProtoTimestamp(*until);
  }
  if (since && until && *until <= *since) {
    return UsageError("--until must be later than --since");
  }
  return absl::OkStatus();
}

// The query of an analytics command: days as given (sopd checks them),
// --by names turned into dimensions.
absl::Status BuildReportQuery(const FlagValues& flags, const std::string& org,
                              v1::ReportQuery* query) {
  query->set_parent(OrgName(org));
  query->set_start_day(Single(flags, "from").value_or(""));
  query->set_end_day(Single(flags, "to").value_or(""));
  if (auto by = Single(flags, "by")) {
    for (absl::string_view name : absl::StrSplit(*by, ',', absl::SkipEmpty())) {
      const auto* found = std::find_if(std::begin(kDimensions), std::end(kDimensions),
                                       [name](const auto& d) { return d.first == name; });
      if (found == std::end(kDimensions)) {
        std::vector<absl::string_view> known;
        for (const auto& d : kDimensions) known.push_back(d.first);
        return UsageError(
            absl::StrCat("--by: \"", name, "\" is not one of ", absl::StrJoin(known, ", ")));
      }
      query->add_group_by(found->second);
    }
  }
  if (auto sources = flags.find("source"); sources != flags.end()) {
    for (const std::string& source : sources->second) query->add_lead_sources(source);
  }
  SOP_ASSIGN_OR_RETURN(const std::optional<std::string> sop, NonEmpty(flags, "sop"));
  if (sop) query->set_sop(ResolveSopName(*sop, org));
  return absl::OkStatus();
}

// diagram: where the SOP comes from, --kind, --format and -o.
absl::Status BuildDiagram(const FlagValues& flags, const std::string& argument,
                          const std::string& org, Invocation* invocation) {
  if (argument.empty()) return UsageError("diagram: NAME_OR_FILE is empty");
  const std::string lower = absl::AsciiStrToLower(argument);
  if (absl::EndsWith(lower, ".yaml") || absl::EndsWith(lower, ".yml") ||
      absl::EndsWith(lower, ".json")) {
    invocation->apply_path = argument;
  } else {
    invocation->name = ResolveSopName(argument, org);
  }
  if (auto kind = Single(flags, "kind")) {
    if (*kind == "flowchart") {
      invocation->diagram_kind = DiagramKind::kFlowchart;
    } else if (*kind == "swimlane") {
      invocation->diagram_kind = DiagramKind::kSwimlane;
    } else {
      return UsageError(
          absl::StrCat("--kind: expected flowchart or swimlane, got \"", *kind, "\""));
    }
  }
  if (auto format = Single(flags, "format")) {
    constexpr std::pair<absl::string_view, DiagramOutput> kFormats[] = {
        {"mermaid", DiagramOutput::kMermaid},
        {"dot", DiagramOutput::kDot},
        {"svg", DiagramOutput::kSvg},
        {"png", DiagramOutput::kPng}};
    const auto* found = std::find_if(std::begin(kFormats), std::end(kFormats),
                                     [&](const auto& f) { return f.first == *format; });
    if (found == std::end(kFormats)) {
      return UsageError(
          absl::StrCat("--format: expected mermaid, dot, svg or png, got \"", *format, "\""));
    }
    invocation->diagram_output = found->second;
  }
  SOP_ASSIGN_OR_RETURN(const std::optional<std::string> out, NonEmpty(flags, "out"));
  invocation->diagram_out = out.value_or("");
  if (invocation->diagram_output == DiagramOutput::kPng && !out) {
    return UsageError("--format png needs -o FILE (a PNG is not text for a terminal)");
  }
  return absl::OkStatus();
}

// The name of the map a rolemap or fieldmap command is about: a bare CRM
// must be one sopd knows.
absl::StatusOr<std::string> CrmMapArgument(const CommandSpec& command, const std::string& argument,
                                           const std::string& org,
                                           absl::string_view collection) {
  if (!absl::StrContains(argument, '/')) SOP_RETURN_IF_ERROR(CheckCrm(command.name, argument));
  return ResolveCrmMapName(argument, org, collection);
}

}  // namespace

std::string Usage() {
  std::string usage =
      "sopctl: manage SOP Sidebar SOPs, search them, see which apply to a CRM\n"
      "record, and administer access tokens, orgs and CRM role and field maps.\n\n"
      "Usage: sopctl [global flags] COMMAND [flags] [NAME]\n\nCommands:\n";
  absl::StrAppend(&usage, CommandList(""), "\n", kGlobalUsage, "\n", kNameHelp,
                  "Run \"sopctl help COMMAND\" or \"sopctl COMMAND --help\" for a command's "
                  "flags.\n"
                  "Exit status: 0 success, 1 error from the server or in a file, or a broken\n"
                  "audit trail, 2 bad usage or no access token (nothing was sent),\n"
                  "3 ties found by \"check --fail-on-ties\".\n");
  return usage;
}

std::string VersionText() { return absl::StrCat("sopctl ", kSopctlVersion, "\n"); }

std::string ResolveSopName(absl::string_view name_or_id, absl::string_view org) {
  if (absl::StrContains(name_or_id, '/')) return std::string(name_or_id);
  return SopName{std::string(org), std::string(name_or_id)}.Full();
}

std::string ResolveTokenName(absl::string_view name_or_id, absl::string_view org) {
  if (absl::StrContains(name_or_id, '/')) return std::string(name_or_id);
  return TokenName{std::string(org), std::string(name_or_id)}.Full();
}

// "changed,published" -> the event types; INVALID_ARGUMENT naming --flag.
absl::StatusOr<std::vector<v1::ChangeEvent::Type>> EventTypes(absl::string_view flag,
                                                              absl::string_view text) {
  std::vector<v1::ChangeEvent::Type> types;
  for (absl::string_view word : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    word = absl::StripAsciiWhitespace(word);
    std::string upper = absl::AsciiStrToUpper(word);
    absl::StrReplaceAll({{"-", "_"}}, &upper);
    v1::ChangeEvent::Type type;
    if (v1::ChangeEvent::Type_Parse(upper, &type) && type != v1::ChangeEvent::TYPE_UNSPECIFIED) {
    } else if (v1::ChangeEvent::Type_Parse(absl::StrCat("SOP_", upper), &type)) {
    } else {
      return UsageError(absl::StrCat("--", flag, ": unknown event type \"", word,
                                     "\" (changed, published, deleted, review-due, "
                                     "sign-off-requested)"));
    }
    types.push_back(type);
  }
  return types;
}

absl::Status BuildCreateWebhook(const FlagValues& flags, absl::string_view org,
                                Invocation* invocation) {
  v1::CreateWebhookRequest& request = invocation->create_webhook;
  request.set_parent(OrgName(org));
  SOP_ASSIGN_OR_RETURN(const std::optional<std::string> url, NonEmpty(flags, "url"));
  if (!url)
    return UsageError("webhooks create needs --url URL, e.g. --url http://127.0.0.1:9000/hook");
  request.mutable_webhook()->set_url(*url);
  SOP_ASSIGN_OR_RETURN(const std::optional<std::string> file, NonEmpty(flags, "secret-file"));
  SOP_ASSIGN_OR_RETURN(const std::optional<std::string> env, NonEmpty(flags, "secret-env"));
  if (file.has_value() == env.has_value()) {
    return UsageError("webhooks create needs one of --secret-file FILE or --secret-env VAR");
  }
  invocation->webhook_secret_file = file.value_or("");
  invocation->webhook_secret_env = env.value_or("");
  if (auto events = Single(flags, "events")) {
    SOP_ASSIGN_OR_RETURN(std::vector<v1::ChangeEvent::Type> types, EventTypes("events", *events));
    for (v1::ChangeEvent::Type type : types) request.mutable_webhook()->add_event_types(type);
  }
  if (auto format = Single(flags, "format")) {
    if (*format == "json") {
      request.mutable_webhook()->set_payload_format(v1::Webhook::JSON);
    } else if (*format == "slack") {
      request.mutable_webhook()->set_payload_format(v1::Webhook::SLACK);
    } else {
      return UsageError(absl::StrCat("--format: \"", *format, "\" is not json or slack"));
    }
  }
  if (auto max = Single(flags, "max-attempts")) {
    SOP_ASSIGN_OR_RETURN(const int n, PositiveInt("max-attempts", *max));
    request.mutable_webhook()->set_max_attempts(n);
  }
  request.set_webhook_id(Single(flags, "id").value_or(""));
  request.mutable_webhook()->set_description(Single(flags, "description").value_or(""));
  return absl::OkStatus();
}

std::string ResolveTemplateName(absl::string_view name_or_id, absl::string_view org) {
  if (absl::StrContains(name_or_id, '/')) return std::string(name_or_id);
  return TemplateName{std::string(org), std::string(name_or_id)}.Full();
}

std::string ResolveOrgName(absl::string_view name_or_id) {
  if (absl::StrContains(name_or_id, '/')) return std::string(name_or_id);
  return OrgName(name_or_id);
}

std::string ResolveCrmMapName(absl::string_view name_or_crm, absl::string_view org,
                              absl::string_view collection) {
  if (absl::StrContains(name_or_crm, '/')) return std::string(name_or_crm);
  return CrmMapFullName(org, collection, name_or_crm);
}

absl::StatusOr<std::string> ResolveRevisionName(absl::string_view sop, absl::string_view rev,
                                                absl::string_view what, bool allow_aliases) {
  int64_t id;
  const bool numeric = absl::SimpleAtoi(rev, &id) && id > 0 && rev[0] != '+';
  if (!numeric && !(allow_aliases && (rev == "live" || rev == "draft"))) {
    return UsageError(absl::StrCat(what, ": expected a revision id (a positive integer)",
                                   allow_aliases ? ", \"live\" or \"draft\"" : "", ", got \"", rev,
                                   "\""));
  }
  return absl::StrCat(sop, "/revisions/", numeric ? absl::StrCat(id) : std::string(rev));
}

absl::StatusOr<std::string> ResolveCommentName(absl::string_view name, absl::string_view org) {
  if (absl::StartsWith(name, "orgs/")) return std::string(name);
  const std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
    return UsageError(
        absl::StrCat("COMMENT: expected SOP_ID/COMMENT_ID or a full name "
                     "(orgs/ORG/sops/ID/comments/CID), got \"",
                     name, "\""));
  }
  return absl::StrCat(SopName{std::string(org), std::string(parts[0])}.Full(), "/comments/",
                      parts[1]);
}

absl::StatusOr<absl::Time> ParseRfc3339(absl::string_view flag, absl::string_view text) {
  absl::Time time;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, std::string(text), &time, &error)) {
    return UsageError(absl::StrCat(flag, ": expected an RFC 3339 time such as ",
                                   "2024-05-01T08:00:00Z, got \"", text, "\""));
  }
  return time;
}

absl::StatusOr<absl::Duration> ParseLifetime(absl::string_view text) {
  const std::optional<absl::Duration> total = ParseDurationWithUnits(text, DurationNumbers::kWhole);
  if (!total.has_value()) {
    return UsageError(
        absl::StrCat("expected a duration such as 30d, 12h, 90m or 3600s, got \"", text, "\""));
  }
  if (*total <= absl::ZeroDuration()) {
    return UsageError(absl::StrCat("\"", text, "\" is not a positive duration"));
  }
  if (*total > absl::Seconds(kMaxProtoDurationSeconds)) {
    return UsageError(absl::StrCat("\"", text, "\" is longer than 10,000 years"));
  }
  return *total;
}

absl::StatusOr<v1::Role> ParseRole(absl::string_view text) {
  std::string name = absl::AsciiStrToUpper(text);
  std::replace(name.begin(), name.end(), '-', '_');
  v1::Role role;
  if (v1::Role_Parse(name, &role) && role != v1::ROLE_UNSPECIFIED) return role;
  std::vector<std::string> known;
  const google::protobuf::EnumDescriptor* roles = v1::Role_descriptor();
  for (int i = 0; i < roles->value_count(); ++i) {
    if (roles->value(i)->number() != v1::ROLE_UNSPECIFIED) known.push_back(roles->value(i)->name());
  }
  return UsageError(absl::StrCat("--role: unknown role \"", text, "\" (one of ",
                                 absl::StrJoin(known, ", "), ")"));
}

absl::StatusOr<std::vector<v1::Role>> ParseRoleList(absl::string_view text,
                                                    absl::string_view what) {
  std::vector<v1::Role> roles;
  for (absl::string_view piece : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    absl::StatusOr<v1::Role> role = ParseRole(absl::StripAsciiWhitespace(piece));
    if (!role.ok()) {
      return UsageError(
          absl::StrCat(what, absl::StripPrefix(role.status().message(), "--role")));
    }
    roles.push_back(*role);
  }
  if (roles.empty()) return UsageError(absl::StrCat(what, ": no role in \"", text, "\""));
  return roles;
}

absl::StatusOr<v1::RoleMapEntry> ParseRoleMapEntry(absl::string_view entry) {
  const size_t eq = entry.rfind('=');
  if (eq == absl::string_view::npos || eq == 0) {
    return UsageError(absl::StrCat("--entry \"", entry,
                                   "\": expected CRM_ROLE=ROLE[,ROLE...], e.g. \"Inside Sales=SDR\""));
  }
  v1::RoleMapEntry parsed;
  parsed.set_crm_role(std::string(entry.substr(0, eq)));
  absl::StatusOr<std::vector<v1::Role>> roles =
      ParseRoleList(entry.substr(eq + 1), absl::StrCat("--entry \"", entry, "\""));
  if (!roles.ok()) return roles.status();
  for (v1::Role role : *roles) parsed.add_roles(role);
  return parsed;
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

namespace {

// ParseCommandLine, leaving in `command` the command found before an error,
// and in `group` the first word of a two-word command.
absl::StatusOr<Invocation> ParseWords(const std::vector<std::string>& args, const EnvLookup& env,
                                      const CommandSpec*& command, std::string& group) {
  std::vector<std::string> positional;
  FlagValues flags;
  bool only_positional = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (only_positional || arg.size() < 2 || arg[0] != '-') {
      if (command == nullptr && group.empty() && arg == "help" && !only_positional &&
          flags.count("help") == 0) {
        flags["help"].push_back("");
      } else if (command == nullptr && group.empty() && IsCommandGroup(arg)) {
        group = arg;
      } else if (command == nullptr) {
        command = FindCommand(group.empty() ? arg : absl::StrCat(group, " ", arg));
        if (command == nullptr && group.empty()) {
          return UsageError(absl::StrCat("unknown command \"", arg, "\""));
        }
        if (command == nullptr) {
          return UsageError(absl::StrCat("unknown command \"", group, " ", arg, "\" (", group,
                                         " commands: ", GroupCommands(group), ")"));
        }
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
      // After `diagram`, -o names the file to write (--out).
      name = command != nullptr && command->command == Command::kDiagram ? "out" : "output";
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
    invocation.usage = command != nullptr ? CommandUsage(*command)
                       : group.empty()    ? Usage()
                                          : GroupUsage(group);
    return invocation;
  }
  if (flags.count("version")) {
    invocation.version = true;
    return invocation;
  }
  if (command == nullptr && !group.empty()) {
    return UsageError(absl::StrCat(group, " needs a command: ", GroupCommands(group)));
  }
  if (command == nullptr) return UsageError("no command given");
  invocation.command = command->command;
  if (command->command == Command::kDiagram && flags.count("output") > 0) {
    return UsageError(
        "diagram: --output does not apply (--format says what to write); "
        "write to a file with -o FILE after the command");
  }
  if (absl::Status status = ResolveGlobals(flags, env, &invocation.global); !status.ok()) {
    return status;
  }
  if (invocation.global.output == OutputFormat::kCsv && !IsAnalytics(invocation.command)) {
    return UsageError("--output csv: only the analytics commands print CSV");
  }
  const std::vector<absl::string_view> arguments =
      absl::StrSplit(command->argument, ' ', absl::SkipEmpty());
  const size_t wanted = arguments.size();
  if (positional.size() != wanted) {
    return UsageError(
        wanted == 0
            ? absl::StrCat(command->name, " takes no arguments, got \"", positional[0], "\"")
        : wanted == 1
            ? absl::StrCat(command->name, " needs exactly one ", command->argument)
            : absl::StrCat(command->name, " needs ", command->argument, ", got ", positional.size(),
                           " argument", positional.size() == 1 ? "" : "s"));
  }
  const std::string& org = invocation.global.org;
  switch (command->command) {
    case Command::kLookup:
      if (absl::Status s = BuildLookup(flags, org, &invocation.lookup); !s.ok()) return s;
      invocation.watch = flags.count("watch") > 0;
      break;
    case Command::kList:
      if (absl::Status s = BuildList(flags, org, &invocation.list); !s.ok()) return s;
      break;
    case Command::kSearch:
      invocation.search.set_parent(OrgName(org));
      if (positional[0].empty()) return UsageError("search: the QUERY is empty");
      invocation.search.set_query(positional[0]);
      if (auto limit = Single(flags, "limit")) {
        SOP_ASSIGN_OR_RETURN(const int n, PositiveInt("limit", *limit));
        invocation.search.set_page_size(n);
      }
      break;
    case Command::kApply: {
      std::optional<std::string> file = Single(flags, "file");
      if (!file) return UsageError("apply needs -f FILE|DIR");
      invocation.apply_path = *file;
      invocation.publish = flags.count("publish") > 0;
      invocation.dry_run = flags.count("dry-run") > 0;
      if (flags.count("emergency") > 0) {
        if (!invocation.publish) return UsageError("--emergency goes with --publish");
        std::optional<std::string> reason = Single(flags, "reason");
        if (!reason || reason->empty()) {
          return UsageError("--emergency needs --reason, e.g. --reason \"pricing error live\"");
        }
        invocation.emergency_reason = *reason;
      } else if (flags.count("reason") > 0) {
        return UsageError("--reason goes with --emergency");
      }
      break;
    }
    case Command::kValidate: {
      std::optional<std::string> file = Single(flags, "file");
      if (!file) return UsageError("validate needs -f FILE|DIR");
      invocation.apply_path = *file;
      break;
    }
    case Command::kCheck:
      invocation.fail_on_ties = flags.count("fail-on-ties") > 0;
      invocation.name = ResolveSopName(positional[0], org);
      break;
    case Command::kGet: {
      invocation.name = ResolveSopName(positional[0], org);
      if (auto revision = Single(flags, "revision")) {
        SOP_ASSIGN_OR_RETURN(invocation.revision,
                             ResolveRevisionName(invocation.name, *revision, "--revision", false));
      }
      break;
    }
    case Command::kPublish:
      invocation.name = ResolveSopName(positional[0], org);
      SOP_RETURN_IF_ERROR(BuildPublish(flags, invocation.name, &invocation.publish_sop));
      break;
    case Command::kSubmit:
      invocation.name = ResolveSopName(positional[0], org);
      invocation.submit.set_name(invocation.name);
      invocation.submit.set_comment(Single(flags, "comment").value_or(""));
      break;
    case Command::kApprove:
    case Command::kReject:
      invocation.name = ResolveSopName(positional[0], org);
      SOP_RETURN_IF_ERROR(
          BuildSignOff(*command, flags, invocation.name, &invocation.approve, &invocation.reject));
      break;
    case Command::kDiff: {
      invocation.name = ResolveSopName(positional[0], org);
      SOP_ASSIGN_OR_RETURN(*invocation.diff.mutable_revision_a(),
                           ResolveRevisionName(invocation.name, positional[1], "REV_A", true));
      SOP_ASSIGN_OR_RETURN(*invocation.diff.mutable_revision_b(),
                           ResolveRevisionName(invocation.name, positional[2], "REV_B", true));
      break;
    }
    case Command::kRestore: {
      invocation.name = ResolveSopName(positional[0], org);
      SOP_ASSIGN_OR_RETURN(*invocation.restore.mutable_name(),
                           ResolveRevisionName(invocation.name, positional[1], "REV", false));
      break;
    }
    case Command::kReviewed:
      invocation.name = ResolveSopName(positional[0], org);
      invocation.reviewed.set_name(invocation.name);
      invocation.reviewed.set_comment(Single(flags, "comment").value_or(""));
      break;
    case Command::kReviewsDue:
      invocation.due_reviews.set_parent(OrgName(org));
      if (auto within = Single(flags, "within")) {
        absl::StatusOr<absl::Duration> window = ParseLifetime(*within);
        if (!window.ok()) return UsageError(absl::StrCat("--within: ", window.status().message()));
        *invocation.due_reviews.mutable_within() = ToProtoDuration(*window);
      }
      break;
    case Command::kCommentAdd: {
      invocation.name = ResolveSopName(positional[0], org);
      invocation.add_comment.set_parent(invocation.name);
      if (positional[1].empty()) return UsageError("comment add: the comment's TEXT is empty");
      invocation.add_comment.mutable_comment()->set_text(positional[1]);
      if (auto step = Single(flags, "step")) {
        SOP_ASSIGN_OR_RETURN(const int ordinal, PositiveInt("step", *step));
        invocation.add_comment.mutable_comment()->set_step_ordinal(ordinal);
      }
      break;
    }
    case Command::kCommentList:
      invocation.name = ResolveSopName(positional[0], org);
      invocation.list_comments.set_parent(invocation.name);
      invocation.list_comments.set_unresolved_only(flags.count("unresolved") > 0);
      break;
    case Command::kCommentResolve: {
      SOP_ASSIGN_OR_RETURN(invocation.name, ResolveCommentName(positional[0], org));
      break;
    }
    case Command::kAuditList:
      SOP_RETURN_IF_ERROR(BuildAuditList(flags, org, &invocation.list_audit));
      break;
    case Command::kAuditVerify: {
      invocation.verify_audit.set_parent(OrgName(org));
      SOP_ASSIGN_OR_RETURN(const std::optional<std::string> file, NonEmpty(flags, "head-file"));
      invocation.audit_head_file = file.value_or("");
      break;
    }
    case Command::kAuditHead:
      invocation.audit_head.set_parent(OrgName(org));
      break;
    case Command::kAnalyticsSla:
    case Command::kAnalyticsCodes:
    case Command::kAnalyticsUsage:
    case Command::kAnalyticsCoverage:
      SOP_RETURN_IF_ERROR(BuildReportQuery(flags, org, &invocation.report));
      break;
    case Command::kHistory:
    case Command::kDelete:
    case Command::kUndelete:
      invocation.name = ResolveSopName(positional[0], org);
      break;
    case Command::kTokenCreate:
      SOP_RETURN_IF_ERROR(BuildCreateToken(flags, org, &invocation.create_token,
                                           &invocation.hubspot_client_secret_file));
      break;
    case Command::kRoleMapGet: {
      SOP_ASSIGN_OR_RETURN(invocation.name,
                           CrmMapArgument(*command, positional[0], org, kRoleMaps));
      break;
    }
    case Command::kRoleMapSet: {
      SOP_ASSIGN_OR_RETURN(const std::string name,
                           CrmMapArgument(*command, positional[0], org, kRoleMaps));
      SOP_RETURN_IF_ERROR(BuildUpdateRoleMap(flags, name, &invocation.update_role_map));
      break;
    }
    case Command::kFieldMapGet: {
      SOP_ASSIGN_OR_RETURN(invocation.name,
                           CrmMapArgument(*command, positional[0], org, kFieldMaps));
      break;
    }
    case Command::kFieldMapSet: {
      SOP_ASSIGN_OR_RETURN(invocation.name,
                           CrmMapArgument(*command, positional[0], org, kFieldMaps));
      SOP_ASSIGN_OR_RETURN(const std::optional<std::string> file, NonEmpty(flags, "file"));
      if (!file) return UsageError("fieldmap set needs -f FILE, e.g. -f map.yaml");
      invocation.field_map_path = *file;
      break;
    }
    case Command::kTokenList:
      invocation.list_tokens.set_parent(OrgName(org));
      invocation.list_tokens.set_show_inactive(flags.count("all") > 0);
      break;
    case Command::kTokenGet:
    case Command::kTokenRevoke:
      invocation.name = ResolveTokenName(positional[0], org);
      break;
    case Command::kOrgGet:
      invocation.name = ResolveOrgName(positional[0]);
      break;
    case Command::kOrgCreate:
      if (!IsValidResourceId(positional[0])) {
        return UsageError(absl::StrCat("org create: \"", positional[0],
                                       "\" is not an org id (1-63 of [a-z0-9-], starting with a "
                                       "letter)"));
      }
      invocation.create_org.set_org_id(positional[0]);
      invocation.create_org.mutable_org()->set_display_name(
          Single(flags, "display-name").value_or(""));
      break;
    case Command::kDiagram:
      SOP_RETURN_IF_ERROR(BuildDiagram(flags, positional[0], org, &invocation));
      break;
    case Command::kPreview: {
      if (positional[0].empty()) return UsageError("preview: NAME_OR_FILE is empty");
      const std::string lower = absl::AsciiStrToLower(positional[0]);
      if (absl::EndsWith(lower, ".yaml") || absl::EndsWith(lower, ".yml") ||
          absl::EndsWith(lower, ".json")) {
        invocation.apply_path = positional[0];
      } else {
        invocation.name = ResolveSopName(positional[0], org);
      }
      SOP_ASSIGN_OR_RETURN(const std::optional<std::string> records, NonEmpty(flags, "records"));
      if (!records) return UsageError("preview needs --records FILE (CSV or JSONL)");
      invocation.records_path = *records;
      if (auto crm = Single(flags, "field-map")) {
        if (*crm != "salesforce" && *crm != "hubspot") {
          return UsageError(
              absl::StrCat("--field-map: expected salesforce or hubspot, got \"", *crm, "\""));
        }
        invocation.records_crm = *crm;
      }
      break;
    }
    case Command::kDraft:
      if (absl::StripAsciiWhitespace(positional[0]).empty()) {
        return UsageError("draft: the BRIEF is empty");
      }
      invocation.draft_sop.set_parent(OrgName(org));
      invocation.draft_sop.set_brief(positional[0]);
      invocation.draft_sop.set_drafter(flags.count("model") > 0 ? "model" : "builtin");
      invocation.draft_sop.set_sop_id(Single(flags, "id").value_or(""));
      invocation.draft_sop.set_validate_only(flags.count("dry-run") > 0);
      break;
    case Command::kAdminBackup:
      if (positional[0].empty()) return UsageError("admin backup: DEST is empty");
      invocation.backup_dest = positional[0];
      break;
    case Command::kWebhookCreate:
      SOP_RETURN_IF_ERROR(BuildCreateWebhook(flags, org, &invocation));
      break;
    case Command::kWebhookList:
      break;
    case Command::kWebhookGet:
    case Command::kWebhookDelete:
    case Command::kWebhookDeliveries:
      invocation.name = absl::StrContains(positional[0], '/')
                            ? positional[0]
                            : absl::StrCat(OrgName(org), "/webhooks/", positional[0]);
      invocation.dead_only = flags.count("dead") > 0;
      break;
    case Command::kWebhookReplay:
      invocation.name = positional[0];
      break;
    case Command::kChanges: {
      invocation.watch_changes.set_parent(OrgName(org));
      if (auto types = Single(flags, "types")) {
        SOP_ASSIGN_OR_RETURN(std::vector<v1::ChangeEvent::Type> parsed,
                             EventTypes("types", *types));
        for (v1::ChangeEvent::Type type : parsed) invocation.watch_changes.add_types(type);
      }
      break;
    }
    case Command::kTemplatesList:
      invocation.list_templates.set_parent(OrgName(org));
      break;
    case Command::kTemplatesGet:
      invocation.name = ResolveTemplateName(positional[0], org);
      break;
    case Command::kTemplatesApply: {
      auto files = flags.find("file");
      if (files == flags.end()) return UsageError("templates apply needs -f FILE|DIR");
      for (const std::string& file : files->second) {
        if (file.empty()) return UsageError("templates apply: -f needs a file or directory");
        invocation.template_files.push_back(file);
      }
      break;
    }
    case Command::kNew: {
      std::optional<std::string> tmpl = Single(flags, "template");
      if (!tmpl || tmpl->empty()) {
        return UsageError("new needs --template NAME, e.g. --template sla-handoff");
      }
      v1::CreateSopRequest& request = invocation.create_sop;
      request.set_parent(OrgName(org));
      request.set_template_(ResolveTemplateName(*tmpl, org));
      if (auto id = Single(flags, "id")) {
        if (!IsValidResourceId(*id)) {
          return UsageError(absl::StrCat("new: \"", *id,
                                         "\" is not an SOP id (1-63 of [a-z0-9-], starting with "
                                         "a letter)"));
        }
        request.set_sop_id(*id);
      }
      if (auto sets = flags.find("set"); sets != flags.end()) {
        for (const std::string& set : sets->second) {
          const size_t eq = set.find('=');
          if (eq == std::string::npos || eq == 0) {
            return UsageError(absl::StrCat("--set \"", set, "\": expected KEY=VALUE"));
          }
          const std::string key = set.substr(0, eq);
          if (request.template_values().contains(key)) {
            return UsageError(absl::StrCat("--set ", key, " is given twice"));
          }
          (*request.mutable_template_values())[key] = set.substr(eq + 1);
        }
      }
      break;
    }
    case Command::kWhoAmI:
    case Command::kOrgList:
      break;
  }
  return invocation;
}

}  // namespace

absl::StatusOr<Invocation> ParseCommandLine(const std::vector<std::string>& args,
                                            const EnvLookup& env) {
  const CommandSpec* command = nullptr;
  std::string group;
  absl::StatusOr<Invocation> invocation = ParseWords(args, env, command, group);
  if (invocation.ok()) return invocation;
  // UsageErrorText points to the help of what was being parsed.
  absl::Status error = invocation.status();
  error.SetPayload(kHelpTopicPayload,
                   absl::Cord(command != nullptr ? command->name : absl::string_view(group)));
  return error;
}

std::string UsageErrorText(const absl::Status& error) {
  std::string text = TextLine(absl::StrCat("sopctl: ", error.message()));
  if (const auto topic = error.GetPayload(kHelpTopicPayload)) {
    const std::string words(*topic);
    absl::StrAppend(&text, "run 'sopctl ", words, words.empty() ? "" : " ", "--help' for usage\n");
  }
  return text;
}

bool IsAnalytics(Command command) {
  return command == Command::kAnalyticsSla || command == Command::kAnalyticsCodes ||
         command == Command::kAnalyticsUsage || command == Command::kAnalyticsCoverage;
}

}  // namespace sopsidebar::cli
