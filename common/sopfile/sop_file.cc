#include "common/sopfile/sop_file.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/errors.h"
#include "common/json_string.h"
#include "common/model/names.h"
#include "common/model/sop_template.h"
#include "common/model/validation.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "yaml-cpp/eventhandler.h"
#include "yaml-cpp/yaml.h"

namespace sopsidebar {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;

// yaml-cpp tags a plain (unquoted, untagged) scalar "?"; quoted scalars get
// "!" and explicitly tagged ones their tag, and both are text.
bool IsPlain(const YAML::Node& node) { return node.Tag() == "?"; }

// JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(absl::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    const size_t start = i;
    while (i < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

// yaml-cpp marks are 0-based; an unknown mark has line -1.
int LineOf(const YAML::Node& node) { return node.Mark().line + 1; }
int ColumnOf(const YAML::Node& node) { return node.Mark().column + 1; }

// Where a value is written, 1-based; 0 when unknown.
struct Place {
  int line = 0;
  int column = 0;
};
Place PlaceOf(const YAML::Node& node) { return {LineOf(node), ColumnOf(node)}; }

std::string Located(absl::string_view file, int line, absl::string_view what) {
  return line > 0 ? absl::StrCat(file, ":", line, ": ", what) : absl::StrCat(file, ": ", what);
}

// Something wrong with, or worth a warning about, the value at `path`
// (empty: the file as a whole), written on `line` (0 when unknown).
struct Finding {
  int line = 0;
  std::string path;
  std::string reason;
  int column = 0;  // 1-based; 0 when unknown
};

std::string Describe(const Finding& finding) {
  return finding.path.empty() ? finding.reason : absl::StrCat(finding.path, ": ", finding.reason);
}

// True when `outer` is `inner` or encloses it ("steps[0]" encloses
// "steps[0].title", not "steps[01]").
bool Encloses(absl::string_view outer, absl::string_view inner) {
  if (!absl::ConsumePrefix(&inner, outer)) return false;
  return inner.empty() || inner.front() == '.' || inner.front() == '[';
}

// The fields of Sop the server sets. apply ignores them, so a file that sets
// one is warned about, unless it is an export (see ParseAndCheck). `name` and
// `etag` are not here: apply uses both.
constexpr absl::string_view kIgnoredOutputOnlyFields[] = {
    "state",       "revision_id",  "published_revision_id", "create_time",
    "update_time", "publish_time", "delete_time",
};

constexpr absl::string_view kDurationForm =
    "write a number and a unit (s, m, h, d), e.g. 90s, 5m, 2h, 2d or 1h30m";

// Translates a YAML tree into proto JSON text, guided by the message
// descriptor so each scalar is written as the type its field expects, and
// records where each field path was written. A value it rejects is left out
// of the JSON and recorded as a problem, and the translation goes on, so one
// pass finds every such value of a file.
class YamlToJson {
 public:
  // Translates `root`; false when it is not a mapping (nothing to parse).
  bool Convert(const YAML::Node& root, const Descriptor* type) {
    lines_[""] = PlaceOf(root);
    if (!root.IsMap()) return Reject(root, "", "expected a mapping of SOP fields");
    Message(root, type, "");
    return true;
  }

  const std::string& json() const { return json_; }
  const std::vector<Finding>& problems() const { return problems_; }
  const std::vector<Finding>& warnings() const { return warnings_; }

  // The place of the longest recorded path that is `path` or encloses it
  // ("steps[2]" encloses "steps[2].title" but not "steps[20]"); 0 if none.
  Place PlaceFor(absl::string_view path) const {
    for (;;) {
      auto it = lines_.find(std::string(path));
      if (it != lines_.end()) return it->second;
      const size_t cut = path.find_last_of(".[");
      if (cut == absl::string_view::npos) {
        return path.empty() ? Place{} : PlaceFor("");
      }
      path = path.substr(0, cut);
    }
  }

  // True when a value at, inside or around `path` was rejected, so a
  // validation finding there would only repeat it ("is required" for a
  // value left out).
  bool Rejected(absl::string_view path) const {
    for (const Finding& problem : problems_) {
      if (!problem.path.empty() && (Encloses(problem.path, path) || Encloses(path, problem.path))) {
        return true;
      }
    }
    return false;
  }

 private:
  // Records a problem; returns false, for the caller to return.
  bool Reject(const YAML::Node& at, absl::string_view path, std::string reason) {
    problems_.push_back({LineOf(at), std::string(path), std::move(reason), ColumnOf(at)});
    return false;
  }

  static std::string Join(absl::string_view path, absl::string_view field) {
    return path.empty() ? std::string(field) : absl::StrCat(path, ".", field);
  }

  // The path of the value under mapping key `key`: "steps[0].titel" for a
  // key that reads as a field name, else the key quoted short in brackets, so
  // that a path stays short whatever the file holds.
  static std::string KeyPath(absl::string_view path, absl::string_view key) {
    if (IsValidFieldName(key)) return Join(path, key);
    return absl::StrCat(path, "[", error::QuoteInput(key), "]");
  }

  // Proto field names as written; lowerCamelCase JSON names are accepted too
  // because the protobuf JSON parser accepts them.
  static const FieldDescriptor* FindField(const Descriptor* type, const std::string& key) {
    if (const FieldDescriptor* f = type->FindFieldByName(key)) return f;
    for (int i = 0; i < type->field_count(); ++i) {
      if (type->field(i)->json_name() == key) return type->field(i);
    }
    return nullptr;
  }

  static std::string FieldNames(const Descriptor* type) {
    std::vector<std::string> names;
    for (int i = 0; i < type->field_count(); ++i) names.push_back(type->field(i)->name());
    return absl::StrJoin(names, ", ");
  }

  static std::string OneofNames(const google::protobuf::OneofDescriptor* oneof) {
    std::vector<std::string> names;
    for (int i = 0; i < oneof->field_count(); ++i) names.push_back(oneof->field(i)->name());
    return absl::StrJoin(names, ", ");
  }

  // Writes `write`'s output after `key` (and a comma unless `*first`); takes
  // both back when `write` rejects the value.
  template <typename Write>
  void Member(absl::string_view key, bool* first, Write write) {
    const size_t mark = json_.size();
    if (!*first) json_.push_back(',');
    AppendJsonString(key, &json_);
    json_.push_back(':');
    if (write()) {
      *first = false;
    } else {
      json_.resize(mark);
    }
  }

  void Message(const YAML::Node& node, const Descriptor* type, const std::string& path) {
    json_.push_back('{');
    std::set<const FieldDescriptor*> seen;
    std::map<const google::protobuf::OneofDescriptor*, const FieldDescriptor*> oneofs_set;
    bool first = true;
    for (const auto& entry : node) {
      const YAML::Node& key = entry.first;
      if (!key.IsScalar()) {
        Reject(key, path, "field names must be plain text");
        continue;
      }
      const FieldDescriptor* field = FindField(type, key.Scalar());
      if (field == nullptr) {
        Reject(key, KeyPath(path, key.Scalar()),
               absl::StrCat("unknown field ", error::QuoteInput(key.Scalar()), " in ", type->name(),
                            "; expected one of ", FieldNames(type)));
        continue;
      }
      const std::string field_path = Join(path, field->name());
      if (!seen.insert(field).second) {
        Reject(key, field_path, "field is set twice");
        continue;
      }
      if (const auto* oneof = field->real_containing_oneof()) {
        auto [other, inserted] = oneofs_set.emplace(oneof, field);
        if (!inserted) {
          Reject(key, field_path,
                 absl::StrCat("cannot be set together with ", other->second->name(), "; a ",
                              type->name(), " takes one of ", OneofNames(oneof)));
          continue;
        }
      }
      lines_[field_path] = PlaceOf(key);
      if (type == v1::Sop::descriptor() &&
          absl::c_linear_search(kIgnoredOutputOnlyFields, field->name())) {
        warnings_.push_back(
            {LineOf(key), field_path,
             absl::StrCat("is output-only and ignored; the server sets it",
                          field->name() == "state" ? " (apply --publish publishes)" : "")});
      }
      Member(field->name(), &first, [&] { return Field(entry.second, field, field_path); });
    }
    json_.push_back('}');
  }

  bool Field(const YAML::Node& node, const FieldDescriptor* field, const std::string& path) {
    if (node.IsNull()) {
      json_.append("null");
      return true;
    }
    if (field->is_map()) return Map(node, field, path);
    if (!field->is_repeated()) return Singular(node, field, path);
    if (!node.IsSequence()) return Reject(node, path, "expected a list");
    json_.push_back('[');
    bool first = true;
    for (size_t i = 0; i < node.size(); ++i) {
      const std::string item_path = absl::StrCat(path, "[", i, "]");
      lines_[item_path] = PlaceOf(node[i]);
      if (node[i].IsNull()) {
        Reject(node[i], item_path, "list items cannot be null");
        continue;
      }
      const size_t mark = json_.size();
      if (!first) json_.push_back(',');
      if (Singular(node[i], field, item_path)) {
        first = false;
      } else {
        json_.resize(mark);
      }
    }
    json_.push_back(']');
    return true;
  }

  bool Map(const YAML::Node& node, const FieldDescriptor* field, const std::string& path) {
    if (!node.IsMap()) return Reject(node, path, "expected a mapping");
    const FieldDescriptor* value_field = field->message_type()->map_value();
    json_.push_back('{');
    bool first = true;
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) {
        Reject(entry.first, path, "map keys must be plain text");
        continue;
      }
      const std::string entry_path =
          absl::StrCat(path, "[", error::QuoteInput(entry.first.Scalar()), "]");
      lines_[entry_path] = PlaceOf(entry.first);
      Member(entry.first.Scalar(), &first,
             [&] { return Field(entry.second, value_field, entry_path); });
    }
    json_.push_back('}');
    return true;
  }

