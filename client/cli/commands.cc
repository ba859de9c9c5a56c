#include "client/cli/commands.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/cli/backup_writer.h"
#include "client/cli/connection_options.h"
#include "client/cli/field_map_file.h"
#include "client/cli/format.h"
#include "client/cli/records_file.h"
#include "common/auth/caller.h"
#include "common/auth/permissions.h"
#include "common/diagram/graphviz.h"
#include "common/diagram/sop_diagram.h"
#include "common/errors.h"
#include "common/ids.h"
#include "common/model/names.h"
#include "common/model/roles.h"
#include "common/proto_time.h"
#include "common/sopfile/sop_apply.h"
#include "common/sopfile/sop_file.h"
#include "common/sopfile/sop_yaml.h"
#include "common/status_macros.h"
#include "google/protobuf/util/json_util.h"

namespace sopsidebar::cli {
namespace {

// Writes `message` as JSON or as `text`, by --output (CSV is the analytics
// commands', PrintReport).
absl::Status Print(const Invocation& invocation, const google::protobuf::Message& message,
                   const std::string& text, std::ostream& out) {
  if (invocation.global.output == OutputFormat::kJson) {
    SOP_ASSIGN_OR_RETURN(const std::string json, ToJson(message));
    out << json;
  } else {
    out << text;
  }
  return absl::OkStatus();
}

// What an analytics command's rows are keyed by: --by, or the coverage
// report's own default.
std::vector<v1::AnalyticsDimension> GroupBy(const Invocation& invocation) {
  std::vector<v1::AnalyticsDimension> group_by;
  for (int d : invocation.report.group_by()) {
    group_by.push_back(static_cast<v1::AnalyticsDimension>(d));
  }
  if (group_by.empty() && invocation.command == Command::kAnalyticsCoverage) {
    group_by = {v1::RECORD_TYPE, v1::STATUS};
  }
  return group_by;
}

// Writes a report as JSON, CSV or a table, by --output; on `err`, a
// warning per node of a cluster whose figures are missing from it.
template <typename Report>
absl::Status PrintReport(const Invocation& invocation, const Report& report, const ReportRows& rows,
                         std::ostream& out, std::ostream& err) {
  err << FormatMissingNodes(report.nodes());
  if (invocation.global.output == OutputFormat::kCsv) {
    out << FormatCsv(rows);
    return absl::OkStatus();
  }
  return Print(invocation, report, FormatReport(rows, report.start_day(), report.end_day()), out);
}

// sopctl preview: reads the records file (and the SOP file) whole, typed by
// the org's field map with --field-map, and sends nothing when either is
// wrong (each problem on `err`, kExitFailed).
absl::StatusOr<int> Preview(const Invocation& invocation, client::Client& client, std::ostream& out,
                            std::ostream& err);

// One warning line on `err` per tie of a just-published SOP.
void WarnAboutTies(const google::protobuf::RepeatedPtrField<v1::TargetingTie>& ties,
                   std::ostream& err) {
  for (const v1::TargetingTie& tie : ties) err << FormatTieWarning(tie);
}

// The exit status of a command that fails only by `status`.
absl::StatusOr<int> ExitStatus(const absl::Status& status) {
  if (!status.ok()) return status;
  return kExitOk;
}

// sopctl apply's writes go through the client; ApplySopFile decides which.
// SopApplyTarget::Publish returns the SOP only, so the ties of the last
// publish wait here for Apply to warn about them.
class ClientApplyTarget : public SopApplyTarget {
 public:
  explicit ClientApplyTarget(client::Client& client) : client_(client) {}

  absl::StatusOr<v1::Sop> Get(const std::string& name) override { return client_.GetSop(name); }
  absl::StatusOr<v1::Sop> Create(const std::string& parent, const std::string& sop_id,
                                 const v1::Sop& sop) override {
    v1::CreateSopRequest request;
    request.set_parent(parent);
    request.set_sop_id(sop_id);
    *request.mutable_sop() = sop;
    // Makes the create safe to retry when the first attempt's answer is lost.
    request.set_request_id(RandomId("apply-", 24));
    return client_.CreateSop(request);
  }
  absl::StatusOr<v1::Sop> Update(const v1::Sop& sop) override {
    v1::UpdateSopRequest request;
    *request.mutable_sop() = sop;
    // The file is the whole SOP: what it leaves out is cleared (AIP-134's
    // "*"; without a mask only the fields the file sets would change).
    request.mutable_update_mask()->add_paths("*");
    return client_.UpdateSop(request);
  }
  absl::StatusOr<v1::Sop> Publish(const std::string& name,
                                  const std::string& emergency_reason) override {
    last_publish_ties_.Clear();
    v1::PublishSopRequest request;
    request.set_name(name);
    request.set_emergency(!emergency_reason.empty());
    request.set_reason(emergency_reason);
    SOP_ASSIGN_OR_RETURN(v1::PublishSopResponse response, client_.PublishSop(request));
    last_publish_ties_ = std::move(*response.mutable_ties());
    return std::move(*response.mutable_sop());
  }
  absl::StatusOr<v1::Sop> Submit(const std::string& name) override {
    v1::SubmitSopRequest request;
    request.set_name(name);
    return client_.SubmitSop(request);
  }

  // Asks sopd who the token is, for Authorize and SeesDraft. Before the plan.
  absl::Status LoadCaller() {
    SOP_ASSIGN_OR_RETURN(const v1::WhoAmIResponse who, client_.WhoAmI(v1::WhoAmIRequest()));
    caller_.org = std::string(absl::StripPrefix(who.org(), "orgs/"));
    caller_.user_id = who.user_id();
    caller_.server_admin = who.server_admin();
    caller_.roles = 0;
    for (int role : who.roles()) caller_.roles |= RoleBit(static_cast<v1::Role>(role));
    return absl::OkStatus();
  }
  // The server's own permission table decides, so the plan foresees its
  // PERMISSION_DENIED word for word. A token writes in its own org only.
  absl::Status Authorize(ApplyWrite write, const SopName& name, const v1::Sop* existing) override {
    if (name.org != caller_.org) return error::OrgNotFound(OrgName(name.org));
    switch (write) {
      case ApplyWrite::kWrite:
        return sopsidebar::Authorize(caller_, Operation::kWriteSops, existing);
      case ApplyWrite::kPublish:
        return sopsidebar::Authorize(caller_, Operation::kPublishSops, existing);
      case ApplyWrite::kSubmit:
        return sopsidebar::Authorize(caller_, Operation::kSubmitSops, existing);
      case ApplyWrite::kEmergencyPublish:
        SOP_RETURN_IF_ERROR(sopsidebar::Authorize(caller_, Operation::kPublishSops, existing));
        return sopsidebar::Authorize(caller_, Operation::kEmergencyPublish, existing);
    }
    return absl::OkStatus();
  }
  bool SeesDraft(const v1::Sop& sop) override {
    return IsAllowed(caller_, Operation::kReadDrafts, &sop);
  }

