#include "common/model/names.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "common/status_macros.h"

namespace sopsidebar {
namespace {

constexpr absl::string_view kOrgForm = "orgs/{org}";
constexpr absl::string_view kSopForm = "orgs/{org}/sops/{sop}";
constexpr absl::string_view kTokenForm = "orgs/{org}/tokens/{token}";
constexpr absl::string_view kRevisionForm = "orgs/{org}/sops/{sop}/revisions/{revision}";
constexpr absl::string_view kCommentForm = "orgs/{org}/sops/{sop}/comments/{comment}";
constexpr absl::string_view kTemplateForm = "orgs/{org}/templates/{template}";

// Splits `name` into the ids that follow each of `collections`; empty on a
// mismatch.
std::vector<std::string> SplitName(absl::string_view name,
                                   std::initializer_list<absl::string_view> collections) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() != 2 * collections.size()) return {};
  std::vector<std::string> ids;
  size_t i = 0;
  for (absl::string_view collection : collections) {
    if (parts[i] != collection) return {};
    ids.emplace_back(parts[i + 1]);
    i += 2;
  }
  return ids;
}

struct NamedId {
  absl::string_view kind;  // "org", "SOP", "token".
  absl::string_view id;
};

// OK when every id is valid. Otherwise INVALID_ARGUMENT: when lower case
// would make every id valid, that ids are lower case, naming the first id in
// upper case and its lower case (people type `sopctl get Demo-No-Show`); else
// that `name` does not have the expected `form`.
absl::Status CheckIds(absl::string_view field, absl::string_view name, absl::string_view form,
                      std::initializer_list<NamedId> ids) {
  const NamedId* upper_case = nullptr;
  for (const NamedId& id : ids) {
    if (IsValidResourceId(id.id)) continue;
    if (!IsValidResourceId(absl::AsciiStrToLower(id.id))) {
      return error::InvalidResourceName(field, name, form);
    }
    if (upper_case == nullptr) upper_case = &id;
  }
  if (upper_case == nullptr) return absl::OkStatus();
  return error::UpperCaseId(field, upper_case->kind, upper_case->id);
}

}  // namespace