  bool Singular(const YAML::Node& node, const FieldDescriptor* field, const std::string& path) {
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      return MessageValue(node, field->message_type(), path);
    }
    if (!node.IsScalar()) {
      return Reject(node, path, "expected a single value, not a list or mapping");
    }
    const std::string& text = node.Scalar();
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        AppendJsonString(text, &json_);
        return true;
      case FieldDescriptor::CPPTYPE_ENUM:
        return EnumValue(node, field->enum_type(), path);
      case FieldDescriptor::CPPTYPE_BOOL:
        if (!IsPlain(node) || (text != "true" && text != "false")) {
          return Reject(node, path, absl::StrCat(error::QuoteInput(text), " is not true or false"));
        }
        json_.append(text);
        return true;
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT:
        // Quoted numbers are numbers too.
        if (!IsJsonNumber(text)) {
          return Reject(node, path, absl::StrCat(error::QuoteInput(text), " is not a number"));
        }
        json_.append(text);
        return true;
      default:
        return WholeNumber(node, field, path);
    }
  }

  bool WholeNumber(const YAML::Node& node, const FieldDescriptor* field, const std::string& path) {
    const std::string& text = node.Scalar();
    if (!IsJsonNumber(text)) {
      return Reject(node, path, absl::StrCat(error::QuoteInput(text), " is not a number"));
    }
    int64_t value;
    if (!absl::SimpleAtoi(text, &value)) {
      return Reject(node, path, absl::StrCat(error::QuoteInput(text), " is not a whole number"));
    }
    int64_t min = std::numeric_limits<int64_t>::min();
    int64_t max = std::numeric_limits<int64_t>::max();
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        min = std::numeric_limits<int32_t>::min();
        max = std::numeric_limits<int32_t>::max();
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        min = 0;
        max = std::numeric_limits<uint32_t>::max();
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        min = 0;
        break;
      default:
        break;
    }
    if (value < min || value > max) {
      return Reject(
          node, path,
          absl::StrCat(error::QuoteInput(text), " is out of range (", min, " to ", max, ")"));
    }
    absl::StrAppend(&json_, value);
    return true;
  }

  bool EnumValue(const YAML::Node& node, const EnumDescriptor* type, const std::string& path) {
    if (type->FindValueByName(node.Scalar()) == nullptr) {
      std::vector<std::string> names;
      for (int i = 0; i < type->value_count(); ++i) {
        // INTEGRATION is a CRM integration's role; an SOP names people's.
        const bool integration =
            type == v1::Role_descriptor() && type->value(i)->number() == v1::INTEGRATION;
        if (type->value(i)->number() != 0 && !integration) names.push_back(type->value(i)->name());
      }
      return Reject(node, path,
                    absl::StrCat("unknown value ", error::QuoteInput(node.Scalar()), " for ",
                                 type->name(), "; expected one of ", absl::StrJoin(names, ", ")));
    }
    AppendJsonString(node.Scalar(), &json_);
    return true;
  }

  bool DurationValue(const YAML::Node& node, const std::string& path) {
    if (!node.IsScalar()) {
      return Reject(node, path, absl::StrCat("expected a duration; ", kDurationForm));
    }
    const std::optional<absl::Duration> duration =
        ParseDurationWithUnits(node.Scalar(), DurationNumbers::kDecimal);
    if (!duration.has_value()) {
      return Reject(
          node, path,
          absl::StrCat(error::QuoteInput(node.Scalar()), " is not a duration; ", kDurationForm));
    }
    if (*duration > absl::Seconds(kMaxProtoDurationSeconds)) {
      return Reject(node, path,
                    absl::StrCat(error::QuoteInput(node.Scalar()), " is longer than 10,000 years"));
    }
    const google::protobuf::Duration proto = ToProtoDuration(*duration);
    AppendJsonString(google::protobuf::util::TimeUtil::ToString(proto), &json_);
    return true;
  }

  bool TimestampValue(const YAML::Node& node, const std::string& path) {
    google::protobuf::Timestamp parsed;
    if (!node.IsScalar() || !google::protobuf::util::TimeUtil::FromString(node.Scalar(), &parsed)) {
      const std::string found = node.IsScalar()
                                    ? absl::StrCat(error::QuoteInput(node.Scalar()), " is not")
                                    : std::string("expected");
      return Reject(node, path,
                    absl::StrCat(found, " an RFC 3339 time such as \"2025-01-01T00:00:00Z\""));
    }
    AppendJsonString(node.Scalar(), &json_);
    return true;
  }

  bool MessageValue(const YAML::Node& node, const Descriptor* type, const std::string& path) {
    const std::string& name = type->full_name();
    if (name == "google.protobuf.Value") return FreeForm(node, path);
    if (name == "google.protobuf.ListValue") {
      if (!node.IsSequence()) return Reject(node, path, "expected a list");
      return FreeForm(node, path);
    }
    if (name == "google.protobuf.Struct") {
      if (!node.IsMap()) return Reject(node, path, "expected a mapping");
      return FreeForm(node, path);
    }
    if (name == "google.protobuf.Duration") return DurationValue(node, path);
    if (name == "google.protobuf.Timestamp") return TimestampValue(node, path);
    if (!node.IsMap()) {
      return Reject(node, path, absl::StrCat("expected a mapping (", type->name(), ")"));
    }
    Message(node, type, path);
    return true;
  }

  // JSON-like values: quoted scalars are strings, plain ones are typed.
  bool FreeForm(const YAML::Node& node, const std::string& path) {
    switch (node.Type()) {
      case YAML::NodeType::Null:
        json_.append("null");
        return true;
      case YAML::NodeType::Scalar:
        if (!IsPlain(node)) {
          AppendJsonString(node.Scalar(), &json_);
          return true;
        }
        AppendInferred(node.Scalar());
        return true;
      case YAML::NodeType::Sequence: {
        json_.push_back('[');
        bool ok = true;
        for (size_t i = 0; i < node.size(); ++i) {
          const std::string item_path = absl::StrCat(path, "[", i, "]");
          lines_[item_path] = PlaceOf(node[i]);
          if (i > 0) json_.push_back(',');
          ok = FreeForm(node[i], item_path) && ok;
        }
        json_.push_back(']');
        return ok;
      }
      case YAML::NodeType::Map: {
        json_.push_back('{');
        bool ok = true;
        bool first = true;
        for (const auto& entry : node) {
          if (!entry.first.IsScalar()) {
            ok = Reject(entry.first, path, "keys must be plain text");
            continue;
          }
          if (!first) json_.push_back(',');
          first = false;
          AppendJsonString(entry.first.Scalar(), &json_);
          json_.push_back(':');
          ok = FreeForm(entry.second, KeyPath(path, entry.first.Scalar())) && ok;
        }
        json_.push_back('}');
        return ok;
      }
      default:
        return Reject(node, path, "expected a value");
    }
  }

  void AppendInferred(absl::string_view text) {
    const google::protobuf::Value value = InferScalarValue(text);
    switch (value.kind_case()) {
      case google::protobuf::Value::kNumberValue:
        json_.append(text.data(), text.size());  // Exactly as written.
        break;
      case google::protobuf::Value::kBoolValue:
        json_.append(value.bool_value() ? "true" : "false");
        break;
      case google::protobuf::Value::kNullValue:
        json_.append("null");
        break;
      default:
        AppendJsonString(text, &json_);
    }
  }

  std::string json_;
  std::map<std::string, Place> lines_;
  std::vector<Finding> problems_;
  std::vector<Finding> warnings_;
};

