// The one catalogue of errors sopd returns. Every error a caller can see is
// built here, so codes and message shapes stay consistent; the service layer
// converts them to gRPC statuses in exactly one function.
//
// Field paths use proto field names: "sop.steps[2].ordinal",
// "context.fields[\"lead_score\"]".
//
// Input is only ever quoted through QuoteInput, so no message grows with the
// request: a 1 MB filter or field name is quoted as a short prefix.
//
// Besides its code and message, every error carries its details as data
// (AIP-193): absl::Status payloads holding serialised google.rpc messages
// under their type URLs, exactly as they travel in a google.rpc.Status's
// `details`:
//   - an ErrorInfo on every error: a reason ("SOP_NOT_FOUND") in the domain
//     kErrorDomain, with metadata such as the resource's "name";
//   - a BadRequest on INVALID_ARGUMENT, listing every field violation;
//   - a PreconditionFailure on FAILED_PRECONDITION (type "STATE", the
//     resource as subject).
// Code reads violations with FieldViolationsOf, never from the message.
#ifndef SOPSIDEBAR_COMMON_ERRORS_H_
#define SOPSIDEBAR_COMMON_ERRORS_H_

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace sopsidebar::error {

// Characters of an input QuoteInput keeps.
inline constexpr size_t kMaxQuotedChars = 64;

// `input` as messages quote it: in double quotes, its first kMaxQuotedChars
// characters (never cut inside one), characters a terminal would act on
// escaped as by EscapeUnprintable ("\x1b"), and when cut, "… (N bytes)" after
// the closing quote with N the input's full size. Thread-safe.
std::string QuoteInput(absl::string_view input);

// The ErrorInfo domain of every error.
inline constexpr absl::string_view kErrorDomain = "sopsidebar.v1";
// Payload type URLs of the details (google.rpc messages).
inline constexpr absl::string_view kErrorInfoType = "type.googleapis.com/google.rpc.ErrorInfo";
inline constexpr absl::string_view kBadRequestType = "type.googleapis.com/google.rpc.BadRequest";
inline constexpr absl::string_view kPreconditionFailureType =
    "type.googleapis.com/google.rpc.PreconditionFailure";

// One wrong field of a request (google.rpc.BadRequest.FieldViolation).
struct FieldViolation {
  std::string field;        // its path, "sop.steps[2].title"
  std::string description;  // what is wrong, "is required"

  friend bool operator==(const FieldViolation& a, const FieldViolation& b) {
    return a.field == b.field && a.description == b.description;
  }
  // "<field>: <description>", as messages list them.
  friend std::ostream& operator<<(std::ostream& out, const FieldViolation& v) {
    return out << v.field << ": " << v.description;
  }
};

// INVALID_ARGUMENT listing every violation of `violations` (not empty): the
// message "<field>: <description>" of each, joined by "; "; the details a
// BadRequest with all of them and an ErrorInfo with reason "INVALID_FIELD".
absl::Status InvalidFields(std::vector<FieldViolation> violations);
// The field violations `status` carries in its BadRequest, in order; empty
// for OK and for errors without one.
std::vector<FieldViolation> FieldViolationsOf(const absl::Status& status);
// The ErrorInfo reason `status` carries ("SOP_NOT_FOUND"); empty when none.
std::string ReasonOf(const absl::Status& status);

// INVALID_ARGUMENT "<field>: <reason>": InvalidFields of one violation.
absl::Status InvalidField(absl::string_view field, absl::string_view reason);
// INVALID_ARGUMENT "<field>: is required".
absl::Status RequiredField(absl::string_view field);
// INVALID_ARGUMENT "<field>: longer than the limit of <max> characters".
absl::Status FieldTooLong(absl::string_view field, size_t max);
// INVALID_ARGUMENT "<field>: more than the limit of <max> items".
absl::Status TooManyItems(absl::string_view field, size_t max);
// INVALID_ARGUMENT "<field>: "<value>" is not a valid name; expected <form>",
// the value quoted by QuoteInput.
absl::Status InvalidResourceName(absl::string_view field, absl::string_view value,
                                 absl::string_view expected_form);
// INVALID_ARGUMENT "<field>: <kind> ids are lower case: "<id>" should be
// "<id in lower case>"", for a name that only its case keeps from being valid
// (<kind>: org, SOP, token).
absl::Status UpperCaseId(absl::string_view field, absl::string_view kind, absl::string_view id);
// INVALID_ARGUMENT "page_token: ..." for tokens not issued for this request,
// or issued before a restart.
absl::Status InvalidPageToken();
// INVALID_ARGUMENT "request: not a valid <message_type>: <reason>" for bytes
// that do not parse as the method's request message.
absl::Status MalformedRequest(absl::string_view message_type, absl::string_view reason);

// NOT_FOUND "SOP <name> not found". Also returned for SOPs the caller may
// not see, so that hidden and missing look alike.
absl::Status SopNotFound(absl::string_view name);
// NOT_FOUND "revision <name> not found".
absl::Status RevisionNotFound(absl::string_view name);
// NOT_FOUND "<field>: revision <revision_id> of SOP <sop> not found": an
// event about a revision that does not exist, was never published, or the
// caller may not see (alike). The ErrorInfo's metadata has "name" and
// "field".
absl::Status EventRevisionNotFound(absl::string_view field, absl::string_view sop,
                                   absl::string_view revision_id);
// ALREADY_EXISTS "SOP <name> already exists".
absl::Status SopAlreadyExists(absl::string_view name);
// ABORTED: the etag the caller sent is not the current one; re-read and retry.
absl::Status EtagMismatch(absl::string_view name);
// FAILED_PRECONDITION: the operation needs a live (not deleted) SOP.
absl::Status SopDeleted(absl::string_view name);
// FAILED_PRECONDITION: undelete of an SOP that is not deleted.
absl::Status SopNotDeleted(absl::string_view name);
// FAILED_PRECONDITION: publishing an SOP that cannot be matched.
absl::Status SopNotPublishable(absl::string_view name, absl::string_view reason);

// NOT_FOUND "comment <name> not found".
absl::Status CommentNotFound(absl::string_view name);

// Review (docs/GOVERNANCE.md). Each FAILED_PRECONDITION one names the SOP
// and carries a PreconditionFailure whose violations say what is missing.
//
// FAILED_PRECONDITION: SubmitSop of an SOP whose draft is its live revision.
absl::Status NothingToReview(absl::string_view name);
// FAILED_PRECONDITION "SOP <name> is <state>; <action> needs <wanted>",
// reason REVIEW_STATE (states as DraftReview.State names them).
absl::Status ReviewState(absl::string_view name, absl::string_view state, absl::string_view action,
                         absl::string_view wanted);
// FAILED_PRECONDITION "SOP <name> cannot be published: awaiting <ROLE>[,
// <ROLE>]", reason AWAITING_SIGN_OFF: one violation of type "SIGN_OFF" per
// role ("awaiting VP_SALES"), metadata "awaiting" the roles joined by ",".
absl::Status AwaitingSignOff(absl::string_view name, const std::vector<std::string>& roles);
// FAILED_PRECONDITION: `role` (or `user`) already signed off this revision.
absl::Status AlreadySignedOff(absl::string_view name, absl::string_view who);
// ABORTED: the approver read revision `read`, but `current` is under review
// now (or none is); re-read and review again. Reason REVIEW_STALE.
absl::Status StaleReview(absl::string_view name, absl::string_view read, absl::string_view current);
// PERMISSION_DENIED: the caller changed the draft under review and may not
// sign it off. Reason OWN_CHANGE.
absl::Status OwnChange(absl::string_view name);

// UNAUTHENTICATED, the same words whatever was wrong with the credentials
// (missing, malformed, unknown, expired, revoked), so a caller learns
// nothing about which. The message ends with kSendTokenHint, the way to pass
// a token for gRPC clients; sopctl replaces it with its own.
absl::Status Unauthenticated();
inline constexpr absl::string_view kSendTokenHint = "send \"authorization: Bearer <token>\"";
// PERMISSION_DENIED: the caller's roles do not allow `operation` ("publish
// SOPs").
absl::Status PermissionDenied(absl::string_view operation);
// PERMISSION_DENIED: a token other than an INTEGRATION one stated a viewer
// (metadata `header`), reason VIEWER_NOT_ALLOWED.
absl::Status ViewerNotAllowed(absl::string_view header);
// NOT_FOUND "org <name> not found"; also for other orgs the caller may not
// see.
absl::Status OrgNotFound(absl::string_view name);
// ALREADY_EXISTS "org <name> already exists".
absl::Status OrgAlreadyExists(absl::string_view name);
// NOT_FOUND "token <name> not found".
absl::Status TokenNotFound(absl::string_view name);
// FAILED_PRECONDITION: revoking token <name> would leave no active
// server-admin token without an expiry; says how to create another first.
absl::Status LastServerAdminToken(absl::string_view name);
// DEADLINE_EXCEEDED: the call's deadline (or the server's cap on it) passed
// before the work started; nothing was done.
absl::Status DeadlineExceeded(absl::string_view what);

// UNAVAILABLE: `queued` calls already wait for the `work` threads ("reads",
// "writes"); nothing was done, and the call may be retried after a backoff.
absl::Status ServerBusy(absl::string_view work, size_t queued);
// RESOURCE_EXHAUSTED: a request body larger than the transport's limit of
// `max_bytes` bytes (the Connect/HTTP gateway; gRPC says it itself).
absl::Status RequestTooLarge(size_t max_bytes);
// UNIMPLEMENTED: no method at `path` ("/package.Service/Method"), the path
// quoted by QuoteInput.
absl::Status NoSuchMethod(absl::string_view path);
// RESOURCE_EXHAUSTED "too many open watches: <scope> already holds the limit
// of <limit>; close one first" (scope: "this token", "the server"), reason
// TOO_MANY_WATCHES with metadata "limit". Nothing was opened.
absl::Status TooManyWatches(absl::string_view scope, size_t limit);
// UNAVAILABLE: the server is shutting down; the stream ended (or was never
// opened) and may be opened again on a server that is up. Reason
// SHUTTING_DOWN.
absl::Status ShuttingDown();
// FAILED_PRECONDITION: sopd's data dir or database dir `path` (`what`
// says which) has permission bits `mode` that let group or others write to
// it; names the chmod to run once its contents are checked.
absl::Status DataDirWritableByOthers(absl::string_view what, absl::string_view path, unsigned mode);
// FAILED_PRECONDITION: `sopd --bootstrap-admin` found no database in `path`.
absl::Status NoDatabase(absl::string_view path);
// FAILED_PRECONDITION: `sopd --bootstrap-admin` could not take the database
// in `path` (`detail`: the store's words), as when a running sopd holds it.
absl::Status DatabaseInUse(absl::string_view path, absl::string_view detail);
// FAILED_PRECONDITION "data dir <dir> was written by format version
// <found>; this sopd <sopd_version> reads up to <readable>: upgrade sopd or
// restore a backup", reason NEWER_DATA_FORMAT. Nothing was changed.
absl::Status NewerDataFormat(absl::string_view dir, int found, int readable,
                             absl::string_view sopd_version);
// FAILED_PRECONDITION: the data dir's format file `path` cannot be read or
// does not state a format version (`detail` says why), reason
// BAD_DATA_FORMAT. Nothing was changed.
absl::Status BadDataFormat(absl::string_view path, absl::string_view detail);
// The status `cause` of opening the database in `path` at start, its code
// kept (DATA_LOSS for corruption, FAILED_PRECONDITION for permissions,
// missing files and locks), its message naming the database and the next
// step: "cannot open the database in <path>: <cause>; sopd did not start:
// <remedy>", reason DATABASE_UNUSABLE. The remedy: fix the permissions for
// a permission error, stop the other process for a lock, else restore from
// a backup (docs/OPERATIONS.md).
absl::Status DatabaseUnusable(absl::string_view path, const absl::Status& cause);

// RESOURCE_EXHAUSTED "storage: <what>: the disk holding the database is
// full (<detail>): writes are refused until space is freed; reads still
// work", reason DISK_FULL. Nothing was written; the write may be retried once
// space is freed (sopd resumes writing by itself).
absl::Status DiskFull(absl::string_view what, absl::string_view detail);
// UNAVAILABLE "storage: etcd at <endpoints> is unreachable (<detail>):
// writes are refused until it answers; lookups are served from memory",
// reason STORE_UNAVAILABLE. Nothing was written; retry later.
absl::Status StoreUnavailable(absl::string_view endpoints, absl::string_view detail);
// DEADLINE_EXCEEDED "storage: etcd at <endpoints> did not answer in time
// (<detail>)", reason STORE_TIMEOUT. The write may or may not have been
// applied: read the SOP again before retrying.
absl::Status StoreTimedOut(absl::string_view endpoints, absl::string_view detail);
// ABORTED "audit event <sequence> of org <org> was written by another
// node", reason AUDIT_SEQUENCE_TAKEN: a shared store's audit chain moved on
// since this node read it. Nothing was written; AuditLog re-reads the chain
// and tries again (callers outside it never see this error).
absl::Status AuditSequenceTaken(absl::string_view org, int64_t sequence);
// The reason of AuditSequenceTaken.
inline constexpr absl::string_view kAuditSequenceTaken = "AUDIT_SEQUENCE_TAKEN";
// INVALID_ARGUMENT naming `field`: a change of `size` bytes does not fit the
// store's limit of `max` bytes for one write (etcd's request limit).
absl::Status ChangeTooLarge(absl::string_view field, size_t size, size_t max);
// INTERNAL for storage errors the caller cannot fix; `what` says which
// operation failed, `detail` what the engine reported.
absl::Status Storage(absl::StatusCode code, absl::string_view what, absl::string_view detail);
// DATA_LOSS "storage: <what> <name> is corrupt: <reason>", for a record the
// store holds but sopd cannot use (a head whose name does not parse): the
// store's fault, not the caller's, so never INVALID_ARGUMENT. `name` is the
// record's key or name as stored, quoted by QuoteInput.
absl::Status CorruptRecord(absl::string_view what, absl::string_view name,
                           absl::string_view reason);
// UNIMPLEMENTED "<method> is not served by this server": a part of the API
// the server was started without.
absl::Status NotServed(absl::string_view method);
// INTERNAL "search index: <what>: <detail>" for a failure of the full-text
// index (`detail`: what the engine reported), reason SEARCH_INDEX.
absl::Status SearchIndex(absl::string_view what, absl::string_view detail);
// UNAVAILABLE: a backup is already being taken; retry once it has
// finished. Reason BACKUP_IN_PROGRESS.
absl::Status BackupInProgress();
// FAILED_PRECONDITION: `path` is no backup sopd can restore: `detail` says
// why (no manifest, a manifest that does not parse, a newer format, a file
// path outside the backup). Reason NOT_A_BACKUP, subject `path`.
absl::Status NotABackup(absl::string_view path, absl::string_view detail);
// DATA_LOSS: the backup file `path` is missing, truncated or altered
// (`detail`: what differs from the manifest); names what to do. Reason
// BACKUP_CORRUPT with metadata "file".
absl::Status BackupFileCorrupt(absl::string_view path, absl::string_view detail);
// FAILED_PRECONDITION: a restore or backup target `path` (`what`: "the
// database dir", "the backup destination") exists and is not empty; names
// what to do. Reason TARGET_NOT_EMPTY.
absl::Status TargetNotEmpty(absl::string_view what, absl::string_view path);

// FAILED_PRECONDITION "Graphviz's <tool> was not found on PATH: install
// graphviz (apt-get install graphviz) to render SVG or PNG, or ask for
// mermaid or dot text", reason GRAPHVIZ_MISSING, subject `tool`.
absl::Status GraphvizMissing(absl::string_view tool);
// INTERNAL "Graphviz's <tool> failed: <detail>" (`detail`: its exit status
// and what it wrote on stderr, or why it could not be run), reason
// GRAPHVIZ_FAILED.
absl::Status GraphvizFailed(absl::string_view tool, absl::string_view detail);
// Drafting an SOP from a brief (common/drafting, docs/AUTHORING.md).
//
// INVALID_ARGUMENT listing every part of a brief a drafter cannot satisfy:
// each violation's field is "brief" and its description names the clause
// ("clause 2 \"0-touch cadence over 5 days\": a cadence needs at least one
// touch"), reason BRIEF_NOT_UNDERSTOOD. `violations` is not empty.
absl::Status BriefNotUnderstood(std::vector<FieldViolation> violations);
// UNAVAILABLE "drafting model at <endpoint> unreachable: <detail>" (DNS,
// connection refused or reset), reason MODEL_UNREACHABLE with metadata
// "endpoint". Nothing was drafted; the call may be retried.
absl::Status ModelUnreachable(absl::string_view endpoint, absl::string_view detail);
// DEADLINE_EXCEEDED "drafting model at <endpoint> gave no answer within
// <timeout>", reason MODEL_TIMEOUT with metadata "endpoint". Nothing was
// drafted.
absl::Status ModelTimeout(absl::string_view endpoint, absl::Duration timeout);
// "drafting model at <endpoint> answered HTTP <http_status>: <body>", the
// body quoted by QuoteInput, reason MODEL_HTTP_ERROR with metadata
// "endpoint" and "http_status". UNAVAILABLE for 429 and 5xx (the model
// server is busy or failing: retry later); FAILED_PRECONDITION for any
// other status (a wrong model name, key or URL: fix the drafter's
// configuration first).
absl::Status ModelHttpError(absl::string_view endpoint, int http_status, absl::string_view body);
// UNAVAILABLE "drafting model at <endpoint> sent no usable chat completion:
// <detail>" (a malformed or oversized HTTP response, a body without
// choices[0].message.content), reason MODEL_BAD_RESPONSE with metadata
// "endpoint".
absl::Status ModelBadResponse(absl::string_view endpoint, absl::string_view detail);
// UNAVAILABLE "drafting model "<model>" gave no valid SOP in <attempts>
// attempts; the last answer: <problem>[; <problem>]", the model quoted by
// QuoteInput, each problem "is not valid JSON: ...", "is not a JSON object:
// ..." or a violation "<path>: <reason>"; reason MODEL_ANSWER_INVALID with
// metadata "model" and "attempts". Nothing was drafted; another attempt, a
// clearer brief or a stronger model may succeed.
absl::Status ModelAnswerInvalid(absl::string_view model, int attempts,
                                const std::vector<std::string>& problems);

// FAILED_PRECONDITION "drafter: \"model\" is not configured on this server:
// start sopd with --drafter-model-url and --drafter-model, or use the
// builtin drafter", reason DRAFTER_NOT_CONFIGURED, subject "drafter".
absl::Status DrafterNotConfigured(absl::string_view drafter);
// FAILED_PRECONDITION "SOP <name> has no published revision", reason
// NOT_PUBLISHED, subject `name`.
absl::Status SopNotPublished(absl::string_view name);
// Events and webhooks (docs/EVENTS.md).
// NOT_FOUND "webhook <name> not found"; reason WEBHOOK_NOT_FOUND.
absl::Status WebhookNotFound(absl::string_view name);
// ALREADY_EXISTS "webhook <name> already exists"; reason WEBHOOK_ALREADY_EXISTS.
absl::Status WebhookAlreadyExists(absl::string_view name);
// NOT_FOUND "delivery <name> not found"; reason DELIVERY_NOT_FOUND.
absl::Status DeliveryNotFound(absl::string_view name);
// FAILED_PRECONDITION "delivery <name> is <state>, not DEAD: only a
// dead-lettered delivery can be replayed"; reason DELIVERY_NOT_DEAD.
absl::Status DeliveryNotDead(absl::string_view name, absl::string_view state);
// RESOURCE_EXHAUSTED "the change stream fell <behind> events behind; open it
// again"; reason WATCH_FELL_BEHIND.
absl::Status WatchFellBehind(size_t behind);
// UNAVAILABLE "webhook <url> unreachable: <detail>" (the attempt's error:
// refused, reset, timed out); reason WEBHOOK_UNREACHABLE. Recorded as a
// delivery's last_error, never returned by a write.
absl::Status WebhookUnreachable(absl::string_view url, absl::string_view detail);
// SOP templates (docs/AUTHORING.md).
//
// NOT_FOUND "template <name> not found", reason TEMPLATE_NOT_FOUND with
// metadata "name"; with `field` ("template": CreateSop from a template that
// is missing or in another org) the message starts "<field>: " and the
// metadata has "field".
absl::Status TemplateNotFound(absl::string_view name, absl::string_view field = "");
// ALREADY_EXISTS "template <name> already exists", reason
// TEMPLATE_ALREADY_EXISTS.
absl::Status TemplateAlreadyExists(absl::string_view name);
// ABORTED: the etag sent for template <name> is not its current one; get it
// again and retry. Reason TEMPLATE_ETAG_MISMATCH.
absl::Status TemplateEtagMismatch(absl::string_view name);
// One requirement of a template that an SOP does not meet: the SOP's field
// path ("purpose", "sla_terms[min_lead_score].number") and what is wrong
// ("min_lead_score is 60; the sla-handoff template requires at least 75").
struct TemplateViolation {
  std::string subject;
  std::string description;
};
// FAILED_PRECONDITION "SOP <name> does not meet the requirements of template
// <template>: <description>[; <description>]", reason
// TEMPLATE_REQUIREMENTS_UNMET with metadata "name" and "template", and a
// PreconditionFailure with one violation of type "TEMPLATE" per unmet
// requirement (subject the field path). `violations` is not empty.
absl::Status TemplateRequirementsUnmet(absl::string_view name, absl::string_view template_name,
                                       const std::vector<TemplateViolation>& violations);

}  // namespace sopsidebar::error

#endif  // SOPSIDEBAR_COMMON_ERRORS_H_
