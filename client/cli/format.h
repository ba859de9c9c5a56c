// sopctl's output: text for people, the proto JSON mapping for programs.
// All functions are thread-safe (pure).
//
// Text output is safe to print on a terminal whatever the server sent: every
// text from a response is escaped as by EscapeUnprintable (server/common/
// utf8.h), so control characters and bidi overrides show as "\x1b",
// "\u202e", "\n" instead of acting. JSON output is JSON (its own escaping).
//
// Text output counts rules and steps from 1, as people do (the first rule is
// "rule 1", the second step "step 2/4"); JSON output is the proto as is, with
// its 0-based rule_index and current_step_index.
#ifndef SOPSIDEBAR_CLIENT_CLI_FORMAT_H_
#define SOPSIDEBAR_CLIENT_CLI_FORMAT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "sopsidebar/v1/admin_service.pb.h"
#include "sopsidebar/v1/analytics_service.pb.h"
#include "sopsidebar/v1/context_service.pb.h"
#include "sopsidebar/v1/sop.pb.h"
#include "sopsidebar/v1/sop_service.pb.h"
#include "sopsidebar/v1/template_service.pb.h"

namespace sopsidebar::cli {

// `line` escaped as EscapeUnprintable escapes it, then a newline: one line of
// text output, whatever `line` holds.
std::string TextLine(absl::string_view line);

// A failed command's status as sopctl prints it: one TextLine
// "<CODE>: <message>", or, when the status carries field violations (the
// BadRequest sopd sends, error::FieldViolationsOf), one TextLine
// "<CODE>: <field>: <description>" for each.
std::string FormatFailure(const absl::Status& status);

// `message` in the proto JSON mapping with proto field names, indented, with
// a final newline: what `sopctl apply -f` reads back. INTERNAL if protobuf
// cannot print it.
absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message);

// Ranked matches: title, name and revision, why it matched, the current step
// with its time left as of `now`, and the cadence day. For a context in a
// CRM's names (field_sources set), each matched condition says which CRM
// field its value came from, and a last line lists every mapped field:
// `fields from the CRM: lead_status (from Status), ...`. A match whose owner
// review is overdue says so after its rule: `review overdue since
// 2024-05-01 08:00:00 UTC: this SOP may be out of date`.
std::string FormatLookup(const v1::LookupSopsResponse& response, absl::Time now);

// The section `lookup --near-misses` adds after the matches: "near misses:"
// and a line per miss with the SOP, rule, priority, the failed condition and
// the record's value ("(missing)" when the record lacks the field), or
// "near misses: none".
std::string FormatNearMisses(const google::protobuf::RepeatedPtrField<v1::NearMiss>& misses);

// A CRM record on one line: the record type, then the fields in name order as
// NAME=VALUE with values as in conditions, e.g.
// `record_type=Lead lead_score=82 lead_status="SQL – Accepted"`.
std::string FormatCrmContext(const v1::CrmContext& context);

// The stderr warning of `publish` and `apply --publish` for one tie, a line:
// `warning: ties with orgs/default/sops/x (rule 1 vs its rule 2, priority 100,
// specificity 2), e.g. record_type=Lead lead_status="SQL – Accepted"`.
std::string FormatTieWarning(const v1::TargetingTie& tie);

// What `check` prints: "no ties", or a block per tie with the other SOP and
// its revision, both rules, priority, specificity and the example record.
std::string FormatTies(const google::protobuf::RepeatedPtrField<v1::TargetingTie>& ties);

// A readable summary of an SOP: head fields, rules, steps, cadence, SLA
// terms, disqualification codes, assets.
std::string FormatSop(const v1::Sop& sop);

// A table of name, state, revision, published revision and title. When any
// SOP has a draft under review (Sop.review), also REVIEW before TITLE:
// FormatReviewState of each, "-" for those without.
std::string FormatSopTable(const std::vector<v1::Sop>& sops);

// Where an SOP's draft stands in review: "DRAFT", "IN_REVIEW (awaiting AE,
// SALES_MANAGER)", "APPROVED", or "" without a review (nothing awaits
// publishing).
std::string FormatReviewState(const v1::Sop& sop);

// Whether sopctl colours its output: only when stdout is a terminal and the
// NO_COLOR environment variable is unset or empty (no-color.org).
bool ShouldColor(bool stdout_is_terminal, const char* no_color);

// What `sopctl diff` prints: a header "diff REVISION_A -> REVISION_B", then
// per section (in the diff's order) a line "[section]" and per change
// "changed|added|removed PATH" followed by, for a line diff, every line as
// "    " (kept), "  - " or "  + " and the text; else the JSON values before
// ("  - ") and after ("  + "). "no changes" for an empty diff. With `color`,
// "-" lines are red, "+" lines green and section lines bold (ANSI escapes);
// the texts themselves are escaped as TextLine escapes them either way.
std::string FormatSopDiff(const v1::SopDiff& diff, bool color);

// A table of id, step ("-" for the whole SOP), author, creation time (UTC),
// "resolved" or "open", and the text (its first line, "..." when longer).
std::string FormatComments(const std::vector<v1::Comment>& comments);

// A table of the SOPs whose review is due: name, next review time (UTC),
// "overdue 3d" or "in 5d" as of `now`, owner and title.
std::string FormatDueReviews(const std::vector<v1::Sop>& sops, absl::Time now);

