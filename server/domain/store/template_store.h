// The persistence interface for SOP templates (sopsidebar.v1.SopTemplate).
// Implementations: RocksDbStore (durable, keys st/{org}/{template}) and
// InMemorySopStore (tests). The domain sees only this interface.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_STORE_TEMPLATE_STORE_H_
#define SOPSIDEBAR_SERVER_DOMAIN_STORE_TEMPLATE_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/model/names.h"
#include "sopsidebar/v1/admin_service.pb.h"
#include "sopsidebar/v1/template_service.pb.h"

namespace sopsidebar {

// One change to a template with the audit event recording it (complete,
// from AuditLog): written atomically, all of it or nothing.
struct TemplateWrite {
  // The template written (created or replaced); its name says which. Unset
  // for a delete.
  std::optional<v1::SopTemplate> put;
  // Set for a delete: the template removed.
  std::optional<TemplateName> remove;
  v1::AuditEvent audit;
};

// Thread-safe: reads may run concurrently with each other and with writes.
// Callers serialise read-modify-write sequences themselves.
class TemplateStore {
 public:
  virtual ~TemplateStore() = default;

  // Template `name`, or NOT_FOUND.
  virtual absl::StatusOr<v1::SopTemplate> GetTemplate(const TemplateName& name) const = 0;
  // Up to `limit` templates of `org` with ids greater than `start_after`, in
  // id order.
  virtual absl::StatusOr<std::vector<v1::SopTemplate>> ListTemplates(absl::string_view org,
                                                                     absl::string_view start_after,
                                                                     int limit) const = 0;
  // Applies `write` atomically and durably (synced before returning OK).
  // INVALID_ARGUMENT for a malformed write (neither or both of put and
  // remove, a bad name, an audit event of another org); storage errors
  // otherwise, in which case nothing was written.
  virtual absl::Status WriteTemplate(const TemplateWrite& write) = 0;
};

// The name a write touches, after checking that `write` has exactly one of
// put and remove, a valid template name and an audit event in its org.
// INVALID_ARGUMENT otherwise. Shared by the implementations.
absl::StatusOr<TemplateName> CheckTemplateWrite(const TemplateWrite& write);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_STORE_TEMPLATE_STORE_H_
