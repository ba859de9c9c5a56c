// Declarative apply of an SOP file: create the SOP when missing, update it
// when its body differs, leave it alone otherwise, and optionally publish.
// One algorithm for both `sopd --import` (against the registry) and
// `sopctl apply` (against the gRPC client).
#ifndef SOPSIDEBAR_COMMON_SOPFILE_SOP_APPLY_H_
#define SOPSIDEBAR_COMMON_SOPFILE_SOP_APPLY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/model/names.h"
#include "common/sopfile/sop_file.h"
#include "sopsidebar/v1/sop.pb.h"

namespace sopsidebar {

// A write an apply makes, for SopApplyTarget::Authorize.
enum class ApplyWrite {
  kWrite,  // create or update
  kPublish,
  kSubmit,            // send for review (SubmitSop)
  kEmergencyPublish,  // publish without the sign-offs (ADMIN)
};

// Where an apply writes. Errors are the target's own (NOT_FOUND from Get
// means "create it").
class SopApplyTarget {
 public:
  virtual ~SopApplyTarget() = default;
  // The SOP as the caller may see it: its draft when the caller may read
  // drafts (SeesDraft), else its published revision.
  virtual absl::StatusOr<v1::Sop> Get(const std::string& name) = 0;
  virtual absl::StatusOr<v1::Sop> Create(const std::string& parent, const std::string& sop_id,
                                         const v1::Sop& sop) = 0;
  // Replaces every mutable field; `sop` carries name and, when known, etag.
  virtual absl::StatusOr<v1::Sop> Update(const v1::Sop& sop) = 0;
  // Publishes; with a non-empty `emergency_reason`, without the required
  // sign-offs (PublishSop's emergency, ADMIN only).
  virtual absl::StatusOr<v1::Sop> Publish(const std::string& name,
                                          const std::string& emergency_reason) = 0;
  // Sends the draft for review (SubmitSop).
  virtual absl::StatusOr<v1::Sop> Submit(const std::string& name) = 0;
  // For the plan, before anything is written: OK, or the refusal the target
  // would answer `write` of SOP `name` with (PERMISSION_DENIED for the
  // caller's roles, NOT_FOUND for an org not the caller's), `existing` being
  // the SOP as Get returned it (null: an SOP to create). Default: OK, the
  // target decides when written to.
  virtual absl::Status Authorize(ApplyWrite /*write*/, const SopName& /*name*/,
                                 const v1::Sop* /*existing*/) {
    return absl::OkStatus();
  }
  // Whether `sop`, as Get returned it, is the draft (true) or the published
  // revision shown to a caller who may not read drafts. Default: true.
  virtual bool SeesDraft(const v1::Sop& /*sop*/) { return true; }
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
  // Take the SOP's draft live when it is not the published revision: publish
  // it when it needs no sign-off or has them all (review APPROVED); else
  // send it for review (a draft) or leave it awaiting its sign-offs (in
  // review). docs/GOVERNANCE.md.
  bool publish = false;
  // With `publish`: publish without the sign-offs, in an emergency, for this
  // reason (ADMIN only; the audit trail records it).
  std::string emergency_reason;
  // Default kUpdate: the file is the source of truth.
  ExistingSop existing = ExistingSop::kUpdate;
};

// What applying one file will do, decided from one Get before anything is
// written (PlanSopFile), then carried out by WritePlannedSop and
// PublishPlannedSop.
struct ApplyPlan {
  // orgs/{org}/sops/{sop}, its parent and id.
  std::string name;
  std::string parent;
  std::string sop_id;
  ApplyAction action = ApplyAction::kUnchanged;
  // After the write (options.publish and a draft ahead), one of: publish;
  // submit for review; nothing, the draft awaiting the `awaiting` roles'
  // sign-offs.
  bool publish = false;
  bool submit = false;
  std::vector<v1::Role> awaiting;
  // The body to create or update with (name and the file's etag set).
  v1::Sop body;
  // The SOP as Get returned it; unset when it is to be created.
  std::optional<v1::Sop> current;
  // False when `current` is the published revision because the caller may
  // not read drafts: the comparison could not see the draft.
  bool compared_with_draft = true;
  // OK, or why the server would refuse this file's writes (checked here:
  // PERMISSION_DENIED, ABORTED for a stale etag, FAILED_PRECONDITION for a
  // deleted SOP or one --publish cannot publish). Nothing should be written
  // for any file of an apply while one has a problem.
  absl::Status problem;
};

// Plans one loaded file: reads the SOP (Get) and writes nothing. Returns
// INVALID_ARGUMENT for a bad name in the file and the target's Get errors
// other than NOT_FOUND; a refusal the plan foresees is in `problem`.
absl::StatusOr<ApplyPlan> PlanSopFile(SopApplyTarget& target, const SopFile& file,
                                      const ApplyOptions& options);

// Creates or updates the SOP as `plan` says; returns the SOP after it (the
// current one for kUnchanged and kKept, without a call).
absl::StatusOr<v1::Sop> WritePlannedSop(SopApplyTarget& target, const ApplyPlan& plan);

// Publishes (plan.publish) or submits (plan.submit) the planned SOP; returns
// it after.
absl::StatusOr<v1::Sop> PublishPlannedSop(SopApplyTarget& target, const ApplyPlan& plan,
                                          const ApplyOptions& options);

struct ApplyResult {
  ApplyAction action = ApplyAction::kUnchanged;
  bool published = false;
  // Sent for review instead (it needs sign-offs), or left in review.
  bool submitted = false;
  std::vector<v1::Role> awaiting;
  // The SOP after the apply.
  v1::Sop sop;
};

// Plans one loaded file and, when the plan has no problem, carries it out;
// else returns the problem having written nothing. An etag in the file is
// sent with the update, so a file edited from `sopctl get -o json` fails
// with ABORTED when the SOP changed meanwhile. Not atomic across its calls:
// a publish the server still refuses leaves the created or updated draft in
// place.
absl::StatusOr<ApplyResult> ApplySopFile(SopApplyTarget& target, const SopFile& file,
                                         const ApplyOptions& options);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_COMMON_SOPFILE_SOP_APPLY_H_
