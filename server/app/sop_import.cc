#include "server/app/sop_import.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/model/names.h"
#include "common/sopfile/sop_apply.h"
#include "common/sopfile/sop_file.h"
#include "common/status_macros.h"

namespace sopsidebar {
namespace {

// Applies files straight to the registry.
class RegistryTarget : public SopApplyTarget {
 public:
  RegistryTarget(SopRegistry& registry, const Caller& caller)
      : registry_(registry), caller_(caller) {}

  absl::StatusOr<v1::Sop> Get(const std::string& name) override {
    v1::GetSopRequest request;
    request.set_name(name);
    return registry_.GetSop(caller_, request);
  }
  absl::StatusOr<v1::Sop> Create(const std::string& parent, const std::string& sop_id,
                                 const v1::Sop& sop) override {
    v1::CreateSopRequest request;
    request.set_parent(parent);
    request.set_sop_id(sop_id);
    *request.mutable_sop() = sop;
    return registry_.CreateSop(caller_, request);
  }
  absl::StatusOr<v1::Sop> Update(const v1::Sop& sop) override {
    v1::UpdateSopRequest request;
    *request.mutable_sop() = sop;
    // The file is the whole SOP: what it leaves out is cleared.
    request.mutable_update_mask()->add_paths("*");
    return registry_.UpdateSop(caller_, request);
  }
  absl::StatusOr<v1::Sop> Publish(const std::string& name,
                                  const std::string& emergency_reason) override {
    v1::PublishSopRequest request;
    request.set_name(name);
    request.set_emergency(!emergency_reason.empty());
    request.set_reason(emergency_reason);
    SOP_ASSIGN_OR_RETURN(v1::PublishSopResponse published,
                         registry_.PublishSop(caller_, request));
    return std::move(*published.mutable_sop());
  }
  absl::StatusOr<v1::Sop> Submit(const std::string& name) override {
    v1::SubmitSopRequest request;
    request.set_name(name);
    return registry_.SubmitSop(caller_, request);
  }

 private:
  SopRegistry& registry_;
  const Caller& caller_;
};

}  // namespace

absl::StatusOr<ImportSummary> ImportSopFiles(SopRegistry& registry, const std::string& path,
                                             ExistingSop existing) {
  SOP_ASSIGN_OR_RETURN(std::vector<SopFile> files, LoadSopFiles(path));
  Caller caller;
  caller.org = std::string(kDefaultOrg);
  caller.user_id = "sopd --import";
  caller.roles = RoleBit(v1::SALES_OPS) | RoleBit(v1::ADMIN);
  RegistryTarget target(registry, caller);
  ApplyOptions options;
  options.default_org = std::string(kDefaultOrg);
  options.publish = true;
  // The operator's import is the operator's own act: it publishes without
  // the files' sign-offs, as an emergency publish the audit trail records
  // with this reason (docs/GOVERNANCE.md).
  options.emergency_reason = "imported by the operator (sopd --import)";
  options.existing = existing;
  ImportSummary summary;
  for (const SopFile& file : files) {
    absl::StatusOr<ApplyResult> result = ApplySopFile(target, file, options);
    if (!result.ok()) {
      return absl::Status(result.status().code(),
                          absl::StrCat(file.path, ": ", result.status().message()));
    }
    switch (result->action) {
      case ApplyAction::kCreated:
        ++summary.created;
        break;
      case ApplyAction::kUpdated:
        ++summary.updated;
        break;
      case ApplyAction::kUnchanged:
        ++summary.unchanged;
        break;
      case ApplyAction::kKept:
        ++summary.kept;
        break;
    }
    if (result->published) ++summary.published;
  }
  return summary;
}

}  // namespace sopsidebar
