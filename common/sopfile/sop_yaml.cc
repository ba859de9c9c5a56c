#include "common/sopfile/sop_yaml.h"

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "common/json_string.h"
#include "google/protobuf/util/json_util.h"
#include "yaml-cpp/yaml.h"

namespace sopsidebar {
namespace {

// A scalar of the JSON text as YAML: a JSON string (quoted in the JSON, so
// not plain) double-quoted with JSON's escapes, which YAML's double-quoted
// style reads the same; numbers, true, false and null as they are.
void AppendScalar(const YAML::Node& node, std::string* out) {
  if (node.Tag() == "?") {
    out->append(node.Scalar());
  } else {
    AppendJsonString(node.Scalar(), out);
  }
}

// A mapping key: plain when it reads as a field name, else quoted.
void AppendKey(const YAML::Node& key, std::string* out) {
  const std::string& text = key.Scalar();
  const bool plain = !text.empty() && (absl::ascii_isalpha(text[0]) || text[0] == '_') &&
                     std::all_of(text.begin(), text.end(),
                                 [](char c) { return absl::ascii_isalnum(c) || c == '_'; });
  if (plain) {
    out->append(text);
  } else {
    AppendJsonString(text, out);
  }
}

bool IsEmptyCollection(const YAML::Node& node) {
  return (node.IsMap() || node.IsSequence()) && node.size() == 0;
}

void AppendValue(const YAML::Node& node, int indent, std::string* out);

// After "key:" or "-": the value on the same line, or a block below.
void AppendAfterKey(const YAML::Node& node, int indent, std::string* out) {
  if (node.IsNull()) {
    out->append(" null\n");
  } else if (node.IsScalar()) {
    out->push_back(' ');
    AppendScalar(node, out);
    out->push_back('\n');
  } else if (IsEmptyCollection(node)) {
    out->append(node.IsMap() ? " {}\n" : " []\n");
  } else {
    out->push_back('\n');
    AppendValue(node, indent, out);
  }
}

// A mapping or list as a block at `indent` spaces, starting a line.
void AppendValue(const YAML::Node& node, int indent, std::string* out) {
  const std::string pad(indent, ' ');
  if (node.IsMap()) {
    for (const auto& entry : node) {
      out->append(pad);
      AppendKey(entry.first, out);
      out->push_back(':');
      AppendAfterKey(entry.second, indent + 2, out);
    }
  } else if (node.IsSequence()) {
    for (const YAML::Node& item : node) {
      out->append(pad);
      out->push_back('-');
      if (item.IsMap() && item.size() > 0) {
        // "- first: ..." then the other keys under it.
        std::string block;
        AppendValue(item, indent + 2, &block);
        out->append(" ");
        out->append(block.substr(indent + 2));
      } else {
        AppendAfterKey(item, indent + 2, out);
      }
    }
  }
}

}  // namespace

std::string SopToYaml(const v1::Sop& sop) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  // Never fails for a message of the generated pool.
  (void)google::protobuf::util::MessageToJsonString(sop, &json, options);
  const YAML::Node root = YAML::Load(json);
  std::string out;
  if (IsEmptyCollection(root)) return "{}\n";
  AppendValue(root, 0, &out);
  return out;
}

}  // namespace sopsidebar
