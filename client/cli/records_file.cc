#include "client/cli/records_file.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/model/validation.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace sopsidebar::cli {
namespace {

using google::protobuf::Value;

// How a column is read.
enum class ColumnKind { kField, kRecordId, kRecordType };

struct Column {
  std::string name;
  ColumnKind kind = ColumnKind::kField;
  // With a field map: the entry's type; without one, UNSPECIFIED (inferred).
  v1::FieldType type = v1::FIELD_TYPE_UNSPECIFIED;
};

// Where an error is: "<file>:<line>[:<column>]: ".
std::string Where(absl::string_view path, int line, int column = 0) {
  return column > 0 ? absl::StrCat(path, ":", line, ":", column, ": ")
                    : absl::StrCat(path, ":", line, ": ");
}

absl::Status ErrorAt(absl::string_view path, int line, int column, absl::string_view cause) {
  return absl::InvalidArgumentError(absl::StrCat(Where(path, line, column), cause));
}

std::string Quoted(absl::string_view text) {
  constexpr size_t kMax = 60;
  std::string shown(text.substr(0, kMax));
  return absl::StrCat("\"", shown, text.size() > kMax ? "...\"" : "\"");
}

class Reader {
 public:
  Reader(absl::string_view path, const RecordsFileOptions& options)
      : path_(path), options_(options) {
    if (options.field_map != nullptr) {
      for (const v1::FieldMapEntry& e : options.field_map->fields())
        types_[e.crm_field()] = e.type();
    }
  }

  // The column named `name` (header cell `column` of line `line`).
  absl::StatusOr<Column> ColumnFor(const std::string& name, int line, int column) const {
    Column c;
    c.name = name;
    if (name == "record_id" || (options_.crm == "salesforce" && name == "Id") ||
        (options_.crm == "hubspot" && name == "hs_object_id")) {
      c.kind = ColumnKind::kRecordId;
      return c;
    }
    if (name == "record_type") {
      c.kind = ColumnKind::kRecordType;
      return c;
    }
    if (options_.field_map != nullptr) {
      auto it = types_.find(name);
      if (it == types_.end()) {
        return ErrorAt(path_, line, column,
                       absl::StrCat("unknown column ", Quoted(name), " (not in the ", options_.crm,
                                    " field map)"));
      }
      c.type = it->second;
      return c;
    }
    if (!IsValidFieldName(name)) {
      return ErrorAt(path_, line, column,
                     absl::StrCat("column ", Quoted(name),
                                  " is not a field name (a letter, then letters, digits, '_' "
                                  "or '.')"));
    }
    return c;
  }

  // A new record, its crm and default record type set.
  v1::CrmContext NewRecord() const {
    v1::CrmContext record;
    record.set_crm(options_.crm);
    record.set_record_type(options_.crm == "hubspot" ? "0-1" : "Lead");
    return record;
  }

  // Sets `column` of `record` from the CSV cell `text` (not empty).
  absl::Status SetFromText(const Column& column, const std::string& text, int line, int col,
                           v1::CrmContext* record) const {
    switch (column.kind) {
      case ColumnKind::kRecordId:
        record->set_record_id(text);
        return absl::OkStatus();
      case ColumnKind::kRecordType:
        record->set_record_type(text);
        return absl::OkStatus();
      case ColumnKind::kField:
        break;
    }
    Value& value = (*record->mutable_fields())[column.name];
    const absl::string_view trimmed = absl::StripAsciiWhitespace(text);
    auto bad = [&](absl::string_view what) {
      return ErrorAt(path_, line, col,
                     absl::StrCat(column.name, ": ", Quoted(text), " is not ", what));
    };
    switch (column.type) {
      case v1::FIELD_TYPE_UNSPECIFIED: {
        double number = 0;
        if (absl::SimpleAtod(trimmed, &number) && std::isfinite(number) && !trimmed.empty() &&
            (absl::ascii_isdigit(trimmed.back()) || trimmed.back() == '.')) {
          value.set_number_value(number);
        } else if (trimmed == "true" || trimmed == "false") {
          value.set_bool_value(trimmed == "true");
        } else {
          value.set_string_value(text);
        }
        return absl::OkStatus();
      }
      case v1::FIELD_TYPE_NUMBER: {
        double number = 0;
        if (!absl::SimpleAtod(trimmed, &number) || !std::isfinite(number)) return bad("a number");
        value.set_number_value(number);
        return absl::OkStatus();
      }
      case v1::FIELD_TYPE_BOOL: {
        if (absl::EqualsIgnoreCase(trimmed, "true")) {
          value.set_bool_value(true);
        } else if (absl::EqualsIgnoreCase(trimmed, "false")) {
          value.set_bool_value(false);
        } else {
          return bad("true or false");
        }
        return absl::OkStatus();
      }
      case v1::FIELD_TYPE_TIMESTAMP: {
        absl::Time time;
        std::string error;
        int64_t millis = 0;
        if (absl::SimpleAtoi(trimmed, &millis)) {
          value.set_number_value(static_cast<double>(millis));
        } else if (absl::ParseTime(absl::RFC3339_full, std::string(trimmed), &time, &error)) {
          value.set_string_value(std::string(trimmed));
        } else {
          return bad("an RFC 3339 time (2024-05-01T08:00:00Z) or milliseconds since the epoch");
        }
        return absl::OkStatus();
      }
      case v1::FIELD_TYPE_STRING_LIST: {
        auto* list = value.mutable_list_value();
        for (absl::string_view item : absl::StrSplit(text, ';', absl::SkipWhitespace())) {
          list->add_values()->set_string_value(std::string(absl::StripAsciiWhitespace(item)));
        }
        return absl::OkStatus();
      }
      default:
        value.set_string_value(text);
        return absl::OkStatus();
    }
  }