  // The ties of the last Publish (empty after a failed one); each only once.
  google::protobuf::RepeatedPtrField<v1::TargetingTie> TakePublishTies() {
    return std::exchange(last_publish_ties_, {});
  }

 private:
  client::Client& client_;
  Caller caller_;
  google::protobuf::RepeatedPtrField<v1::TargetingTie> last_publish_ties_;
};

// Loads the SOP files of `invocation.apply_path` and writes their warnings
// to `err`. When files are wrong, writes each error on its own line to `err`
// ("<file>:<line>: <path>: <reason>") and returns nullopt; other failures
// (no such path) are returned.
absl::StatusOr<std::optional<std::vector<SopFile>>> LoadFiles(const Invocation& invocation,
                                                              std::ostream& out,
                                                              std::ostream& err) {
  absl::StatusOr<std::vector<SopFile>> files = LoadSopFiles(invocation.apply_path);
  if (files.status().code() == absl::StatusCode::kInvalidArgument) {
    for (absl::string_view line : absl::StrSplit(files.status().message(), '\n')) {
      err << TextLine(line);
    }
    return std::nullopt;
  }
  if (!files.ok()) return files.status();
  if (files->empty()) {
    out << TextLine(
        absl::StrCat("no SOP files (*.yaml, *.yml, *.json) in ", invocation.apply_path));
  }
  for (const SopFile& file : *files) {
    for (const std::string& warning : file.warnings) err << TextLine(warning);
  }
  return files;
}

// " (compared with published revision N: ...)" when `plan` compared the file
// with the published revision because the caller may not read drafts.
std::string ComparedWith(const ApplyPlan& plan) {
  if (plan.compared_with_draft || !plan.current.has_value()) return "";
  return absl::StrCat(" (compared with published revision ", plan.current->published_revision_id(),
                      ": your roles cannot read drafts)");
}

// "CODE: FILE: message", the line apply prints for a file the server refuses.
std::string FileError(const SopFile& file, const absl::Status& status) {
  return TextLine(absl::StrCat(absl::StatusCodeToString(status.code()), ": ", file.path, ": ",
                               status.message()));
}

// What a dry run prints for `plan`: what apply would write, one line each.
// "awaiting sign-off NAME: VP_SALES, MARKETING_DIRECTOR".
std::string AwaitingLine(const ApplyPlan& plan) {
  std::vector<std::string> roles;
  for (v1::Role role : plan.awaiting) roles.push_back(v1::Role_Name(role));
  return TextLine(absl::StrCat("awaiting sign-off ", plan.name, ": ", absl::StrJoin(roles, ", ")));
}

std::string FormatDryRun(const ApplyPlan& plan) {
  std::string text;
  switch (plan.action) {
    case ApplyAction::kCreated:
      text = TextLine(absl::StrCat("would create ", plan.name));
      break;
    case ApplyAction::kUpdated:
      text = TextLine(absl::StrCat("would update ", plan.name, ComparedWith(plan)));
      break;
    case ApplyAction::kUnchanged:
    case ApplyAction::kKept:
      text =
          TextLine(absl::StrCat(ApplyActionName(plan.action), " ", plan.name, ComparedWith(plan)));
      break;
  }
  if (plan.publish) absl::StrAppend(&text, TextLine(absl::StrCat("would publish ", plan.name)));
  if (plan.submit) absl::StrAppend(&text, TextLine(absl::StrCat("would submit ", plan.name)));
  if (!plan.awaiting.empty()) absl::StrAppend(&text, AwaitingLine(plan));
  return text;
}

// How far one SOP of a run that stopped got.
struct ApplyProgress {
  std::optional<ApplyAction> written;  // set once its write (or no-op) succeeded
  bool published = false;
};

// The account of a run the server stopped at plans[failed]: which SOPs were
// applied (and published), which failed with `status`, which not attempted.
std::string FormatStoppedApply(const std::vector<SopFile>& files,
                               const std::vector<ApplyPlan>& plans,
                               const std::vector<ApplyProgress>& progress, size_t failed,
                               const absl::Status& status) {
  std::string text = FileError(files[failed], status);
  absl::StrAppend(&text, TextLine(absl::StrCat("apply stopped at ", plans[failed].name,
                                               "; the SOPs before it stay applied:")));
  for (size_t i = 0; i < plans.size(); ++i) {
    const ApplyPlan& plan = plans[i];
    if (i < failed) {
      absl::StrAppend(&text, TextLine(absl::StrCat(
                                 "applied ", plan.name, " (", ApplyActionName(*progress[i].written),
                                 progress[i].published ? ", published" : "", ")")));
    } else if (i == failed) {
      const std::string done =
          progress[i].written.has_value()
              ? absl::StrCat(ApplyActionName(*progress[i].written), ", not published; ")
              : "";
      absl::StrAppend(&text, TextLine(absl::StrCat("failed ", plan.name, " (", done,
                                                   absl::StatusCodeToString(status.code()), ": ",
                                                   status.message(), ")")));
    } else {
      absl::StrAppend(&text, TextLine(absl::StrCat("not attempted ", plan.name)));
    }
  }
  return text;
}

// All or nothing, as far as a client can make it: every file is loaded and
// every SOP planned (read, compared, checked against the server's
// permission table and publish preconditions) before the first write.
absl::StatusOr<int> Apply(const Invocation& invocation, client::Client& client, std::ostream& out,
                          std::ostream& err) {
  SOP_ASSIGN_OR_RETURN(const std::optional<std::vector<SopFile>> files,
                       LoadFiles(invocation, out, err));
  if (!files.has_value()) return kExitFailed;
  ClientApplyTarget target(client);
  SOP_RETURN_IF_ERROR(target.LoadCaller());
  ApplyOptions options;
  options.default_org = invocation.global.org;
  options.publish = invocation.publish;
  options.emergency_reason = invocation.emergency_reason;

  std::vector<ApplyPlan> plans;
  int refused = 0;
  for (const SopFile& file : *files) {
    absl::StatusOr<ApplyPlan> plan = PlanSopFile(target, file, options);
    if (!plan.ok()) {
      return absl::Status(plan.status().code(),
                          absl::StrCat(file.path, ": ", plan.status().message()));
    }
    if (!plan->problem.ok()) {
      ++refused;
      err << FileError(file, plan->problem);
    }
    plans.push_back(*std::move(plan));
  }
  if (refused > 0) {
    err << TextLine(absl::StrCat("nothing applied: ", refused, " of ", plans.size(),
                                 " SOPs cannot be applied"));
    return kExitFailed;
  }
  if (invocation.dry_run) {
    for (const ApplyPlan& plan : plans) out << FormatDryRun(plan);
    out << TextLine("dry run: nothing written");
    return kExitOk;
  }

  std::vector<ApplyProgress> progress(plans.size());
  for (size_t i = 0; i < plans.size(); ++i) {
    const ApplyPlan& plan = plans[i];
    absl::StatusOr<v1::Sop> sop = WritePlannedSop(target, plan);
    if (!sop.ok()) {
      err << FormatStoppedApply(*files, plans, progress, i, sop.status());
      return kExitFailed;
    }
    progress[i].written = plan.action;
    out << TextLine(absl::StrCat(ApplyActionName(plan.action), " ", plan.name, ComparedWith(plan)));
    if (!plan.publish && !plan.submit) {
      if (!plan.awaiting.empty()) out << AwaitingLine(plan);
      continue;
    }
    sop = PublishPlannedSop(target, plan, options);
    if (!sop.ok()) {
      err << FormatStoppedApply(*files, plans, progress, i, sop.status());
      return kExitFailed;
    }
    if (plan.submit) {
      out << TextLine(absl::StrCat("submitted ", plan.name)) << AwaitingLine(plan);
      continue;
    }
    progress[i].published = true;
    out << TextLine(absl::StrCat("published ", plan.name));
    WarnAboutTies(target.TakePublishTies(), err);
  }
  return kExitOk;
}

absl::StatusOr<int> Validate(const Invocation& invocation, std::ostream& out, std::ostream& err) {
  SOP_ASSIGN_OR_RETURN(const std::optional<std::vector<SopFile>> files,
                       LoadFiles(invocation, out, err));
  if (!files.has_value()) return kExitFailed;
  for (const SopFile& file : *files) {
    // Where apply would write it: the file's name, else --org and the id.
    const std::string name = file.sop.name().empty()
                                 ? SopName{invocation.global.org, file.sop_id}.Full()
                                 : file.sop.name();
    out << TextLine(absl::StrCat("valid ", file.path, ": ", name));
  }
  return kExitOk;
}

// diagram: the SOP from its file (offline, `client` unused) or from sopd,
// drawn, rendered by Graphviz for svg and png, written to -o or `out`.
absl::StatusOr<int> Diagram(const Invocation& invocation, client::Client* client,
                            std::ostream& out, std::ostream& err) {
  v1::Sop sop;
  std::string source = invocation.name;
  if (!invocation.apply_path.empty()) {
    SOP_ASSIGN_OR_RETURN(const std::optional<std::vector<SopFile>> files,
                         LoadFiles(invocation, out, err));
    if (!files.has_value()) return kExitFailed;
    if (files->size() != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(invocation.apply_path, ": expected one SOP file, found ", files->size()));
    }
    sop = (*files)[0].sop;
    source = invocation.apply_path;
  }
  const DiagramOutput output = invocation.diagram_output;
  const DiagramFormat format =
      output == DiagramOutput::kMermaid ? DiagramFormat::kMermaid : DiagramFormat::kDot;
  absl::StatusOr<std::string> text;
  if (invocation.apply_path.empty()) {
    // sopd draws it (GetSopDiagram: what "sopctl get" shows); svg and png
    // are its DOT rendered here.
    v1::GetSopDiagramRequest request;
    request.set_name(invocation.name);
    request.set_kind(invocation.diagram_kind == DiagramKind::kSwimlane ? v1::SWIMLANE
                                                                       : v1::FLOWCHART);
    request.set_format(format == DiagramFormat::kMermaid ? v1::MERMAID : v1::DOT);
    absl::StatusOr<v1::SopDiagram> diagram = client->GetSopDiagram(request);
    if (!diagram.ok()) {
      // Reads' errors are sopd's own words; a drawing error names the SOP.
      if (diagram.status().code() != absl::StatusCode::kInvalidArgument) return diagram.status();
      text = diagram.status();
    } else {
      text = std::move(*diagram->mutable_source());
    }
  } else {
    text = RenderSopDiagram(sop, {invocation.diagram_kind, format});
  }
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat(source, ": ", text.status().message()));
  }
  if (output == DiagramOutput::kSvg || output == DiagramOutput::kPng) {
    SOP_ASSIGN_OR_RETURN(
        text, RenderWithGraphviz(*text, output == DiagramOutput::kSvg ? GraphvizOutput::kSvg
                                                                      : GraphvizOutput::kPng));
  }
  if (invocation.diagram_out.empty()) {
    out << *text;
    return kExitOk;
  }
  std::ofstream file(invocation.diagram_out, std::ios::binary | std::ios::trunc);
  file << *text;
  file.close();
  if (!file) {
    return absl::InvalidArgumentError(absl::StrCat("-o: cannot write \"", invocation.diagram_out,
                                                   "\": ", std::strerror(errno)));
  }
  return kExitOk;
}