// "(steps[0].ordinal): invalid value ..." from the protobuf JSON parser.
Finding ParserFinding(absl::string_view message) {
  if (absl::ConsumePrefix(&message, "(")) {
    const size_t close = message.find("): ");
    if (close != absl::string_view::npos) {
      return {0, std::string(message.substr(0, close)), std::string(message.substr(close + 3))};
    }
  }
  return {0, "", std::string(message)};
}

// yaml-cpp's message for a syntax error, at its line and column and, when
// the line reads like `key: value: more`, with the likely cause: a value
// holding ": " unquoted.
Finding SyntaxFinding(absl::string_view contents, const YAML::Exception& e) {
  Finding finding{e.mark.line + 1, "", absl::StrCat("YAML syntax: ", e.msg), e.mark.column + 1};
  const std::vector<absl::string_view> lines = absl::StrSplit(contents, '\n');
  if (e.mark.line < 0 || static_cast<size_t>(e.mark.line) >= lines.size()) return finding;
  absl::string_view line = absl::StripAsciiWhitespace(lines[e.mark.line]);
  absl::ConsumePrefix(&line, "- ");
  const size_t colon = line.find(": ");
  if (colon == absl::string_view::npos) return finding;
  const absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 2));
  if (absl::StrContains(value, ": ") && !absl::StartsWith(value, "\"") &&
      !absl::StartsWith(value, "'")) {
    std::string quoted;
    AppendJsonString(value, &quoted);
    absl::StrAppend(&finding.reason, "; a value that contains \": \" must be quoted, e.g. ",
                    line.substr(0, colon), ": ", quoted);
  }
  return finding;
}