bool IsValidResourceId(absl::string_view id) {
  if (id.empty() || id.size() > 63) return false;
  if (id.front() < 'a' || id.front() > 'z' || id.back() == '-') return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

std::string OrgName(absl::string_view org) { return absl::StrCat("orgs/", org); }

std::string SopName::Full() const { return absl::StrCat("orgs/", org, "/sops/", sop); }

std::string RevisionName::Full() const {
  return absl::StrCat(sop.Full(), "/revisions/", revision);
}

std::string CommentName::Full() const { return absl::StrCat(sop.Full(), "/comments/", comment); }

std::string AuditEventName(absl::string_view org, int64_t sequence) {
  return absl::StrCat("orgs/", org, "/auditEvents/", sequence);
}

std::string TokenName::Full() const { return absl::StrCat("orgs/", org, "/tokens/", token); }

absl::StatusOr<std::string> ParseOrgName(absl::string_view field, absl::string_view name) {
  if (name.empty()) return error::RequiredField(field);
  std::vector<std::string> ids = SplitName(name, {"orgs"});
  if (ids.empty()) return error::InvalidResourceName(field, name, kOrgForm);
  SOP_RETURN_IF_ERROR(CheckIds(field, name, kOrgForm, {{"org", ids[0]}}));
  return ids[0];
}

absl::StatusOr<SopName> ParseSopName(absl::string_view field, absl::string_view name) {
  if (name.empty()) return error::RequiredField(field);
  std::vector<std::string> ids = SplitName(name, {"orgs", "sops"});
  if (ids.empty()) return error::InvalidResourceName(field, name, kSopForm);
  SOP_RETURN_IF_ERROR(CheckIds(field, name, kSopForm, {{"org", ids[0]}, {"SOP", ids[1]}}));
  return SopName{ids[0], ids[1]};
}

absl::StatusOr<RevisionName> ParseRevisionName(absl::string_view field,
                                               absl::string_view name) {
  if (name.empty()) return error::RequiredField(field);
  std::vector<std::string> ids = SplitName(name, {"orgs", "sops", "revisions"});
  int64_t revision = 0;
  if (ids.empty() || !absl::SimpleAtoi(ids[2], &revision) || revision <= 0 ||
      ids[2] != absl::StrCat(revision)) {
    return error::InvalidResourceName(field, name, kRevisionForm);
  }
  SOP_RETURN_IF_ERROR(CheckIds(field, name, kRevisionForm, {{"org", ids[0]}, {"SOP", ids[1]}}));
  return RevisionName{SopName{ids[0], ids[1]}, revision};
}

absl::StatusOr<CommentName> ParseCommentName(absl::string_view field, absl::string_view name) {
  if (name.empty()) return error::RequiredField(field);
  std::vector<std::string> ids = SplitName(name, {"orgs", "sops", "comments"});
  if (ids.empty()) return error::InvalidResourceName(field, name, kCommentForm);
  SOP_RETURN_IF_ERROR(
      CheckIds(field, name, kCommentForm, {{"org", ids[0]}, {"SOP", ids[1]}, {"comment", ids[2]}}));
  return CommentName{SopName{ids[0], ids[1]}, ids[2]};
}

absl::StatusOr<TokenName> ParseTokenName(absl::string_view field, absl::string_view name) {
  if (name.empty()) return error::RequiredField(field);
  std::vector<std::string> ids = SplitName(name, {"orgs", "tokens"});
  if (ids.empty()) return error::InvalidResourceName(field, name, kTokenForm);
  SOP_RETURN_IF_ERROR(CheckIds(field, name, kTokenForm, {{"org", ids[0]}, {"token", ids[1]}}));
  return TokenName{ids[0], ids[1]};
}

std::string TemplateName::Full() const {
  return absl::StrCat("orgs/", org, "/templates/", template_id);
}

absl::StatusOr<TemplateName> ParseTemplateName(absl::string_view field, absl::string_view name) {
  if (name.empty()) return error::RequiredField(field);
  std::vector<std::string> ids = SplitName(name, {"orgs", "templates"});
  if (ids.empty()) return error::InvalidResourceName(field, name, kTemplateForm);
  SOP_RETURN_IF_ERROR(
      CheckIds(field, name, kTemplateForm, {{"org", ids[0]}, {"template", ids[1]}}));
  return TemplateName{ids[0], ids[1]};
}

absl::Status ValidateCrmName(absl::string_view path, absl::string_view crm) {
  for (absl::string_view known : kCrmNames) {
    if (crm == known) return absl::OkStatus();
  }
  return error::InvalidField(
      path, absl::StrCat(error::QuoteInput(crm), " is not a CRM sopd knows (",
                         absl::StrJoin(std::begin(kCrmNames), std::end(kCrmNames), ", "), ")"));
}

std::string CrmMapFullName(absl::string_view org, absl::string_view collection,
                           absl::string_view crm) {
  return absl::StrCat("orgs/", org, "/", collection, "/", crm);
}

absl::StatusOr<CrmMapName> ParseCrmMapName(absl::string_view field, absl::string_view name,
                                           absl::string_view collection) {
  if (name.empty()) return error::RequiredField(field);
  const std::string form = absl::StrCat("orgs/{org}/", collection, "/{crm}");
  std::vector<std::string> ids = SplitName(name, {"orgs", collection});
  if (ids.empty()) return error::InvalidResourceName(field, name, form);
  SOP_RETURN_IF_ERROR(CheckIds(field, name, form, {{"org", ids[0]}}));
  SOP_RETURN_IF_ERROR(ValidateCrmName(field, ids[1]));
  return CrmMapName{ids[0], ids[1]};
}

}  // namespace sopsidebar