// How a sopctl user passes a token, in place of the server's hint for gRPC
// clients (error::kSendTokenHint).
constexpr absl::string_view kPassTokenHint =
    "pass a token with --token-file FILE (or set SOPCTL_TOKEN_FILE)";

// Writes a failed command's status to `err` (FormatFailure).
int Failed(const absl::Status& status, std::ostream& err) {
  if (status.code() == absl::StatusCode::kUnauthenticated) {
    const absl::string_view reason =
        absl::StripSuffix(absl::StripSuffix(status.message(), error::kSendTokenHint), ": ");
    err << FormatFailure(absl::UnauthenticatedError(absl::StrCat(reason, ": ", kPassTokenHint)));
  } else {
    err << FormatFailure(status);
  }
  return kExitFailed;
}

// fieldmap set: the file's map under the command's name. A file with
// problems: each on its own line on `err`, nothing sent, kExitFailed.
absl::StatusOr<int> SetFieldMap(const Invocation& invocation, client::Client& client,
                                std::ostream& out, std::ostream& err) {
  absl::StatusOr<std::string> contents = ReadFileContents(invocation.field_map_path);
  if (!contents.ok()) {
    return absl::Status(contents.status().code(),
                        absl::StrCat("cannot read \"", invocation.field_map_path,
                                     "\": ", contents.status().message()));
  }
  absl::StatusOr<v1::FieldMap> map = ParseFieldMapFile(invocation.field_map_path, *contents);
  if (!map.ok()) {
    for (absl::string_view line : absl::StrSplit(map.status().message(), '\n')) {
      err << TextLine(line);
    }
    return kExitFailed;
  }
  v1::UpdateFieldMapRequest request;
  *request.mutable_field_map() = *std::move(map);
  request.mutable_field_map()->set_name(invocation.name);
  SOP_ASSIGN_OR_RETURN(const v1::FieldMap updated, client.UpdateFieldMap(request));
  return ExitStatus(Print(invocation, updated, FormatFieldMap(updated), out));
}