// Records where each document of a YAML stream starts and where its root
// node is.
class DocumentMarks final : public YAML::EventHandler {
 public:
  struct Document {
    YAML::Mark start;
    YAML::Mark root;
  };

  const std::vector<Document>& documents() const { return documents_; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    documents_.push_back({mark, YAML::Mark::null_mark()});
    awaiting_root_ = true;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    Node(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Node(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Node(mark);
  }
  void OnMapEnd() override {}

 private:
  void Node(const YAML::Mark& mark) {
    if (!awaiting_root_) return;
    documents_.back().root = mark;
    awaiting_root_ = false;
  }

  std::vector<Document> documents_;
  bool awaiting_root_ = false;
};

// The documents of `contents`, up to the first two: a SOP file holds one.
// Unlike YAML::LoadAll, this ends on every input. yaml-cpp 0.7 takes no token
// for a "," outside any flow collection ("{},"), and its parser then reports
// an empty document at that place again and again, so LoadAll never returns
// (jbeder/yaml-cpp#1040, fixed after 0.7); here a document that starts where
// the one before it did is a syntax error at that place.
// Throws YAML::Exception on a syntax error.
std::vector<DocumentMarks::Document> FirstDocuments(const std::string& contents) {
  std::istringstream in(contents);
  YAML::Parser parser(in);
  DocumentMarks marks;
  // A third document tells a second one from the first of a stuck parser's.
  while (marks.documents().size() < 3 && parser.HandleNextDocument(marks)) {
    const std::vector<DocumentMarks::Document>& docs = marks.documents();
    if (docs.size() >= 2 && docs[docs.size() - 1].start.pos == docs[docs.size() - 2].start.pos) {
      const YAML::Mark at = docs.back().start;
      const absl::string_view rest = absl::string_view(contents).substr(at.pos);
      throw YAML::ParserException(
          at, absl::StrCat("unexpected ", error::QuoteInput(rest.substr(0, 1)),
                           rest.empty() || rest.front() != ','
                               ? ""
                               : " outside a flow list [...] or mapping {...}"));
    }
  }
  std::vector<DocumentMarks::Document> documents = marks.documents();
  if (documents.size() > 2) documents.resize(2);
  return documents;
}

// An SOP file as read: the SOP (as far as it parsed), its problems in line
// order and its warnings. A syntax error or a file-level problem (no SOP, a
// second document) ends the checks: it is then the only problem.
struct CheckedSopFile {
  v1::Sop sop;
  std::vector<Finding> problems;
  std::vector<Finding> warnings;
  bool syntax_error = false;
};

// Reads `root` into `message` through `converter` and returns every problem:
// the values the converter rejects, what protobuf's JSON parser refuses (the
// converter checks every value, so only what it does not know; protobuf 3.21
// has its own Status type), else the violations `validate` finds in the
// message that no rejected value already explains. Each problem carries the
// line and column of the value or field it is about.
std::vector<Finding> ConvertAndValidate(
    const YAML::Node& root, google::protobuf::Message* message, YamlToJson& converter,
    absl::FunctionRef<std::vector<error::FieldViolation>()> validate) {
  std::vector<Finding> problems;
  if (converter.Convert(root, message->GetDescriptor())) {
    problems = converter.problems();
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    const auto json_status =
        google::protobuf::util::JsonStringToMessage(converter.json(), message, options);
    if (!json_status.ok()) {
      problems.push_back(ParserFinding(
          absl::string_view(json_status.message().data(), json_status.message().size())));
    } else {
      for (error::FieldViolation& violation : validate()) {
        if (converter.Rejected(violation.field)) continue;
        problems.push_back({0, std::move(violation.field), std::move(violation.description)});
      }
    }
  } else {
    problems = converter.problems();
  }
  for (Finding& problem : problems) {
    if (problem.line == 0) {
      const Place place = converter.PlaceFor(problem.path);
      problem.line = place.line;
      problem.column = place.column;
    }
  }
  return problems;
}

CheckedSopFile Check(absl::string_view contents) {
  CheckedSopFile checked;
  const std::string text(contents);
  YAML::Node root;
  try {
    const std::vector<DocumentMarks::Document> documents = FirstDocuments(text);
    if (documents.size() > 1) {
      checked.problems.push_back({documents[1].root.line + 1, "",
                                  "one SOP per file; found a second document",
                                  documents[1].root.column + 1});
      return checked;
    }
    if (!documents.empty()) root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    checked.problems.push_back(SyntaxFinding(contents, e));
    checked.syntax_error = true;
    return checked;
  }
  if (root.IsNull()) {
    checked.problems.push_back({0, "", "the file holds no SOP"});
    return checked;
  }

  YamlToJson converter;
  std::vector<Finding>& problems = checked.problems;
  problems = ConvertAndValidate(root, &checked.sop, converter, [&checked] {
    std::vector<error::FieldViolation> violations = SopBodyViolations(checked.sop, "");
    if (!checked.sop.name().empty()) {
      for (error::FieldViolation& v :
           error::FieldViolationsOf(ParseSopName("name", checked.sop.name()).status())) {
        violations.push_back(std::move(v));
      }
    }
    return violations;
  });
  std::stable_sort(problems.begin(), problems.end(),
                   [](const Finding& a, const Finding& b) { return a.line < b.line; });
  checked.warnings = converter.warnings();
  return checked;
}

// A parsed and validated SOP file and the warnings about it.
struct ParsedSopFile {
  v1::Sop sop;
  std::vector<std::string> warnings;
};

absl::StatusOr<ParsedSopFile> ParseAndCheck(absl::string_view path_for_errors,
                                            absl::string_view contents) {
  CheckedSopFile checked = Check(contents);
  if (checked.syntax_error) {
    const Finding& syntax = checked.problems.front();
    return absl::InvalidArgumentError(
        absl::StrCat(path_for_errors, ":", syntax.line, ":", syntax.column, ": ", syntax.reason));
  }
  if (!checked.problems.empty()) {
    std::vector<std::string> lines;
    for (const Finding& problem : checked.problems) {
      lines.push_back(Located(path_for_errors, problem.line, Describe(problem)));
    }
    return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
  }
  ParsedSopFile parsed;
  parsed.sop = std::move(checked.sop);
  // A file with an etag is an export from `sopctl get -o json`, which
  // carries the output-only fields by design.
  if (!parsed.sop.etag().empty()) return parsed;
  for (const Finding& warning : checked.warnings) {
    parsed.warnings.push_back(
        Located(path_for_errors, warning.line, absl::StrCat("warning: ", Describe(warning))));
  }
  return parsed;
}

// The template in `contents`, parsed and checked as ParseAndCheck checks an
// SOP (see ParseSopTemplateFile).
absl::StatusOr<v1::SopTemplate> ParseTemplateAndCheck(absl::string_view path_for_errors,
                                                      absl::string_view contents) {
  const std::string text(contents);
  YAML::Node root;
  try {
    const std::vector<DocumentMarks::Document> documents = FirstDocuments(text);
    if (documents.size() > 1) {
      return absl::InvalidArgumentError(Located(path_for_errors, documents[1].root.line + 1,
                                                "one template per file; found a second document"));
    }
    if (!documents.empty()) root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    const Finding syntax = SyntaxFinding(contents, e);
    return absl::InvalidArgumentError(
        absl::StrCat(path_for_errors, ":", syntax.line, ":", syntax.column, ": ", syntax.reason));
  }
  if (root.IsNull()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path_for_errors, ": the file holds no template"));
  }
  v1::SopTemplate tmpl;
  YamlToJson converter;
  std::vector<Finding> problems = ConvertAndValidate(root, &tmpl, converter, [&tmpl] {
    std::vector<error::FieldViolation> violations = SopTemplateViolations(tmpl, "");
    if (!tmpl.name().empty()) {
      for (error::FieldViolation& v :
           error::FieldViolationsOf(ParseTemplateName("name", tmpl.name()).status())) {
        violations.push_back(std::move(v));
      }
    }
    return violations;
  });
  if (!problems.empty()) {
    std::stable_sort(problems.begin(), problems.end(),
                     [](const Finding& a, const Finding& b) { return a.line < b.line; });
    std::vector<std::string> lines;
    for (const Finding& problem : problems) {
      lines.push_back(Located(path_for_errors, problem.line, Describe(problem)));
    }
    return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
  }
  return tmpl;
}

