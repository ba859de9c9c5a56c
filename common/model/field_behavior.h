// Field behaviour as the protos declare it (sopsidebar.v1.field_behavior,
// AIP-203): which fields the server sets, which name the resource and which
// must be set. The server derives its handling of fields from here, never
// from field numbers. Thread-safe (pure).
#ifndef SOPSIDEBAR_COMMON_MODEL_FIELD_BEHAVIOR_H_
#define SOPSIDEBAR_COMMON_MODEL_FIELD_BEHAVIOR_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "sopsidebar/v1/field_behavior.pb.h"

namespace sopsidebar {

// True when `field` declares `behavior`; false for nullptr.
bool HasFieldBehavior(const google::protobuf::FieldDescriptor* field, v1::FieldBehavior behavior);

// True for a field a writer controls: neither the resource's identifier nor
// output only. False for nullptr.
bool IsWritableField(const google::protobuf::FieldDescriptor* field);

// The paths of the FIELD_BEHAVIOR_REQUIRED fields of `message` left empty,
// depth first in declaration order: "" for a string or bytes, 0 for a number
// or enum, false for a bool, unset for a message, no elements for a repeated
// field. A member of a oneof counts only when its case is set (which member
// is set is the oneof's own rule). Recurses into the set message fields and
// each element of repeated message fields a writer controls
// (IsWritableField), not into maps or google.protobuf types. Paths use proto
// field names under `prefix`: "sop.steps[2].title" (prefix "sop"),
// "steps[2].title" (empty prefix).
std::vector<std::string> MissingRequiredFields(const google::protobuf::Message& message,
                                               absl::string_view prefix);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_COMMON_MODEL_FIELD_BEHAVIOR_H_
