#include "server/domain/store/template_store.h"

#include <string>

#include "common/errors.h"
#include "common/status_macros.h"
#include "server/domain/store/sop_store.h"

namespace sopsidebar {

absl::StatusOr<TemplateName> CheckTemplateWrite(const TemplateWrite& write) {
  if (write.put.has_value() == write.remove.has_value()) {
    return error::InvalidField("write", "must either put or remove one template");
  }
  TemplateName name;
  if (write.put) {
    SOP_ASSIGN_OR_RETURN(name, ParseTemplateName("template.name", write.put->name()));
  } else {
    SOP_ASSIGN_OR_RETURN(name, ParseTemplateName("name", write.remove->Full()));
  }
  SOP_ASSIGN_OR_RETURN(std::string org, CheckAuditEvent(write.audit));
  if (org != name.org) return error::InvalidField("audit.name", "is not in the template's org");
  return name;
}

}  // namespace sopsidebar