absl::StatusOr<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream contents;
  if (in.is_open()) contents << in.rdbuf();
  if (!in.is_open() || in.bad()) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": cannot read the file"));
  }
  return contents.str();
}

// "MQL Handoff (v2).yaml" -> "mql-handoff-v2".
std::string IdFromBaseName(const std::filesystem::path& path) {
  std::string id;
  for (char c : path.stem().string()) {
    const char lower = absl::ascii_tolower(static_cast<unsigned char>(c));
    if (absl::ascii_isalnum(static_cast<unsigned char>(lower))) {
      id.push_back(lower);
    } else if (!id.empty() && id.back() != '-') {
      id.push_back('-');
    }
  }
  if (!id.empty() && id.back() == '-') id.pop_back();
  return id;
}

absl::StatusOr<SopFile> LoadSopFile(const std::filesystem::path& path) {
  SOP_ASSIGN_OR_RETURN(const std::string contents, ReadFile(path));
  SopFile file;
  file.path = path.string();
  SOP_ASSIGN_OR_RETURN(ParsedSopFile parsed, ParseAndCheck(file.path, contents));
  file.sop = std::move(parsed.sop);
  file.warnings = std::move(parsed.warnings);
  if (!file.sop.name().empty()) {
    SOP_ASSIGN_OR_RETURN(const SopName name, ParseSopName("name", file.sop.name()));
    file.sop_id = name.sop;
    return file;
  }
  file.sop_id = IdFromBaseName(path);
  if (!IsValidResourceId(file.sop_id)) {
    return absl::InvalidArgumentError(
        absl::StrCat(file.path, ": the file name gives the SOP id ", error::QuoteInput(file.sop_id),
                     ", which is not valid (1-63 of [a-z0-9-], starting with a letter); rename the "
                     "file or set name: orgs/{org}/sops/{sop}"));
  }
  return file;
}