// Search results, best first: "score  name  title" and, indented below, the
// excerpt with its highlighted parts in bold (ANSI escapes) with `color`,
// else in [brackets]; a first line "Showing results for: <query>" when the
// query was corrected; "No SOPs found." when there are none. Texts are
// escaped as TextLine escapes them.
std::string FormatSearchResults(const v1::SearchSopsResponse& response, bool color);

// A table of sequence, time (UTC), actor ("actor via integration" when an
// integration acted for them), action, resource and detail.
std::string FormatAuditEvents(const std::vector<v1::AuditEvent>& events);

// "orgs/ORG: sequence N, hash H" (or "no audit events yet" for sequence 0).
std::string FormatAuditHead(const v1::AuditHead& head);

// What `admin backup` wrote: "backup written to DEST: N files, B bytes in
// T ms", what it holds (orgs, SOPs, revisions, tokens, comments, audit
// events, analytics events), and each org's audit head (FormatAuditHead).
std::string FormatBackup(absl::string_view dest, const v1::BackupManifest& manifest,
                         absl::Duration elapsed);

// "intact: N events checked, head at sequence S (hash H)", or "BROKEN at
// sequence S: PROBLEM" and the events checked.
std::string FormatAuditVerification(const v1::VerifyAuditLogResponse& response);

// A table of revision id, time (UTC), author and change summary.
std::string FormatRevisions(const std::vector<v1::SopRevision>& revisions);

// A table of name, user, roles, creation and expiry times (UTC; "never"
// when unset) and status as of `now`: revoked, expired or active. When a
// token is an integration's, also CRM ("hubspot portal 123" with a portal)
// and DELEGABLE (its delegable roles).
std::string FormatTokenTable(const std::vector<v1::Token>& tokens, absl::Time now);

// What `sopctl token create` says on stderr: the token's name, user, roles,
// the CRM, HubSpot portal and delegable roles of an integration's token, and
// expiry, and that the secret is shown once. Never the secret.
std::string FormatCreatedToken(const v1::Token& token);

// Org, user, "Via:" the integration acting for the user (when one does),
// display name, roles, token name and server admin (yes/no).
std::string FormatWhoAmI(const v1::WhoAmIResponse& who);

// A role map: its name and update time, then a line per entry,
// `Inside Sales -> SDR, AE`, or "No entries: ..." for an empty map.
std::string FormatRoleMap(const v1::RoleMap& map);

// A field map: its name, "(default map)" or its update time, a table of CRM
// field, field and type (without FIELD_TYPE_), and one of CRM object and
// record type.
std::string FormatFieldMap(const v1::FieldMap& map);

// A table of name, display name and creation time (UTC).
std::string FormatOrgTable(const std::vector<v1::Org>& orgs);

// "2024-05-01 08:00:00 UTC".
// One row per template: name, then its placeholders, required fields and SLA
// requirements counted, then its title. "No templates." when empty.
std::string FormatTemplateTable(const std::vector<v1::SopTemplate>& templates);

// A template: title, description, its placeholders (and defaults), the
// fields and SLA terms an SOP made from it must carry, then its SOP.
std::string FormatTemplate(const v1::SopTemplate& tmpl);

// One SLA requirement in words: "min_lead_score >= 75", "first_contact_window
// between 1m and 5m".
std::string FormatSlaRequirement(const v1::SlaRequirement& requirement);

std::string FormatTimestamp(const google::protobuf::Timestamp& time);

// One condition as an expression (DescribeCondition, common/model/describe.h;
// HumanDuration is there too), escaped as EscapeUnprintable escapes it.
std::string FormatCondition(const v1::Condition& condition);

// An analytics report as rows of cells, the header first: the names of the
// `group_by` dimensions ("lead_source"), then the report's figures (codes:
// one column per code any row has; usage: steps per ordinal as "1:4 2:3").
using ReportRows = std::vector<std::vector<std::string>>;
ReportRows SlaReportRows(const v1::SlaReport& report,
                         const std::vector<v1::AnalyticsDimension>& group_by);
ReportRows CodeReportRows(const v1::CodeReport& report,
                          const std::vector<v1::AnalyticsDimension>& group_by);
ReportRows UsageReportRows(const v1::UsageReport& report,
                           const std::vector<v1::AnalyticsDimension>& group_by);
ReportRows CoverageReportRows(const v1::CoverageReport& report,
                              const std::vector<v1::AnalyticsDimension>& group_by);
// The rows as an aligned table, "No figures for <days>." without rows.
std::string FormatReport(const ReportRows& rows, absl::string_view start_day,
                         absl::string_view end_day);
// One warning line per node missing from a report over several sopd nodes
// ("warning: partial report: node-b (10.0.0.2:50051) is missing: ..."); empty
// when none is.
std::string FormatMissingNodes(const v1::ReportNodes& nodes);
// The rows as CSV (RFC 4180: CRLF line ends, fields with a comma, quote or
// line break quoted); a text cell starting with = + - or @ gets a leading '
// so that a spreadsheet shows it rather than running it.
std::string FormatCsv(const ReportRows& rows);

// sopctl preview: one row per record (its id, the change, the top SOP and
// step today -> with the draft, SOP ids without their org), then the counts:
// "gained 1, lost 2, reranked 0, unchanged 3, not matched 4 (10 records)".
std::string FormatPreview(const v1::PreviewTargetingResponse& response);

}  // namespace sopsidebar::cli

#endif  // SOPSIDEBAR_CLIENT_CLI_FORMAT_H_
