#include "server/domain/templates/template_registry.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/auth/permissions.h"
#include "common/errors.h"
#include "common/ids.h"
#include "common/model/field_behavior.h"
#include "common/model/sop_template.h"
#include "common/model/validation.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "google/protobuf/util/message_differencer.h"

namespace sopsidebar {
namespace {

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 1000;

// The input fields of SopTemplate: what writers set.
std::vector<const google::protobuf::FieldDescriptor*> InputFields() {
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  const google::protobuf::Descriptor* d = v1::SopTemplate::descriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    if (IsWritableField(d->field(i))) fields.push_back(d->field(i));
  }
  return fields;
}

// `tmpl` with only its input fields.
v1::SopTemplate InputOnly(v1::SopTemplate tmpl) {
  v1::SopTemplate out;
  const google::protobuf::Reflection* r = out.GetReflection();
  for (const google::protobuf::FieldDescriptor* f : InputFields()) {
    if (f->is_repeated() ? r->FieldSize(tmpl, f) > 0 : r->HasField(tmpl, f)) {
      r->SwapFields(&out, &tmpl, {f});
    }
  }
  return out;
}

// Checks a template a writer sent: its input fields, and an SOP no larger
// than an SOP may be.
absl::Status CheckTemplate(const v1::SopTemplate& tmpl) {
  std::vector<error::FieldViolation> violations = SopTemplateViolations(tmpl, "template");
  if (tmpl.sop().ByteSizeLong() > Limits::kMaxSopBytes) {
    violations.push_back({"template.sop", absl::StrCat("larger than the limit of ",
                                                       Limits::kMaxSopBytes, " bytes")});
  }
  if (violations.empty()) return absl::OkStatus();
  return error::InvalidFields(std::move(violations));
}

absl::Status CheckDeadline(const Clock& clock, const Caller& caller) {
  if (clock.Now() > caller.deadline) return error::DeadlineExceeded("the write could start");
  return absl::OkStatus();
}

}  // namespace

TemplateRegistry::TemplateRegistry(TemplateStore* store, const Clock* clock, AuditLog* audit)
    : store_(store), clock_(clock), audit_(audit) {}

absl::StatusOr<v1::SopTemplate> TemplateRegistry::CommitLocked(const Caller& caller,
                                                               const TemplateName& name,
                                                               v1::SopTemplate tmpl,
                                                               const v1::SopTemplate* existing,
                                                               absl::string_view action) {
  const google::protobuf::Timestamp now = ToProtoTimestamp(clock_->Now());
  tmpl.set_name(name.Full());
  tmpl.set_etag(RandomId("", 16));
  *tmpl.mutable_create_time() = existing != nullptr ? existing->create_time() : now;
  *tmpl.mutable_update_time() = now;
  TemplateWrite write;
  write.put = tmpl;
  AuditEntry entry{std::string(action), name.Full(), "",
                   existing == nullptr ? std::string("created") : std::string("updated")};
  SOP_RETURN_IF_ERROR(
      audit_->Append(name.org, caller, std::move(entry), [&](const v1::AuditEvent& event) {
        write.audit = event;
        return store_->WriteTemplate(write);
      }));
  return tmpl;
}

absl::StatusOr<v1::SopTemplate> TemplateRegistry::CreateTemplate(
    const Caller& caller, const v1::CreateTemplateRequest& request) {
  SOP_ASSIGN_OR_RETURN(std::string org, ParseOrgName("parent", request.parent()));
  if (request.template_id().empty()) return error::RequiredField("template_id");
  if (!IsValidResourceId(request.template_id())) {
    return error::InvalidField(
        "template_id", absl::StrCat(error::QuoteInput(request.template_id()),
                                    " is not a valid id: 1-63 of [a-z0-9-], starting with a "
                                    "letter, not ending with '-'"));
  }
  if (org != caller.org) return error::OrgNotFound(request.parent());
  SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kWriteSops));
  if (!request.has_template_()) return error::RequiredField("template");
  v1::SopTemplate tmpl = InputOnly(request.template_());
  const TemplateName name{org, request.template_id()};
  tmpl.set_name(name.Full());  // placeholders errors name the template
  SOP_RETURN_IF_ERROR(CheckTemplate(tmpl));

  absl::MutexLock lock(&write_mu_);
  SOP_RETURN_IF_ERROR(CheckDeadline(*clock_, caller));
  absl::StatusOr<v1::SopTemplate> existing = store_->GetTemplate(name);
  if (existing.ok()) return error::TemplateAlreadyExists(name.Full());
  if (existing.status().code() != absl::StatusCode::kNotFound) return existing.status();
  return CommitLocked(caller, name, std::move(tmpl), nullptr, "template.create");
}

absl::StatusOr<v1::SopTemplate> TemplateRegistry::GetTemplate(
    const Caller& caller, const v1::GetTemplateRequest& request) const {
  SOP_ASSIGN_OR_RETURN(TemplateName name, ParseTemplateName("name", request.name()));
  if (name.org != caller.org) return error::TemplateNotFound(name.Full());
  SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kReadPublished));
  return store_->GetTemplate(name);
}