// The secret goes to `out` alone, so that T=$(sopctl token create ...) keeps
// just the secret; people read the summary on `err`.
absl::Status CreateToken(const Invocation& invocation, client::Client& client, std::ostream& out,
                         std::ostream& err) {
  v1::CreateTokenRequest request = invocation.create_token;
  if (!invocation.hubspot_client_secret_file.empty()) {
    SOP_ASSIGN_OR_RETURN(*request.mutable_hubspot_client_secret(),
                         ReadTrimmedFile(ReadFileContents, "--hubspot-client-secret-file",
                                         invocation.hubspot_client_secret_file));
  }
  SOP_ASSIGN_OR_RETURN(const v1::CreateTokenResponse response, client.CreateToken(request));
  if (invocation.global.output == OutputFormat::kJson) {
    return Print(invocation, response, "", out);
  }
  out << response.secret() << "\n";
  err << FormatCreatedToken(response.token());
  return absl::OkStatus();
}

// One line of a webhook: name, URL, format, events, attempts.
std::string WebhookLine(const v1::Webhook& w) {
  std::vector<std::string> types;
  for (int type : w.event_types()) {
    types.push_back(v1::ChangeEvent::Type_Name(static_cast<v1::ChangeEvent::Type>(type)));
  }
  return TextLine(absl::StrCat(w.name(), "  ", w.url(), "  ",
                               v1::Webhook::PayloadFormat_Name(w.payload_format()),
                               "  events=", types.empty() ? "all" : absl::StrJoin(types, ","),
                               "  max_attempts=", w.max_attempts()));
}

// One line of a change event: time, type, SOP, revision, actor, title.
std::string ChangeLine(const v1::ChangeEvent& e) {
  std::string line = absl::StrCat(
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", FromProtoTimestamp(e.time()), absl::UTCTimeZone()),
      "  ", v1::ChangeEvent::Type_Name(e.type()), "  ", e.sop(), "  rev=", e.revision_id(),
      "  actor=", e.actor().empty() ? "-" : e.actor(), "  ", e.title());
  if (e.awaiting_roles_size() > 0) {
    std::vector<std::string> roles;
    for (int role : e.awaiting_roles()) roles.push_back(v1::Role_Name(static_cast<v1::Role>(role)));
    absl::StrAppend(&line, "  awaiting=", absl::StrJoin(roles, ","));
  }
  return TextLine(line);
}

// The delivery log: one line per delivery.
std::string DeliveryLines(const v1::ListWebhookDeliveriesResponse& list) {
  std::string text;
  for (const v1::WebhookDelivery& d : list.deliveries()) {
    absl::StrAppend(
        &text, TextLine(absl::StrCat(
                   d.name(), "  ", v1::WebhookDelivery::State_Name(d.state()), "  attempts=",
                   d.attempts(), "  replays=", d.replay_count(), "  http=", d.last_http_status(),
                   "  ", v1::ChangeEvent::Type_Name(d.event().type()), " ", d.event().sop(),
                   d.last_error().empty() ? "" : absl::StrCat("  error=", d.last_error()))));
  }
  return text;
}

absl::Status CreateWebhook(const Invocation& invocation, client::Client& client,
                           std::ostream& out) {
  v1::CreateWebhookRequest request = invocation.create_webhook;
  if (!invocation.webhook_secret_file.empty()) {
    SOP_ASSIGN_OR_RETURN(
        *request.mutable_webhook()->mutable_secret(),
        ReadTrimmedFile(ReadFileContents, "--secret-file", invocation.webhook_secret_file));
  } else {
    const char* value = std::getenv(invocation.webhook_secret_env.c_str());
    if (value == nullptr || *value == '\0') {
      return absl::InvalidArgumentError(absl::StrCat("--secret-env: the environment variable ",
                                                     invocation.webhook_secret_env, " is not set"));
    }
    request.mutable_webhook()->set_secret(std::string(absl::StripAsciiWhitespace(value)));
  }
  SOP_ASSIGN_OR_RETURN(const v1::Webhook webhook, client.CreateWebhook(request));
  return Print(invocation, webhook, TextLine(absl::StrCat("created ", webhook.name())), out);
}

absl::Status WatchChanges(const Invocation& invocation, client::Client& client, std::ostream& out) {
  return client.WatchChanges(invocation.watch_changes, [&](const v1::ChangeEvent& event) {
    if (invocation.global.output == OutputFormat::kJson) {
      std::string json;
      google::protobuf::util::JsonPrintOptions options;
      (void)google::protobuf::util::MessageToJsonString(event, &json, options);
      out << json << "\n";
    } else {
      out << ChangeLine(event);
    }
    out.flush();
    return static_cast<bool>(out);
  });
}

absl::Status Publish(const Invocation& invocation, client::Client& client, std::ostream& out,
                     std::ostream& err) {
  v1::PublishSopRequest request = invocation.publish_sop;
  request.set_name(invocation.name);
  SOP_ASSIGN_OR_RETURN(const v1::PublishSopResponse response, client.PublishSop(request));
  const v1::Sop& sop = response.sop();
  SOP_RETURN_IF_ERROR(Print(
      invocation, response,
      TextLine(absl::StrCat("published ", sop.name(), " (rev ", sop.published_revision_id(), ")")),
      out));
  // The JSON carries the ties; programs reading it want nothing on stderr.
  if (invocation.global.output == OutputFormat::kText) WarnAboutTies(response.ties(), err);
  return absl::OkStatus();
}

absl::StatusOr<int> Check(const Invocation& invocation, client::Client& client, std::ostream& out) {
  SOP_ASSIGN_OR_RETURN(const v1::CheckTargetingResponse response,
                       client.CheckTargeting(invocation.name));
  SOP_RETURN_IF_ERROR(Print(invocation, response, FormatTies(response.ties()), out));
  return invocation.fail_on_ties && response.ties_size() > 0 ? kExitTiesFound : kExitOk;
}

absl::Status Lookup(const Invocation& invocation, client::Client& client, std::ostream& out) {
  SOP_ASSIGN_OR_RETURN(const v1::LookupSopsResponse response, client.LookupSops(invocation.lookup));
  std::string text = FormatLookup(response, absl::Now());
  if (invocation.lookup.include_near_misses()) {
    absl::StrAppend(&text, FormatNearMisses(response.near_misses()));
  }
  return Print(invocation, response, text, out);
}

