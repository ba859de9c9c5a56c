// SOP files: one SOP per file, written in YAML or JSON whose structure is the
// proto JSON mapping of sopsidebar.v1.Sop with proto (snake_case) field names.
// `sopd --import` and `sopctl apply` read files through this one parser, so a
// file is accepted or rejected the same way by both.
//
// Scalars are typed by the field they fill: string and enum fields take any
// scalar as text (`title: 2024` is the string "2024"); number fields accept
// numbers or quoted numbers; free-form values (Condition.equals, any_of,
// none_of, FieldUpdate.value) keep quoted scalars as strings (`equals: "75"`)
// and type plain ones with InferScalarValue (`equals: 75` is a number).
//
// Errors are INVALID_ARGUMENT listing every problem of a file, one per line
// in line order, each "<file>:<line>: <path>: <reason>", where <path> is
// written like validation.h paths ("steps[2].ordinal") and <line> (1-based)
// is where the offending field, or its nearest enclosing one, is written.
// A value of the wrong type is reported once, not again by validation. A
// YAML syntax error ends the file's checks:
// "<file>:<line>:<column>: YAML syntax: <what>[; <likely cause>]".
// Durations take units: "90s", "5m", "2h", "2d", "1h30m", "1.5h".
// All functions are thread-safe (no shared state).
#ifndef SOPSIDEBAR_COMMON_SOPFILE_SOP_FILE_H_
#define SOPSIDEBAR_COMMON_SOPFILE_SOP_FILE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"
#include "sopsidebar/v1/sop.pb.h"
#include "sopsidebar/v1/template_service.pb.h"

namespace sopsidebar {

// Parses and validates (ValidateSopBody) one SOP file's `contents`.
// `path_for_errors` only names the file in error messages. Output-only fields
// present in the file (name, etag, state, ...) are parsed and returned as
// written, but a name that is set must be orgs/{org}/sops/{sop}; unknown
// fields and unknown enum values are errors.
// Returns INVALID_ARGUMENT for malformed YAML/JSON, more or fewer than one
// document, a top level that is not a mapping, unknown or repeated fields,
// two fields of one oneof, values of the wrong type, a malformed name and
// validation failures: all of them (see above).
absl::StatusOr<v1::Sop> ParseSopFile(absl::string_view path_for_errors, absl::string_view contents);

// One problem of an SOP file, where it is written.
struct SopFileProblem {
  // The field's path as validation.h writes it ("steps[2].ordinal"); empty
  // for the file as a whole (a YAML syntax error, no SOP, two documents).
  std::string field;
  // The reason, as ParseSopFile words it after the path ("YAML syntax: ..."
  // for a syntax error).
  std::string description;
  // 1-based line and column of the offending value (or its key, or its
  // nearest enclosing field, or the syntax error); 0 when unknown.
  int line = 0;
  int column = 0;
};

// What CheckSopFile found.
struct SopFileCheck {
  // The SOP as far as it parsed (values that were rejected are left out).
  v1::Sop sop;
  // Every problem ParseSopFile reports, in line order; empty when the file
  // is a valid SOP. A syntax error, an empty file or a second document is
  // the only problem.
  std::vector<SopFileProblem> problems;
};

// The same checks as ParseSopFile, with each problem as data and its column
// too (the editor's ValidateSop underlines it). Never fails.
SopFileCheck CheckSopFile(absl::string_view contents);

// A parsed SOP file and the id of the SOP it defines.
struct SopFile {
  // The file as it was given to or found by LoadSopFiles.
  std::string path;
  v1::Sop sop;
  // The {sop} id of sop.name when the file sets a name; otherwise derived
  // from the file's base name ("MQL Handoff.yaml" -> "mql-handoff").
  std::string sop_id;
  // "<file>:<line>: warning: <path>: <reason>" for each key the file sets that
  // is read but not applied: the output-only fields other than name and etag.
  // None for a file that sets etag: an export from `sopctl get -o json`.
  std::vector<std::string> warnings;
};

// Loads `path`: a single file (any extension), or every *.yaml, *.yml and
// *.json file directly inside a directory (not recursive; hidden files are
// skipped), sorted by file name. An empty directory gives an empty vector.
// All or nothing: every file is read and checked, and any error gives no
// files. Returns NOT_FOUND when `path` does not exist; else INVALID_ARGUMENT
// listing, one per line in file-name order, every error of every file: one
// that cannot be read, does not parse or validate (every error of the file,
// see ParseSopFile), has no name and a base name that gives no valid id, or
// has the same sop_id as an earlier file.
absl::StatusOr<std::vector<SopFile>> LoadSopFiles(absl::string_view path);

// SOP template files (docs/AUTHORING.md, "Templates"): one
// sopsidebar.v1.SopTemplate per file, in YAML or JSON like SOP files (proto
// field names; the template's `sop` written as an SOP file's body; durations
// with units). Errors as ParseSopFile's: INVALID_ARGUMENT listing every
// problem, one per line, "<file>:<line>: <path>: <reason>" (validation by
// SopTemplateViolations, common/model/sop_template.h), and
// "<file>:<line>:<column>: YAML syntax: <what>" for a syntax error. A name,
// when set, must be orgs/{org}/templates/{template}; output-only fields
// (etag, create_time, update_time) are parsed and left for the caller to
// ignore.
absl::StatusOr<v1::SopTemplate> ParseSopTemplateFile(absl::string_view path_for_errors,
                                                     absl::string_view contents);

// A parsed template file and the id of the template it defines.
struct SopTemplateFile {
  std::string path;
  v1::SopTemplate tmpl;
  // The {template} id of tmpl.name when set, else from the file's base name
  // ("SLA Handoff.yaml" -> "sla-handoff").
  std::string template_id;
};

// Loads `path` as LoadSopFiles does (a file, or the *.yaml, *.yml and
// *.json files of a directory, sorted by name), all or nothing: NOT_FOUND
// when `path` does not exist, else INVALID_ARGUMENT listing every error of
// every file, and two files of one template id.
absl::StatusOr<std::vector<SopTemplateFile>> LoadSopTemplateFiles(absl::string_view path);

// How an untyped scalar (a plain YAML scalar, a `sopctl --field` value)
// becomes a value: text in the JSON number grammar is a number ("82", "-1.5",
// "1e3"; but not "007" or "+1", which stay strings so zip codes and phone
// numbers survive), "true"/"false" are bools, "null" is null, anything else is
// the string itself.
google::protobuf::Value InferScalarValue(absl::string_view text);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_COMMON_SOPFILE_SOP_FILE_H_