bool IsSopFileName(const std::filesystem::path& path) {
  const std::string name = path.filename().string();
  if (absl::StartsWith(name, ".")) return false;
  const std::string ext = absl::AsciiStrToLower(path.extension().string());
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

// The file `path`, or the SOP files (IsSopFileName) of the directory
// `path`, sorted by name. NOT_FOUND when it does not exist.
absl::StatusOr<std::vector<std::filesystem::path>> FilesAt(absl::string_view path) {
  const std::filesystem::path root{std::string(path)};
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(root, ec);
  if (!std::filesystem::exists(status)) {
    return absl::NotFoundError(absl::StrCat(path, ": no such file or directory"));
  }

  std::vector<std::filesystem::path> paths;
  if (std::filesystem::is_directory(status)) {
    for (std::filesystem::directory_iterator it(root, ec), end; !ec && it != end;
         it.increment(ec)) {
      if (it->is_regular_file(ec) && IsSopFileName(it->path())) paths.push_back(it->path());
    }
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": cannot list the directory: ", ec.message()));
    }
    std::sort(paths.begin(), paths.end(),
              [](const auto& a, const auto& b) { return a.filename() < b.filename(); });
  } else {
    paths.push_back(root);
  }

  return paths;
}

}  // namespace

google::protobuf::Value InferScalarValue(absl::string_view text) {
  google::protobuf::Value value;
  double number;
  if (IsJsonNumber(text) && absl::SimpleAtod(text, &number)) {
    value.set_number_value(number);
  } else if (text == "true" || text == "false") {
    value.set_bool_value(text == "true");
  } else if (text == "null") {
    value.set_null_value(google::protobuf::NULL_VALUE);
  } else {
    value.set_string_value(std::string(text));
  }
  return value;
}