// audit verify: the saved head of --head-file, if any, is what the chain
// must still hold. Not intact: the verdict is printed and the exit is 1.
absl::StatusOr<int> VerifyAudit(const Invocation& invocation, client::Client& client,
                                std::ostream& out) {
  v1::VerifyAuditLogRequest request = invocation.verify_audit;
  if (!invocation.audit_head_file.empty()) {
    absl::StatusOr<std::string> contents = ReadFileContents(invocation.audit_head_file);
    if (!contents.ok()) {
      return absl::Status(contents.status().code(),
                          absl::StrCat("--head-file: cannot read \"", invocation.audit_head_file,
                                       "\": ", contents.status().message()));
    }
    const auto parsed =
        google::protobuf::util::JsonStringToMessage(*contents, request.mutable_expected_head());
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--head-file: \"", invocation.audit_head_file,
                       "\" is not an audit head as \"sopctl audit head -o json\" prints it: ",
                       parsed.message().ToString()));
    }
  }
  SOP_ASSIGN_OR_RETURN(const v1::VerifyAuditLogResponse response, client.VerifyAuditLog(request));
  SOP_RETURN_IF_ERROR(Print(invocation, response, FormatAuditVerification(response), out));
  return response.intact() ? kExitOk : kExitFailed;
}

// templates apply: every template of the files, created, updated (by
// etag) or left as it is. A file with problems: each on its own line on
// `err`, nothing sent, kExitFailed.
absl::StatusOr<int> ApplyTemplates(const Invocation& invocation, client::Client& client,
                                   std::ostream& out, std::ostream& err) {
  std::vector<SopTemplateFile> files;
  bool failed = false;
  for (const std::string& path : invocation.template_files) {
    absl::StatusOr<std::vector<SopTemplateFile>> loaded = LoadSopTemplateFiles(path);
    if (!loaded.ok()) {
      for (absl::string_view line : absl::StrSplit(loaded.status().message(), '\n')) {
        err << TextLine(line);
      }
      failed = true;
      continue;
    }
    for (SopTemplateFile& file : *loaded) files.push_back(std::move(file));
  }
  if (failed) return kExitFailed;
  const std::string org = invocation.global.org;
  for (const SopTemplateFile& file : files) {
    const std::string name =
        file.tmpl.name().empty() ? TemplateName{org, file.template_id}.Full() : file.tmpl.name();
    v1::SopTemplate wanted = file.tmpl;
    wanted.set_name(name);
    wanted.clear_etag();
    wanted.clear_create_time();
    wanted.clear_update_time();
    v1::GetTemplateRequest get;
    get.set_name(name);
    absl::StatusOr<v1::SopTemplate> current = client.GetTemplate(get);
    if (current.status().code() == absl::StatusCode::kNotFound) {
      SOP_ASSIGN_OR_RETURN(TemplateName parsed, ParseTemplateName("name", name));
      v1::CreateTemplateRequest create;
      create.set_parent(OrgName(parsed.org));
      create.set_template_id(parsed.template_id);
      *create.mutable_template_() = wanted;
      SOP_ASSIGN_OR_RETURN(const v1::SopTemplate created, client.CreateTemplate(create));
      out << TextLine(absl::StrCat("created ", created.name()));
      continue;
    }
    SOP_RETURN_IF_ERROR(current.status());
    v1::SopTemplate stored = *current;
    stored.clear_etag();
    stored.clear_create_time();
    stored.clear_update_time();
    if (stored.SerializeAsString() == wanted.SerializeAsString()) {
      out << TextLine(absl::StrCat("unchanged ", name));
      continue;
    }
    v1::UpdateTemplateRequest update;
    *update.mutable_template_() = wanted;
    update.mutable_template_()->set_etag(current->etag());
    SOP_ASSIGN_OR_RETURN(const v1::SopTemplate updated, client.UpdateTemplate(update));
    out << TextLine(absl::StrCat("updated ", updated.name()));
  }
  return kExitOk;
}

// The name a command acted on, as "<verb> <name>".
std::string Did(absl::string_view verb, const v1::Sop& sop) {
  std::string line = absl::StrCat(verb, " ", sop.name());
  const std::string review = FormatReviewState(sop);
  if (!review.empty()) absl::StrAppend(&line, ": ", review);
  return TextLine(line);
}

// lookup --watch: prints each result of the watch as Lookup prints one, the
// later ones after a "--- updated <UTC time>" line (in text mode), flushing
// each at once (stdout may be a pipe). Runs until the stream ends: its
// status (OK when sopd ended it normally). Heartbeats print nothing.
absl::Status WatchLookup(const Invocation& invocation, client::Client& client, std::ostream& out) {
  v1::WatchSopsRequest request;
  *request.mutable_context() = invocation.lookup.context();
  request.set_max_results(invocation.lookup.max_results());
  bool first = true;
  absl::Status printed;
  const absl::Status ended = client.WatchSops(request, [&](const v1::WatchSopsResponse& message) {
    if (!message.has_result()) return true;
    const absl::Time now = absl::Now();
    if (!first && invocation.global.output == OutputFormat::kText) {
      out << "--- updated " << absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", now, absl::UTCTimeZone())
          << "\n";
    }
    first = false;
    printed = Print(invocation, message.result(), FormatLookup(message.result(), now), out);
    out.flush();
    return printed.ok();
  });
  SOP_RETURN_IF_ERROR(printed);
  return ended;
}

// The view a list asks for: tables show no SOP body, JSON output prints
// every field of what the server returns.
v1::SopView BodyView(const Invocation& invocation) {
  return invocation.global.output == OutputFormat::kJson ? v1::SOP_VIEW_FULL : v1::SOP_VIEW_BASIC;
}

