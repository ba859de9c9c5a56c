// Validation of everything that comes from outside: SOP bodies and CRM
// contexts. The same checks serve the server, `sopd --import` and
// `sopctl apply`, so a file is rejected with the same words everywhere.
//
// Every function returns OK or INVALID_ARGUMENT whose message starts with the
// offending field's path ("sop.steps[2].ordinal: duplicate ordinal 2") and
// that carries its field violations as data (error::FieldViolationsOf).
// Which fields are required is declared in the protos (FIELD_BEHAVIOR_REQUIRED,
// MissingRequiredFields); only list elements (tags, roles, record types) are
// required by hand.
// Paths start with `prefix`; an empty prefix gives paths relative to the
// message ("steps[2].ordinal"). Thread-safe (pure).
#ifndef SOPSIDEBAR_COMMON_MODEL_VALIDATION_H_
#define SOPSIDEBAR_COMMON_MODEL_VALIDATION_H_

#include <cstddef>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/errors.h"
#include "sopsidebar/v1/context_service.pb.h"
#include "sopsidebar/v1/sop.pb.h"

namespace sopsidebar {

// Size limits. Rejections name the limit. Text limits count characters
// (Unicode code points), as the API documents them; a text never takes more
// than 4 bytes a character (so at most 4 x its limit in bytes) in storage.
struct Limits {
  static constexpr size_t kMaxTitle = 200;
  static constexpr size_t kMaxShortText = 256;  // names, labels, owner, ids
  static constexpr size_t kMaxUserId = 256;     // a token's user_id, owner_user_id
  static constexpr size_t kMaxText = 20000;     // purpose, instructions
  static constexpr size_t kMaxFieldName = 128;
  static constexpr size_t kMaxStringValue = 1024;  // a condition or context value
  static constexpr size_t kMaxListItems = 200;     // tags, values, record types
  static constexpr size_t kMaxSteps = 100;
  static constexpr size_t kMaxRules = 50;
  static constexpr size_t kMaxConditions = 20;
  static constexpr size_t kMaxContextFields = 500;
  static constexpr int kMaxPriority = 1000;
  static constexpr int kMaxCadenceDay = 365;
  // A whole SOP body, serialised. The per-field limits alone allow far more
  // (100 steps of 200 notes of 20 000 characters), and updates replace
  // fields one at a time, so without it an SOP could outgrow what a gRPC
  // client receives (4 MiB by default); a list page carries at least one
  // SOP, so this bounds its largest page too (kMaxListPageBytes).
  static constexpr size_t kMaxSopBytes = 3 * 1024 * 1024;
};

// What a text field may hold besides printable characters.
enum class TextKind {
  kLine,       // titles, names, labels, ids, owner: no control character
  kMultiline,  // Markdown and other long texts: newlines and tabs, no other control
  kCrmValue,   // values compared with CRM data: any character
};

// OK when `value` is valid UTF-8 of at most `max_chars` characters without a
// control character (C0, DEL, C1) that `kind` forbids. Else INVALID_ARGUMENT
// naming `path`, positions counting characters from 0:
//   "<path>: longer than the limit of <max_chars> characters"
//   "<path>: is not valid UTF-8 (byte 0xff at position 5)"
//   "<path>: control character U+001B at position 4 is not allowed"
// A value longer than 4 x max_chars bytes is too long without being read.
absl::Status ValidateText(absl::string_view path, absl::string_view value, size_t max_chars,
                          TextKind kind);

// Checks the mutable fields of an SOP body (output-only fields are ignored)
// and returns every violation (path, reason): the missing required fields
// first, then the others, each in field order; empty when the body is valid. A field is reported
// once, for its first problem; checks that depend on it (duplicates) are skipped.
std::vector<error::FieldViolation> SopBodyViolations(const v1::Sop& sop, absl::string_view prefix);

// OK, or INVALID_ARGUMENT carrying all of SopBodyViolations
// (error::InvalidFields: the message lists them joined by "; ").
absl::Status ValidateSopBody(const v1::Sop& sop, absl::string_view prefix);

// Checks a lookup context: org name (when given: an empty org is the
// caller's own), record type, field names and value types (strings, numbers,
// bools, null, and flat lists of those), and its crm when set.
absl::Status ValidateCrmContext(const v1::CrmContext& context, absl::string_view prefix);

// A CRM field's API name: a letter, then letters, digits, '_' or '.'.
bool IsValidFieldName(absl::string_view name);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_COMMON_MODEL_VALIDATION_H_
