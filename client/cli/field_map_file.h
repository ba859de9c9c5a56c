// Field map files for `sopctl fieldmap set`: a sopsidebar.v1.FieldMap written
// in YAML or JSON (JSON is read as the YAML it also is), with proto field
// names, e.g.
//
//   fields:
//     - {crm_field: Status, field: lead_status, type: STRING}
//   record_types:
//     - {crm_object: "0-1", record_type: Contact}
//
// Types are FieldType names with or without the FIELD_TYPE_ prefix, in any
// case. The output-only keys of `sopctl fieldmap get -o json` (name,
// is_default, update_time) are accepted and ignored, so its output reads
// back. What the server checks (required fields, one entry per CRM field,
// sizes) is left to the server.
#ifndef SOPSIDEBAR_CLIENT_CLI_FIELD_MAP_FILE_H_
#define SOPSIDEBAR_CLIENT_CLI_FIELD_MAP_FILE_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sopsidebar/v1/admin_service.pb.h"

namespace sopsidebar::cli {

// A FieldType by name: "STRING", "string_list", "FIELD_TYPE_NUMBER".
// INVALID_ARGUMENT listing the types otherwise, and for UNSPECIFIED.
absl::StatusOr<v1::FieldType> ParseFieldType(absl::string_view text);

// Parses a field map file's `contents`; `path_for_errors` names the file in
// errors. The map's name is left empty. Returns INVALID_ARGUMENT listing every
// problem, one a line, "<file>:<line>: <path>: <reason>" with <path> such as
// "fields[1].type": malformed YAML/JSON, a top level that is not a mapping,
// unknown keys, values of the wrong shape, unknown types. Thread-safe (pure).
absl::StatusOr<v1::FieldMap> ParseFieldMapFile(absl::string_view path_for_errors,
                                               absl::string_view contents);

}  // namespace sopsidebar::cli

#endif  // SOPSIDEBAR_CLIENT_CLI_FIELD_MAP_FILE_H_