absl::StatusOr<int> Run(const Invocation& invocation, client::Client& client, std::ostream& out,
                        std::ostream& err) {
  const std::string& name = invocation.name;
  switch (invocation.command) {
    case Command::kLookup:
      if (invocation.watch) return ExitStatus(WatchLookup(invocation, client, out));
      return ExitStatus(Lookup(invocation, client, out));
    case Command::kGet: {
      if (!invocation.revision.empty()) {
        v1::GetSopRevisionRequest request;
        request.set_name(invocation.revision);
        SOP_ASSIGN_OR_RETURN(const v1::SopRevision revision, client.GetSopRevision(request));
        std::string text = FormatRevisions({revision});
        absl::StrAppend(&text, "\n", FormatSop(revision.snapshot()));
        return ExitStatus(Print(invocation, revision, text, out));
      }
      SOP_ASSIGN_OR_RETURN(const v1::Sop sop, client.GetSop(name));
      return ExitStatus(Print(invocation, sop, FormatSop(sop), out));
    }
    case Command::kSubmit: {
      SOP_ASSIGN_OR_RETURN(const v1::Sop sop, client.SubmitSop(invocation.submit));
      return ExitStatus(Print(invocation, sop, Did("submitted", sop), out));
    }
    case Command::kApprove: {
      SOP_ASSIGN_OR_RETURN(const v1::Sop sop, client.ApproveSop(invocation.approve));
      return ExitStatus(Print(invocation, sop, Did("approved", sop), out));
    }
    case Command::kReject: {
      SOP_ASSIGN_OR_RETURN(const v1::Sop sop, client.RejectSop(invocation.reject));
      return ExitStatus(Print(invocation, sop, Did("rejected", sop), out));
    }
    case Command::kDraft: {
      SOP_ASSIGN_OR_RETURN(const v1::DraftSopResponse drafted,
                           client.DraftSop(invocation.draft_sop));
      // stdout is the SOP file alone; what happened goes to stderr.
      out << SopToYaml(drafted.sop());
      err << (invocation.draft_sop.validate_only()
                  ? absl::StrCat("drafted by the ", drafted.drafter(),
                                 " drafter (--dry-run: not saved)\n")
                  : absl::StrCat("drafted by the ", drafted.drafter(), " drafter; saved as DRAFT ",
                                 drafted.sop().name(), ": review it, then \"sopctl submit\"\n"));
      return kExitOk;
    }
    case Command::kSearch: {
      SOP_ASSIGN_OR_RETURN(const v1::SearchSopsResponse found,
                           client.SearchSops(invocation.search));
      return ExitStatus(
          Print(invocation, found, FormatSearchResults(found, invocation.color), out));
    }
    case Command::kDiff: {
      SOP_ASSIGN_OR_RETURN(const v1::SopDiff diff, client.DiffSopRevisions(invocation.diff));
      return ExitStatus(Print(invocation, diff, FormatSopDiff(diff, invocation.color), out));
    }
    case Command::kRestore: {
      SOP_ASSIGN_OR_RETURN(const v1::Sop sop, client.RestoreSopRevision(invocation.restore));
      return ExitStatus(
          Print(invocation, sop,
                TextLine(absl::StrCat("restored ", invocation.restore.name(), " as draft rev ",
                                      sop.revision_id(), " of ", sop.name())),
                out));
    }
    case Command::kReviewed: {
      SOP_ASSIGN_OR_RETURN(const v1::Sop sop, client.MarkSopReviewed(invocation.reviewed));
      std::string line = absl::StrCat("reviewed ", sop.name());
      if (sop.has_next_review_time()) {
        absl::StrAppend(&line, "; next review ", FormatTimestamp(sop.next_review_time()));
      }
      return ExitStatus(Print(invocation, sop, TextLine(line), out));
    }
    case Command::kReviewsDue: {
      SOP_ASSIGN_OR_RETURN(std::vector<v1::Sop> sops,
                           client.ListAllDueReviews(invocation.due_reviews));
      v1::ListDueReviewsResponse all;
      for (v1::Sop& sop : sops) *all.add_sops() = std::move(sop);
      return ExitStatus(Print(invocation, all,
                              FormatDueReviews({all.sops().begin(), all.sops().end()}, absl::Now()),
                              out));
    }
    case Command::kCommentAdd: {
      SOP_ASSIGN_OR_RETURN(const v1::Comment comment, client.AddComment(invocation.add_comment));
      return ExitStatus(
          Print(invocation, comment, TextLine(absl::StrCat("added ", comment.name())), out));
    }
    case Command::kCommentList: {
      SOP_ASSIGN_OR_RETURN(std::vector<v1::Comment> comments,
                           client.ListAllComments(invocation.list_comments));
      v1::ListCommentsResponse all;
      for (v1::Comment& comment : comments) *all.add_comments() = std::move(comment);
      return ExitStatus(Print(invocation, all,
                              FormatComments({all.comments().begin(), all.comments().end()}), out));
    }
    case Command::kCommentResolve: {
      v1::ResolveCommentRequest request;
      request.set_name(name);
      SOP_ASSIGN_OR_RETURN(const v1::Comment comment, client.ResolveComment(request));
      return ExitStatus(
          Print(invocation, comment, TextLine(absl::StrCat("resolved ", comment.name())), out));
    }
    case Command::kAuditList: {
      SOP_ASSIGN_OR_RETURN(std::vector<v1::AuditEvent> events,
                           client.ListAllAuditEvents(invocation.list_audit));
      v1::ListAuditEventsResponse all;
      for (v1::AuditEvent& event : events) *all.add_events() = std::move(event);
      return ExitStatus(Print(invocation, all,
                              FormatAuditEvents({all.events().begin(), all.events().end()}), out));
    }
    case Command::kAuditVerify:
      return VerifyAudit(invocation, client, out);
    case Command::kAuditHead: {
      SOP_ASSIGN_OR_RETURN(const v1::AuditHead head, client.GetAuditHead(invocation.audit_head));
      return ExitStatus(Print(invocation, head, FormatAuditHead(head), out));
    }
    case Command::kAnalyticsSla: {
      v1::GetSlaReportRequest request;
      *request.mutable_query() = invocation.report;
      SOP_ASSIGN_OR_RETURN(const v1::SlaReport report, client.GetSlaReport(request));
      return ExitStatus(
          PrintReport(invocation, report, SlaReportRows(report, GroupBy(invocation)), out, err));
    }
    case Command::kAnalyticsCodes: {
      v1::GetCodeReportRequest request;
      *request.mutable_query() = invocation.report;
      SOP_ASSIGN_OR_RETURN(const v1::CodeReport report, client.GetCodeReport(request));
      return ExitStatus(
          PrintReport(invocation, report, CodeReportRows(report, GroupBy(invocation)), out, err));
    }
    case Command::kAnalyticsUsage: {
      v1::GetUsageReportRequest request;
      *request.mutable_query() = invocation.report;
      SOP_ASSIGN_OR_RETURN(const v1::UsageReport report, client.GetUsageReport(request));
      return ExitStatus(
          PrintReport(invocation, report, UsageReportRows(report, GroupBy(invocation)), out, err));
    }
    case Command::kAnalyticsCoverage: {
      v1::GetCoverageReportRequest request;
      *request.mutable_query() = invocation.report;
      SOP_ASSIGN_OR_RETURN(const v1::CoverageReport report, client.GetCoverageReport(request));
      return ExitStatus(PrintReport(invocation, report,
                                    CoverageReportRows(report, GroupBy(invocation)), out, err));
    }
    case Command::kList: {
      v1::ListSopsRequest request = invocation.list;
      request.set_view(BodyView(invocation));
      SOP_ASSIGN_OR_RETURN(std::vector<v1::Sop> sops, client.ListAllSops(std::move(request)));
      v1::ListSopsResponse all;
      for (v1::Sop& sop : sops) *all.add_sops() = std::move(sop);
      return ExitStatus(
          Print(invocation, all, FormatSopTable({all.sops().begin(), all.sops().end()}), out));
    }
    case Command::kHistory: {
      v1::ListSopRevisionsRequest request;
      request.set_name(name);
      request.set_view(BodyView(invocation));
      SOP_ASSIGN_OR_RETURN(std::vector<v1::SopRevision> revisions,
                           client.ListAllSopRevisions(request));
      v1::ListSopRevisionsResponse all;
      for (v1::SopRevision& r : revisions) *all.add_revisions() = std::move(r);
      return ExitStatus(Print(
          invocation, all, FormatRevisions({all.revisions().begin(), all.revisions().end()}), out));
    }
    case Command::kApply:
      return Apply(invocation, client, out, err);
    case Command::kValidate:
      return Validate(invocation, out, err);
    case Command::kPublish:
      return ExitStatus(Publish(invocation, client, out, err));
    case Command::kCheck:
      return Check(invocation, client, out);
    case Command::kDelete: {
      v1::DeleteSopRequest request;
      request.set_name(name);
      SOP_ASSIGN_OR_RETURN(const v1::Sop sop, client.DeleteSop(request));
      return ExitStatus(
          Print(invocation, sop, TextLine(absl::StrCat("deleted ", sop.name())), out));
    }
    case Command::kUndelete: {
      v1::UndeleteSopRequest request;
      request.set_name(name);
      SOP_ASSIGN_OR_RETURN(const v1::Sop sop, client.UndeleteSop(request));
      return ExitStatus(
          Print(invocation, sop, TextLine(absl::StrCat("undeleted ", sop.name())), out));
    }
    case Command::kDiagram:
      return Diagram(invocation, &client, out, err);
    case Command::kPreview:
      return Preview(invocation, client, out, err);
    case Command::kTemplatesList: {
      SOP_ASSIGN_OR_RETURN(std::vector<v1::SopTemplate> templates,
                           client.ListAllTemplates(invocation.list_templates));
      v1::ListTemplatesResponse all;
      for (v1::SopTemplate& t : templates) *all.add_templates() = std::move(t);
      return ExitStatus(Print(invocation, all,
                              FormatTemplateTable({all.templates().begin(), all.templates().end()}),
                              out));
    }
    case Command::kTemplatesGet: {
      v1::GetTemplateRequest request;
      request.set_name(name);
      SOP_ASSIGN_OR_RETURN(const v1::SopTemplate tmpl, client.GetTemplate(request));
      return ExitStatus(Print(invocation, tmpl, FormatTemplate(tmpl), out));
    }
    case Command::kTemplatesApply:
      return ApplyTemplates(invocation, client, out, err);
    case Command::kNew: {
      SOP_ASSIGN_OR_RETURN(const v1::Sop sop, client.CreateSop(invocation.create_sop));
      return ExitStatus(
          Print(invocation, sop, absl::StrCat(Did("created", sop), "\n", FormatSop(sop)), out));
    }
    case Command::kAdminBackup: {
      SOP_ASSIGN_OR_RETURN(const WrittenBackup backup, WriteBackup(client, invocation.backup_dest));
      return ExitStatus(Print(invocation, backup.manifest,
                              FormatBackup(invocation.backup_dest, backup.manifest, backup.elapsed),
                              out));
    }
    case Command::kWhoAmI: {
      SOP_ASSIGN_OR_RETURN(const v1::WhoAmIResponse who, client.WhoAmI(v1::WhoAmIRequest()));
      return ExitStatus(Print(invocation, who, FormatWhoAmI(who), out));
    }
    case Command::kTokenCreate:
      return ExitStatus(CreateToken(invocation, client, out, err));
    case Command::kTokenList: {
      SOP_ASSIGN_OR_RETURN(std::vector<v1::Token> tokens,
                           client.ListAllTokens(invocation.list_tokens));
      v1::ListTokensResponse all;
      for (v1::Token& token : tokens) *all.add_tokens() = std::move(token);
      return ExitStatus(
          Print(invocation, all,
                FormatTokenTable({all.tokens().begin(), all.tokens().end()}, absl::Now()), out));
    }
    case Command::kTokenGet: {
      SOP_ASSIGN_OR_RETURN(const v1::Token token, client.GetToken(name));
      return ExitStatus(Print(invocation, token, FormatTokenTable({token}, absl::Now()), out));
    }
    case Command::kTokenRevoke: {
      SOP_ASSIGN_OR_RETURN(const v1::Token token, client.RevokeToken(name));
      return ExitStatus(
          Print(invocation, token, TextLine(absl::StrCat("revoked ", token.name())), out));
    }
    case Command::kOrgCreate: {
      SOP_ASSIGN_OR_RETURN(const v1::Org org, client.CreateOrg(invocation.create_org));
      return ExitStatus(
          Print(invocation, org, TextLine(absl::StrCat("created ", org.name())), out));
    }
    case Command::kOrgList: {
      SOP_ASSIGN_OR_RETURN(std::vector<v1::Org> orgs, client.ListAllOrgs(v1::ListOrgsRequest()));
      v1::ListOrgsResponse all;
      for (v1::Org& org : orgs) *all.add_orgs() = std::move(org);
      return ExitStatus(
          Print(invocation, all, FormatOrgTable({all.orgs().begin(), all.orgs().end()}), out));
    }
    case Command::kOrgGet: {
      SOP_ASSIGN_OR_RETURN(const v1::Org org, client.GetOrg(name));
      return ExitStatus(Print(invocation, org, FormatOrgTable({org}), out));
    }
    case Command::kRoleMapGet: {
      v1::GetRoleMapRequest request;
      request.set_name(name);
      SOP_ASSIGN_OR_RETURN(const v1::RoleMap map, client.GetRoleMap(request));
      return ExitStatus(Print(invocation, map, FormatRoleMap(map), out));
    }
    case Command::kRoleMapSet: {
      SOP_ASSIGN_OR_RETURN(const v1::RoleMap map, client.UpdateRoleMap(invocation.update_role_map));
      return ExitStatus(Print(invocation, map, FormatRoleMap(map), out));
    }
    case Command::kFieldMapGet: {
      v1::GetFieldMapRequest request;
      request.set_name(name);
      SOP_ASSIGN_OR_RETURN(const v1::FieldMap map, client.GetFieldMap(request));
      return ExitStatus(Print(invocation, map, FormatFieldMap(map), out));
    }
    case Command::kFieldMapSet:
      return SetFieldMap(invocation, client, out, err);
    case Command::kWebhookCreate:
      return ExitStatus(CreateWebhook(invocation, client, out));
    case Command::kWebhookList: {
      v1::ListWebhooksRequest request;
      request.set_parent(OrgName(invocation.global.org));
      request.set_page_size(1000);
      SOP_ASSIGN_OR_RETURN(const v1::ListWebhooksResponse list, client.ListWebhooks(request));
      std::string text;
      for (const v1::Webhook& w : list.webhooks()) text += WebhookLine(w);
      return ExitStatus(Print(invocation, list, text, out));
    }
    case Command::kWebhookGet: {
      v1::GetWebhookRequest request;
      request.set_name(name);
      SOP_ASSIGN_OR_RETURN(const v1::Webhook webhook, client.GetWebhook(request));
      return ExitStatus(Print(invocation, webhook, WebhookLine(webhook), out));
    }
    case Command::kWebhookDelete: {
      v1::DeleteWebhookRequest request;
      request.set_name(name);
      SOP_ASSIGN_OR_RETURN(const v1::DeleteWebhookResponse deleted, client.DeleteWebhook(request));
      return ExitStatus(Print(invocation, deleted, TextLine(absl::StrCat("deleted ", name)), out));
    }
    case Command::kWebhookDeliveries: {
      v1::ListWebhookDeliveriesRequest request;
      request.set_parent(name);
      request.set_dead_only(invocation.dead_only);
      request.set_page_size(1000);
      SOP_ASSIGN_OR_RETURN(const v1::ListWebhookDeliveriesResponse list,
                           client.ListWebhookDeliveries(request));
      return ExitStatus(Print(invocation, list, DeliveryLines(list), out));
    }
    case Command::kWebhookReplay: {
      v1::ReplayWebhookDeliveryRequest request;
      request.set_name(name);
      SOP_ASSIGN_OR_RETURN(const v1::WebhookDelivery delivery,
                           client.ReplayWebhookDelivery(request));
      return ExitStatus(Print(invocation, delivery,
                              TextLine(absl::StrCat("replaying ", delivery.name(), " (replay ",
                                                    delivery.replay_count(), ")")),
                              out));
    }
    case Command::kChanges:
      return ExitStatus(WatchChanges(invocation, client, out));
  }
  return absl::InternalError("unhandled command");
}

