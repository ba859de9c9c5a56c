#include "common/model/sop_template.h"

#include <cmath>
#include <functional>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/model/field_behavior.h"
#include "common/model/validation.h"
#include "common/proto_time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/reflection.h"

namespace sopsidebar {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

std::string Path(absl::string_view prefix, absl::string_view field) {
  return prefix.empty() ? std::string(field) : absl::StrCat(prefix, ".", field);
}

std::string Index(absl::string_view path, int i) { return absl::StrCat(path, "[", i, "]"); }

// Calls `fn` with the key of every {{key}} in `text`, and the offsets of the
// braces that enclose it.
template <typename Fn>
void ForEachPlaceholder(absl::string_view text, Fn fn) {
  size_t pos = 0;
  while ((pos = text.find("{{", pos)) != absl::string_view::npos) {
    const size_t close = text.find("}}", pos + 2);
    if (close == absl::string_view::npos) return;
    const absl::string_view key = absl::StripAsciiWhitespace(text.substr(pos + 2, close - pos - 2));
    if (IsValidPlaceholderKey(key)) {
      fn(key, pos, close + 2);
      pos = close + 2;
    } else {
      pos += 2;
    }
  }
}

// Calls `fn` with a pointer to every string `message` holds, recursively
// (singular, repeated and map values alike).
void ForEachString(Message* message, const std::function<void(std::string*)>& fn) {
  const Reflection* reflection = message->GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(*message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->is_repeated()) {
      const int n = reflection->FieldSize(*message, field);
      for (int i = 0; i < n; ++i) {
        if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
          std::string value = reflection->GetRepeatedString(*message, field, i);
          fn(&value);
          reflection->SetRepeatedString(message, field, i, std::move(value));
        } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          ForEachString(reflection->MutableRepeatedMessage(message, field, i), fn);
        }
      }
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      std::string value = reflection->GetString(*message, field);
      fn(&value);
      reflection->SetString(message, field, std::move(value));
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      ForEachString(reflection->MutableMessage(message, field), fn);
    }
  }
}

// True when `field` of `message` holds something: a non-empty string or
// list, a non-zero number or enum, true, a set message.
bool IsSet(const Message& message, const FieldDescriptor* field) {
  const Reflection* reflection = message.GetReflection();
  if (field->is_repeated()) return reflection->FieldSize(message, field) > 0;
  if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE || field->containing_oneof()) {
    return reflection->HasField(message, field);
  }
  // proto3 scalars: HasField is "not the default".
  return reflection->HasField(message, field);
}

std::string FormatNumber(double value) { return absl::StrCat(value); }

std::string FormatDuration(const google::protobuf::Duration& d) {
  return absl::FormatDuration(FromProtoDuration(d));
}

std::string TemplateIdOf(absl::string_view name) {
  const size_t slash = name.rfind('/');
  return std::string(slash == absl::string_view::npos ? name : name.substr(slash + 1));
}