absl::StatusOr<v1::Sop> ParseSopFile(absl::string_view path_for_errors,
                                     absl::string_view contents) {
  SOP_ASSIGN_OR_RETURN(ParsedSopFile parsed, ParseAndCheck(path_for_errors, contents));
  return std::move(parsed.sop);
}

SopFileCheck CheckSopFile(absl::string_view contents) {
  CheckedSopFile checked = Check(contents);
  SopFileCheck result;
  result.sop = std::move(checked.sop);
  for (Finding& problem : checked.problems) {
    result.problems.push_back(
        {std::move(problem.path), std::move(problem.reason), problem.line, problem.column});
  }
  return result;
}

absl::StatusOr<v1::SopTemplate> ParseSopTemplateFile(absl::string_view path_for_errors,
                                                     absl::string_view contents) {
  return ParseTemplateAndCheck(path_for_errors, contents);
}

absl::StatusOr<std::vector<SopTemplateFile>> LoadSopTemplateFiles(absl::string_view path) {
  SOP_ASSIGN_OR_RETURN(std::vector<std::filesystem::path> paths, FilesAt(path));
  std::vector<SopTemplateFile> files;
  std::vector<std::string> errors;
  std::map<std::string, std::string> path_by_id;
  for (const std::filesystem::path& p : paths) {
    SopTemplateFile file;
    file.path = p.string();
    absl::StatusOr<std::string> contents = ReadFile(p);
    absl::StatusOr<v1::SopTemplate> tmpl = contents.ok()
                                               ? ParseTemplateAndCheck(file.path, *contents)
                                               : absl::StatusOr<v1::SopTemplate>(contents.status());
    if (!tmpl.ok()) {
      errors.emplace_back(tmpl.status().message());
      continue;
    }
    file.tmpl = *std::move(tmpl);
    if (!file.tmpl.name().empty()) {
      file.template_id = ParseTemplateName("name", file.tmpl.name())->template_id;
    } else {
      file.template_id = IdFromBaseName(p);
      if (!IsValidResourceId(file.template_id)) {
        errors.push_back(absl::StrCat(file.path, ": the file name gives the template id ",
                                      error::QuoteInput(file.template_id),
                                      ", which is not valid (1-63 of [a-z0-9-], starting with a "
                                      "letter); rename the file or set name: "
                                      "orgs/{org}/templates/{template}"));
        continue;
      }
    }
    auto [it, inserted] = path_by_id.emplace(file.template_id, file.path);
    if (!inserted) {
      errors.push_back(absl::StrCat(file.path, ": template id ",
                                    error::QuoteInput(file.template_id), " is also defined by ",
                                    it->second));
      continue;
    }
    files.push_back(std::move(file));
  }
  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  return files;
}

absl::StatusOr<std::vector<SopFile>> LoadSopFiles(absl::string_view path) {
  SOP_ASSIGN_OR_RETURN(std::vector<std::filesystem::path> paths, FilesAt(path));
  std::vector<SopFile> files;
  std::vector<std::string> errors;
  std::map<std::string, std::string> path_by_id;
  for (const std::filesystem::path& p : paths) {
    absl::StatusOr<SopFile> file = LoadSopFile(p);
    if (!file.ok()) {
      errors.emplace_back(file.status().message());
      continue;
    }
    auto [it, inserted] = path_by_id.emplace(file->sop_id, file->path);
    if (!inserted) {
      errors.push_back(absl::StrCat(file->path, ": SOP id ", error::QuoteInput(file->sop_id),
                                    " is also defined by ", it->second));
      continue;
    }
    files.push_back(*std::move(file));
  }
  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  return files;
}

}  // namespace sopsidebar