absl::StatusOr<v1::ListTemplatesResponse> TemplateRegistry::ListTemplates(
    const Caller& caller, const v1::ListTemplatesRequest& request) const {
  SOP_ASSIGN_OR_RETURN(std::string org, ParseOrgName("parent", request.parent()));
  if (org != caller.org) return error::OrgNotFound(request.parent());
  if (request.page_size() < 0) return error::InvalidField("page_size", "must not be negative");
  SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kReadPublished));
  const std::string request_key = absl::StrCat("ListTemplates|", request.parent());
  SOP_ASSIGN_OR_RETURN(std::string cursor, page_tokens_.Read(request.page_token(), request_key));
  const int page_size =
      request.page_size() == 0 ? kDefaultPageSize : std::min(request.page_size(), kMaxPageSize);
  // One more than the page: whether another page follows.
  SOP_ASSIGN_OR_RETURN(std::vector<v1::SopTemplate> found,
                       store_->ListTemplates(org, cursor, page_size + 1));
  v1::ListTemplatesResponse response;
  const bool more = static_cast<int>(found.size()) > page_size;
  if (more) found.resize(page_size);
  for (v1::SopTemplate& tmpl : found) *response.add_templates() = std::move(tmpl);
  if (more) {
    SOP_ASSIGN_OR_RETURN(
        TemplateName last,
        ParseTemplateName("template.name",
                          response.templates(response.templates_size() - 1).name()));
    response.set_next_page_token(page_tokens_.Make(last.template_id, request_key));
  }
  return response;
}

absl::StatusOr<v1::SopTemplate> TemplateRegistry::UpdateTemplate(
    const Caller& caller, const v1::UpdateTemplateRequest& request) {
  SOP_ASSIGN_OR_RETURN(TemplateName name,
                       ParseTemplateName("template.name", request.template_().name()));
  if (name.org != caller.org) return error::TemplateNotFound(name.Full());
  SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kWriteSops));
  // The mask: top-level input fields of SopTemplate.
  std::vector<const google::protobuf::FieldDescriptor*> masked;
  const auto& paths = request.update_mask().paths();
  if (paths.empty() || (paths.size() == 1 && paths[0] == "*")) {
    masked = InputFields();
  } else {
    for (int i = 0; i < paths.size(); ++i) {
      const google::protobuf::FieldDescriptor* f =
          v1::SopTemplate::descriptor()->FindFieldByName(paths[i]);
      const std::string path = absl::StrCat("update_mask.paths[", i, "]");
      if (f == nullptr) {
        return error::InvalidField(
            path, absl::StrCat(error::QuoteInput(paths[i]), " is not a field of SopTemplate"));
      }
      if (!IsWritableField(f)) {
        return error::InvalidField(
            path, absl::StrCat(error::QuoteInput(paths[i]), " is not a field writers set"));
      }
      masked.push_back(f);
    }
  }

  absl::MutexLock lock(&write_mu_);
  SOP_RETURN_IF_ERROR(CheckDeadline(*clock_, caller));
  absl::StatusOr<v1::SopTemplate> existing = store_->GetTemplate(name);
  if (!existing.ok() && existing.status().code() != absl::StatusCode::kNotFound) {
    return existing.status();
  }
  if (!existing.ok() && !request.allow_missing()) return existing.status();
  if (existing.ok() && !request.template_().etag().empty() &&
      request.template_().etag() != existing->etag()) {
    return error::TemplateEtagMismatch(name.Full());
  }
  v1::SopTemplate updated = existing.ok() ? InputOnly(*existing) : v1::SopTemplate();
  const google::protobuf::Reflection* r = updated.GetReflection();
  v1::SopTemplate source = request.template_();
  for (const google::protobuf::FieldDescriptor* f : masked) {
    r->ClearField(&updated, f);
    r->SwapFields(&updated, &source, {f});
  }
  updated.set_name(name.Full());
  SOP_RETURN_IF_ERROR(CheckTemplate(updated));
  if (existing.ok()) {
    v1::SopTemplate before = InputOnly(*existing);
    before.set_name(name.Full());
    if (google::protobuf::util::MessageDifferencer::Equals(before, updated)) return *existing;
  }
  return CommitLocked(caller, name, std::move(updated), existing.ok() ? &*existing : nullptr,
                      existing.ok() ? "template.update" : "template.create");
}

absl::StatusOr<v1::DeleteTemplateResponse> TemplateRegistry::DeleteTemplate(
    const Caller& caller, const v1::DeleteTemplateRequest& request) {
  SOP_ASSIGN_OR_RETURN(TemplateName name, ParseTemplateName("name", request.name()));
  if (name.org != caller.org) return error::TemplateNotFound(name.Full());
  SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kWriteSops));
  absl::MutexLock lock(&write_mu_);
  SOP_RETURN_IF_ERROR(CheckDeadline(*clock_, caller));
  SOP_ASSIGN_OR_RETURN(v1::SopTemplate existing, store_->GetTemplate(name));
  if (!request.etag().empty() && request.etag() != existing.etag()) {
    return error::TemplateEtagMismatch(name.Full());
  }
  TemplateWrite write;
  write.remove = name;
  SOP_RETURN_IF_ERROR(audit_->Append(name.org, caller,
                                     AuditEntry{"template.delete", name.Full(), "", "deleted"},
                                     [&](const v1::AuditEvent& event) {
                                       write.audit = event;
                                       return store_->WriteTemplate(write);
                                     }));
  return v1::DeleteTemplateResponse();
}

absl::StatusOr<v1::SopTemplate> TemplateRegistry::TemplateForSop(const Caller& caller,
                                                                 absl::string_view field,
                                                                 absl::string_view name) const {
  SOP_ASSIGN_OR_RETURN(TemplateName parsed, ParseTemplateName(field, name));
  if (parsed.org != caller.org) return error::TemplateNotFound(name, field);
  SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kReadPublished));
  absl::StatusOr<v1::SopTemplate> tmpl = store_->GetTemplate(parsed);
  if (tmpl.status().code() == absl::StatusCode::kNotFound) {
    return error::TemplateNotFound(name, field);
  }
  return tmpl;
}

}  // namespace sopsidebar
