// What SopRegistry needs of templates: to read one for a CreateSop from a
// template. A port, so the SOP registry does not depend on the template
// registry (server/domain/templates implements it). Thread-safe.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_TEMPLATE_SOURCE_H_
#define SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_TEMPLATE_SOURCE_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/caller.h"
#include "sopsidebar/v1/template_service.pb.h"

namespace sopsidebar {

class TemplateSource {
 public:
  virtual ~TemplateSource() = default;

  // The template `name` (orgs/{org}/templates/{template}) as `caller` reads
  // it. INVALID_ARGUMENT naming `field` for a malformed name; NOT_FOUND
  // naming `field` when it does not exist or is in another org;
  // PERMISSION_DENIED when the caller may not read templates; storage
  // errors as the store reports them.
  virtual absl::StatusOr<v1::SopTemplate> TemplateForSop(const Caller& caller,
                                                         absl::string_view field,
                                                         absl::string_view name) const = 0;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_TEMPLATE_SOURCE_H_
