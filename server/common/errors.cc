#include "server/common/errors.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/common/utf8.h"

namespace sopsidebar::error {

std::string QuoteInput(absl::string_view input) {
  size_t end = 0;
  for (size_t chars = 0; end < input.size() && chars < kMaxQuotedChars; ++chars) {
    end += DecodeUtf8At(input, end).size;
  }
  std::string quoted = absl::StrCat("\"", EscapeUnprintable(input.substr(0, end)), "\"");
  if (end < input.size()) absl::StrAppend(&quoted, "… (", input.size(), " bytes)");
  return quoted;
}

absl::Status InvalidField(absl::string_view field, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", reason));
}

absl::Status RequiredField(absl::string_view field) {
  return InvalidField(field, "is required");
}

absl::Status FieldTooLong(absl::string_view field, size_t max) {
  return InvalidField(field,
                      absl::StrCat("longer than the limit of ", max, " characters"));
}

absl::Status TooManyItems(absl::string_view field, size_t max) {
  return InvalidField(field, absl::StrCat("more than the limit of ", max, " items"));
}

absl::Status InvalidResourceName(absl::string_view field, absl::string_view value,
                                 absl::string_view expected_form) {
  return InvalidField(field, absl::StrCat(QuoteInput(value), " is not a valid name; expected ",
                                          expected_form));
}

absl::Status UpperCaseId(absl::string_view field, absl::string_view kind, absl::string_view id) {
  return InvalidField(field, absl::StrCat(kind, " ids are lower case: ", QuoteInput(id),
                                          " should be ", QuoteInput(absl::AsciiStrToLower(id))));
}

absl::Status InvalidPageToken() {
  return InvalidField("page_token",
                      "was not issued for this request or has expired (tokens do not "
                      "survive a restart); list again without it");
}

absl::Status MalformedRequest(absl::string_view message_type, absl::string_view reason) {
  return InvalidField("request", absl::StrCat("not a valid ", message_type, ": ", reason));
}

absl::Status SopNotFound(absl::string_view name) {
  return absl::NotFoundError(absl::StrCat("SOP ", name, " not found"));
}

absl::Status RevisionNotFound(absl::string_view name) {
  return absl::NotFoundError(absl::StrCat("revision ", name, " not found"));
}

absl::Status SopAlreadyExists(absl::string_view name) {
  return absl::AlreadyExistsError(absl::StrCat("SOP ", name, " already exists"));
}

absl::Status EtagMismatch(absl::string_view name) {
  return absl::AbortedError(absl::StrCat(
      "SOP ", name, " was changed since the etag was read; get it again and retry"));
}

absl::Status SopDeleted(absl::string_view name) {
  return absl::FailedPreconditionError(
      absl::StrCat("SOP ", name, " is deleted; undelete it first"));
}

absl::Status SopNotDeleted(absl::string_view name) {
  return absl::FailedPreconditionError(absl::StrCat("SOP ", name, " is not deleted"));
}

absl::Status SopNotPublishable(absl::string_view name, absl::string_view reason) {
  return absl::FailedPreconditionError(
      absl::StrCat("SOP ", name, " cannot be published: ", reason));
}

absl::Status Unauthenticated() {
  return absl::UnauthenticatedError(
      absl::StrCat("missing or invalid credentials: ", kSendTokenHint));
}

absl::Status PermissionDenied(absl::string_view operation) {
  return absl::PermissionDeniedError(
      absl::StrCat("your roles do not allow you to ", operation));
}

absl::Status OrgNotFound(absl::string_view name) {
  return absl::NotFoundError(absl::StrCat("org ", name, " not found"));
}

absl::Status OrgAlreadyExists(absl::string_view name) {
  return absl::AlreadyExistsError(absl::StrCat("org ", name, " already exists"));
}

absl::Status TokenNotFound(absl::string_view name) {
  return absl::NotFoundError(absl::StrCat("token ", name, " not found"));
}

absl::Status LastServerAdminToken(absl::string_view name) {
  return absl::FailedPreconditionError(absl::StrCat(
      "token ", name,
      " is the last active server-admin token without an expiry, and without one nobody can "
      "create orgs or server-admin tokens; first create another with `sopctl token create "
      "--server-admin --user USER --role ADMIN`, then revoke this one"));
}

absl::Status DataDirWritableByOthers(absl::string_view what, absl::string_view path,
                                     unsigned mode) {
  return absl::FailedPreconditionError(absl::StrFormat(
      "%s %s has mode %04o: group or others may write to it, so someone else may have changed "
      "sopd's data; check what is in it, then run: chmod 0700 %s",
      what, path, mode, path));
}

absl::Status NoDatabase(absl::string_view path) {
  return absl::FailedPreconditionError(absl::StrCat(
      "no sopd database in ", path,
      ": --bootstrap-admin issues a token in an existing data dir (check --data-dir); on a new "
      "one, sopd's first start writes the admin token itself"));
}

absl::Status DatabaseInUse(absl::string_view path, absl::string_view detail) {
  return absl::FailedPreconditionError(
      absl::StrCat("cannot open the database in ", path, " (", detail,
                   "); --bootstrap-admin needs the sopd that serves it stopped first"));
}

absl::Status DeadlineExceeded(absl::string_view what) {
  return absl::DeadlineExceededError(
      absl::StrCat("deadline passed before ", what, "; nothing was done"));
}

absl::Status ServerBusy(absl::string_view work, size_t queued) {
  return absl::UnavailableError(absl::StrCat("server busy: ", queued, " calls already wait for ",
                                             work, "; nothing was done, retry after a backoff"));
}

absl::Status Storage(absl::StatusCode code, absl::string_view what,
                     absl::string_view detail) {
  return absl::Status(code, absl::StrCat("storage: ", what, ": ", detail));
}

absl::Status CorruptRecord(absl::string_view what, absl::string_view name,
                           absl::string_view reason) {
  return absl::DataLossError(
      absl::StrCat("storage: ", what, " ", QuoteInput(name), " is corrupt: ", reason));
}

}  // namespace sopsidebar::error
