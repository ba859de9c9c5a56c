#include "common/model/sop_body.h"

#include <algorithm>

#include "common/errors.h"
#include "common/model/field_behavior.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/message_differencer.h"

namespace sopsidebar {

using google::protobuf::FieldDescriptor;

bool IsMutableSopField(const FieldDescriptor* f) {
  return f != nullptr && f->containing_type() == v1::Sop::descriptor() && IsWritableField(f);
}

void ClearOutputOnlyFields(v1::Sop* sop) {
  const google::protobuf::Reflection* reflection = sop->GetReflection();
  const google::protobuf::Descriptor* descriptor = sop->GetDescriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* f = descriptor->field(i);
    if (!IsMutableSopField(f)) reflection->ClearField(sop, f);
  }
}

void ClearSopProcedure(v1::Sop* sop) {
  sop->clear_purpose();
  sop->clear_targeting_rules();
  sop->clear_steps();
  sop->clear_cadence();
  sop->clear_sla_terms();
  sop->clear_disqualification_codes();
  sop->clear_assets();
}

void NormalizeSopBody(v1::Sop* sop) {
  // Sorting the pointers moves no step.
  auto* steps = sop->mutable_steps();
  std::stable_sort(
      steps->pointer_begin(), steps->pointer_end(),
      [](const v1::Step* a, const v1::Step* b) { return a->ordinal() < b->ordinal(); });
}

bool SameBody(const v1::Sop& a, const v1::Sop& b) { return ChangedFields(a, b).empty(); }

std::vector<std::string> ChangedFields(const v1::Sop& before, const v1::Sop& after) {
  std::vector<std::string> changed;
  const google::protobuf::Descriptor* descriptor = v1::Sop::descriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* f = descriptor->field(i);
    if (!IsMutableSopField(f)) continue;
    google::protobuf::util::MessageDifferencer differencer;
    std::vector<const FieldDescriptor*> only = {f};
    if (!differencer.CompareWithFields(before, after, only, only)) {
      changed.push_back(f->name());
    }
  }
  return changed;
}

absl::Status CheckPublishable(absl::string_view name, const v1::Sop& head) {
  if (head.state() == v1::Sop::DELETED) return error::SopDeleted(name);
  if (head.targeting_rules().empty()) {
    return error::SopNotPublishable(name, "it has no targeting_rules, so no record would match it");
  }
  return absl::OkStatus();
}

}  // namespace sopsidebar
