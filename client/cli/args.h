// sopctl's command line: global flags, one subcommand, its flags and
// arguments, turned into ready-to-send requests. Everything that can be
// wrong with a command line is found here, before anything is sent.
#ifndef SOPSIDEBAR_CLIENT_CLI_ARGS_H_
#define SOPSIDEBAR_CLIENT_CLI_ARGS_H_

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/diagram/sop_diagram.h"
#include "google/protobuf/struct.pb.h"
#include "sopsidebar/v1/admin_service.pb.h"
#include "sopsidebar/v1/analytics_service.pb.h"
#include "sopsidebar/v1/authoring_service.pb.h"
#include "sopsidebar/v1/context_service.pb.h"
#include "sopsidebar/v1/events_service.pb.h"
#include "sopsidebar/v1/sop_service.pb.h"
#include "sopsidebar/v1/template_service.pb.h"

namespace sopsidebar::cli {

// sopctl's version: the same as sopd's kSopdVersion (server/app/sopd_server.h),
// which the CLI cannot include without depending on server code; the e2e test
// checks that both binaries print the same.
inline constexpr char kSopctlVersion[] = "0.1.0";

// kCsv: the analytics commands only.
enum class OutputFormat { kText, kJson, kCsv };

enum class Command {
  kLookup,
  kGet,
  kList,
  kHistory,
  kApply,
  kValidate,
  kPublish,
  kCheck,
  kDelete,
  kUndelete,
  kWhoAmI,
  kTokenCreate,
  kTokenList,
  kTokenGet,
  kTokenRevoke,
  kOrgCreate,
  kOrgList,
  kOrgGet,
  kRoleMapGet,
  kRoleMapSet,
  kFieldMapGet,
  kFieldMapSet,
  kSubmit,
  kApprove,
  kReject,
  kDiff,
  kRestore,
  kReviewed,
  kReviewsDue,
  kCommentAdd,
  kCommentList,
  kCommentResolve,
  kAuditList,
  kAuditVerify,
  kAuditHead,
  kAnalyticsSla,
  kAnalyticsCodes,
  kAnalyticsUsage,
  kAnalyticsCoverage,
  kSearch,
  kAdminBackup,
  kDiagram,
  kPreview,
  kDraft,
  kWebhookCreate,
  kWebhookList,
  kWebhookGet,
  kWebhookDelete,
  kWebhookDeliveries,
  kWebhookReplay,
  kChanges,
  kTemplatesList,
  kTemplatesGet,
  kTemplatesApply,
  kNew,
};

// What `sopctl diagram --format` asks for: the diagram's text, or an image
// Graphviz renders from its DOT text.
enum class DiagramOutput { kMermaid, kDot, kSvg, kPng };

// The analytics commands (which also print CSV).
bool IsAnalytics(Command command);

struct GlobalOptions {
  // --server; default $SOPCTL_SERVER, else 127.0.0.1:50051. One address, a
  // list of IP addresses or dns:///NAME:PORT: a usage error unless
  // client::ChannelTargetFor takes it, and unless --tls-server-name is given
  // with TLS to a list of IP addresses.
  std::string server;
  // --org; the org of bare SOP ids and of lookups.
  std::string org = "default";
  // -o / --output.
  OutputFormat output = OutputFormat::kText;
  // --timeout; the deadline of each call.
  absl::Duration timeout = absl::Seconds(10);
  // The access token comes from the first of --token, --token-file,
  // $SOPCTL_TOKEN, $SOPCTL_TOKEN_FILE that is set (empty variables count as
  // unset): either the token itself or the file to read it from, never both.
  // Both empty: no token.
  std::string token;
  std::string token_file;
  // --tls, or implied by --tls-ca and --tls-cert/--tls-key.
  bool tls = false;
  // --tls-ca; PEM CA certificates. Empty: the system's roots.
  std::string tls_ca_file;
  // --tls-cert and --tls-key, both or neither: PEM client certificate and key.
  std::string tls_cert_file;
  std::string tls_key_file;
  // --tls-server-name; only with TLS.
  std::string tls_server_name;
  // --viewer-id, --viewer-name, --viewer-crm-role (repeatable): the CRM user
  // an INTEGRATION token acts for (client::ConnectionOptions::viewer). Name
  // and roles only with an id; empty id: no viewer.
  std::string viewer_id;
  std::string viewer_name;
  std::vector<std::string> viewer_crm_roles;
};

// A parsed command line. Only the members of `command` are meaningful.
struct Invocation {
  GlobalOptions global;
  // Set when --help or -h was given, or the command is `help`: print `usage`
  // and do nothing else.
  bool help = false;
  std::string usage;
  // Set when --version was given (and not --help): print VersionText() and
  // do nothing else.
  bool version = false;
  Command command = Command::kGet;
  // Colour the output where a command has colour (diff): not parsed; main
  // sets it with ShouldColor (format.h).
  bool color = false;

