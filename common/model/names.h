// Resource names (AIP-122): orgs/{org}, orgs/{org}/sops/{sop},
// orgs/{org}/sops/{sop}/revisions/{revision},
// orgs/{org}/sops/{sop}/comments/{comment}, orgs/{org}/tokens/{token},
// orgs/{org}/auditEvents/{sequence}.
//
// Ids are 1-63 characters of [a-z0-9-], starting with a letter and not ending
// with '-'. Revision ids are positive decimal integers. Thread-safe (pure).
#ifndef SOPSIDEBAR_COMMON_MODEL_NAMES_H_
#define SOPSIDEBAR_COMMON_MODEL_NAMES_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sopsidebar {

inline constexpr absl::string_view kDefaultOrg = "default";

struct SopName {
  std::string org;
  std::string sop;

  // orgs/{org}/sops/{sop}
  std::string Full() const;
  friend bool operator==(const SopName& a, const SopName& b) {
    return a.org == b.org && a.sop == b.sop;
  }
};

struct RevisionName {
  SopName sop;
  int64_t revision = 0;

  // orgs/{org}/sops/{sop}/revisions/{revision}
  std::string Full() const;
};

struct CommentName {
  SopName sop;
  std::string comment;

  // orgs/{org}/sops/{sop}/comments/{comment}
  std::string Full() const;
};

// orgs/{org}/auditEvents/{sequence}
std::string AuditEventName(absl::string_view org, int64_t sequence);

struct TokenName {
  std::string org;
  std::string token;

  // orgs/{org}/tokens/{token}
  std::string Full() const;
};

struct TemplateName {
  std::string org;
  std::string template_id;

  // orgs/{org}/templates/{template}
  std::string Full() const;
};

// The CRMs sopd has role and field maps for.
inline constexpr absl::string_view kCrmNames[] = {"salesforce", "hubspot"};
// OK for a name in kCrmNames, else INVALID_ARGUMENT naming `path` and
// listing them.
absl::Status ValidateCrmName(absl::string_view path, absl::string_view crm);

// A per-org, per-CRM map: orgs/{org}/roleMaps/{crm} or
// orgs/{org}/fieldMaps/{crm}.
struct CrmMapName {
  std::string org;
  std::string crm;
};
inline constexpr absl::string_view kRoleMaps = "roleMaps";
inline constexpr absl::string_view kFieldMaps = "fieldMaps";
// orgs/{org}/{collection}/{crm}
std::string CrmMapFullName(absl::string_view org, absl::string_view collection,
                           absl::string_view crm);

// True for a valid org or SOP id.
bool IsValidResourceId(absl::string_view id);

// "orgs/{org}".
std::string OrgName(absl::string_view org);

// Each returns the parsed name, or INVALID_ARGUMENT naming `field` when
// `name` is empty or malformed.
absl::StatusOr<std::string> ParseOrgName(absl::string_view field, absl::string_view name);
absl::StatusOr<SopName> ParseSopName(absl::string_view field, absl::string_view name);
absl::StatusOr<RevisionName> ParseRevisionName(absl::string_view field,
                                               absl::string_view name);

absl::StatusOr<CommentName> ParseCommentName(absl::string_view field, absl::string_view name);

absl::StatusOr<TokenName> ParseTokenName(absl::string_view field, absl::string_view name);
absl::StatusOr<TemplateName> ParseTemplateName(absl::string_view field, absl::string_view name);
// `collection` is kRoleMaps or kFieldMaps; {crm} must be a CRM sopd knows.
absl::StatusOr<CrmMapName> ParseCrmMapName(absl::string_view field, absl::string_view name,
                                           absl::string_view collection);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_COMMON_MODEL_NAMES_H_