  // Sets `column` of `record` from the JSON value `json` (not null).
  absl::Status SetFromJson(const Column& column, const Value& json, int line,
                           v1::CrmContext* record) const {
    const bool is_string = json.kind_case() == Value::kStringValue;
    if (column.kind != ColumnKind::kField) {
      if (!is_string) {
        return ErrorAt(path_, line, 0, absl::StrCat(column.name, ": must be a string"));
      }
      if (column.kind == ColumnKind::kRecordId) {
        record->set_record_id(json.string_value());
      } else {
        record->set_record_type(json.string_value());
      }
      return absl::OkStatus();
    }
    // Text goes through the CSV reading, which says what is wrong with it.
    if (is_string && column.type != v1::FIELD_TYPE_UNSPECIFIED &&
        column.type != v1::FIELD_TYPE_STRING) {
      return SetFromText(column, json.string_value(), line, 0, record);
    }
    auto bad = [&](absl::string_view what) {
      std::string shown;
      (void)google::protobuf::util::MessageToJsonString(json, &shown);
      return ErrorAt(path_, line, 0, absl::StrCat(column.name, ": ", shown, " is not ", what));
    };
    const Value::KindCase kind = json.kind_case();
    switch (column.type) {
      case v1::FIELD_TYPE_NUMBER:
        if (kind != Value::kNumberValue) return bad("a number");
        break;
      case v1::FIELD_TYPE_BOOL:
        if (kind != Value::kBoolValue) return bad("true or false");
        break;
      case v1::FIELD_TYPE_TIMESTAMP:
        if (kind != Value::kNumberValue) {
          return bad("an RFC 3339 time (2024-05-01T08:00:00Z) or milliseconds since the epoch");
        }
        break;
      case v1::FIELD_TYPE_STRING_LIST:
        if (kind != Value::kListValue) return bad("a list of strings");
        for (const Value& item : json.list_value().values()) {
          if (item.kind_case() != Value::kStringValue) return bad("a list of strings");
        }
        break;
      case v1::FIELD_TYPE_STRING:
        if (kind != Value::kNumberValue && kind != Value::kStringValue &&
            kind != Value::kBoolValue) {
          return bad("text");
        }
        break;
      default:
        break;
    }
    (*record->mutable_fields())[column.name] = json;
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<v1::CrmContext>> Csv(absl::string_view text) const;
  absl::StatusOr<std::vector<v1::CrmContext>> Jsonl(absl::string_view text) const;

  absl::Status TooMany(int line) const {
    return ErrorAt(
        path_, line, 0,
        absl::StrCat("more than ", kMaxRecords, " records (a preview takes at most 10,000)"));
  }

 private:
  const std::string path_;
  const RecordsFileOptions& options_;
  absl::flat_hash_map<std::string, v1::FieldType> types_;
};

// One CSV row: its cells, the line it starts on.
struct Row {
  std::vector<std::string> cells;
  int line = 0;
};

// Splits RFC 4180 text into rows; blank lines are skipped.
absl::StatusOr<std::vector<Row>> SplitCsv(absl::string_view path, absl::string_view text) {
  std::vector<Row> rows;
  size_t i = 0;
  int line = 1;
  while (i < text.size()) {
    Row row;
    row.line = line;
    // A blank line (LF or CRLF) holds no record.
    if (text[i] == '\n' || (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) {
      i += text[i] == '\r' ? 2 : 1;
      ++line;
      continue;
    }
    bool row_done = false;
    while (!row_done) {
      std::string cell;
      const int column = static_cast<int>(row.cells.size()) + 1;
      if (i < text.size() && text[i] == '"') {
        const int opened = line;
        ++i;
        bool closed = false;
        while (i < text.size()) {
          const char c = text[i];
          if (c == '"') {
            if (i + 1 < text.size() && text[i + 1] == '"') {
              cell.push_back('"');
              i += 2;
              continue;
            }
            ++i;
            closed = true;
            break;
          }
          if (c == '\n') ++line;
          cell.push_back(c);
          ++i;
        }
        if (!closed) {
          return ErrorAt(path, opened, column, "quoted field is not closed (a '\"' is missing)");
        }
        if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
          return ErrorAt(path, line, column,
                         "text after a closing quote (a '\"' inside a quoted field is written "
                         "'\"\"')");
        }
      } else {
        while (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
          if (text[i] == '"') {
            return ErrorAt(path, line, column,
                           "'\"' inside an unquoted field (quote the field and double the '\"')");
          }
          cell.push_back(text[i]);
          ++i;
        }
      }
      row.cells.push_back(std::move(cell));
      if (i >= text.size()) {
        row_done = true;
      } else if (text[i] == ',') {
        ++i;
      } else {
        if (text[i] == '\r') ++i;
        if (i < text.size() && text[i] == '\n') ++i;
        ++line;
        row_done = true;
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

absl::StatusOr<std::vector<v1::CrmContext>> Reader::Csv(absl::string_view text) const {
  absl::StatusOr<std::vector<Row>> rows = SplitCsv(path_, text);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path_, ": empty file (expected a header row, then the records)"));
  }
  const Row& header = rows->front();
  std::vector<Column> columns;
  absl::flat_hash_map<std::string, int> seen;
  for (size_t c = 0; c < header.cells.size(); ++c) {
    const int col = static_cast<int>(c) + 1;
    const std::string name(absl::StripAsciiWhitespace(header.cells[c]));
    if (name.empty()) return ErrorAt(path_, header.line, col, "empty column name");
    if (auto [it, added] = seen.emplace(name, col); !added) {
      return ErrorAt(path_, header.line, col,
                     absl::StrCat("column ", Quoted(name), " repeats column ", it->second));
    }
    absl::StatusOr<Column> column = ColumnFor(name, header.line, col);
    if (!column.ok()) return column.status();
    columns.push_back(*std::move(column));
  }
  if (rows->size() == 1) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": no records after the header row"));
  }
  std::vector<v1::CrmContext> records;
  for (size_t r = 1; r < rows->size(); ++r) {
    const Row& row = (*rows)[r];
    if (static_cast<int>(records.size()) == kMaxRecords) return TooMany(row.line);
    if (row.cells.size() != columns.size()) {
      return ErrorAt(
          path_, row.line, 0,
          absl::StrCat(row.cells.size(), " fields, but the header has ", columns.size()));
    }
    v1::CrmContext record = NewRecord();
    for (size_t c = 0; c < columns.size(); ++c) {
      if (row.cells[c].empty()) continue;
      if (absl::Status s =
              SetFromText(columns[c], row.cells[c], row.line, static_cast<int>(c) + 1, &record);
          !s.ok()) {
        return s;
      }
    }
    records.push_back(std::move(record));
  }
  return records;
}

