// Field behaviour as the protos declare it (sopsidebar.v1.field_behavior,
// AIP-203): which fields the server sets, which name the resource and which
// must be set. The server derives its handling of fields from here, never
// from field numbers. Thread-safe (pure).
#ifndef SOPSIDEBAR_SERVER_DOMAIN_MODEL_FIELD_BEHAVIOR_H_
#define SOPSIDEBAR_SERVER_DOMAIN_MODEL_FIELD_BEHAVIOR_H_

#include "google/protobuf/descriptor.h"
#include "sopsidebar/v1/field_behavior.pb.h"

namespace sopsidebar {

// True when `field` declares `behavior`; false for nullptr.
bool HasFieldBehavior(const google::protobuf::FieldDescriptor* field,
                      v1::FieldBehavior behavior);

// True for a field a writer controls: neither the resource's identifier nor
// output only. False for nullptr.
bool IsWritableField(const google::protobuf::FieldDescriptor* field);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_MODEL_FIELD_BEHAVIOR_H_
