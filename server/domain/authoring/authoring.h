// The use cases behind AuthoringService (docs/AUTHORING.md): an SOP's
// diagram (GetSopDiagram), drafting an SOP from a brief (DraftSop) and
// validating an SOP while it is edited (ValidateSop).
//
// Reads go through SopRegistry with the caller's permissions, so a diagram
// shows exactly what GetSop or GetSopRevision would; a draft is saved through
// SopRegistry::CreateSop, so ids, request_id, validation, the revision and
// the audit event apply, and it is only ever a DRAFT. The drafters are ports
// (common/drafting): the built-in one always, a model one when sopd is
// configured with it.
//
// Errors come from common/errors.h, as SopRegistry's:
//   INVALID_ARGUMENT   a malformed request, naming the field (`brief` when
//                      the drafter cannot satisfy it, `drafter` for an
//                      unknown drafter, `revision` for a malformed revision)
//   NOT_FOUND          no such SOP or revision, or one the caller may not see
//   PERMISSION_DENIED  the caller's roles do not allow the operation
//   FAILED_PRECONDITION the model drafter asked for and not configured; a
//                      "published" diagram of an SOP never published; a
//                      model server that refuses the request
//   UNAVAILABLE, DEADLINE_EXCEEDED  the model server failed or answered no
//                      valid SOP twice
// Nothing is saved on any error.
//
// Thread-safe: holds no state of its own besides the pointers it was given.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_AUTHORING_AUTHORING_H_
#define SOPSIDEBAR_SERVER_DOMAIN_AUTHORING_AUTHORING_H_

#include "absl/status/statusor.h"
#include "common/auth/caller.h"
#include "common/drafting/drafter.h"
#include "server/domain/registry/sop_registry.h"
#include "sopsidebar/v1/authoring_service.pb.h"

namespace sopsidebar {

// DraftSopRequest.drafter's values.
inline constexpr absl::string_view kBuiltinDrafterName = "builtin";
inline constexpr absl::string_view kModelDrafterName = "model";

class Authoring {
 public:
  // `registry` and `builtin` must be non-null; `model` is null when sopd has
  // no model drafter configured. All must outlive this object.
  Authoring(SopRegistry* registry, const Drafter* builtin, const Drafter* model);

  // revision "" draws what GetSop returns the caller (the draft with draft
  // access, else the published revision); "published" or a revision id
  // draws that revision, with GetSopRevision's permissions. Kind and format
  // default to FLOWCHART and MERMAID. source is RenderSopDiagram's text
  // exactly. INVALID_ARGUMENT naming `steps` for an SOP without steps.
  absl::StatusOr<v1::SopDiagram> GetSopDiagram(const Caller& caller,
                                               const v1::GetSopDiagramRequest& request) const;

  // Validates the brief, answers a retry (a request_id the caller already
  // created an SOP with) with that SOP without drafting again, drafts with
  // the chosen drafter, and saves the result through CreateSop (nothing
  // with validate_only). The model call runs without any registry lock.
  absl::StatusOr<v1::DraftSopResponse> DraftSop(const Caller& caller,
                                                const v1::DraftSopRequest& request) const;

  // Every violation of request.sop (SopBodyViolations, the check CreateSop
  // and SubmitSop make) or of request.yaml (CheckSopFile: with line and
  // column; a YAML syntax error is one violation with field ""). With
  // include_diagram, the swimlane in Mermaid when the SOP has steps.
  // SOP editors only; saves nothing.
  absl::StatusOr<v1::ValidateSopResponse> ValidateSop(const Caller& caller,
                                                      const v1::ValidateSopRequest& request) const;

 private:
  // The SOP `request` asks to draw and its revision id.
  absl::StatusOr<v1::Sop> DiagramSubject(const Caller& caller,
                                         const v1::GetSopDiagramRequest& request) const;

  SopRegistry* const registry_;
  const Drafter* const builtin_;
  const Drafter* const model_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_AUTHORING_AUTHORING_H_
