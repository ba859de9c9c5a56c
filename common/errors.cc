#include "common/errors.h"

#include <initializer_list>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/utf8.h"
#include "google/rpc/error_details.pb.h"

namespace sopsidebar::error {
namespace {

using Metadata = std::initializer_list<std::pair<absl::string_view, std::string>>;

void SetDetail(absl::string_view type_url, const google::protobuf::MessageLite& detail,
               absl::Status* status) {
  status->SetPayload(type_url, absl::Cord(detail.SerializeAsString()));
}

// `status` with an ErrorInfo of `reason` and `metadata`.
absl::Status WithInfo(absl::Status status, absl::string_view reason, Metadata metadata = {}) {
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(std::string(kErrorDomain));
  for (const auto& [key, value] : metadata) (*info.mutable_metadata())[std::string(key)] = value;
  SetDetail(kErrorInfoType, info, &status);
  return status;
}

// FAILED_PRECONDITION `message` about the state of `subject`, with an
// ErrorInfo of `reason` and a PreconditionFailure of type "STATE".
absl::Status StateError(absl::string_view reason, absl::string_view subject,
                        absl::string_view description, std::string message) {
  absl::Status status =
      WithInfo(absl::FailedPreconditionError(message), reason, {{"name", std::string(subject)}});
  google::rpc::PreconditionFailure failure;
  google::rpc::PreconditionFailure::Violation* violation = failure.add_violations();
  violation->set_type("STATE");
  violation->set_subject(std::string(subject));
  violation->set_description(std::string(description));
  SetDetail(kPreconditionFailureType, failure, &status);
  return status;
}

absl::Status InvalidFieldsWithReason(absl::string_view reason,
                                     std::vector<FieldViolation> violations) {
  google::rpc::BadRequest bad_request;
  std::vector<std::string> parts;
  parts.reserve(violations.size());
  for (FieldViolation& v : violations) {
    parts.push_back(absl::StrCat(v.field, ": ", v.description));
    google::rpc::BadRequest::FieldViolation* out = bad_request.add_field_violations();
    out->set_field(std::move(v.field));
    out->set_description(std::move(v.description));
  }
  absl::Status status = WithInfo(absl::InvalidArgumentError(absl::StrJoin(parts, "; ")), reason);
  SetDetail(kBadRequestType, bad_request, &status);
  return status;
}

}  // namespace

std::string QuoteInput(absl::string_view input) {
  size_t end = 0;
  for (size_t chars = 0; end < input.size() && chars < kMaxQuotedChars; ++chars) {
    end += DecodeUtf8At(input, end).size;
  }
  std::string quoted = absl::StrCat("\"", EscapeUnprintable(input.substr(0, end)), "\"");
  if (end < input.size()) absl::StrAppend(&quoted, "… (", input.size(), " bytes)");
  return quoted;
}

absl::Status InvalidFields(std::vector<FieldViolation> violations) {
  return InvalidFieldsWithReason("INVALID_FIELD", std::move(violations));
}

std::vector<FieldViolation> FieldViolationsOf(const absl::Status& status) {
  std::vector<FieldViolation> violations;
  const auto payload = status.GetPayload(kBadRequestType);
  google::rpc::BadRequest bad_request;
  if (!payload.has_value() || !bad_request.ParseFromString(std::string(*payload))) {
    return violations;
  }
  for (const auto& v : bad_request.field_violations()) {
    violations.push_back({v.field(), v.description()});
  }
  return violations;
}

std::string ReasonOf(const absl::Status& status) {
  const auto payload = status.GetPayload(kErrorInfoType);
  google::rpc::ErrorInfo info;
  if (!payload.has_value() || !info.ParseFromString(std::string(*payload))) return "";
  return info.reason();
}

absl::Status InvalidField(absl::string_view field, absl::string_view reason) {
  return InvalidFields({{std::string(field), std::string(reason)}});
}

absl::Status RequiredField(absl::string_view field) { return InvalidField(field, "is required"); }

absl::Status FieldTooLong(absl::string_view field, size_t max) {
  return InvalidField(field, absl::StrCat("longer than the limit of ", max, " characters"));
}

absl::Status TooManyItems(absl::string_view field, size_t max) {
  return InvalidField(field, absl::StrCat("more than the limit of ", max, " items"));
}

absl::Status InvalidResourceName(absl::string_view field, absl::string_view value,
                                 absl::string_view expected_form) {
  return InvalidField(
      field, absl::StrCat(QuoteInput(value), " is not a valid name; expected ", expected_form));
}

absl::Status UpperCaseId(absl::string_view field, absl::string_view kind, absl::string_view id) {
  return InvalidField(field, absl::StrCat(kind, " ids are lower case: ", QuoteInput(id),
                                          " should be ", QuoteInput(absl::AsciiStrToLower(id))));
}

absl::Status InvalidPageToken() {
  return InvalidFieldsWithReason("INVALID_PAGE_TOKEN",
                                 {{"page_token",
                                   "was not issued for this request or has expired (tokens do not "
                                   "survive a restart); list again without it"}});
}

absl::Status MalformedRequest(absl::string_view message_type, absl::string_view reason) {
  return InvalidFieldsWithReason(
      "MALFORMED_REQUEST", {{"request", absl::StrCat("not a valid ", message_type, ": ", reason)}});
}

absl::Status SopNotFound(absl::string_view name) {
  return WithInfo(absl::NotFoundError(absl::StrCat("SOP ", name, " not found")), "SOP_NOT_FOUND",
                  {{"name", std::string(name)}});
}

absl::Status RevisionNotFound(absl::string_view name) {
  return WithInfo(absl::NotFoundError(absl::StrCat("revision ", name, " not found")),
                  "REVISION_NOT_FOUND", {{"name", std::string(name)}});
}

absl::Status EventRevisionNotFound(absl::string_view field, absl::string_view sop,
                                   absl::string_view revision_id) {
  const std::string name = absl::StrCat(sop, "/revisions/", revision_id);
  return WithInfo(absl::NotFoundError(absl::StrCat(field, ": revision ", QuoteInput(revision_id),
                                                   " of SOP ", QuoteInput(sop), " not found")),
                  "REVISION_NOT_FOUND", {{"name", name}, {"field", std::string(field)}});
}

absl::Status SopAlreadyExists(absl::string_view name) {
  return WithInfo(absl::AlreadyExistsError(absl::StrCat("SOP ", name, " already exists")),
                  "SOP_ALREADY_EXISTS", {{"name", std::string(name)}});
}

absl::Status EtagMismatch(absl::string_view name) {
  return WithInfo(
      absl::AbortedError(absl::StrCat(
          "SOP ", name, " was changed since the etag was read; get it again and retry")),
      "ETAG_MISMATCH", {{"name", std::string(name)}});
}

absl::Status SopDeleted(absl::string_view name) {
  return StateError("SOP_DELETED", name, "is deleted",
                    absl::StrCat("SOP ", name, " is deleted; undelete it first"));
}

absl::Status SopNotDeleted(absl::string_view name) {
  return StateError("SOP_NOT_DELETED", name, "is not deleted",
                    absl::StrCat("SOP ", name, " is not deleted"));
}

absl::Status SopNotPublishable(absl::string_view name, absl::string_view reason) {
  return StateError("SOP_NOT_PUBLISHABLE", name, reason,
                    absl::StrCat("SOP ", name, " cannot be published: ", reason));
}

absl::Status CommentNotFound(absl::string_view name) {
  return WithInfo(absl::NotFoundError(absl::StrCat("comment ", name, " not found")),
                  "COMMENT_NOT_FOUND", {{"name", std::string(name)}});
}

absl::Status NothingToReview(absl::string_view name) {
  return StateError(
      "NOTHING_TO_REVIEW", name, "the draft is the live revision",
      absl::StrCat("SOP ", name, " has no change to review: its draft is the live revision"));
}

absl::Status ReviewState(absl::string_view name, absl::string_view state, absl::string_view action,
                         absl::string_view wanted) {
  return StateError("REVIEW_STATE", name, absl::StrCat("is ", state, "; needs ", wanted),
                    absl::StrCat("SOP ", name, " is ", state, "; ", action, " needs ", wanted));
}

absl::Status AwaitingSignOff(absl::string_view name, const std::vector<std::string>& roles) {
  const std::string awaiting = absl::StrJoin(roles, ", ");
  absl::Status status = WithInfo(
      absl::FailedPreconditionError(
          absl::StrCat("SOP ", name, " cannot be published: awaiting ", awaiting)),
      "AWAITING_SIGN_OFF", {{"name", std::string(name)}, {"awaiting", absl::StrJoin(roles, ",")}});
  google::rpc::PreconditionFailure failure;
  for (const std::string& role : roles) {
    google::rpc::PreconditionFailure::Violation* violation = failure.add_violations();
    violation->set_type("SIGN_OFF");
    violation->set_subject(std::string(name));
    violation->set_description(absl::StrCat("awaiting ", role));
  }
  SetDetail(kPreconditionFailureType, failure, &status);
  return status;
}

absl::Status AlreadySignedOff(absl::string_view name, absl::string_view who) {
  return StateError("ALREADY_SIGNED_OFF", name, absl::StrCat(who, " already signed off"),
                    absl::StrCat(who, " already signed off the change to SOP ", name,
                                 "; each role and each person signs once"));
}

absl::Status StaleReview(absl::string_view name, absl::string_view read,
                         absl::string_view current) {
  return WithInfo(
      absl::AbortedError(absl::StrCat(
          "revision ", read, " of SOP ", name, " is no longer under review (",
          current.empty() ? std::string("none is") : absl::StrCat("revision ", current, " is"),
          "); re-read the SOP and review it again")),
      "REVIEW_STALE", {{"name", std::string(name)}});
}

absl::Status OwnChange(absl::string_view name) {
  return WithInfo(absl::PermissionDeniedError(absl::StrCat(
                      "you changed the draft of SOP ", name,
                      ", so you may not sign it off; another holder of the role must")),
                  "OWN_CHANGE", {{"name", std::string(name)}});
}

absl::Status Unauthenticated() {
  return WithInfo(
      absl::UnauthenticatedError(absl::StrCat("missing or invalid credentials: ", kSendTokenHint)),
      "UNAUTHENTICATED");
}

absl::Status PermissionDenied(absl::string_view operation) {
  return WithInfo(
      absl::PermissionDeniedError(absl::StrCat("your roles do not allow you to ", operation)),
      "PERMISSION_DENIED", {{"operation", std::string(operation)}});
}

absl::Status ViewerNotAllowed(absl::string_view header) {
  return WithInfo(absl::PermissionDeniedError(absl::StrCat(
                      "only an INTEGRATION token may state the viewer it acts for (", header, ")")),
                  "VIEWER_NOT_ALLOWED", {{"metadata", std::string(header)}});
}

absl::Status OrgNotFound(absl::string_view name) {
  return WithInfo(absl::NotFoundError(absl::StrCat("org ", name, " not found")), "ORG_NOT_FOUND",
                  {{"name", std::string(name)}});
}

absl::Status OrgAlreadyExists(absl::string_view name) {
  return WithInfo(absl::AlreadyExistsError(absl::StrCat("org ", name, " already exists")),
                  "ORG_ALREADY_EXISTS", {{"name", std::string(name)}});
}

absl::Status TokenNotFound(absl::string_view name) {
  return WithInfo(absl::NotFoundError(absl::StrCat("token ", name, " not found")),
                  "TOKEN_NOT_FOUND", {{"name", std::string(name)}});
}

absl::Status LastServerAdminToken(absl::string_view name) {
  return StateError(
      "LAST_SERVER_ADMIN_TOKEN", name, "is the last active server-admin token without an expiry",
      absl::StrCat(
          "token ", name,
          " is the last active server-admin token without an expiry, and without one nobody can "
          "create orgs or server-admin tokens; first create another with `sopctl token create "
          "--server-admin --user USER --role ADMIN`, then revoke this one"));
}

absl::Status DataDirWritableByOthers(absl::string_view what, absl::string_view path,
                                     unsigned mode) {
  return StateError(
      "DATA_DIR_WRITABLE_BY_OTHERS", path, "group or others may write to it",
      absl::StrFormat(
          "%s %s has mode %04o: group or others may write to it, so someone else may have "
          "changed sopd's data; check what is in it, then run: chmod 0700 %s",
          what, path, mode, path));
}

absl::Status NoDatabase(absl::string_view path) {
  return StateError(
      "NO_DATABASE", path, "holds no sopd database",
      absl::StrCat(
          "no sopd database in ", path,
          ": --bootstrap-admin issues a token in an existing data dir (check --data-dir); on a new "
          "one, sopd's first start writes the admin token itself"));
}

absl::Status DatabaseInUse(absl::string_view path, absl::string_view detail) {
  return StateError(
      "DATABASE_IN_USE", path, detail,
      absl::StrCat("cannot open the database in ", path, " (", detail,
                   "); --bootstrap-admin needs the sopd that serves it stopped first"));
}

absl::Status NewerDataFormat(absl::string_view dir, int found, int readable,
                             absl::string_view sopd_version) {
  return StateError(
      "NEWER_DATA_FORMAT", dir, "written by a newer sopd",
      absl::StrFormat("data dir %s was written by format version %d; this sopd %s reads up to "
                      "%d: upgrade sopd or restore a backup",
                      dir, found, sopd_version, readable));
}

absl::Status BadDataFormat(absl::string_view path, absl::string_view detail) {
  return StateError("BAD_DATA_FORMAT", path, detail,
                    absl::StrCat("data dir format file ", path, " ", detail,
                                 ": restore it from a backup (docs/OPERATIONS.md), or write the "
                                 "line 'sopd data dir format 1' if the dir is from sopd 0.1"));
}

absl::Status DatabaseUnusable(absl::string_view path, const absl::Status& cause) {
  std::string remedy;
  if (absl::StrContains(cause.message(), "Permission denied")) {
    remedy = absl::StrCat("give the user sopd runs as read and write access to ", path,
                          " and every file in it (chown -R, then chmod -R u+rwX)");
  } else if (absl::StrContains(cause.message(), "/LOCK:")) {
    remedy = "another process (a running sopd?) holds it; stop that one first";
  } else if (absl::StrContains(cause.message(), "upgrade sopd")) {
    remedy = "see above";
  } else {
    remedy = "restore from a backup (docs/OPERATIONS.md); do not edit its files by hand";
  }
  return WithInfo(
      absl::Status(cause.code(), absl::StrCat("cannot open the database in ", path, ": ",
                                              cause.message(), "; sopd did not start: ", remedy)),
      "DATABASE_UNUSABLE", {{"name", std::string(path)}});
}

absl::Status DeadlineExceeded(absl::string_view what) {
  return WithInfo(absl::DeadlineExceededError(
                      absl::StrCat("deadline passed before ", what, "; nothing was done")),
                  "DEADLINE_EXCEEDED");
}

absl::Status ServerBusy(absl::string_view work, size_t queued) {
  return WithInfo(
      absl::UnavailableError(absl::StrCat("server busy: ", queued, " calls already wait for ", work,
                                          "; nothing was done, retry after a backoff")),
      "SERVER_BUSY", {{"work", std::string(work)}});
}

absl::Status RequestTooLarge(size_t max_bytes) {
  return WithInfo(absl::ResourceExhaustedError(
                      absl::StrCat("request body larger than the limit of ", max_bytes, " bytes")),
                  "REQUEST_TOO_LARGE", {{"max_bytes", absl::StrCat(max_bytes)}});
}

absl::Status NoSuchMethod(absl::string_view path) {
  return WithInfo(absl::UnimplementedError(absl::StrCat("no method ", QuoteInput(path))),
                  "METHOD_NOT_FOUND");
}

absl::Status TooManyWatches(absl::string_view scope, size_t limit) {
  return WithInfo(absl::ResourceExhaustedError(absl::StrCat("too many open watches: ", scope,
                                                            " already holds the limit of ", limit,
                                                            "; close one first")),
                  "TOO_MANY_WATCHES", {{"limit", absl::StrCat(limit)}});
}

absl::Status ShuttingDown() {
  return WithInfo(absl::UnavailableError("server shutting down; retry on a server that is up"),
                  "SHUTTING_DOWN");
}

absl::Status DiskFull(absl::string_view what, absl::string_view detail) {
  return WithInfo(absl::ResourceExhaustedError(absl::StrCat(
                      "storage: ", what, ": the disk holding the database is full (", detail,
                      "): writes are refused until space is freed; reads still work")),
                  "DISK_FULL");
}

absl::Status StoreUnavailable(absl::string_view endpoints, absl::string_view detail) {
  return WithInfo(absl::UnavailableError(absl::StrCat(
                      "storage: etcd at ", endpoints, " is unreachable (", detail,
                      "): writes are refused until it answers; lookups are served from memory")),
                  "STORE_UNAVAILABLE");
}

absl::Status StoreTimedOut(absl::string_view endpoints, absl::string_view detail) {
  return WithInfo(absl::DeadlineExceededError(absl::StrCat("storage: etcd at ", endpoints,
                                                           " did not answer in time (", detail,
                                                           "): the write may have been applied; "
                                                           "read it again before retrying")),
                  "STORE_TIMEOUT");
}

absl::Status AuditSequenceTaken(absl::string_view org, int64_t sequence) {
  return WithInfo(absl::AbortedError(absl::StrCat("audit event ", sequence, " of org ", org,
                                                  " was written by another node")),
                  kAuditSequenceTaken, {{"org", std::string(org)}});
}

absl::Status ChangeTooLarge(absl::string_view field, size_t size, size_t max) {
  return InvalidField(
      field, absl::StrCat("makes a change of ", size, " bytes; the store takes at most ", max,
                          " bytes in one write (etcd's request limit: an SOP "
                          "travels twice in a change, as head and revision)"));
}

absl::Status Storage(absl::StatusCode code, absl::string_view what, absl::string_view detail) {
  return WithInfo(absl::Status(code, absl::StrCat("storage: ", what, ": ", detail)), "STORAGE");
}

absl::Status CorruptRecord(absl::string_view what, absl::string_view name,
                           absl::string_view reason) {
  return absl::DataLossError(
      absl::StrCat("storage: ", what, " ", QuoteInput(name), " is corrupt: ", reason));
}

absl::Status NotServed(absl::string_view method) {
  return WithInfo(absl::UnimplementedError(absl::StrCat(method, " is not served by this server")),
                  "NOT_SERVED");
}

absl::Status SearchIndex(absl::string_view what, absl::string_view detail) {
  return WithInfo(absl::InternalError(absl::StrCat("search index: ", what, ": ", detail)),
                  "SEARCH_INDEX");
}

absl::Status BackupInProgress() {
  return WithInfo(
      absl::UnavailableError("a backup is being taken already; retry once it has finished"),
      "BACKUP_IN_PROGRESS");
}

absl::Status NotABackup(absl::string_view path, absl::string_view detail) {
  return StateError("NOT_A_BACKUP", path, detail,
                    absl::StrCat(path, " is not a sopd backup this sopd can restore: ", detail,
                                 " (sopctl admin backup DEST writes one)"));
}

absl::Status BackupFileCorrupt(absl::string_view path, absl::string_view detail) {
  return WithInfo(absl::DataLossError(absl::StrCat(
                      "backup file ", path, " ", detail,
                      ": the backup is damaged; nothing was restored. Restore another copy "
                      "or take a new backup")),
                  "BACKUP_CORRUPT", {{"file", std::string(path)}});
}

absl::Status TargetNotEmpty(absl::string_view what, absl::string_view path) {
  return StateError("TARGET_NOT_EMPTY", path, "exists and is not empty",
                    absl::StrCat(what, " ", path,
                                 " exists and is not empty; nothing was written. Choose a new "
                                 "path, or move it aside (keep it until the new copy is "
                                 "checked) and run again"));
}

absl::Status GraphvizMissing(absl::string_view tool) {
  return StateError("GRAPHVIZ_MISSING", tool, "not found on PATH",
                    absl::StrCat("Graphviz's ", tool,
                                 " was not found on PATH: install graphviz (apt-get install "
                                 "graphviz) to render SVG or PNG, or ask for mermaid or dot text"));
}

absl::Status GraphvizFailed(absl::string_view tool, absl::string_view detail) {
  return WithInfo(absl::InternalError(absl::StrCat("Graphviz's ", tool, " failed: ", detail)),
                  "GRAPHVIZ_FAILED");
}

absl::Status BriefNotUnderstood(std::vector<FieldViolation> violations) {
  return InvalidFieldsWithReason("BRIEF_NOT_UNDERSTOOD", std::move(violations));
}

absl::Status ModelUnreachable(absl::string_view endpoint, absl::string_view detail) {
  return WithInfo(absl::UnavailableError(
                      absl::StrCat("drafting model at ", endpoint, " unreachable: ", detail)),
                  "MODEL_UNREACHABLE", {{"endpoint", std::string(endpoint)}});
}

absl::Status ModelTimeout(absl::string_view endpoint, absl::Duration timeout) {
  return WithInfo(absl::DeadlineExceededError(absl::StrCat("drafting model at ", endpoint,
                                                           " gave no answer within ",
                                                           absl::FormatDuration(timeout))),
                  "MODEL_TIMEOUT", {{"endpoint", std::string(endpoint)}});
}

absl::Status ModelHttpError(absl::string_view endpoint, int http_status, absl::string_view body) {
  const bool transient = http_status == 429 || (http_status >= 500 && http_status <= 599);
  const std::string message = absl::StrCat("drafting model at ", endpoint, " answered HTTP ",
                                           http_status, ": ", QuoteInput(body));
  return WithInfo(
      transient ? absl::UnavailableError(message) : absl::FailedPreconditionError(message),
      "MODEL_HTTP_ERROR",
      {{"endpoint", std::string(endpoint)}, {"http_status", absl::StrCat(http_status)}});
}

absl::Status ModelBadResponse(absl::string_view endpoint, absl::string_view detail) {
  return WithInfo(absl::UnavailableError(absl::StrCat("drafting model at ", endpoint,
                                                      " sent no usable chat completion: ", detail)),
                  "MODEL_BAD_RESPONSE", {{"endpoint", std::string(endpoint)}});
}

absl::Status ModelAnswerInvalid(absl::string_view model, int attempts,
                                const std::vector<std::string>& problems) {
  return WithInfo(absl::UnavailableError(absl::StrCat(
                      "drafting model ", QuoteInput(model), " gave no valid SOP in ", attempts,
                      " attempts; the last answer: ", absl::StrJoin(problems, "; "))),
                  "MODEL_ANSWER_INVALID",
                  {{"model", std::string(model)}, {"attempts", absl::StrCat(attempts)}});
}

absl::Status DrafterNotConfigured(absl::string_view drafter) {
  return StateError("DRAFTER_NOT_CONFIGURED", "drafter", "is not configured",
                    absl::StrCat("drafter: ", QuoteInput(drafter),
                                 " is not configured on this server: start sopd with "
                                 "--drafter-model-url and --drafter-model, or use the builtin "
                                 "drafter"));
}

absl::Status SopNotPublished(absl::string_view name) {
  return StateError("NOT_PUBLISHED", name, "has no published revision",
                    absl::StrCat("SOP ", name, " has no published revision"));
}

absl::Status WebhookNotFound(absl::string_view name) {
  return WithInfo(absl::NotFoundError(absl::StrCat("webhook ", name, " not found")),
                  "WEBHOOK_NOT_FOUND", {{"name", std::string(name)}});
}

absl::Status WebhookAlreadyExists(absl::string_view name) {
  return WithInfo(absl::AlreadyExistsError(absl::StrCat("webhook ", name, " already exists")),
                  "WEBHOOK_ALREADY_EXISTS", {{"name", std::string(name)}});
}

absl::Status DeliveryNotFound(absl::string_view name) {
  return WithInfo(absl::NotFoundError(absl::StrCat("delivery ", name, " not found")),
                  "DELIVERY_NOT_FOUND", {{"name", std::string(name)}});
}

absl::Status DeliveryNotDead(absl::string_view name, absl::string_view state) {
  return WithInfo(absl::FailedPreconditionError(
                      absl::StrCat("delivery ", name, " is ", state,
                                   ", not DEAD: only a dead-lettered delivery can be replayed")),
                  "DELIVERY_NOT_DEAD",
                  {{"name", std::string(name)}, {"state", std::string(state)}});
}

absl::Status WatchFellBehind(size_t behind) {
  return WithInfo(absl::ResourceExhaustedError(absl::StrCat("the change stream fell ", behind,
                                                            " events behind; open it again")),
                  "WATCH_FELL_BEHIND", {{"behind", absl::StrCat(behind)}});
}

absl::Status WebhookUnreachable(absl::string_view url, absl::string_view detail) {
  return WithInfo(absl::UnavailableError(absl::StrCat("webhook ", url, " unreachable: ", detail)),
                  "WEBHOOK_UNREACHABLE", {{"url", std::string(url)}});
}

absl::Status TemplateNotFound(absl::string_view name, absl::string_view field) {
  if (field.empty()) {
    return WithInfo(absl::NotFoundError(absl::StrCat("template ", name, " not found")),
                    "TEMPLATE_NOT_FOUND", {{"name", std::string(name)}});
  }
  return WithInfo(
      absl::NotFoundError(absl::StrCat(field, ": template ", QuoteInput(name), " not found")),
      "TEMPLATE_NOT_FOUND", {{"name", std::string(name)}, {"field", std::string(field)}});
}

absl::Status TemplateAlreadyExists(absl::string_view name) {
  return WithInfo(absl::AlreadyExistsError(absl::StrCat("template ", name, " already exists")),
                  "TEMPLATE_ALREADY_EXISTS", {{"name", std::string(name)}});
}

absl::Status TemplateEtagMismatch(absl::string_view name) {
  return WithInfo(absl::AbortedError(absl::StrCat("template ", name,
                                                  " was changed since the etag was read; get "
                                                  "it again and retry")),
                  "TEMPLATE_ETAG_MISMATCH", {{"name", std::string(name)}});
}

absl::Status TemplateRequirementsUnmet(absl::string_view name, absl::string_view template_name,
                                       const std::vector<TemplateViolation>& violations) {
  std::vector<std::string> descriptions;
  google::rpc::PreconditionFailure failure;
  for (const TemplateViolation& v : violations) {
    descriptions.push_back(v.description);
    google::rpc::PreconditionFailure::Violation* violation = failure.add_violations();
    violation->set_type("TEMPLATE");
    violation->set_subject(v.subject);
    violation->set_description(v.description);
  }
  absl::Status status =
      WithInfo(absl::FailedPreconditionError(
                   absl::StrCat("SOP ", name, " does not meet the requirements of template ",
                                template_name, ": ", absl::StrJoin(descriptions, "; "))),
               "TEMPLATE_REQUIREMENTS_UNMET",
               {{"name", std::string(name)}, {"template", std::string(template_name)}});
  SetDetail(kPreconditionFailureType, failure, &status);
  return status;
}

}  // namespace sopsidebar::error
