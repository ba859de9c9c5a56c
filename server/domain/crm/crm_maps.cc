#include "server/domain/crm/crm_maps.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/auth/permissions.h"
#include "common/errors.h"
#include "common/model/names.h"
#include "common/model/roles.h"
#include "common/model/validation.h"
#include "common/percent_encoding.h"
#include "common/proto_time.h"
#include "common/status_macros.h"

namespace sopsidebar {
namespace {

constexpr size_t kMaxViewerRoles = 100;
constexpr size_t kMaxMapEntries = 1000;
constexpr absl::string_view kEveryone = "*";
constexpr absl::string_view kUserPrefix = "user:";

// A viewer header's value: percent-decoded, '+' a space (Apex's
// EncodingUtil.urlEncode writes spaces so; encodeURIComponent writes "%20"
// and "%2B" for '+'), then checked as one line of text.
absl::StatusOr<std::string> DecodeHeader(absl::string_view header, absl::string_view value) {
  SOP_ASSIGN_OR_RETURN(std::string text, PercentDecode(header, value, /*plus_is_space=*/true));
  SOP_RETURN_IF_ERROR(ValidateText(header, text, Limits::kMaxShortText, TextKind::kLine));
  return text;
}

RoleSet RolesOf(const google::protobuf::RepeatedField<int>& roles) {
  RoleSet set = 0;
  for (int role : roles) set |= RoleBit(static_cast<v1::Role>(role));
  return set;
}

absl::Status CheckOrg(const Caller& caller, absl::string_view org) {
  if (org != caller.org && !caller.server_admin) return error::OrgNotFound(OrgName(org));
  return absl::OkStatus();
}

absl::Status CheckRoleMap(const v1::RoleMap& map) {
  if (static_cast<size_t>(map.entries_size()) > kMaxMapEntries) {
    return error::TooManyItems("role_map.entries", kMaxMapEntries);
  }
  absl::flat_hash_set<absl::string_view> seen;
  for (int i = 0; i < map.entries_size(); ++i) {
    const v1::RoleMapEntry& entry = map.entries(i);
    const std::string path = absl::StrCat("role_map.entries[", i, "]");
    if (entry.crm_role().empty()) return error::RequiredField(path + ".crm_role");
    SOP_RETURN_IF_ERROR(
        ValidateText(path + ".crm_role", entry.crm_role(), Limits::kMaxShortText, TextKind::kLine));
    if (!seen.insert(entry.crm_role()).second) {
      return error::InvalidField(path + ".crm_role",
                                 absl::StrCat(error::QuoteInput(entry.crm_role()),
                                              " is mapped twice; list its roles in one entry"));
    }
    if (entry.roles().empty()) return error::RequiredField(path + ".roles");
    for (int j = 0; j < entry.roles_size(); ++j) {
      const int role = entry.roles(j);
      const std::string role_path = absl::StrCat(path, ".roles[", j, "]");
      if (!v1::Role_IsValid(role) || role == v1::ROLE_UNSPECIFIED) {
        return error::InvalidField(role_path, absl::StrCat("unknown role ", role));
      }
      if (role == v1::INTEGRATION || role == v1::ADMIN) {
        return error::InvalidField(role_path,
                                   absl::StrCat("a viewer never gets ", v1::Role_Name(role)));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CheckFieldMap(const v1::FieldMap& map) {
  if (static_cast<size_t>(map.fields_size()) > kMaxMapEntries) {
    return error::TooManyItems("field_map.fields", kMaxMapEntries);
  }
  absl::flat_hash_set<absl::string_view> crm_fields, fields;
  for (int i = 0; i < map.fields_size(); ++i) {
    const v1::FieldMapEntry& entry = map.fields(i);
    const std::string path = absl::StrCat("field_map.fields[", i, "]");
    for (const auto& [name, value] :
         {std::pair{".crm_field", &entry.crm_field()}, std::pair{".field", &entry.field()}}) {
      if (value->empty()) return error::RequiredField(path + name);
      if (!IsValidFieldName(*value)) {
        return error::InvalidField(path + name,
                                   absl::StrCat(error::QuoteInput(*value),
                                                " is not a field name (a letter, then letters, "
                                                "digits, '_' or '.', at most 128)"));
      }
    }
    if (!crm_fields.insert(entry.crm_field()).second) {
      return error::InvalidField(
          path + ".crm_field",
          absl::StrCat(error::QuoteInput(entry.crm_field()), " is mapped twice"));
    }
    if (!fields.insert(entry.field()).second) {
      return error::InvalidField(
          path + ".field",
          absl::StrCat(error::QuoteInput(entry.field()), " already comes from another CRM field"));
    }
    if (!v1::FieldType_IsValid(entry.type()) || entry.type() == v1::FIELD_TYPE_UNSPECIFIED) {
      return error::InvalidField(
          path + ".type",
          absl::StrCat("unknown type ", entry.type(),
                       " (FIELD_TYPE_STRING, _NUMBER, _BOOL, _TIMESTAMP or _STRING_LIST)"));
    }
  }
  absl::flat_hash_set<absl::string_view> objects;
  for (int i = 0; i < map.record_types_size(); ++i) {
    const v1::RecordTypeMapEntry& entry = map.record_types(i);
    const std::string path = absl::StrCat("field_map.record_types[", i, "]");
    v1::CrmContext probe;  // record types are checked as a context checks them
    probe.set_record_type(entry.crm_object());
    SOP_RETURN_IF_ERROR(ValidateCrmContext(probe, path + ".crm_object"));
    probe.set_record_type(entry.record_type());
    SOP_RETURN_IF_ERROR(ValidateCrmContext(probe, path + ".record_type"));
    if (!objects.insert(entry.crm_object()).second) {
      return error::InvalidField(
          path + ".crm_object",
          absl::StrCat(error::QuoteInput(entry.crm_object()), " is mapped twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status CannotRead(absl::string_view path, const google::protobuf::Value& value,
                        v1::FieldType type) {
  std::string shown;
  switch (value.kind_case()) {
    case google::protobuf::Value::kStringValue:
      shown = error::QuoteInput(value.string_value());
      break;
    case google::protobuf::Value::kNumberValue:
      shown = absl::StrCat(value.number_value());
      break;
    case google::protobuf::Value::kBoolValue:
      shown = value.bool_value() ? "true" : "false";
      break;
    case google::protobuf::Value::kListValue:
      shown = "a list";
      break;
    default:
      shown = "this value";
      break;
  }
  return error::InvalidField(
      path, absl::StrCat("the field map reads it as ", v1::FieldType_Name(type), ", which ", shown,
                         " is not"));
}

// `value` read as `type`; null and "" (a CRM's empty field) stay null.
absl::StatusOr<google::protobuf::Value> Convert(absl::string_view path,
                                                const google::protobuf::Value& value,
                                                v1::FieldType type) {
  using google::protobuf::Value;
  Value out;
  if (value.kind_case() == Value::kNullValue ||
      (value.kind_case() == Value::kStringValue && value.string_value().empty())) {
    out.set_null_value(google::protobuf::NULL_VALUE);
    return out;
  }
  const bool is_text = value.kind_case() == Value::kStringValue;
  const absl::string_view text =
      is_text ? absl::StripAsciiWhitespace(value.string_value()) : absl::string_view();
  switch (type) {
    case v1::FIELD_TYPE_STRING:
      if (is_text) return value;
      if (value.kind_case() == Value::kNumberValue) {
        out.set_string_value(absl::StrCat(value.number_value()));
        return out;
      }
      if (value.kind_case() == Value::kBoolValue) {
        out.set_string_value(value.bool_value() ? "true" : "false");
        return out;
      }
      break;
    case v1::FIELD_TYPE_NUMBER: {
      if (value.kind_case() == Value::kNumberValue) return value;
      double number;
      if (is_text && absl::SimpleAtod(text, &number) && std::isfinite(number)) {
        out.set_number_value(number);
        return out;
      }
      break;
    }
    case v1::FIELD_TYPE_BOOL:
      if (value.kind_case() == Value::kBoolValue) return value;
      if (is_text &&
          (absl::EqualsIgnoreCase(text, "true") || absl::EqualsIgnoreCase(text, "false"))) {
        out.set_bool_value(absl::EqualsIgnoreCase(text, "true"));
        return out;
      }
      break;
    case v1::FIELD_TYPE_TIMESTAMP: {
      // RFC 3339 text as is; milliseconds since the epoch (HubSpot) as
      // RFC 3339 in UTC.
      int64_t millis;
      const bool numeric_text = is_text && absl::SimpleAtoi(text, &millis);
      if (value.kind_case() == Value::kNumberValue || numeric_text) {
        const double ms = numeric_text ? static_cast<double>(millis) : value.number_value();
        if (!std::isfinite(ms) || std::fabs(ms) > 1e15) break;
        out.set_string_value(absl::FormatTime(absl::RFC3339_full,
                                              absl::FromUnixMillis(static_cast<int64_t>(ms)),
                                              absl::UTCTimeZone()));
        return out;
      }
      absl::Time parsed;
      std::string ignored;
      if (is_text && absl::ParseTime(absl::RFC3339_full, text, &parsed, &ignored)) return value;
      break;
    }
    case v1::FIELD_TYPE_STRING_LIST: {
      if (value.kind_case() == Value::kListValue) return value;
      if (!is_text) break;
      auto* list = out.mutable_list_value();
      for (absl::string_view item : absl::StrSplit(text, ';', absl::SkipWhitespace())) {
        list->add_values()->set_string_value(std::string(absl::StripAsciiWhitespace(item)));
      }
      return out;
    }
    default:
      break;
  }
  return CannotRead(path, value, type);
}

}  // namespace

absl::StatusOr<ViewerClaim> ParseViewerHeaders(absl::string_view id, absl::string_view name,
                                               absl::string_view crm_roles) {
  ViewerClaim claim;
  SOP_ASSIGN_OR_RETURN(claim.id, DecodeHeader(kViewerIdHeader, id));
  SOP_ASSIGN_OR_RETURN(claim.display_name, DecodeHeader(kViewerNameHeader, name));
  for (absl::string_view role : absl::StrSplit(crm_roles, ',', absl::SkipWhitespace())) {
    if (claim.crm_roles.size() == kMaxViewerRoles) {
      return error::TooManyItems(kViewerRolesHeader, kMaxViewerRoles);
    }
    SOP_ASSIGN_OR_RETURN(std::string decoded,
                         DecodeHeader(kViewerRolesHeader, absl::StripAsciiWhitespace(role)));
    if (!decoded.empty()) claim.crm_roles.push_back(std::move(decoded));
  }
  return claim;
}

absl::StatusOr<std::unique_ptr<CrmMaps>> CrmMaps::Create(AuthStore* store, const Clock* clock) {
  auto maps = std::unique_ptr<CrmMaps>(new CrmMaps(store, clock));
  absl::MutexLock lock(&maps->mu_);
  SOP_RETURN_IF_ERROR(store->ForEachRoleMap([&](const v1::RoleMap& map) {
    maps->role_maps_[map.name()] = map;
    return absl::OkStatus();
  }));
  SOP_RETURN_IF_ERROR(store->ForEachFieldMap([&](const v1::FieldMap& map) {
    maps->field_maps_[map.name()] = std::make_shared<const CompiledFieldMap>(map);
    return absl::OkStatus();
  }));
  return maps;
}

void CrmMaps::ApplyStoredRoleMap(const v1::RoleMap& map) {
  absl::MutexLock lock(&mu_);
  role_maps_[map.name()] = map;
}

void CrmMaps::ApplyStoredFieldMap(const v1::FieldMap& map) {
  auto compiled = std::make_shared<const CompiledFieldMap>(map);
  absl::MutexLock lock(&mu_);
  field_maps_[map.name()] = std::move(compiled);
}

absl::StatusOr<Caller> CrmMaps::ActFor(const Caller& integration, const ViewerClaim& viewer) const {
  if (!(integration.roles & RoleBit(v1::INTEGRATION))) {
    return error::ViewerNotAllowed(kViewerIdHeader);
  }
  if (viewer.id.empty()) return error::RequiredField(kViewerIdHeader);
  RoleSet roles = 0;
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = role_maps_.find(CrmMapFullName(integration.org, kRoleMaps, integration.crm));
    if (it != role_maps_.end()) {
      for (const v1::RoleMapEntry& entry : it->second.entries()) {
        absl::string_view key = entry.crm_role();
        bool matches = false;
        if (key == kEveryone) {
          matches = true;
        } else if (absl::ConsumePrefix(&key, kUserPrefix)) {
          // Only the viewer's id or email: never a CRM role spelled so.
          matches = key == viewer.id || (!viewer.email.empty() && key == viewer.email);
        } else {
          for (const std::string& crm_role : viewer.crm_roles) matches |= key == crm_role;
        }
        if (matches) roles |= RolesOf(entry.roles());
      }
    }
  }
  Caller caller;
  caller.org = integration.org;
  caller.user_id = absl::StrCat(integration.crm, ":", viewer.id);
  caller.display_name = viewer.display_name;
  caller.roles = roles & integration.delegable_roles & kPeopleRoles;
  caller.token_name = integration.token_name;
  caller.via = integration.user_id;
  caller.deadline = integration.deadline;
  return caller;
}

absl::StatusOr<CrmMaps::Translated> CrmMaps::Translate(const Caller& caller,
                                                       const v1::CrmContext& context,
                                                       absl::string_view path) const {
  SOP_RETURN_IF_ERROR(ValidateCrmContext(context, path));
  Translated out;
  std::shared_ptr<const CompiledFieldMap> map;
  {
    absl::ReaderMutexLock lock(&mu_);
    map = FieldMapOf(caller.org, context.crm());
  }
  out.context.set_org(context.org());
  out.context.set_record_id(context.record_id());
  auto object = map->record_types.find(context.record_type());
  out.context.set_record_type(object != map->record_types.end() ? object->second
                                                                : context.record_type());
  auto& fields = *out.context.mutable_fields();
  for (const auto& [crm_field, value] : context.fields()) {
    auto found = map->fields.find(crm_field);
    if (found == map->fields.end()) continue;
    const v1::FieldMapEntry* entry = found->second;
    const std::string field_path =
        absl::StrCat(path, ".fields[", error::QuoteInput(crm_field), "]");
    SOP_ASSIGN_OR_RETURN(fields[entry->field()], Convert(field_path, value, entry->type()));
    v1::FieldSource& source = out.sources.emplace_back();
    source.set_field(entry->field());
    source.set_crm_field(crm_field);
  }
  // Map order is unspecified: sources come sorted, so responses are stable.
  std::sort(
      out.sources.begin(), out.sources.end(),
      [](const v1::FieldSource& a, const v1::FieldSource& b) { return a.field() < b.field(); });
  return out;
}

CrmMaps::CompiledFieldMap::CompiledFieldMap(v1::FieldMap field_map) : map(std::move(field_map)) {
  for (const v1::FieldMapEntry& entry : map.fields()) fields.emplace(entry.crm_field(), &entry);
  for (const v1::RecordTypeMapEntry& entry : map.record_types()) {
    record_types.emplace(entry.crm_object(), entry.record_type());
  }
}

std::shared_ptr<const CrmMaps::CompiledFieldMap> CrmMaps::FieldMapOf(absl::string_view org,
                                                                     absl::string_view crm) const {
  auto it = field_maps_.find(CrmMapFullName(org, kFieldMaps, crm));
  if (it != field_maps_.end()) return it->second;
  // The defaults are the same for every org but their name: built once.
  static const auto* const defaults = [] {
    auto* compiled = new absl::flat_hash_map<std::string, std::shared_ptr<const CompiledFieldMap>>;
    for (absl::string_view known : kCrmNames) {
      compiled->emplace(known,
                        std::make_shared<const CompiledFieldMap>(DefaultFieldMap("", known)));
    }
    return compiled;
  }();
  return defaults->at(crm);
}

absl::StatusOr<v1::RoleMap> CrmMaps::GetRoleMap(const Caller& caller,
                                                const v1::GetRoleMapRequest& request) const {
  SOP_ASSIGN_OR_RETURN(CrmMapName name, ParseCrmMapName("name", request.name(), kRoleMaps));
  SOP_RETURN_IF_ERROR(CheckOrg(caller, name.org));
  if (!caller.server_admin) SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kManageRoleMaps));
  absl::ReaderMutexLock lock(&mu_);
  auto it = role_maps_.find(request.name());
  if (it != role_maps_.end()) return it->second;
  v1::RoleMap empty;
  empty.set_name(request.name());
  return empty;
}

absl::Status CrmMaps::WriteLocked(const Caller& caller, const CrmMapName& name, AuthWrite write) {
  if (audit_ == nullptr) {
    if (write.role_map) return store_->PutRoleMap(*write.role_map);
    return store_->PutFieldMap(*write.field_map);
  }
  AuditEntry entry;
  entry.action = write.role_map ? "rolemap.update" : "fieldmap.update";
  entry.resource = write.role_map ? write.role_map->name() : write.field_map->name();
  entry.detail =
      absl::StrCat("replaced the ", name.crm, write.role_map ? " role map" : " field map");
  return audit_->Append(name.org, caller, std::move(entry), [&](const v1::AuditEvent& event) {
    write.audit = event;
    return store_->WriteAudited(write);
  });
}

absl::StatusOr<v1::RoleMap> CrmMaps::UpdateRoleMap(const Caller& caller,
                                                   const v1::UpdateRoleMapRequest& request) {
  SOP_ASSIGN_OR_RETURN(CrmMapName name,
                       ParseCrmMapName("role_map.name", request.role_map().name(), kRoleMaps));
  SOP_RETURN_IF_ERROR(CheckOrg(caller, name.org));
  if (!caller.server_admin) SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kManageRoleMaps));
  SOP_RETURN_IF_ERROR(CheckRoleMap(request.role_map()));
  v1::RoleMap map;
  map.set_name(request.role_map().name());
  *map.mutable_entries() = request.role_map().entries();
  *map.mutable_update_time() = ToProtoTimestamp(clock_->Now());
  absl::MutexLock lock(&mu_);
  AuthWrite write;
  write.role_map = map;
  SOP_RETURN_IF_ERROR(WriteLocked(caller, name, std::move(write)));
  role_maps_[map.name()] = map;
  return map;
}

absl::StatusOr<v1::FieldMap> CrmMaps::GetFieldMap(const Caller& caller,
                                                  const v1::GetFieldMapRequest& request) const {
  SOP_ASSIGN_OR_RETURN(CrmMapName name, ParseCrmMapName("name", request.name(), kFieldMaps));
  SOP_RETURN_IF_ERROR(CheckOrg(caller, name.org));
  if (!caller.server_admin) SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kManageFieldMaps));
  absl::ReaderMutexLock lock(&mu_);
  auto it = field_maps_.find(request.name());
  return it != field_maps_.end() ? it->second->map : DefaultFieldMap(name.org, name.crm);
}

absl::StatusOr<v1::FieldMap> CrmMaps::UpdateFieldMap(const Caller& caller,
                                                     const v1::UpdateFieldMapRequest& request) {
  SOP_ASSIGN_OR_RETURN(CrmMapName name,
                       ParseCrmMapName("field_map.name", request.field_map().name(), kFieldMaps));
  SOP_RETURN_IF_ERROR(CheckOrg(caller, name.org));
  if (!caller.server_admin) SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kManageFieldMaps));
  SOP_RETURN_IF_ERROR(CheckFieldMap(request.field_map()));
  v1::FieldMap map;
  map.set_name(request.field_map().name());
  *map.mutable_fields() = request.field_map().fields();
  *map.mutable_record_types() = request.field_map().record_types();
  *map.mutable_update_time() = ToProtoTimestamp(clock_->Now());
  absl::MutexLock lock(&mu_);
  AuthWrite write;
  write.field_map = map;
  SOP_RETURN_IF_ERROR(WriteLocked(caller, name, std::move(write)));
  field_maps_[map.name()] = std::make_shared<const CompiledFieldMap>(map);
  return map;
}

}  // namespace sopsidebar