absl::StatusOr<std::vector<v1::CrmContext>> Reader::Jsonl(absl::string_view text) const {
  std::vector<v1::CrmContext> records;
  int line = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++line;
    const absl::string_view json = absl::StripAsciiWhitespace(raw);
    if (json.empty()) continue;
    if (static_cast<int>(records.size()) == kMaxRecords) return TooMany(line);
    if (json.front() != '{') return ErrorAt(path_, line, 0, "not a JSON object");
    google::protobuf::Struct object;
    const auto parsed = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(json.data(), json.size()), &object);
    if (!parsed.ok()) {
      return ErrorAt(path_, line, 0,
                     absl::StrCat("not a JSON object: ", std::string(parsed.message())));
    }
    v1::CrmContext record = NewRecord();
    // Keys in file order are not kept by Struct: report the first bad one by
    // name, in name order, so the message is stable.
    std::vector<std::string> keys;
    for (const auto& [key, value] : object.fields()) keys.push_back(key);
    std::sort(keys.begin(), keys.end());
    for (const std::string& key : keys) {
      const Value& value = object.fields().at(key);
      absl::StatusOr<Column> column = ColumnFor(key, line, 0);
      if (!column.ok()) {
        return absl::Status(
            column.status().code(),
            absl::StrReplaceAll(column.status().message(),
                                {{"unknown column", "unknown field"}, {"column \"", "field \""}}));
      }
      if (value.kind_case() == Value::kNullValue) continue;
      if (absl::Status s = SetFromJson(*column, value, line, &record); !s.ok()) return s;
    }
    records.push_back(std::move(record));
  }
  if (records.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path_, text.empty() ? ": empty file (expected one JSON object per line)"
                                         : ": no records (expected one JSON object per line)"));
  }
  return records;
}

}  // namespace

absl::StatusOr<std::vector<v1::CrmContext>> ParseRecordsFile(absl::string_view path,
                                                             absl::string_view contents,
                                                             const RecordsFileOptions& options) {
  Reader reader(path, options);
  const std::string lower = absl::AsciiStrToLower(path);
  if (absl::EndsWith(lower, ".jsonl") || absl::EndsWith(lower, ".ndjson")) {
    return reader.Jsonl(contents);
  }
  // A UTF-8 byte order mark, as spreadsheets write it, is not part of the
  // first column's name.
  absl::ConsumePrefix(&contents, "\xEF\xBB\xBF");
  return reader.Csv(contents);
}

}  // namespace sopsidebar::cli
