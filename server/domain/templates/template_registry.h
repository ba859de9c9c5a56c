// The SOP template use cases behind TemplateService (AIP-style CRUD of
// orgs/{org}/templates/{template}), and the TemplateSource that CreateSop
// from a template reads through.
//
// Requests and results are the API's protobuf messages; errors come from
// common/errors.h:
//   INVALID_ARGUMENT   the request or the template is malformed; the message
//                      names every offending field (template.title,
//                      template.placeholders[1].key, ...)
//   NOT_FOUND          no such template, or another org's (alike)
//   ALREADY_EXISTS     CreateTemplate with a taken template_id
//   ABORTED            a supplied etag is stale
//   PERMISSION_DENIED  reads need a person role (Operation::kReadPublished);
//                      writes SALES_OPS or ADMIN (Operation::kWriteSops)
//   DEADLINE_EXCEEDED  the caller's deadline passed before a write started
//   storage errors     as the store reports them; nothing was written
//
// Every write stores the template and its audit event (template.create,
// template.update, template.delete) in one synced store write: durable
// before OK, all or nothing. A rejected write changes nothing.
//
// Lists page with signed tokens (server/common/page_token.h): a token this
// registry did not issue for the same parent is INVALID_ARGUMENT naming
// page_token.
//
// Thread-safe. Writes are serialised by one mutex; reads never take it.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_TEMPLATES_TEMPLATE_REGISTRY_H_
#define SOPSIDEBAR_SERVER_DOMAIN_TEMPLATES_TEMPLATE_REGISTRY_H_

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/caller.h"
#include "common/model/names.h"
#include "server/common/clock.h"
#include "server/common/page_token.h"
#include "server/domain/audit/audit_log.h"
#include "server/domain/registry/template_source.h"
#include "server/domain/store/template_store.h"
#include "sopsidebar/v1/template_service.pb.h"

namespace sopsidebar {

class TemplateRegistry final : public TemplateSource {
 public:
  // `store`, `clock` and `audit` must outlive the registry.
  TemplateRegistry(TemplateStore* store, const Clock* clock, AuditLog* audit);

  absl::StatusOr<v1::SopTemplate> CreateTemplate(const Caller& caller,
                                                 const v1::CreateTemplateRequest& request);
  absl::StatusOr<v1::SopTemplate> GetTemplate(const Caller& caller,
                                              const v1::GetTemplateRequest& request) const;
  // By name; page_size 0 means 50, at most 1000.
  absl::StatusOr<v1::ListTemplatesResponse> ListTemplates(
      const Caller& caller, const v1::ListTemplatesRequest& request) const;
  // Replaces the fields of update_mask (empty: every input field) of the
  // template its name names; with allow_missing creates a missing one. An
  // update that changes nothing returns the template as is and writes
  // nothing.
  absl::StatusOr<v1::SopTemplate> UpdateTemplate(const Caller& caller,
                                                 const v1::UpdateTemplateRequest& request);
  // SOPs made from the template keep their copied requirements.
  absl::StatusOr<v1::DeleteTemplateResponse> DeleteTemplate(
      const Caller& caller, const v1::DeleteTemplateRequest& request);

  // TemplateSource.
  absl::StatusOr<v1::SopTemplate> TemplateForSop(const Caller& caller, absl::string_view field,
                                                 absl::string_view name) const override;

 private:
  // The template as stored after `caller` writes `tmpl` (input fields only)
  // as `name`: output-only fields stamped, `existing` the stored one if any.
  absl::StatusOr<v1::SopTemplate> CommitLocked(const Caller& caller, const TemplateName& name,
                                               v1::SopTemplate tmpl,
                                               const v1::SopTemplate* existing,
                                               absl::string_view action)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  TemplateStore* const store_;
  const Clock* const clock_;
  AuditLog* const audit_;
  const PageTokenCodec page_tokens_;
  absl::Mutex write_mu_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_TEMPLATES_TEMPLATE_REGISTRY_H_
