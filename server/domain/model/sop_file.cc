#include "server/domain/model/sop_file.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "server/common/errors.h"
#include "server/common/status_macros.h"
#include "server/domain/model/names.h"
#include "server/domain/model/validation.h"
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

void AppendJsonString(absl::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          out->append("\\u00");
          out->push_back(kHex[(c >> 4) & 0xf]);
          out->push_back(kHex[c & 0xf]);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

// yaml-cpp marks are 0-based; an unknown mark has line -1.
int LineOf(const YAML::Node& node) { return node.Mark().line + 1; }

std::string Located(absl::string_view file, int line, absl::string_view what) {
  return line > 0 ? absl::StrCat(file, ":", line, ": ", what) : absl::StrCat(file, ": ", what);
}

// Translates a YAML tree into proto JSON text, guided by the message
// descriptor so each scalar is written as the type its field expects, and
// records where each field path was written.
class YamlToJson {
 public:
  explicit YamlToJson(absl::string_view file) : file_(file) {}

  absl::Status Convert(const YAML::Node& root, const Descriptor* type) {
    lines_[""] = LineOf(root);
    if (!root.IsMap()) return Error(root, "", "expected a mapping of SOP fields");
    return Message(root, type, "");
  }

  const std::string& json() const { return json_; }

  // The line of the longest recorded path that is `path` or encloses it
  // ("steps[2]" encloses "steps[2].title" but not "steps[20]"); 0 if none.
  int LineFor(absl::string_view path) const {
    for (;;) {
      auto it = lines_.find(std::string(path));
      if (it != lines_.end()) return it->second;
      const size_t cut = path.find_last_of(".[");
      if (cut == absl::string_view::npos) {
        return path.empty() ? 0 : LineFor("");
      }
      path = path.substr(0, cut);
    }
  }

 private:
  absl::Status Error(const YAML::Node& at, absl::string_view path, absl::string_view reason) {
    const std::string what = path.empty() ? std::string(reason) : absl::StrCat(path, ": ", reason);
    return absl::InvalidArgumentError(Located(file_, LineOf(at), what));
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

  absl::Status Message(const YAML::Node& node, const Descriptor* type, const std::string& path) {
    json_.push_back('{');
    std::set<const FieldDescriptor*> seen;
    bool first = true;
    for (const auto& entry : node) {
      const YAML::Node& key = entry.first;
      if (!key.IsScalar()) return Error(key, path, "field names must be plain text");
      const FieldDescriptor* field = FindField(type, key.Scalar());
      if (field == nullptr) {
        return Error(key, KeyPath(path, key.Scalar()),
                     absl::StrCat("unknown field ", error::QuoteInput(key.Scalar()), " in ",
                                  type->name()));
      }
      const std::string field_path = Join(path, field->name());
      if (!seen.insert(field).second) return Error(key, field_path, "field is set twice");
      lines_[field_path] = LineOf(key);
      if (!first) json_.push_back(',');
      first = false;
      AppendJsonString(field->name(), &json_);
      json_.push_back(':');
      SOP_RETURN_IF_ERROR(Field(entry.second, field, field_path));
    }
    json_.push_back('}');
    return absl::OkStatus();
  }

  absl::Status Field(const YAML::Node& node, const FieldDescriptor* field,
                     const std::string& path) {
    if (node.IsNull()) {
      json_.append("null");
      return absl::OkStatus();
    }
    if (field->is_map()) return Map(node, field, path);
    if (!field->is_repeated()) return Singular(node, field, path);
    if (!node.IsSequence()) return Error(node, path, "expected a list");
    json_.push_back('[');
    for (size_t i = 0; i < node.size(); ++i) {
      const std::string item_path = absl::StrCat(path, "[", i, "]");
      lines_[item_path] = LineOf(node[i]);
      if (i > 0) json_.push_back(',');
      if (node[i].IsNull()) return Error(node[i], item_path, "list items cannot be null");
      SOP_RETURN_IF_ERROR(Singular(node[i], field, item_path));
    }
    json_.push_back(']');
    return absl::OkStatus();
  }

  absl::Status Map(const YAML::Node& node, const FieldDescriptor* field, const std::string& path) {
    if (!node.IsMap()) return Error(node, path, "expected a mapping");
    const FieldDescriptor* value_field = field->message_type()->map_value();
    json_.push_back('{');
    bool first = true;
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) return Error(entry.first, path, "map keys must be plain text");
      const std::string entry_path =
          absl::StrCat(path, "[", error::QuoteInput(entry.first.Scalar()), "]");
      lines_[entry_path] = LineOf(entry.first);
      if (!first) json_.push_back(',');
      first = false;
      AppendJsonString(entry.first.Scalar(), &json_);
      json_.push_back(':');
      SOP_RETURN_IF_ERROR(Field(entry.second, value_field, entry_path));
    }
    json_.push_back('}');
    return absl::OkStatus();
  }

  absl::Status Singular(const YAML::Node& node, const FieldDescriptor* field,
                        const std::string& path) {
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      return MessageValue(node, field->message_type(), path);
    }
    if (!node.IsScalar())
      return Error(node, path, "expected a single value, not a list or mapping");
    const std::string& text = node.Scalar();
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        AppendJsonString(text, &json_);
        return absl::OkStatus();
      case FieldDescriptor::CPPTYPE_ENUM:
        return EnumValue(node, field->enum_type(), path);
      case FieldDescriptor::CPPTYPE_BOOL:
        if (IsPlain(node) && (text == "true" || text == "false")) {
          json_.append(text);
        } else {
          AppendJsonString(text, &json_);  // The JSON parser rejects it, naming the path.
        }
        return absl::OkStatus();
      default:  // Numbers. The JSON parser accepts quoted numbers too.
        if (IsPlain(node) && IsJsonNumber(text)) {
          json_.append(text);
        } else {
          AppendJsonString(text, &json_);
        }
        return absl::OkStatus();
    }
  }

  absl::Status EnumValue(const YAML::Node& node, const EnumDescriptor* type,
                         const std::string& path) {
    if (type->FindValueByName(node.Scalar()) == nullptr) {
      std::vector<std::string> names;
      for (int i = 0; i < type->value_count(); ++i) {
        if (type->value(i)->number() != 0) names.push_back(type->value(i)->name());
      }
      return Error(node, path,
                   absl::StrCat("unknown value ", error::QuoteInput(node.Scalar()), " for ",
                                type->name(),
                                "; expected one of ", absl::StrJoin(names, ", ")));
    }
    AppendJsonString(node.Scalar(), &json_);
    return absl::OkStatus();
  }

  absl::Status MessageValue(const YAML::Node& node, const Descriptor* type,
                            const std::string& path) {
    const std::string& name = type->full_name();
    if (name == "google.protobuf.Value") {
      return FreeForm(node, path);
    }
    if (name == "google.protobuf.ListValue") {
      if (!node.IsSequence()) return Error(node, path, "expected a list");
      return FreeForm(node, path);
    }
    if (name == "google.protobuf.Struct") {
      if (!node.IsMap()) return Error(node, path, "expected a mapping");
      return FreeForm(node, path);
    }
    if (name == "google.protobuf.Duration" || name == "google.protobuf.Timestamp") {
      if (!node.IsScalar()) {
        return Error(node, path,
                     name == "google.protobuf.Duration"
                         ? "expected a duration in seconds such as \"300s\""
                         : "expected an RFC 3339 time such as \"2024-05-01T09:00:00Z\"");
      }
      AppendJsonString(node.Scalar(), &json_);
      return absl::OkStatus();
    }
    if (!node.IsMap())
      return Error(node, path, absl::StrCat("expected a mapping (", type->name(), ")"));
    return Message(node, type, path);
  }

  // JSON-like values: quoted scalars are strings, plain ones are typed.
  absl::Status FreeForm(const YAML::Node& node, const std::string& path) {
    switch (node.Type()) {
      case YAML::NodeType::Null:
        json_.append("null");
        return absl::OkStatus();
      case YAML::NodeType::Scalar:
        if (!IsPlain(node)) {
          AppendJsonString(node.Scalar(), &json_);
          return absl::OkStatus();
        }
        AppendInferred(node.Scalar());
        return absl::OkStatus();
      case YAML::NodeType::Sequence:
        json_.push_back('[');
        for (size_t i = 0; i < node.size(); ++i) {
          const std::string item_path = absl::StrCat(path, "[", i, "]");
          lines_[item_path] = LineOf(node[i]);
          if (i > 0) json_.push_back(',');
          SOP_RETURN_IF_ERROR(FreeForm(node[i], item_path));
        }
        json_.push_back(']');
        return absl::OkStatus();
      case YAML::NodeType::Map: {
        json_.push_back('{');
        bool first = true;
        for (const auto& entry : node) {
          if (!entry.first.IsScalar()) {
            return Error(entry.first, path, "keys must be plain text");
          }
          if (!first) json_.push_back(',');
          first = false;
          AppendJsonString(entry.first.Scalar(), &json_);
          json_.push_back(':');
          SOP_RETURN_IF_ERROR(FreeForm(entry.second, KeyPath(path, entry.first.Scalar())));
        }
        json_.push_back('}');
        return absl::OkStatus();
      }
      default:
        return Error(node, path, "expected a value");
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

  const std::string file_;
  std::string json_;
  std::map<std::string, int> lines_;
};

// "(steps[0].ordinal): invalid value ..." from the protobuf JSON parser.
std::pair<std::string, std::string> SplitParserError(absl::string_view message) {
  if (absl::ConsumePrefix(&message, "(")) {
    const size_t close = message.find("): ");
    if (close != absl::string_view::npos) {
      return {std::string(message.substr(0, close)), std::string(message.substr(close + 3))};
    }
  }
  return {"", std::string(message)};
}

// Validation messages are "<path>: <reason>"; paths hold no ": ".
std::pair<std::string, std::string> SplitValidationError(absl::string_view message) {
  const size_t sep = message.find(": ");
  if (sep == absl::string_view::npos) return {"", std::string(message)};
  return {std::string(message.substr(0, sep)), std::string(message.substr(sep + 2))};
}

absl::Status AtPath(absl::string_view file, const YamlToJson& converter,
                    const std::pair<std::string, std::string>& path_and_reason) {
  const auto& [path, reason] = path_and_reason;
  const std::string what = path.empty() ? reason : absl::StrCat(path, ": ", reason);
  return absl::InvalidArgumentError(Located(file, converter.LineFor(path), what));
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
  SOP_ASSIGN_OR_RETURN(file.sop, ParseSopFile(file.path, contents));
  if (!file.sop.name().empty()) {
    SOP_ASSIGN_OR_RETURN(const SopName name, ParseSopName("name", file.sop.name()));
    file.sop_id = name.sop;
    return file;
  }
  file.sop_id = IdFromBaseName(path);
  if (!IsValidResourceId(file.sop_id)) {
    return absl::InvalidArgumentError(absl::StrCat(
        file.path, ": the file name gives the SOP id ", error::QuoteInput(file.sop_id),
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
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(contents));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(Located(path_for_errors, e.mark.line + 1, e.msg));
  }
  if (documents.empty() || documents[0].IsNull()) {
    return absl::InvalidArgumentError(absl::StrCat(path_for_errors, ": the file holds no SOP"));
  }
  if (documents.size() > 1) {
    return absl::InvalidArgumentError(Located(path_for_errors, LineOf(documents[1]),
                                              "one SOP per file; found a second document"));
  }

  v1::Sop sop;
  YamlToJson converter(path_for_errors);
  SOP_RETURN_IF_ERROR(converter.Convert(documents[0], sop.GetDescriptor()));

  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  // protobuf 3.21 has its own Status type; only its message matters here.
  const auto parsed = google::protobuf::util::JsonStringToMessage(converter.json(), &sop, options);
  if (!parsed.ok()) {
    return AtPath(
        path_for_errors, converter,
        SplitParserError(absl::string_view(parsed.message().data(), parsed.message().size())));
  }
  absl::Status valid = ValidateSopBody(sop, "");
  if (valid.ok() && !sop.name().empty()) valid = ParseSopName("name", sop.name()).status();
  if (!valid.ok()) {
    return AtPath(path_for_errors, converter, SplitValidationError(valid.message()));
  }
  return sop;
}

absl::StatusOr<std::vector<SopFile>> LoadSopFiles(absl::string_view path) {
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

  std::vector<SopFile> files;
  std::map<std::string, std::string> path_by_id;
  for (const std::filesystem::path& p : paths) {
    SOP_ASSIGN_OR_RETURN(SopFile file, LoadSopFile(p));
    auto [it, inserted] = path_by_id.emplace(file.sop_id, file.path);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat(file.path, ": SOP id ",
                                                     error::QuoteInput(file.sop_id),
                                                     " is also defined by ", it->second));
    }
    files.push_back(std::move(file));
  }
  return files;
}

}  // namespace sopsidebar