absl::StatusOr<int> Preview(const Invocation& invocation, client::Client& client, std::ostream& out,
                            std::ostream& err) {
  const std::string org_name = OrgName(invocation.global.org);
  v1::PreviewTargetingRequest request;
  request.set_parent(org_name);
  if (!invocation.apply_path.empty()) {
    SOP_ASSIGN_OR_RETURN(const std::optional<std::vector<SopFile>> files,
                         LoadFiles(invocation, out, err));
    if (!files.has_value()) return kExitFailed;
    if (files->size() != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(invocation.apply_path, ": expected one SOP file, found ", files->size()));
    }
    *request.mutable_draft() = (*files)[0].sop;
    request.mutable_draft()->set_name(absl::StrCat(org_name, "/sops/", (*files)[0].sop_id));
  } else {
    request.set_sop(invocation.name);
  }
  absl::StatusOr<std::string> contents = ReadFileContents(invocation.records_path);
  if (!contents.ok()) {
    return absl::Status(contents.status().code(),
                        absl::StrCat("cannot read \"", invocation.records_path,
                                     "\": ", contents.status().message()));
  }
  RecordsFileOptions options;
  v1::FieldMap map;
  if (!invocation.records_crm.empty()) {
    v1::GetFieldMapRequest get;
    get.set_name(absl::StrCat(org_name, "/fieldMaps/", invocation.records_crm));
    absl::StatusOr<v1::FieldMap> got = client.GetFieldMap(get);
    options.crm = invocation.records_crm;
    if (got.status().code() == absl::StatusCode::kPermissionDenied) {
      // Managers may preview but not read field maps: sopd maps the columns.
      err << TextLine(absl::StrCat("sopctl: warning: your roles cannot read the ",
                                   invocation.records_crm,
                                   " field map: columns are not checked here, values are sent as "
                                   "they read (numbers, true, false, text) and sopd maps them"));
    } else if (!got.ok()) {
      return absl::Status(got.status().code(), absl::StrCat("--field-map ", invocation.records_crm,
                                                            ": cannot read the org's field map: ",
                                                            got.status().message()));
    }
    if (got.ok()) {
      map = *std::move(got);
      options.field_map = &map;
    }
  }
  absl::StatusOr<std::vector<v1::CrmContext>> records =
      ParseRecordsFile(invocation.records_path, *contents, options);
  if (!records.ok()) {
    err << TextLine(records.status().message());
    return kExitFailed;
  }
  for (v1::CrmContext& record : *records) *request.add_records() = std::move(record);
  SOP_ASSIGN_OR_RETURN(const v1::PreviewTargetingResponse response,
                       client.PreviewTargeting(request));
  return ExitStatus(Print(invocation, response, FormatPreview(response), out));
}

}  // namespace

int RunCommand(const Invocation& invocation, client::Client& client, std::ostream& out,
               std::ostream& err) {
  // Every call needs a token: saying so beats the server's UNAUTHENTICATED.
  if (!RunsOffline(invocation) && invocation.global.token.empty() &&
      invocation.global.token_file.empty()) {
    err << TextLine(absl::StrCat("sopctl: no access token: ", kPassTokenHint));
    return kExitUsage;
  }
  const absl::StatusOr<int> exit_status = Run(invocation, client, out, err);
  return exit_status.ok() ? *exit_status : Failed(exit_status.status(), err);
}

bool RunsOffline(const Invocation& invocation) {
  return invocation.command == Command::kValidate ||
         (invocation.command == Command::kDiagram && !invocation.apply_path.empty());
}

int RunOffline(const Invocation& invocation, std::ostream& out, std::ostream& err) {
  const absl::StatusOr<int> exit_status = invocation.command == Command::kDiagram
                                              ? Diagram(invocation, nullptr, out, err)
                                              : Validate(invocation, out, err);
  return exit_status.ok() ? *exit_status : Failed(exit_status.status(), err);
}

}  // namespace sopsidebar::cli
