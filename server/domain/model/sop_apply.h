// Declarative apply of an SOP file: create the SOP when missing, update it
// when its body differs, leave it alone otherwise, and optionally publish.
// One algorithm for both `sopd --import` (against the registry) and
// `sopctl apply` (against the gRPC client).
#ifndef SOPSIDEBAR_SERVER_DOMAIN_MODEL_SOP_APPLY_H_
#define SOPSIDEBAR_SERVER_DOMAIN_MODEL_SOP_APPLY_H_

#include <string>

#include "absl/status/statusor.h"
#include "server/domain/model/sop_file.h"
#include "sopsidebar/v1/sop.pb.h"

namespace sopsidebar {

// Where an apply writes. Errors are the target's own (NOT_FOUND from Get
// means "create it").
class SopApplyTarget {
 public:
  virtual ~SopApplyTarget() = default;
  virtual absl::StatusOr<v1::Sop> Get(const std::string& name) = 0;
  virtual absl::StatusOr<v1::Sop> Create(const std::string& parent, const std::string& sop_id,
                                         const v1::Sop& sop) = 0;
  // Replaces every mutable field; `sop` carries name and, when known, etag.
  virtual absl::StatusOr<v1::Sop> Update(const v1::Sop& sop) = 0;
  virtual absl::StatusOr<v1::Sop> Publish(const std::string& name) = 0;
};

enum class ApplyAction { kCreated, kUpdated, kUnchanged, kKept };

// "created", "updated", "unchanged", "kept".
const char* ApplyActionName(ApplyAction action);

// What an apply does to an SOP that already exists.
enum class ExistingSop {
  // Update it to the file's body (and publish it when `publish` is set).
  kUpdate,
  // Leave it as it is, edits and publication state included: ApplyAction::kKept.
  kKeep,
};

struct ApplyOptions {
  // The org for files whose SOP has no name.
  std::string default_org = "default";
  // Publish the SOP when its draft is not the published revision.
  bool publish = false;
  // Default kUpdate: the file is the source of truth.
  ExistingSop existing = ExistingSop::kUpdate;
};

struct ApplyResult {
  ApplyAction action = ApplyAction::kUnchanged;
  bool published = false;
  // The SOP after the apply.
  v1::Sop sop;
};

// Applies one loaded file. An etag in the file is sent with the update, so
// a file edited from `sopctl get -o json` fails with ABORTED when the SOP
// changed meanwhile. Not atomic across its calls: a failed publish leaves
// the created or updated draft in place.
absl::StatusOr<ApplyResult> ApplySopFile(SopApplyTarget& target, const SopFile& file,
                                         const ApplyOptions& options);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_MODEL_SOP_APPLY_H_
