// libFuzzer target: lookup contexts as a client sends them, checked by
// ValidateCrmContext and, for a context in a CRM's names, translated by
// CrmMaps (the org's field map, fuzzed too, or the default one).
//
// Checks the contract as well as the absence of crashes: a rejection is
// INVALID_ARGUMENT whose message starts with the field's path; a translated
// context is a valid context of ours (what the matcher is given).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "common/auth/caller.h"
#include "common/model/roles.h"
#include "common/model/validation.h"
#include "google/protobuf/util/json_util.h"
#include "server/common/clock.h"
#include "server/domain/crm/crm_maps.h"
#include "server/domain/store/in_memory_auth_store.h"

namespace sopsidebar {
namespace {

[[noreturn]] void Fail(absl::string_view what, absl::string_view detail) {
  std::cerr << "crm_context_fuzzer: " << what << "\n" << detail << "\n";
  std::abort();
}

void ExpectValidOrPathError(const absl::Status& status, absl::string_view prefix,
                            const v1::CrmContext& context) {
  if (status.ok()) return;
  if (status.code() != absl::StatusCode::kInvalidArgument ||
      !absl::StartsWith(status.message(), prefix)) {
    Fail("a rejected context is not INVALID_ARGUMENT naming the field",
         status.ToString() + "\ncontext: " + context.ShortDebugString());
  }
}

Caller Admin() {
  Caller caller;
  caller.org = "acme";
  caller.user_id = "fuzz-admin";
  caller.roles = RoleBit(v1::ADMIN);
  caller.token_name = "orgs/acme/tokens/fuzz";
  return caller;
}

void CheckContext(FuzzedDataProvider& input) {
  InMemoryAuthStore store;
  FakeClock clock;
  absl::StatusOr<std::unique_ptr<CrmMaps>> maps = CrmMaps::Create(&store, &clock);
  if (!maps.ok()) Fail("CrmMaps::Create failed", maps.status().ToString());

  const bool own_field_map = input.ConsumeBool();
  const bool json = input.ConsumeBool();
  if (own_field_map) {
    // An org's own field map: the ones UpdateFieldMap accepts replace the
    // default map of their CRM; the others are refused, as they should be.
    v1::UpdateFieldMapRequest request;
    v1::FieldMap& map = *request.mutable_field_map();
    map.set_name(input.ConsumeBool() ? "orgs/acme/fieldMaps/salesforce"
                                     : "orgs/acme/fieldMaps/hubspot");
    for (int i = input.ConsumeIntegralInRange(0, 6); i > 0; --i) {
      v1::FieldMapEntry& entry = *map.add_fields();
      entry.set_crm_field(input.ConsumeRandomLengthString(24));
      entry.set_field(input.ConsumeRandomLengthString(24));
      entry.set_type(static_cast<v1::FieldType>(input.ConsumeIntegralInRange(0, 6)));
    }
    for (int i = input.ConsumeIntegralInRange(0, 2); i > 0; --i) {
      v1::RecordTypeMapEntry& entry = *map.add_record_types();
      entry.set_crm_object(input.ConsumeRandomLengthString(24));
      entry.set_record_type(input.ConsumeRandomLengthString(24));
    }
    (*maps)->UpdateFieldMap(Admin(), request).IgnoreError();
  }

  v1::CrmContext context;
  const std::string bytes = input.ConsumeRemainingBytesAsString();
  if (json) {
    if (!google::protobuf::util::JsonStringToMessage(bytes, &context).ok()) return;
  } else if (!context.ParseFromString(bytes)) {
    return;
  }

  const absl::Status valid = ValidateCrmContext(context, "context");
  ExpectValidOrPathError(valid, "context", context);
  if (!valid.ok() || context.crm().empty()) return;

  Caller viewer = Admin();
  viewer.roles = RoleBit(v1::SDR);
  absl::StatusOr<CrmMaps::Translated> translated = (*maps)->Translate(viewer, context, "context");
  ExpectValidOrPathError(translated.status(), "context", context);
  if (!translated.ok()) return;
  const absl::Status ours = ValidateCrmContext(translated->context, "translated");
  if (!ours.ok()) {
    Fail("a translated context is not a valid context",
         ours.ToString() + "\nfrom: " + context.ShortDebugString() +
             "\nto:   " + translated->context.ShortDebugString());
  }
}

}  // namespace
}  // namespace sopsidebar

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  sopsidebar::CheckContext(input);
  return 0;
}
