// SOP templates (sopsidebar.v1.SopTemplate, docs/AUTHORING.md): checking a
// template, making an SOP from one, and holding an SOP to the requirements
// it copied from its template (Sop.template_use).
//
// A template's SOP text may hold placeholders written {{key}} (spaces inside
// the braces allowed: {{ key }}); every key used must be declared in
// `placeholders`. Any string of the SOP is text here: titles, purposes,
// instructions, condition values, ... Text between {{ and }} that is not a
// placeholder key ({{ Not A Key }}) is left as it is.
//
// All functions are pure and thread-safe.
#ifndef SOPSIDEBAR_COMMON_MODEL_SOP_TEMPLATE_H_
#define SOPSIDEBAR_COMMON_MODEL_SOP_TEMPLATE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/errors.h"
#include "google/protobuf/map.h"
#include "sopsidebar/v1/sop.pb.h"
#include "sopsidebar/v1/template_service.pb.h"

namespace sopsidebar {

// Placeholder keys: [a-z][a-z0-9_]*, at most kMaxPlaceholderKey characters.
inline constexpr size_t kMaxPlaceholderKey = 63;
inline constexpr size_t kMaxPlaceholders = 50;
inline constexpr size_t kMaxSlaRequirements = 50;

bool IsValidPlaceholderKey(absl::string_view key);

// The Sop field paths a template may require ("purpose", "cadence",
// "owner_user_id", ...): the writable top-level fields of Sop, except its
// name.
bool IsRequirableSopField(absl::string_view path);

// Every problem of `tmpl`'s input fields, each path under `prefix`
// ("template.placeholders[1].key"): the title is required (at most 200
// characters); placeholder keys are valid and unique, and every {{key}} the
// SOP's text uses is declared ("template.sop: uses {{team}}, which
// placeholders does not declare"); required_fields are known Sop fields
// (IsRequirableSopField), without repeats; each SlaRequirement names a
// lower_snake_case term at most once, its bounds are of one kind (numbers
// or durations, never one of each), durations are non-negative and min is
// not above max. The template's SOP itself is checked when an SOP is made
// from it (its title may be a placeholder). Empty when valid.
std::vector<error::FieldViolation> SopTemplateViolations(const v1::SopTemplate& tmpl,
                                                         absl::string_view prefix);
// OK, or INVALID_ARGUMENT carrying every SopTemplateViolations.
absl::Status ValidateSopTemplate(const v1::SopTemplate& tmpl, absl::string_view prefix);

// The template's SOP with every {{key}} replaced by values[key], else by the
// placeholder's default_value. INVALID_ARGUMENT listing each problem:
// `template_values["owner_team"]: is required (<description>)` for a
// placeholder without a value or default; `template_values["colour"]: is
// not a placeholder of template <name>` for a key the template does not
// declare. The result's output-only fields are as in the template's SOP.
absl::StatusOr<v1::Sop> FillTemplate(const v1::SopTemplate& tmpl,
                                     const google::protobuf::Map<std::string, std::string>& values);

// `base` with every field that `overrides` sets (a non-empty string or
// repeated field, a non-zero number or enum, a set message) replaced by
// `overrides`' value: CreateSop's `sop` over a template's filled SOP.
v1::Sop MergeSetFields(v1::Sop base, const v1::Sop& overrides);

// The requirements an SOP made from `tmpl` copies (Sop.template_use).
v1::TemplateUse TemplateUseOf(const v1::SopTemplate& tmpl);

// Every requirement of `use` that `sop` does not meet, in the order `use`
// lists them (required fields first, then SLA requirements):
//   - a required field left empty: subject "purpose", "purpose is empty;
//     the sla-handoff template requires it";
//   - a required SLA term missing: subject "sla_terms[min_lead_score]",
//     "min_lead_score is missing; the sla-handoff template requires it
//     (<requirement's description>)";
//   - a term of the wrong kind: subject "sla_terms[min_lead_score].number",
//     "min_lead_score is a duration; the sla-handoff template requires a
//     number";
//   - below the minimum or above the maximum: subject
//     "sla_terms[min_lead_score].number" (or ".duration"), "min_lead_score
//     is 60; the sla-handoff template requires at least 75" / "...at most
//     5m".
// Empty when `sop` meets them all (and when `use` has no template).
std::vector<error::TemplateViolation> UnmetTemplateRequirements(const v1::Sop& sop,
                                                                const v1::TemplateUse& use);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_COMMON_MODEL_SOP_TEMPLATE_H_
