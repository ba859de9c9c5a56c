#include "server/domain/authoring/authoring.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/auth/permissions.h"
#include "common/diagram/sop_diagram.h"
#include "common/errors.h"
#include "common/model/names.h"
#include "common/model/validation.h"
#include "common/sopfile/sop_file.h"
#include "common/status_macros.h"

namespace sopsidebar {
namespace {

// GetSopDiagramRequest.revision's value for the published revision.
constexpr absl::string_view kPublishedRevision = "published";

DiagramOptions OptionsFor(v1::DiagramKind kind, v1::DiagramFormat format) {
  DiagramOptions options;
  options.kind = kind == v1::SWIMLANE ? DiagramKind::kSwimlane : DiagramKind::kFlowchart;
  options.format = format == v1::DOT ? DiagramFormat::kDot : DiagramFormat::kMermaid;
  return options;
}

// The diagram of `sop` (the SOP `name` at `revision_id`).
absl::StatusOr<v1::SopDiagram> Draw(const v1::Sop& sop, std::string name, std::string revision_id,
                                    v1::DiagramKind kind, v1::DiagramFormat format) {
  if (kind == v1::DIAGRAM_KIND_UNSPECIFIED) kind = v1::FLOWCHART;
  if (format == v1::DIAGRAM_FORMAT_UNSPECIFIED) format = v1::MERMAID;
  SOP_ASSIGN_OR_RETURN(std::string source, RenderSopDiagram(sop, OptionsFor(kind, format)));
  v1::SopDiagram diagram;
  diagram.set_sop(std::move(name));
  diagram.set_revision_id(std::move(revision_id));
  diagram.set_kind(kind);
  diagram.set_format(format);
  diagram.set_source(std::move(source));
  return diagram;
}

// The org `parent` names, when the caller may edit SOPs in it.
absl::Status CheckEditor(const Caller& caller, absl::string_view parent) {
  SOP_ASSIGN_OR_RETURN(std::string org, ParseOrgName("parent", parent));
  if (org != caller.org) return error::OrgNotFound(parent);
  return Authorize(caller, Operation::kWriteSops);
}

}  // namespace

Authoring::Authoring(SopRegistry* registry, const Drafter* builtin, const Drafter* model)
    : registry_(registry), builtin_(builtin), model_(model) {}

absl::StatusOr<v1::Sop> Authoring::DiagramSubject(const Caller& caller,
                                                  const v1::GetSopDiagramRequest& request) const {
  SOP_ASSIGN_OR_RETURN(SopName name, ParseSopName("name", request.name()));
  if (!v1::DiagramKind_IsValid(request.kind())) {
    return error::InvalidField("kind", absl::StrCat("unknown diagram kind ", request.kind()));
  }
  if (!v1::DiagramFormat_IsValid(request.format())) {
    return error::InvalidField("format", absl::StrCat("unknown diagram format ", request.format()));
  }
  v1::GetSopRequest get;
  get.set_name(name.Full());
  if (request.revision().empty()) return registry_->GetSop(caller, get);

  std::string revision_id = request.revision();
  if (request.revision() == kPublishedRevision) {
    // Which revision is published is what GetSop shows of it; reading that
    // revision is then GetSopRevision's to allow.
    SOP_ASSIGN_OR_RETURN(v1::Sop sop, registry_->GetSop(caller, get));
    if (sop.published_revision_id().empty()) return error::SopNotPublished(name.Full());
    revision_id = sop.published_revision_id();
  }
  const std::string revision_name = absl::StrCat(name.Full(), "/revisions/", revision_id);
  if (absl::Status valid = ParseRevisionName("revision", revision_name).status(); !valid.ok()) {
    return error::InvalidField(
        "revision",
        absl::StrCat(error::QuoteInput(request.revision()),
                     " is not a revision: leave it empty for the draft, or write \"published\" "
                     "or a revision id (1, 2, ...)"));
  }
  v1::GetSopRevisionRequest get_revision;
  get_revision.set_name(revision_name);
  SOP_ASSIGN_OR_RETURN(v1::SopRevision revision, registry_->GetSopRevision(caller, get_revision));
  return std::move(*revision.mutable_snapshot());
}

absl::StatusOr<v1::SopDiagram> Authoring::GetSopDiagram(
    const Caller& caller, const v1::GetSopDiagramRequest& request) const {
  SOP_ASSIGN_OR_RETURN(v1::Sop sop, DiagramSubject(caller, request));
  const std::string revision_id = sop.revision_id();
  return Draw(sop, ParseSopName("name", request.name())->Full(), revision_id, request.kind(),
              request.format());
}

absl::StatusOr<v1::DraftSopResponse> Authoring::DraftSop(const Caller& caller,
                                                         const v1::DraftSopRequest& request) const {
  // The parent, the caller's permission and a retry, before any drafting.
  SOP_ASSIGN_OR_RETURN(std::optional<v1::Sop> earlier,
                       registry_->FindCreatedSop(caller, request.parent(), request.request_id()));
  const std::string drafter_name =
      request.drafter().empty() ? std::string(kBuiltinDrafterName) : request.drafter();
  const Drafter* drafter = nullptr;
  if (drafter_name == kBuiltinDrafterName) {
    drafter = builtin_;
  } else if (drafter_name == kModelDrafterName) {
    drafter = model_;
    if (drafter == nullptr) return error::DrafterNotConfigured(drafter_name);
  } else {
    return error::InvalidField(
        "drafter", absl::StrCat("unknown drafter ", error::QuoteInput(request.drafter()),
                                "; expected \"builtin\" or \"model\""));
  }
  SOP_RETURN_IF_ERROR(ValidateBrief(request.brief()));
  if (!request.sop_id().empty() && !IsValidResourceId(request.sop_id())) {
    return error::InvalidField(
        "sop_id", absl::StrCat(error::QuoteInput(request.sop_id()),
                               " is not a valid id: 1-63 of [a-z0-9-], starting with a "
                               "letter, not ending with '-'"));
  }

  v1::DraftSopResponse response;
  response.set_drafter(drafter_name);
  if (earlier && !request.validate_only()) {
    *response.mutable_sop() = *std::move(earlier);
    return response;
  }
  // Runs without any registry lock: a model may take up to its timeout.
  SOP_ASSIGN_OR_RETURN(v1::Sop drafted, drafter->Draft(request.brief()));
  if (request.validate_only()) {
    *response.mutable_sop() = std::move(drafted);
    return response;
  }
  v1::CreateSopRequest create;
  create.set_parent(request.parent());
  create.set_sop_id(request.sop_id());
  create.set_request_id(request.request_id());
  *create.mutable_sop() = std::move(drafted);
  SOP_ASSIGN_OR_RETURN(*response.mutable_sop(), registry_->CreateSop(caller, create));
  return response;
}

absl::StatusOr<v1::ValidateSopResponse> Authoring::ValidateSop(
    const Caller& caller, const v1::ValidateSopRequest& request) const {
  SOP_RETURN_IF_ERROR(CheckEditor(caller, request.parent()));
  v1::ValidateSopResponse response;
  v1::Sop sop;
  switch (request.subject_case()) {
    case v1::ValidateSopRequest::kSop:
      sop = request.sop();
      for (error::FieldViolation& violation : SopBodyViolations(sop, "")) {
        v1::SopViolation* out = response.add_violations();
        out->set_field(std::move(violation.field));
        out->set_description(std::move(violation.description));
      }
      break;
    case v1::ValidateSopRequest::kYaml: {
      if (request.yaml().size() > Limits::kMaxSopBytes) {
        return error::InvalidField(
            "yaml", absl::StrCat("longer than the limit of ", Limits::kMaxSopBytes, " bytes"));
      }
      SopFileCheck check = CheckSopFile(request.yaml());
      sop = std::move(check.sop);
      for (SopFileProblem& problem : check.problems) {
        v1::SopViolation* out = response.add_violations();
        out->set_field(std::move(problem.field));
        out->set_description(std::move(problem.description));
        out->set_line(problem.line);
        out->set_column(problem.column);
      }
      break;
    }
    case v1::ValidateSopRequest::SUBJECT_NOT_SET:
      return error::InvalidField("sop", "is required: set sop or yaml");
  }
  if (request.include_diagram() && sop.steps_size() > 0) {
    absl::StatusOr<v1::SopDiagram> diagram =
        Draw(sop, sop.name(), sop.revision_id(), v1::SWIMLANE, v1::MERMAID);
    if (diagram.ok()) *response.mutable_diagram() = *std::move(diagram);
  }
  return response;
}

}  // namespace sopsidebar
