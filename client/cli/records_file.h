// Records files for `sopctl preview --records`: CRM records as CSV (RFC 4180:
// a header row, then one record per row; quoted fields may hold commas,
// doubled quotes and line breaks; CRLF or LF) or JSONL (one JSON object per
// line; a file ending in .jsonl or .ndjson), turned into the CrmContexts
// PreviewTargeting takes.
//
// With a CRM ("salesforce", "hubspot") the columns (JSONL: keys) are that
// CRM's field names, each of which must be in the org's field map for it,
// and each value is read as the map's FieldType says: a NUMBER column holds
// numbers, a BOOL column true or false, a TIMESTAMP column RFC 3339 times or
// milliseconds since the epoch, a STRING_LIST column values separated by
// ';'. The records carry crm, so sopd maps them as lookups map them. Without
// a CRM the columns are our field names, and a CSV value that reads as a
// number, true or false is sent as one (JSONL values are sent as they are).
//
// Columns that are not fields: `record_id` (also `Id` for Salesforce and
// `hs_object_id` for HubSpot) and `record_type` (default: Lead; HubSpot's
// contact object 0-1). An empty CSV cell, or a JSON null, leaves the field
// out.
//
// Errors are INVALID_ARGUMENT "<file>:<line>[:<column>]: <cause>", lines
// and columns counted from 1 (a CSV record's line is the line it starts on;
// its column the field's position in the row), e.g.
//   leads.csv:1:3: unknown column "Foo" (not in the salesforce field map)
//   leads.csv:7:2: NumberOfEmployees: "abc" is not a number
// and "<file>: ..." for an empty file, one without records, or more than
// kMaxRecords records. Thread-safe (pure).
#ifndef SOPSIDEBAR_CLIENT_CLI_RECORDS_FILE_H_
#define SOPSIDEBAR_CLIENT_CLI_RECORDS_FILE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sopsidebar/v1/admin_service.pb.h"
#include "sopsidebar/v1/context_service.pb.h"

namespace sopsidebar::cli {

// PreviewTargeting takes at most this many records.
inline constexpr int kMaxRecords = 10000;

struct RecordsFileOptions {
  // The CRM whose field names the file uses; empty: ours.
  std::string crm;
  // Its field map (crm_field names and types). Null with a `crm`: the
  // columns are not checked and values are inferred as without one (the
  // caller may not read the map; sopd maps the records).
  const v1::FieldMap* field_map = nullptr;
};

// The records in `contents`, the text of the file `path` (which names it in
// errors and, by its extension, says whether it is JSONL).
absl::StatusOr<std::vector<v1::CrmContext>> ParseRecordsFile(absl::string_view path,
                                                             absl::string_view contents,
                                                             const RecordsFileOptions& options);

}  // namespace sopsidebar::cli

#endif  // SOPSIDEBAR_CLIENT_CLI_RECORDS_FILE_H_
