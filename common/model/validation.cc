#include "common/model/validation.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/model/field_behavior.h"
#include "common/model/names.h"
#include "common/model/values.h"
#include "common/status_macros.h"
#include "common/utf8.h"
#include "google/protobuf/util/time_util.h"

namespace sopsidebar {
namespace {

using google::protobuf::Duration;
using google::protobuf::ListValue;
using google::protobuf::RepeatedField;
using google::protobuf::RepeatedPtrField;
using google::protobuf::Value;

constexpr size_t kMaxUri = 2048;

std::string Path(absl::string_view prefix, absl::string_view field) {
  return prefix.empty() ? std::string(field) : absl::StrCat(prefix, ".", field);
}

std::string Index(absl::string_view path, int i) { return absl::StrCat(path, "[", i, "]"); }

// True when every byte of `text` is ASCII: one pass without branches, for the
// context values every lookup checks.
bool IsAscii(absl::string_view text) {
  unsigned char bits = 0;
  for (char c : text) bits |= static_cast<unsigned char>(c);
  return bits < 0x80;
}

// "U+001B".
std::string CodePointName(char32_t c) {
  return absl::StrCat("U+", absl::AsciiStrToUpper(absl::StrCat(absl::Hex(c, absl::kZeroPad4))));
}

absl::Status CheckRequired(absl::string_view path, absl::string_view value, size_t max,
                           TextKind kind) {
  if (value.empty()) return error::RequiredField(path);
  return ValidateText(path, value, max, kind);
}

// Asset links are rendered as links by the panel: web and mail links only,
// never javascript: or data:.
absl::Status CheckAssetUri(absl::string_view path, absl::string_view uri) {
  SOP_RETURN_IF_ERROR(ValidateText(path, uri, kMaxUri, TextKind::kLine));
  if (uri.empty()) return absl::OkStatus();
  // RFC 3986: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"
  const size_t colon = uri.find(':');
  const absl::string_view scheme = uri.substr(0, colon);
  const bool has_scheme = colon != absl::string_view::npos && !scheme.empty() &&
                          absl::ascii_isalpha(static_cast<unsigned char>(scheme.front())) &&
                          std::all_of(scheme.begin(), scheme.end(), [](char c) {
                            return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '+' ||
                                   c == '-' || c == '.';
                          });
  if (!has_scheme) return error::InvalidField(path, "needs an https:, http: or mailto: URI");
  for (absl::string_view allowed : {"https", "http", "mailto"}) {
    if (absl::EqualsIgnoreCase(scheme, allowed)) return absl::OkStatus();
  }
  return error::InvalidField(path, absl::StrCat("scheme ", error::QuoteInput(scheme),
                                                " is not allowed; use https:, http: or mailto:"));
}

template <typename T>
absl::Status CheckCount(absl::string_view path, const T& items, size_t max) {
  return static_cast<size_t>(items.size()) > max ? error::TooManyItems(path, max)
                                                 : absl::OkStatus();
}

// An empty name is left to the field's REQUIRED annotation
// (MissingRequiredFields).
absl::Status CheckFieldName(absl::string_view path, absl::string_view name) {
  if (name.empty()) return absl::OkStatus();
  SOP_RETURN_IF_ERROR(ValidateText(path, name, Limits::kMaxFieldName, TextKind::kLine));
  if (!IsValidFieldName(name)) {
    return error::InvalidField(
        path, absl::StrCat(error::QuoteInput(name),
                           " is not a field name (a letter, then letters, digits, '_' or '.')"));
  }
  return absl::OkStatus();
}

// Record types are CRM object names ("Lead") or HubSpot object type ids
// ("0-1").
absl::Status CheckRecordType(absl::string_view path, absl::string_view type) {
  SOP_RETURN_IF_ERROR(CheckRequired(path, type, Limits::kMaxFieldName, TextKind::kLine));
  for (char c : type) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      return error::InvalidField(
          path, absl::StrCat(error::QuoteInput(type),
                             " is not a record type (letters, digits, '_', '-', '.')"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckPositive(absl::string_view path, const Duration& d) {
  if (d.seconds() < 0 || d.nanos() < 0 || (d.seconds() == 0 && d.nanos() == 0)) {
    return error::InvalidField(path, "must be a positive duration");
  }
  return absl::OkStatus();
}

absl::Status CheckEnum(absl::string_view path, int value, bool (*is_valid)(int), bool required) {
  if (!is_valid(value)) {
    return error::InvalidField(path, absl::StrCat("unknown enum value ", value));
  }
  if (required && value == 0) return error::RequiredField(path);
  return absl::OkStatus();
}

// A role people hold: INTEGRATION only acts for viewers, so no SOP names it.
absl::Status CheckPersonRole(absl::string_view path, int role, bool required) {
  SOP_RETURN_IF_ERROR(CheckEnum(path, role, v1::Role_IsValid, required));
  if (role == v1::INTEGRATION) {
    return error::InvalidField(
        path, "INTEGRATION is a CRM integration's role, not a person's: name the viewers' roles");
  }
  return absl::OkStatus();
}

absl::Status CheckRole(absl::string_view path, int role) {
  return CheckPersonRole(path, role, /*required=*/true);
}

// Collects the field violations of independent checks, so that one pass
// over an SOP reports every violation rather than the first.
class Violations {
 public:
  // Keeps the violations of `status` when it is an error; returns whether it
  // was OK.
  bool Add(const absl::Status& status) {
    if (status.ok()) return true;
    std::vector<error::FieldViolation> found = error::FieldViolationsOf(status);
    // Every check reports through the catalogue; anything else still counts.
    if (found.empty()) found.push_back({"", std::string(status.message())});
    for (error::FieldViolation& v : found) violations_.push_back(std::move(v));
    return false;
  }

  std::vector<error::FieldViolation> Take() && { return std::move(violations_); }

 private:
  std::vector<error::FieldViolation> violations_;
};

void CheckRoles(absl::string_view path, const RepeatedField<int>& roles, Violations* v) {
  v->Add(CheckCount(path, roles, Limits::kMaxListItems));
  absl::flat_hash_set<int> seen;
  for (int i = 0; i < roles.size(); ++i) {
    if (!v->Add(CheckRole(Index(path, i), roles[i]))) continue;
    if (!seen.insert(roles[i]).second) {
      v->Add(error::InvalidField(Index(path, i),
                                 absl::StrCat("duplicate role ", v1::Role_Name(roles[i]))));
    }
  }
}

// A value a condition compares with or a context carries: string, number or
// bool (null and lists only where `allow_null_and_list`).
absl::Status CheckValue(absl::string_view path, const Value& v, bool allow_null_and_list) {
  switch (v.kind_case()) {
    case Value::kStringValue:
      return ValidateText(path, v.string_value(), Limits::kMaxStringValue, TextKind::kCrmValue);
    case Value::kNumberValue:
      if (!std::isfinite(v.number_value())) {
        return error::InvalidField(path, "must be a finite number");
      }
      return absl::OkStatus();
    case Value::kBoolValue:
      return absl::OkStatus();
    case Value::kNullValue:
      if (allow_null_and_list) return absl::OkStatus();
      return error::InvalidField(path, "must be a string, number or bool, not null");
    case Value::kListValue: {
      if (!allow_null_and_list) {
        return error::InvalidField(path, "must be a string, number or bool, not a list");
      }
      const ListValue& list = v.list_value();
      SOP_RETURN_IF_ERROR(CheckCount(path, list.values(), Limits::kMaxListItems));
      for (int i = 0; i < list.values_size(); ++i) {
        const Value& e = list.values(i);
        if (e.kind_case() == Value::kNullValue) continue;
        SOP_RETURN_IF_ERROR(CheckValue(Index(path, i), e, /*allow_null_and_list=*/false));
      }
      return absl::OkStatus();
    }
    case Value::kStructValue:
      return error::InvalidField(path, "nested objects are not supported");
    default:
      return error::InvalidField(path, "value is not set");
  }
}

absl::Status CheckValueList(absl::string_view path, const ListValue& list) {
  if (list.values().empty()) return error::InvalidField(path, "must list at least one value");
  SOP_RETURN_IF_ERROR(CheckCount(path, list.values(), Limits::kMaxListItems));
  for (int i = 0; i < list.values_size(); ++i) {
    SOP_RETURN_IF_ERROR(CheckValue(Index(path, i), list.values(i), false));
  }
  return absl::OkStatus();
}

absl::Status CheckRange(absl::string_view path, const v1::Range& r) {
  using v1::Range;
  if (r.lower_case() == Range::LOWER_NOT_SET && r.upper_case() == Range::UPPER_NOT_SET) {
    return error::InvalidField(path, "needs min or max");
  }
  const bool lower_time = r.lower_case() == Range::kMinTime;
  const bool upper_time = r.upper_case() == Range::kMaxTime;
  if (r.lower_case() != Range::LOWER_NOT_SET && r.upper_case() != Range::UPPER_NOT_SET) {
    if (lower_time != upper_time) {
      return error::InvalidField(path, "mixes a number bound with a time bound");
    }
    const bool strict = r.exclusive_min() || r.exclusive_max();
    const bool empty = lower_time
                           ? (strict ? r.min_time() >= r.max_time() : r.min_time() > r.max_time())
                           : (strict ? r.min() >= r.max() : r.min() > r.max());
    if (empty) return error::InvalidField(path, "is empty: min is above max");
  }
  if ((r.lower_case() == Range::kMin && !std::isfinite(r.min())) ||
      (r.upper_case() == Range::kMax && !std::isfinite(r.max()))) {
    return error::InvalidField(path, "bounds must be finite numbers");
  }
  return absl::OkStatus();
}

absl::Status CheckCondition(absl::string_view path, const v1::Condition& c) {
  using v1::Condition;
  SOP_RETURN_IF_ERROR(CheckFieldName(Path(path, "field"), c.field()));
  switch (c.op_case()) {
    case Condition::kEquals:
      return CheckValue(Path(path, "equals"), c.equals(), /*allow_null_and_list=*/false);
    case Condition::kAnyOf:
      return CheckValueList(Path(path, "any_of"), c.any_of());
    case Condition::kNoneOf:
      return CheckValueList(Path(path, "none_of"), c.none_of());
    case Condition::kRange:
      return CheckRange(Path(path, "range"), c.range());
    case Condition::kPrefix:
      return ValidateText(Path(path, "prefix"), c.prefix(), Limits::kMaxStringValue,
                          TextKind::kCrmValue);
    case Condition::kExists:
      return absl::OkStatus();
    case Condition::OP_NOT_SET:
      break;
  }
  return error::InvalidField(
      path, "needs one operator: equals, any_of, none_of, range, prefix or exists");
}

CaseMode ModeOf(const v1::Condition& c) {
  return c.case_insensitive() ? CaseMode::kIgnoreAsciiCase : CaseMode::kExact;
}

// True when `excluded` (none_of) rejects every value `v` accepts under
// `accept_mode`: the value is in the set and the set compares at least as
// loosely.
bool Excludes(const v1::Condition& excluded, const Value& v, CaseMode accept_mode) {
  if (accept_mode == CaseMode::kIgnoreAsciiCase && !excluded.case_insensitive() &&
      v.kind_case() == Value::kStringValue) {
    return false;
  }
  for (const Value& e : excluded.none_of().values()) {
    if (ScalarEquals(v, e, ModeOf(excluded))) return true;
  }
  return false;
}

// Conditions that can never hold together, whatever the record holds (list
// fields included, where different elements may satisfy different
// conditions).
absl::Status CheckContradictions(absl::string_view rule_path,
                                 const RepeatedPtrField<v1::Condition>& conditions) {
  using v1::Condition;
  absl::flat_hash_map<std::string, int> missing;  // field -> index of exists:false
  absl::flat_hash_map<std::string, int> present;  // field -> index of a presence test
  for (int i = 0; i < conditions.size(); ++i) {
    const Condition& c = conditions[i];
    if (c.op_case() == Condition::kExists && !c.exists()) {
      missing.emplace(c.field(), i);
    } else if (c.op_case() != Condition::kNoneOf) {
      present.emplace(c.field(), i);
    }
  }
  for (const auto& [field, i] : missing) {
    auto it = present.find(field);
    if (it != present.end()) {
      return error::InvalidField(
          Index(Path(rule_path, "conditions"), std::max(i, it->second)),
          absl::StrCat("contradicts conditions[", std::min(i, it->second), "]: field ",
                       error::QuoteInput(field), " cannot be both missing and present"));
    }
  }
  for (int i = 0; i < conditions.size(); ++i) {
    const Condition& accept = conditions[i];
    for (int j = 0; j < conditions.size(); ++j) {
      const Condition& reject = conditions[j];
      if (reject.op_case() != Condition::kNoneOf || reject.field() != accept.field()) continue;
      bool contradiction = false;
      if (accept.op_case() == Condition::kEquals) {
        contradiction = Excludes(reject, accept.equals(), ModeOf(accept));
      } else if (accept.op_case() == Condition::kAnyOf) {
        contradiction = true;
        for (const Value& v : accept.any_of().values()) {
          contradiction = contradiction && Excludes(reject, v, ModeOf(accept));
        }
      }
      if (contradiction) {
        return error::InvalidField(
            Index(Path(rule_path, "conditions"), std::max(i, j)),
            absl::StrCat("contradicts conditions[", std::min(i, j), "]: no value of ",
                         error::QuoteInput(accept.field()), " can satisfy both"));
      }
    }
  }
  return absl::OkStatus();
}

void CheckConditions(absl::string_view path, const RepeatedPtrField<v1::Condition>& conditions,
                     Violations* v) {
  v->Add(CheckCount(path, conditions, Limits::kMaxConditions));
  for (int i = 0; i < conditions.size(); ++i) {
    v->Add(CheckCondition(Index(path, i), conditions[i]));
  }
}

void CheckRule(absl::string_view path, const v1::TargetingRule& rule, Violations* v) {
  const std::string types = Path(path, "record_types");
  v->Add(CheckCount(types, rule.record_types(), Limits::kMaxListItems));
  for (int i = 0; i < rule.record_types_size(); ++i) {
    v->Add(CheckRecordType(Index(types, i), rule.record_types(i)));
  }
  CheckConditions(Path(path, "conditions"), rule.conditions(), v);
  if (rule.record_types().empty() && rule.conditions().empty()) {
    v->Add(error::InvalidField(path, "is empty: it needs record_types or conditions"));
  }
  if (rule.priority() < 0 || rule.priority() > Limits::kMaxPriority) {
    v->Add(error::InvalidField(Path(path, "priority"),
                               absl::StrCat("must be between 0 and ", Limits::kMaxPriority)));
  }
  v->Add(ValidateText(Path(path, "description"), rule.description(), Limits::kMaxShortText,
                      TextKind::kLine));
  v->Add(CheckContradictions(path, rule.conditions()));
}

void CheckFieldUpdates(absl::string_view path, const RepeatedPtrField<v1::FieldUpdate>& updates,
                       Violations* v) {
  v->Add(CheckCount(path, updates, Limits::kMaxListItems));
  for (int i = 0; i < updates.size(); ++i) {
    const std::string p = Index(path, i);
    v->Add(CheckFieldName(Path(p, "field"), updates[i].field()));
    if (updates[i].has_value()) v->Add(CheckValue(Path(p, "value"), updates[i].value(), false));
    v->Add(
        ValidateText(Path(p, "note"), updates[i].note(), Limits::kMaxText, TextKind::kMultiline));
  }
}

void CheckAssets(absl::string_view path, const RepeatedPtrField<v1::Asset>& assets,
                 absl::flat_hash_set<std::string>* ids, Violations* v) {
  v->Add(CheckCount(path, assets, Limits::kMaxListItems));
  for (int i = 0; i < assets.size(); ++i) {
    const std::string p = Index(path, i);
    const v1::Asset& a = assets[i];
    if (v->Add(ValidateText(Path(p, "id"), a.id(), Limits::kMaxShortText, TextKind::kLine)) &&
        !a.id().empty() && !ids->insert(a.id()).second) {
      v->Add(error::InvalidField(Path(p, "id"),
                                 absl::StrCat("duplicate asset id ", error::QuoteInput(a.id()))));
    }
    v->Add(ValidateText(Path(p, "title"), a.title(), Limits::kMaxTitle, TextKind::kLine));
    v->Add(CheckAssetUri(Path(p, "uri"), a.uri()));
    v->Add(ValidateText(Path(p, "kind"), a.kind(), Limits::kMaxShortText, TextKind::kLine));
  }
}

void CheckSteps(absl::string_view path, const RepeatedPtrField<v1::Step>& steps,
                const absl::flat_hash_set<std::string>& asset_ids, Violations* v) {
  v->Add(CheckCount(path, steps, Limits::kMaxSteps));
  absl::flat_hash_set<int> ordinals;
  for (int i = 0; i < steps.size(); ++i) {
    const std::string p = Index(path, i);
    const v1::Step& s = steps[i];
    if (s.ordinal() <= 0) {
      v->Add(error::InvalidField(Path(p, "ordinal"), "must be positive"));
    } else if (!ordinals.insert(s.ordinal()).second) {
      v->Add(
          error::InvalidField(Path(p, "ordinal"), absl::StrCat("duplicate ordinal ", s.ordinal())));
    }
    v->Add(ValidateText(Path(p, "title"), s.title(), Limits::kMaxTitle, TextKind::kLine));
    v->Add(ValidateText(Path(p, "instructions"), s.instructions(), Limits::kMaxText,
                        TextKind::kMultiline));
    v->Add(CheckPersonRole(Path(p, "responsible_role"), s.responsible_role(),
                           /*required=*/false));
    if (s.has_time_limit()) {
      const std::string t = Path(p, "time_limit");
      if (s.time_limit().has_duration()) {
        v->Add(CheckPositive(Path(t, "duration"), s.time_limit().duration()));
      }
      v->Add(ValidateText(Path(t, "anchor_event"), s.time_limit().anchor_event(),
                          Limits::kMaxShortText, TextKind::kLine));
      if (!s.time_limit().anchor_field().empty()) {
        v->Add(CheckFieldName(Path(t, "anchor_field"), s.time_limit().anchor_field()));
      }
    }
    CheckFieldUpdates(Path(p, "required_updates"), s.required_updates(), v);
    const std::string a = Path(p, "asset_ids");
    v->Add(CheckCount(a, s.asset_ids(), Limits::kMaxListItems));
    for (int j = 0; j < s.asset_ids_size(); ++j) {
      if (!asset_ids.contains(s.asset_ids(j))) {
        v->Add(error::InvalidField(
            Index(a, j),
            absl::StrCat("no asset with id ", error::QuoteInput(s.asset_ids(j)), " in assets")));
      }
    }
    CheckConditions(Path(p, "conditions"), s.conditions(), v);
    v->Add(CheckContradictions(p, s.conditions()));
  }
}

void CheckCadence(absl::string_view path, const RepeatedPtrField<v1::CadenceTouch>& cadence,
                  Violations* v) {
  v->Add(CheckCount(path, cadence, Limits::kMaxSteps));
  for (int i = 0; i < cadence.size(); ++i) {
    const std::string p = Index(path, i);
    const v1::CadenceTouch& t = cadence[i];
    if (t.day() < 1 || t.day() > Limits::kMaxCadenceDay) {
      v->Add(error::InvalidField(Path(p, "day"),
                                 absl::StrCat("must be between 1 and ", Limits::kMaxCadenceDay)));
    }
    if (t.has_within()) v->Add(CheckPositive(Path(p, "within"), t.within()));
    v->Add(CheckEnum(Path(p, "channel"), t.channel(), v1::Channel_IsValid, /*required=*/false));
    v->Add(ValidateText(Path(p, "action"), t.action(), Limits::kMaxText, TextKind::kMultiline));
    v->Add(ValidateText(Path(p, "template_name"), t.template_name(), Limits::kMaxShortText,
                        TextKind::kLine));
    CheckFieldUpdates(Path(p, "crm_updates"), t.crm_updates(), v);
  }
}

void CheckSlaTerms(absl::string_view path, const RepeatedPtrField<v1::SlaTerm>& terms,
                   Violations* v) {
  v->Add(CheckCount(path, terms, Limits::kMaxListItems));
  absl::flat_hash_set<std::string> names;
  for (int i = 0; i < terms.size(); ++i) {
    const std::string p = Index(path, i);
    const v1::SlaTerm& t = terms[i];
    if (v->Add(CheckFieldName(Path(p, "name"), t.name())) && !t.name().empty() &&
        !names.insert(t.name()).second) {
      v->Add(error::InvalidField(Path(p, "name"),
                                 absl::StrCat("duplicate term ", error::QuoteInput(t.name()))));
    }
    v->Add(ValidateText(Path(p, "description"), t.description(), Limits::kMaxText,
                        TextKind::kMultiline));
    switch (t.threshold_case()) {
      case v1::SlaTerm::kNumber:
        if (!std::isfinite(t.number())) {
          v->Add(error::InvalidField(Path(p, "number"), "must be a finite number"));
        }
        break;
      case v1::SlaTerm::kDuration:
        v->Add(CheckPositive(Path(p, "duration"), t.duration()));
        break;
      case v1::SlaTerm::THRESHOLD_NOT_SET:
        v->Add(error::InvalidField(p, "needs a number or a duration"));
        break;
    }
  }
}

void CheckDisqualificationCodes(absl::string_view path,
                                const RepeatedPtrField<v1::DisqualificationCode>& codes,
                                Violations* v) {
  v->Add(CheckCount(path, codes, Limits::kMaxListItems));
  absl::flat_hash_set<std::string> seen;
  for (int i = 0; i < codes.size(); ++i) {
    const std::string p = Index(path, i);
    if (v->Add(ValidateText(Path(p, "code"), codes[i].code(), Limits::kMaxShortText,
                            TextKind::kLine)) &&
        !codes[i].code().empty() && !seen.insert(codes[i].code()).second) {
      v->Add(error::InvalidField(
          Path(p, "code"), absl::StrCat("duplicate code ", error::QuoteInput(codes[i].code()))));
    }
    v->Add(
        ValidateText(Path(p, "label"), codes[i].label(), Limits::kMaxShortText, TextKind::kLine));
    v->Add(ValidateText(Path(p, "description"), codes[i].description(), Limits::kMaxText,
                        TextKind::kMultiline));
  }
}
}  // namespace

absl::Status ValidateText(absl::string_view path, absl::string_view value, size_t max_chars,
                          TextKind kind) {
  // Valid UTF-8 takes at most 4 bytes a character.
  if (value.size() > 4 * max_chars) return error::FieldTooLong(path, max_chars);
  // The common case of every lookup's context values, without decoding.
  if (kind == TextKind::kCrmValue && value.size() <= max_chars && IsAscii(value)) {
    return absl::OkStatus();
  }
  size_t chars = 0;
  for (size_t pos = 0; pos < value.size(); ++chars) {
    const Utf8Char c = DecodeUtf8At(value, pos);
    if (!c.valid) {
      return error::InvalidField(path, absl::StrCat("is not valid UTF-8 (byte 0x",
                                                    absl::Hex(c.code_point, absl::kZeroPad2),
                                                    " at position ", chars, ")"));
    }
    const bool allowed =
        kind == TextKind::kCrmValue || !IsControlChar(c.code_point) ||
        (kind == TextKind::kMultiline && (c.code_point == '\n' || c.code_point == '\t'));
    if (!allowed) {
      return error::InvalidField(
          path, absl::StrCat("control character ", CodePointName(c.code_point), " at position ",
                             chars, " is not allowed",
                             kind == TextKind::kMultiline ? " (only newlines and tabs)" : ""));
    }
    pos += c.size;
  }
  return chars > max_chars ? error::FieldTooLong(path, max_chars) : absl::OkStatus();
}

bool IsValidFieldName(absl::string_view name) {
  if (name.empty() || name.size() > Limits::kMaxFieldName ||
      !absl::ascii_isalpha(static_cast<unsigned char>(name.front()))) {
    return false;
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

std::vector<error::FieldViolation> SopBodyViolations(const v1::Sop& sop, absl::string_view prefix) {
  Violations v;
  // Which fields are required is declared in the protos (field_behavior).
  for (const std::string& path : MissingRequiredFields(sop, prefix)) {
    v.Add(error::RequiredField(path));
  }
  v.Add(ValidateText(Path(prefix, "title"), sop.title(), Limits::kMaxTitle, TextKind::kLine));
  v.Add(
      ValidateText(Path(prefix, "purpose"), sop.purpose(), Limits::kMaxText, TextKind::kMultiline));
  v.Add(ValidateText(Path(prefix, "owner"), sop.owner(), Limits::kMaxShortText, TextKind::kLine));
  v.Add(ValidateText(Path(prefix, "owner_user_id"), sop.owner_user_id(), Limits::kMaxUserId,
                     TextKind::kLine));
  v.Add(CheckEnum(Path(prefix, "review_cycle"), sop.review_cycle(), v1::ReviewCycle_IsValid,
                  /*required=*/false));
  const std::string tags = Path(prefix, "tags");
  v.Add(CheckCount(tags, sop.tags(), Limits::kMaxListItems));
  absl::flat_hash_set<std::string> seen_tags;
  for (int i = 0; i < sop.tags_size(); ++i) {
    if (v.Add(CheckRequired(Index(tags, i), sop.tags(i), Limits::kMaxShortText, TextKind::kLine)) &&
        !seen_tags.insert(sop.tags(i)).second) {
      v.Add(error::InvalidField(Index(tags, i),
                                absl::StrCat("duplicate tag ", error::QuoteInput(sop.tags(i)))));
    }
  }
  v.Add(CheckEnum(Path(prefix, "funnel_stage"), sop.funnel_stage(), v1::FunnelStage_IsValid,
                  /*required=*/false));
  const std::string rules = Path(prefix, "targeting_rules");
  v.Add(CheckCount(rules, sop.targeting_rules(), Limits::kMaxRules));
  for (int i = 0; i < sop.targeting_rules_size(); ++i) {
    CheckRule(Index(rules, i), sop.targeting_rules(i), &v);
  }
  absl::flat_hash_set<std::string> asset_ids;
  CheckAssets(Path(prefix, "assets"), sop.assets(), &asset_ids, &v);
  CheckSteps(Path(prefix, "steps"), sop.steps(), asset_ids, &v);
  CheckCadence(Path(prefix, "cadence"), sop.cadence(), &v);
  CheckSlaTerms(Path(prefix, "sla_terms"), sop.sla_terms(), &v);
  CheckDisqualificationCodes(Path(prefix, "disqualification_codes"), sop.disqualification_codes(),
                             &v);
  CheckRoles(Path(prefix, "visibility_roles"), sop.visibility_roles(), &v);
  CheckRoles(Path(prefix, "required_approver_roles"), sop.required_approver_roles(), &v);
  if (!sop.anchor_field().empty()) {
    v.Add(CheckFieldName(Path(prefix, "anchor_field"), sop.anchor_field()));
  }
  if (const size_t bytes = sop.ByteSizeLong(); bytes > Limits::kMaxSopBytes) {
    v.Add(error::InvalidField(prefix.empty() ? "sop" : prefix,
                              absl::StrCat(bytes, " bytes serialised, more than the limit of ",
                                           Limits::kMaxSopBytes, " bytes")));
  }
  return std::move(v).Take();
}

absl::Status ValidateSopBody(const v1::Sop& sop, absl::string_view prefix) {
  std::vector<error::FieldViolation> violations = SopBodyViolations(sop, prefix);
  return violations.empty() ? absl::OkStatus() : error::InvalidFields(std::move(violations));
}

absl::Status ValidateCrmContext(const v1::CrmContext& context, absl::string_view prefix) {
  if (!context.org().empty()) {
    SOP_RETURN_IF_ERROR(ParseOrgName(Path(prefix, "org"), context.org()).status());
  }
  SOP_RETURN_IF_ERROR(CheckRecordType(Path(prefix, "record_type"), context.record_type()));
  if (!context.crm().empty()) SOP_RETURN_IF_ERROR(ValidateCrmName(Path(prefix, "crm"), context.crm()));
  SOP_RETURN_IF_ERROR(ValidateText(Path(prefix, "record_id"), context.record_id(),
                                   Limits::kMaxShortText, TextKind::kLine));
  if (static_cast<size_t>(context.fields().size()) > Limits::kMaxContextFields) {
    return error::TooManyItems(Path(prefix, "fields"), Limits::kMaxContextFields);
  }
  for (const auto& [name, value] : context.fields()) {
    // Every lookup validates its context: the field's path is only built to
    // report an error.
    if (IsValidFieldName(name) && CheckValue("", value, /*allow_null_and_list=*/true).ok()) {
      continue;
    }
    const std::string p = absl::StrCat(Path(prefix, "fields"), "[", error::QuoteInput(name), "]");
    if (!IsValidFieldName(name)) {
      return error::InvalidField(p,
                                 "is not a field name (a letter, then letters, digits, "
                                 "'_' or '.', at most 128)");
    }
    SOP_RETURN_IF_ERROR(CheckValue(p, value, /*allow_null_and_list=*/true));
  }
  return absl::OkStatus();
}

}  // namespace sopsidebar
