#include "client/cli/field_map_file.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/errors.h"
#include "google/protobuf/descriptor.h"
#include "yaml-cpp/yaml.h"

namespace sopsidebar::cli {
namespace {

constexpr absl::string_view kTypePrefix = "FIELD_TYPE_";

// The problems of one file, each "<file>:<line>: <path>: <reason>".
class Problems {
 public:
  explicit Problems(absl::string_view file) : file_(file) {}

  void Add(const YAML::Node& at, absl::string_view path, absl::string_view reason) {
    lines_.push_back(
        absl::StrCat(file_, ":", at.Mark().line + 1, ": ", path, path.empty() ? "" : ": ", reason));
  }
  bool empty() const { return lines_.empty(); }
  absl::Status ToStatus() const { return absl::InvalidArgumentError(absl::StrJoin(lines_, "\n")); }

 private:
  const std::string file_;
  std::vector<std::string> lines_;
};

// The text of a scalar under `key` of the mapping `node` at `path`; empty
// (with a problem when it is not a scalar) otherwise.
std::string Text(const YAML::Node& node, absl::string_view key, const std::string& path,
                 Problems& problems) {
  const YAML::Node value = node[std::string(key)];
  if (!value.IsDefined() || value.IsNull()) return "";
  if (!value.IsScalar()) {
    problems.Add(value, absl::StrCat(path, ".", key), "expected text, not a list or mapping");
    return "";
  }
  return value.Scalar();
}

// Problems for the keys of the mapping `node` that are not `known`.
void CheckKeys(const YAML::Node& node, const std::vector<absl::string_view>& known,
               const std::string& path, Problems& problems) {
  for (const auto& entry : node) {
    const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "";
    bool found = false;
    for (absl::string_view k : known) found = found || k == key;
    if (!found) {
      problems.Add(entry.first, path.empty() ? key : absl::StrCat(path, ".", key),
                   absl::StrCat("unknown key ", error::QuoteInput(key), "; expected one of ",
                                absl::StrJoin(known, ", ")));
    }
  }
}

// Each mapping of the list under `key` of `root`, with its path
// ("fields[2]"); problems for a value that is not a list of mappings.
template <typename Each>
void ForEachItem(const YAML::Node& root, absl::string_view key, Problems& problems, Each each) {
  const YAML::Node list = root[std::string(key)];
  if (!list.IsDefined() || list.IsNull()) return;
  if (!list.IsSequence()) {
    problems.Add(list, key, "expected a list");
    return;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string path = absl::StrCat(key, "[", i, "]");
    if (!list[i].IsMap()) {
      problems.Add(list[i], path, "expected a mapping");
      continue;
    }
    each(list[i], path);
  }
}

}  // namespace

absl::StatusOr<v1::FieldType> ParseFieldType(absl::string_view text) {
  std::string name = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(text));
  if (!absl::StartsWith(name, kTypePrefix)) name = absl::StrCat(kTypePrefix, name);
  v1::FieldType type;
  if (v1::FieldType_Parse(name, &type) && type != v1::FIELD_TYPE_UNSPECIFIED) return type;
  std::vector<std::string> known;
  const google::protobuf::EnumDescriptor* types = v1::FieldType_descriptor();
  for (int i = 0; i < types->value_count(); ++i) {
    if (types->value(i)->number() == v1::FIELD_TYPE_UNSPECIFIED) continue;
    known.emplace_back(absl::StripPrefix(types->value(i)->name(), kTypePrefix));
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown type ", error::QuoteInput(text),
                                                 "; expected one of ", absl::StrJoin(known, ", ")));
}

absl::StatusOr<v1::FieldMap> ParseFieldMapFile(absl::string_view path_for_errors,
                                               absl::string_view contents) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(contents));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path_for_errors, ":", e.mark.line + 1, ":",
                                                   e.mark.column + 1, ": YAML syntax: ", e.msg));
  }
  Problems problems(path_for_errors);
  if (!root.IsMap()) {
    problems.Add(root, "", "expected a mapping with fields and record_types");
    return problems.ToStatus();
  }
  // name, is_default and update_time: what `fieldmap get -o json` prints too.
  CheckKeys(root, {"fields", "record_types", "name", "is_default", "update_time"}, "", problems);
  v1::FieldMap map;
  ForEachItem(root, "fields", problems, [&](const YAML::Node& item, const std::string& path) {
    CheckKeys(item, {"crm_field", "field", "type"}, path, problems);
    v1::FieldMapEntry& entry = *map.add_fields();
    entry.set_crm_field(Text(item, "crm_field", path, problems));
    entry.set_field(Text(item, "field", path, problems));
    const std::string type = Text(item, "type", path, problems);
    if (type.empty()) {
      problems.Add(item, absl::StrCat(path, ".type"),
                   "is required: STRING, NUMBER, BOOL, TIMESTAMP or STRING_LIST");
      return;
    }
    absl::StatusOr<v1::FieldType> parsed = ParseFieldType(type);
    if (!parsed.ok()) {
      problems.Add(item["type"], absl::StrCat(path, ".type"), parsed.status().message());
      return;
    }
    entry.set_type(*parsed);
  });
  ForEachItem(root, "record_types", problems, [&](const YAML::Node& item, const std::string& path) {
    CheckKeys(item, {"crm_object", "record_type"}, path, problems);
    v1::RecordTypeMapEntry& entry = *map.add_record_types();
    entry.set_crm_object(Text(item, "crm_object", path, problems));
    entry.set_record_type(Text(item, "record_type", path, problems));
  });
  if (!problems.empty()) return problems.ToStatus();
  return map;
}

}  // namespace sopsidebar::cli
