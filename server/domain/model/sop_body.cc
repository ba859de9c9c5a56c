#include "server/domain/model/sop_body.h"

#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/message_differencer.h"

namespace sopsidebar {
namespace {

using google::protobuf::FieldDescriptor;

// Output-only fields, by field number in sop.proto (20 and up) plus name.
bool IsOutputOnly(const FieldDescriptor* f) {
  return f->number() >= v1::Sop::kStateFieldNumber || f->number() == v1::Sop::kNameFieldNumber;
}

}  // namespace

void ClearOutputOnlyFields(v1::Sop* sop) {
  const google::protobuf::Reflection* reflection = sop->GetReflection();
  const google::protobuf::Descriptor* descriptor = sop->GetDescriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* f = descriptor->field(i);
    if (IsOutputOnly(f)) reflection->ClearField(sop, f);
  }
}

bool SameBody(const v1::Sop& a, const v1::Sop& b) { return ChangedFields(a, b).empty(); }

std::vector<std::string> ChangedFields(const v1::Sop& before, const v1::Sop& after) {
  std::vector<std::string> changed;
  const google::protobuf::Descriptor* descriptor = v1::Sop::descriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* f = descriptor->field(i);
    if (IsOutputOnly(f)) continue;
    google::protobuf::util::MessageDifferencer differencer;
    std::vector<const FieldDescriptor*> only = {f};
    if (!differencer.CompareWithFields(before, after, only, only)) {
      changed.push_back(f->name());
    }
  }
  return changed;
}

}  // namespace sopsidebar