void CheckRequirement(absl::string_view path, const v1::SlaRequirement& r,
                      std::vector<error::FieldViolation>* v) {
  if (r.term().empty()) {
    v->push_back({Path(path, "term"), "is required"});
  } else if (!IsValidFieldName(r.term()) || r.term().size() > Limits::kMaxFieldName) {
    v->push_back(
        {Path(path, "term"), absl::StrCat(error::QuoteInput(r.term()),
                                          " is not a valid SLA term name (lower_snake_case)")});
  }
  if (absl::Status s = ValidateText(Path(path, "description"), r.description(), Limits::kMaxText,
                                    TextKind::kMultiline);
      !s.ok()) {
    for (error::FieldViolation& f : error::FieldViolationsOf(s)) v->push_back(std::move(f));
  }
  const bool min_number = r.min_case() == v1::SlaRequirement::kMinNumber;
  const bool max_number = r.max_case() == v1::SlaRequirement::kMaxNumber;
  const bool min_duration = r.min_case() == v1::SlaRequirement::kMinDuration;
  const bool max_duration = r.max_case() == v1::SlaRequirement::kMaxDuration;
  if ((min_number && max_duration) || (min_duration && max_number)) {
    v->push_back({std::string(path),
                  "mixes a number bound and a duration bound; both bounds must be numbers or "
                  "both durations"});
    return;
  }
  bool bounds_ok = true;
  if (min_number && !std::isfinite(r.min_number())) {
    v->push_back({Path(path, "min_number"), "must be a finite number"});
    bounds_ok = false;
  }
  if (max_number && !std::isfinite(r.max_number())) {
    v->push_back({Path(path, "max_number"), "must be a finite number"});
    bounds_ok = false;
  }
  for (const auto& [set, field, d] :
       {std::tuple{min_duration, "min_duration", &r.min_duration()},
        std::tuple{max_duration, "max_duration", &r.max_duration()}}) {
    if (set && (d->seconds() < 0 || d->nanos() < 0 || d->nanos() > 999999999)) {
      v->push_back({Path(path, field), "must be a non-negative duration"});
      bounds_ok = false;
    }
  }
  if (!bounds_ok) return;
  if (min_number && max_number && r.min_number() > r.max_number()) {
    v->push_back({Path(path, "min_number"),
                  absl::StrCat("is ", FormatNumber(r.min_number()), ", above max_number ",
                               FormatNumber(r.max_number()))});
  }
  if (min_duration && max_duration &&
      FromProtoDuration(r.min_duration()) > FromProtoDuration(r.max_duration())) {
    v->push_back({Path(path, "min_duration"),
                  absl::StrCat("is ", FormatDuration(r.min_duration()), ", above max_duration ",
                               FormatDuration(r.max_duration()))});
  }
}

}  // namespace

