#include "server/domain/model/field_behavior.h"

namespace sopsidebar {

bool HasFieldBehavior(const google::protobuf::FieldDescriptor* field,
                      v1::FieldBehavior behavior) {
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

}  // namespace sopsidebar