  v1::LookupSopsRequest lookup;         // lookup
  bool watch = false;                   // lookup --watch
  v1::SearchSopsRequest search;         // search
  std::string name;                     // get, history, publish, check, delete,
                                        // undelete, token revoke, rolemap get,
                                        // fieldmap get and set, comment resolve,
                                        // diagram of an SOP in sopd
  v1::ListSopsRequest list;             // list
  std::string apply_path;               // apply, validate, diagram of a file
  bool publish = false;                 // apply --publish
  std::string emergency_reason;         // apply --publish --emergency --reason
  bool dry_run = false;                 // apply --dry-run
  bool fail_on_ties = false;            // check --fail-on-ties
  v1::CreateTokenRequest create_token;  // token create
  // token create --hubspot-client-secret-file: RunCommand reads the secret
  // (trimmed) into create_token.hubspot_client_secret.
  std::string hubspot_client_secret_file;
  v1::ListTokensRequest list_tokens;    // token list
  v1::CreateOrgRequest create_org;      // org create
  v1::UpdateRoleMapRequest update_role_map;  // rolemap set
  std::string field_map_path;                // fieldmap set --file, read by RunCommand

  // get --revision N: the revision's full name (GetSopRevision); empty: the
  // SOP itself.
  std::string revision;
  v1::PublishSopRequest publish_sop;       // publish (name, emergency, reason)
  v1::SubmitSopRequest submit;             // submit
  v1::ApproveSopRequest approve;           // approve
  v1::RejectSopRequest reject;             // reject
  v1::DiffSopRevisionsRequest diff;        // diff
  v1::RestoreSopRevisionRequest restore;   // restore
  v1::MarkSopReviewedRequest reviewed;     // reviewed
  v1::ListDueReviewsRequest due_reviews;   // reviews due
  v1::AddCommentRequest add_comment;       // comment add
  v1::ListCommentsRequest list_comments;   // comment list
  v1::ListAuditEventsRequest list_audit;   // audit list
  v1::VerifyAuditLogRequest verify_audit;  // audit verify (parent)
  // audit verify --head-file: RunCommand reads the saved AuditHead (JSON, as
  // "audit head -o json" prints it) into verify_audit.expected_head.
  std::string audit_head_file;
  v1::GetAuditHeadRequest audit_head;  // audit head
  v1::ReportQuery report;              // analytics sla|codes|usage|coverage
  std::string backup_dest;             // admin backup
  // diagram: the SOP is read from the file `apply_path` (offline) when it is
  // set, else from sopd by `name`.
  DiagramKind diagram_kind = DiagramKind::kFlowchart;  // --kind
  DiagramOutput diagram_output = DiagramOutput::kMermaid;  // --format
  std::string diagram_out;  // -o/--out FILE; empty: stdout
  // preview NAME|FILE: the SOP's draft by `name`, or the SOP file
  // `apply_path` sent as an unsaved draft; the records file (CSV or JSONL)
  // and the CRM whose field names it uses (--field-map; empty: ours).
  std::string records_path;
  std::string records_crm;
  v1::DraftSopRequest draft_sop;  // draft
  // webhooks create; RunCommand reads the secret from the file or the
  // environment variable (exactly one is given) into it.
  v1::CreateWebhookRequest create_webhook;
  std::string webhook_secret_file;
  std::string webhook_secret_env;
  bool dead_only = false;                 // webhooks deliveries --dead
  v1::WatchChangesRequest watch_changes;  // changes
  // templates get: `name`, the template's full name.
  v1::ListTemplatesRequest list_templates;  // templates list
  std::vector<std::string> template_files;  // templates apply -f (each a file or dir)
  v1::CreateSopRequest create_sop;          // new --template (template, values, sop_id)
};

// Reads an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// Parses the arguments after the program name. Global flags may come before
// or after the command; command flags come after it. A command is one word
// (get) or a group and a word (token create); `help` before a command (or
// alone) is --help. Flags take their value as the
// next argument or after '=' (--org=acme). Reads no files (see
// MakeConnectionOptions). Returns INVALID_ARGUMENT saying what is wrong
// (unknown command or flag, missing or malformed value, wrong number of
// arguments), which UsageErrorText turns into what to print. Thread-safe
// (pure but for `env`).
absl::StatusOr<Invocation> ParseCommandLine(const std::vector<std::string>& args,
                                            const EnvLookup& env);

// What sopctl writes to stderr for `error`, a failed ParseCommandLine or
// another mistake found before any call: "sopctl: <message>" (escaped as
// TextLine escapes it) and, for ParseCommandLine's errors, a line naming the
// help to read: "run 'sopctl get --help' for usage" (the command's, else its
// group's, else sopctl's). sopctl then exits 2.
std::string UsageErrorText(const absl::Status& error);

// The help text of sopctl as a whole.
std::string Usage();

// What `sopctl --version` prints: "sopctl <kSopctlVersion>" and a newline.
std::string VersionText();

// orgs/{org}/sops/{id} for a bare id; anything containing '/' is taken as a
// full name and left to the server to check.
std::string ResolveSopName(absl::string_view name_or_id, absl::string_view org);

// orgs/{org}/tokens/{id} for a bare id; as ResolveSopName otherwise.
std::string ResolveTokenName(absl::string_view name_or_id, absl::string_view org);

// orgs/{org}/templates/{id} for a bare id; as ResolveSopName otherwise.
std::string ResolveTemplateName(absl::string_view name_or_id, absl::string_view org);

// orgs/{id} for a bare id; as ResolveSopName otherwise.
std::string ResolveOrgName(absl::string_view name_or_id);

// orgs/{org}/{collection}/{crm} for a bare CRM name (collection kRoleMaps or
// kFieldMaps of common/model/names.h); as ResolveSopName otherwise.
std::string ResolveCrmMapName(absl::string_view name_or_crm, absl::string_view org,
                              absl::string_view collection);

// A token lifetime: one or more <count><unit> with units d, h, m, s, e.g.
// 30d, 12h, 90m, 3600s, 1d12h. INVALID_ARGUMENT when malformed, zero, or
// beyond the range of google.protobuf.Duration (10,000 years).
absl::StatusOr<absl::Duration> ParseLifetime(absl::string_view text);

// A revision of the SOP `sop` (a full name) as the diff and restore
// commands take it: a revision id (a positive integer), or with
// `allow_aliases` "live" (the published revision) or "draft" (the head);
// returns orgs/{org}/sops/{sop}/revisions/{rev}. INVALID_ARGUMENT naming
// `what` ("REV_A") otherwise.
absl::StatusOr<std::string> ResolveRevisionName(absl::string_view sop, absl::string_view rev,
                                                absl::string_view what, bool allow_aliases);

// orgs/{org}/sops/{sop}/comments/{comment} for "SOP_ID/COMMENT_ID" in the org
// `org`; a full name (starting "orgs/") is kept as given. INVALID_ARGUMENT
// for anything else.
absl::StatusOr<std::string> ResolveCommentName(absl::string_view name, absl::string_view org);

// An RFC 3339 time as --as-of, --since and --until take it
// ("2024-05-01T08:00:00Z", "2024-05-01T10:00:00+02:00"). INVALID_ARGUMENT
// naming `flag` otherwise.
absl::StatusOr<absl::Time> ParseRfc3339(absl::string_view flag, absl::string_view text);

// A role by its proto name, in any case, '-' standing for '_' (sdr,
// sales-ops). INVALID_ARGUMENT listing the roles otherwise, and for
// ROLE_UNSPECIFIED.
absl::StatusOr<v1::Role> ParseRole(absl::string_view text);

// Roles separated by commas ("SDR,AE", "sdr, ae"), each parsed with
// ParseRole; empty pieces are skipped. INVALID_ARGUMENT as ParseRole's, its
// message starting with `what` ("--delegable-roles") instead of "--role",
// and for a list without a role.
absl::StatusOr<std::vector<v1::Role>> ParseRoleList(absl::string_view text,
                                                    absl::string_view what);

// A rolemap set --entry "CRM ROLE=ROLE[,ROLE...]", split at the last '=':
// "Inside Sales=SDR", "*=SDR", "user:ae@example.com=AE,SDR". INVALID_ARGUMENT
// quoting the entry when there is no '=', nothing before it, or a role is
// unknown or missing.
absl::StatusOr<v1::RoleMapEntry> ParseRoleMapEntry(absl::string_view entry);

// A --field NAME=VALUE (VALUE typed with InferScalarValue) or, with
// `as_json`, a --field-json NAME=JSON (VALUE parsed as JSON). Splits at the
// first '='. INVALID_ARGUMENT when there is no '=', the name is empty, or
// the JSON is malformed.
absl::StatusOr<std::pair<std::string, google::protobuf::Value>> ParseFieldFlag(
    absl::string_view flag, bool as_json);

}  // namespace sopsidebar::cli

#endif  // SOPSIDEBAR_CLIENT_CLI_ARGS_H_