bool IsValidPlaceholderKey(absl::string_view key) {
  if (key.empty() || key.size() > kMaxPlaceholderKey) return false;
  if (key[0] < 'a' || key[0] > 'z') return false;
  for (char c : key) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

bool IsRequirableSopField(absl::string_view path) {
  const FieldDescriptor* field = v1::Sop::descriptor()->FindFieldByName(std::string(path));
  return field != nullptr && IsWritableField(field);
}

std::vector<error::FieldViolation> SopTemplateViolations(const v1::SopTemplate& tmpl,
                                                         absl::string_view prefix) {
  std::vector<error::FieldViolation> v;
  auto add = [&v](const absl::Status& s) {
    for (error::FieldViolation& f : error::FieldViolationsOf(s)) v.push_back(std::move(f));
  };
  if (tmpl.title().empty()) {
    v.push_back({Path(prefix, "title"), "is required"});
  } else {
    add(ValidateText(Path(prefix, "title"), tmpl.title(), Limits::kMaxTitle, TextKind::kLine));
  }
  add(ValidateText(Path(prefix, "description"), tmpl.description(), Limits::kMaxText,
                   TextKind::kMultiline));

  const std::string placeholders = Path(prefix, "placeholders");
  if (static_cast<size_t>(tmpl.placeholders_size()) > kMaxPlaceholders) {
    add(error::TooManyItems(placeholders, kMaxPlaceholders));
  }
  absl::flat_hash_set<std::string> keys;
  for (int i = 0; i < tmpl.placeholders_size(); ++i) {
    const v1::TemplatePlaceholder& p = tmpl.placeholders(i);
    const std::string path = Index(placeholders, i);
    if (p.key().empty()) {
      v.push_back({Path(path, "key"), "is required"});
    } else if (!IsValidPlaceholderKey(p.key())) {
      v.push_back({Path(path, "key"),
                   absl::StrCat(error::QuoteInput(p.key()),
                                " is not a valid key: [a-z][a-z0-9_]*, at most 63 characters")});
    } else if (!keys.insert(p.key()).second) {
      v.push_back({Path(path, "key"), absl::StrCat("duplicate key ", error::QuoteInput(p.key()))});
    }
    add(ValidateText(Path(path, "description"), p.description(), Limits::kMaxText,
                     TextKind::kMultiline));
    add(ValidateText(Path(path, "default_value"), p.default_value(), Limits::kMaxText,
                     TextKind::kMultiline));
  }
  // Every key the SOP's text uses, once, in the order first used.
  std::vector<std::string> undeclared;
  std::set<std::string> seen;
  v1::Sop sop = tmpl.sop();
  ForEachString(&sop, [&](std::string* text) {
    ForEachPlaceholder(*text, [&](absl::string_view key, size_t, size_t) {
      if (!keys.contains(key) && seen.insert(std::string(key)).second) {
        undeclared.emplace_back(key);
      }
    });
  });
  for (const std::string& key : undeclared) {
    v.push_back({Path(prefix, "sop"),
                 absl::StrCat("uses {{", key, "}}, which placeholders does not declare")});
  }

  const std::string required = Path(prefix, "required_fields");
  std::set<std::string> required_seen;
  for (int i = 0; i < tmpl.required_fields_size(); ++i) {
    const std::string& field = tmpl.required_fields(i);
    if (!IsRequirableSopField(field)) {
      v.push_back({Index(required, i),
                   absl::StrCat(error::QuoteInput(field),
                                " is not a field of Sop a template can require (e.g. purpose, "
                                "owner_user_id, cadence, disqualification_codes)")});
    } else if (!required_seen.insert(field).second) {
      v.push_back({Index(required, i), absl::StrCat("duplicate field ", error::QuoteInput(field))});
    }
  }

  const std::string requirements = Path(prefix, "sla_requirements");
  if (static_cast<size_t>(tmpl.sla_requirements_size()) > kMaxSlaRequirements) {
    add(error::TooManyItems(requirements, kMaxSlaRequirements));
  }
  std::set<std::string> terms;
  for (int i = 0; i < tmpl.sla_requirements_size(); ++i) {
    const v1::SlaRequirement& r = tmpl.sla_requirements(i);
    const std::string path = Index(requirements, i);
    const size_t before = v.size();
    CheckRequirement(path, r, &v);
    if (v.size() == before && !terms.insert(r.term()).second) {
      v.push_back(
          {Path(path, "term"), absl::StrCat("duplicate term ", error::QuoteInput(r.term()))});
    }
  }
  return v;
}

absl::Status ValidateSopTemplate(const v1::SopTemplate& tmpl, absl::string_view prefix) {
  std::vector<error::FieldViolation> violations = SopTemplateViolations(tmpl, prefix);
  if (violations.empty()) return absl::OkStatus();
  return error::InvalidFields(std::move(violations));
}

absl::StatusOr<v1::Sop> FillTemplate(
    const v1::SopTemplate& tmpl, const google::protobuf::Map<std::string, std::string>& values) {
  std::vector<error::FieldViolation> violations;
  absl::flat_hash_map<std::string, std::string> fill;
  for (const v1::TemplatePlaceholder& p : tmpl.placeholders()) {
    auto it = values.find(p.key());
    if (it != values.end()) {
      fill[p.key()] = it->second;
    } else if (!p.default_value().empty()) {
      fill[p.key()] = p.default_value();
    } else {
      violations.push_back({absl::StrCat("template_values[\"", p.key(), "\"]"),
                            p.description().empty()
                                ? std::string("is required")
                                : absl::StrCat("is required (", p.description(), ")")});
    }
  }
  // Map order is unspecified: report unknown keys sorted.
  std::set<std::string> unknown;
  for (const auto& [key, value] : values) {
    bool declared = false;
    for (const v1::TemplatePlaceholder& p : tmpl.placeholders()) declared |= p.key() == key;
    if (!declared) unknown.insert(key);
  }
  for (const std::string& key : unknown) {
    violations.push_back({absl::StrCat("template_values[", error::QuoteInput(key), "]"),
                          absl::StrCat("is not a placeholder of template ", tmpl.name())});
  }
  if (!violations.empty()) return error::InvalidFields(std::move(violations));

  v1::Sop sop = tmpl.sop();
  ForEachString(&sop, [&](std::string* text) {
    if (text->find("{{") == std::string::npos) return;
    std::string out;
    size_t done = 0;
    ForEachPlaceholder(*text, [&](absl::string_view key, size_t begin, size_t end) {
      auto it = fill.find(key);
      if (it == fill.end()) return;
      absl::StrAppend(&out, absl::string_view(*text).substr(done, begin - done), it->second);
      done = end;
    });
    absl::StrAppend(&out, absl::string_view(*text).substr(done));
    *text = std::move(out);
  });
  return sop;
}

v1::Sop MergeSetFields(v1::Sop base, const v1::Sop& overrides) {
  const Descriptor* descriptor = v1::Sop::descriptor();
  const Reflection* reflection = base.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    if (!IsSet(overrides, field)) continue;
    reflection->ClearField(&base, field);
  }
  // Fields cleared above take overrides' values; the rest keep base's.
  base.MergeFrom(overrides);
  return base;
}

