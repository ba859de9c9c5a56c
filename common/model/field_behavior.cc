#include "common/model/field_behavior.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sopsidebar {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

std::string FieldPath(absl::string_view prefix, const FieldDescriptor* field) {
  return prefix.empty() ? field->name() : absl::StrCat(prefix, ".", field->name());
}

bool IsEmpty(const Message& message, const FieldDescriptor* field) {
  const Reflection& r = *message.GetReflection();
  if (field->is_repeated()) return r.FieldSize(message, field) == 0;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return r.GetString(message, field).empty();
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return !r.HasField(message, field);
    case FieldDescriptor::CPPTYPE_ENUM:
      return r.GetEnumValue(message, field) == 0;
    case FieldDescriptor::CPPTYPE_BOOL:
      return !r.GetBool(message, field);
    case FieldDescriptor::CPPTYPE_INT32:
      return r.GetInt32(message, field) == 0;
    case FieldDescriptor::CPPTYPE_INT64:
      return r.GetInt64(message, field) == 0;
    case FieldDescriptor::CPPTYPE_UINT32:
      return r.GetUInt32(message, field) == 0;
    case FieldDescriptor::CPPTYPE_UINT64:
      return r.GetUInt64(message, field) == 0;
    case FieldDescriptor::CPPTYPE_FLOAT:
      return r.GetFloat(message, field) == 0;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return r.GetDouble(message, field) == 0;
  }
  return false;
}

// Messages whose fields carry our annotations: not google.protobuf's.
bool MayDeclareBehavior(const FieldDescriptor* field) {
  return field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !field->is_map() &&
         !absl::StartsWith(field->message_type()->full_name(), "google.protobuf.");
}

void AppendMissing(const Message& message, absl::string_view prefix,
                   std::vector<std::string>* missing) {
  const google::protobuf::Descriptor& descriptor = *message.GetDescriptor();
  const Reflection& r = *message.GetReflection();
  for (int i = 0; i < descriptor.field_count(); ++i) {
    const FieldDescriptor* field = descriptor.field(i);
    if (!IsWritableField(field)) continue;
    if (field->real_containing_oneof() != nullptr && !r.HasField(message, field)) continue;
    if (HasFieldBehavior(field, v1::FIELD_BEHAVIOR_REQUIRED) && IsEmpty(message, field)) {
      missing->push_back(FieldPath(prefix, field));
      continue;
    }
    if (!MayDeclareBehavior(field)) continue;
    if (field->is_repeated()) {
      for (int j = 0; j < r.FieldSize(message, field); ++j) {
        AppendMissing(r.GetRepeatedMessage(message, field, j),
                      absl::StrCat(FieldPath(prefix, field), "[", j, "]"), missing);
      }
    } else if (r.HasField(message, field)) {
      AppendMissing(r.GetMessage(message, field), FieldPath(prefix, field), missing);
    }
  }
}

}  // namespace

bool HasFieldBehavior(const google::protobuf::FieldDescriptor* field, v1::FieldBehavior behavior) {
  if (field == nullptr) return false;
  const google::protobuf::FieldOptions& options = field->options();
  for (int i = 0; i < options.ExtensionSize(v1::field_behavior); ++i) {
    if (options.GetExtension(v1::field_behavior, i) == behavior) return true;
  }
  return false;
}

bool IsWritableField(const google::protobuf::FieldDescriptor* field) {
  return field != nullptr && !HasFieldBehavior(field, v1::FIELD_BEHAVIOR_IDENTIFIER) &&
         !HasFieldBehavior(field, v1::FIELD_BEHAVIOR_OUTPUT_ONLY);
}

std::vector<std::string> MissingRequiredFields(const google::protobuf::Message& message,
                                               absl::string_view prefix) {
  std::vector<std::string> missing;
  AppendMissing(message, prefix, &missing);
  return missing;
}

}  // namespace sopsidebar