v1::TemplateUse TemplateUseOf(const v1::SopTemplate& tmpl) {
  v1::TemplateUse use;
  use.set_template_(tmpl.name());
  use.set_template_etag(tmpl.etag());
  *use.mutable_required_fields() = tmpl.required_fields();
  *use.mutable_sla_requirements() = tmpl.sla_requirements();
  return use;
}

std::vector<error::TemplateViolation> UnmetTemplateRequirements(const v1::Sop& sop,
                                                                const v1::TemplateUse& use) {
  std::vector<error::TemplateViolation> unmet;
  if (use.template_().empty()) return unmet;
  const std::string by = absl::StrCat("the ", TemplateIdOf(use.template_()), " template");
  for (const std::string& path : use.required_fields()) {
    const FieldDescriptor* field = v1::Sop::descriptor()->FindFieldByName(path);
    if (field != nullptr && IsSet(sop, field)) continue;
    unmet.push_back({path, absl::StrCat(path, " is empty; ", by, " requires it")});
  }
  for (const v1::SlaRequirement& r : use.sla_requirements()) {
    const v1::SlaTerm* term = nullptr;
    for (const v1::SlaTerm& t : sop.sla_terms()) {
      if (t.name() == r.term()) {
        term = &t;
        break;
      }
    }
    const std::string subject = absl::StrCat("sla_terms[", r.term(), "]");
    if (term == nullptr) {
      unmet.push_back({subject, absl::StrCat(r.term(), " is missing; ", by, " requires it",
                                             r.description().empty()
                                                 ? std::string()
                                                 : absl::StrCat(" (", r.description(), ")"))});
      continue;
    }
    const bool wants_duration = r.min_case() == v1::SlaRequirement::kMinDuration ||
                                r.max_case() == v1::SlaRequirement::kMaxDuration;
    const bool wants_number = r.min_case() == v1::SlaRequirement::kMinNumber ||
                              r.max_case() == v1::SlaRequirement::kMaxNumber;
    if (wants_number && term->threshold_case() != v1::SlaTerm::kNumber) {
      unmet.push_back(
          {absl::StrCat(subject, ".number"),
           absl::StrCat(r.term(),
                        term->threshold_case() == v1::SlaTerm::kDuration ? " is a duration"
                                                                         : " has no value",
                        "; ", by, " requires a number")});
      continue;
    }
    if (wants_duration && term->threshold_case() != v1::SlaTerm::kDuration) {
      unmet.push_back(
          {absl::StrCat(subject, ".duration"),
           absl::StrCat(
               r.term(),
               term->threshold_case() == v1::SlaTerm::kNumber ? " is a number" : " has no value",
               "; ", by, " requires a duration")});
      continue;
    }
    if (wants_number) {
      const double value = term->number();
      const std::string at = absl::StrCat(subject, ".number");
      if (r.min_case() == v1::SlaRequirement::kMinNumber && value < r.min_number()) {
        unmet.push_back({at, absl::StrCat(r.term(), " is ", FormatNumber(value), "; ", by,
                                          " requires at least ", FormatNumber(r.min_number()))});
      } else if (r.max_case() == v1::SlaRequirement::kMaxNumber && value > r.max_number()) {
        unmet.push_back({at, absl::StrCat(r.term(), " is ", FormatNumber(value), "; ", by,
                                          " requires at most ", FormatNumber(r.max_number()))});
      }
    } else if (wants_duration) {
      const absl::Duration value = FromProtoDuration(term->duration());
      const std::string at = absl::StrCat(subject, ".duration");
      if (r.min_case() == v1::SlaRequirement::kMinDuration &&
          value < FromProtoDuration(r.min_duration())) {
        unmet.push_back(
            {at, absl::StrCat(r.term(), " is ", absl::FormatDuration(value), "; ", by,
                              " requires at least ", FormatDuration(r.min_duration()))});
      } else if (r.max_case() == v1::SlaRequirement::kMaxDuration &&
                 value > FromProtoDuration(r.max_duration())) {
        unmet.push_back({at, absl::StrCat(r.term(), " is ", absl::FormatDuration(value), "; ", by,
                                          " requires at most ", FormatDuration(r.max_duration()))});
      }
    }
  }
  return unmet;
}

}  // namespace sopsidebar
