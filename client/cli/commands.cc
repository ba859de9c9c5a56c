#include "client/cli/commands.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/cli/format.h"
#include "server/common/ids.h"
#include "server/common/status_macros.h"
#include "server/domain/model/sop_apply.h"
#include "server/domain/model/sop_file.h"

namespace sopsidebar::cli {
namespace {

// Writes `message` as JSON or as `text`, by --output.
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

// sopctl apply's writes go through the client; ApplySopFile decides which.
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
    return client_.UpdateSop(request);
  }
  absl::StatusOr<v1::Sop> Publish(const std::string& name) override {
    return client_.PublishSop(name);
  }

 private:
  client::Client& client_;
};

absl::Status Apply(const Invocation& invocation, client::Client& client, std::ostream& out) {
  // All files are checked before the first call, so a bad file writes nothing.
  SOP_ASSIGN_OR_RETURN(const std::vector<SopFile> files, LoadSopFiles(invocation.apply_path));
  if (files.empty()) {
    out << "no SOP files (*.yaml, *.yml, *.json) in " << invocation.apply_path << "\n";
  }
  ClientApplyTarget target(client);
  ApplyOptions options;
  options.default_org = invocation.global.org;
  options.publish = invocation.publish;
  for (const SopFile& file : files) {
    absl::StatusOr<ApplyResult> result = ApplySopFile(target, file, options);
    if (!result.ok()) {
      return absl::Status(result.status().code(),
                          absl::StrCat(file.path, ": ", result.status().message()));
    }
    out << ApplyActionName(result->action) << " " << result->sop.name() << "\n";
    if (result->published) out << "published " << result->sop.name() << "\n";
  }
  return absl::OkStatus();
}

// The secret goes to `out` alone, so that T=$(sopctl token create ...) keeps
// just the secret; people read the summary on `err`.
absl::Status CreateToken(const Invocation& invocation, client::Client& client, std::ostream& out,
                         std::ostream& err) {
  SOP_ASSIGN_OR_RETURN(const v1::CreateTokenResponse response,
                       client.CreateToken(invocation.create_token));
  if (invocation.global.output == OutputFormat::kJson) {
    return Print(invocation, response, "", out);
  }
  out << response.secret() << "\n";
  err << FormatCreatedToken(response.token());
  return absl::OkStatus();
}

absl::Status Run(const Invocation& invocation, client::Client& client, std::ostream& out,
                 std::ostream& err) {
  const std::string& name = invocation.name;
  switch (invocation.command) {
    case Command::kLookup: {
      SOP_ASSIGN_OR_RETURN(const v1::LookupSopsResponse response,
                           client.LookupSops(invocation.lookup));
      return Print(invocation, response, FormatLookup(response, absl::Now()), out);
    }
    case Command::kGet: {
      SOP_ASSIGN_OR_RETURN(const v1::Sop sop, client.GetSop(name));
      return Print(invocation, sop, FormatSop(sop), out);
    }
    case Command::kList: {
      SOP_ASSIGN_OR_RETURN(std::vector<v1::Sop> sops, client.ListAllSops(invocation.list));
      v1::ListSopsResponse all;
      for (v1::Sop& sop : sops) *all.add_sops() = std::move(sop);
      return Print(invocation, all, FormatSopTable({all.sops().begin(), all.sops().end()}), out);
    }
    case Command::kHistory: {
      v1::ListSopRevisionsRequest request;
      request.set_name(name);
      SOP_ASSIGN_OR_RETURN(std::vector<v1::SopRevision> revisions,
                           client.ListAllSopRevisions(request));
      v1::ListSopRevisionsResponse all;
      for (v1::SopRevision& r : revisions) *all.add_revisions() = std::move(r);
      return Print(invocation, all,
                   FormatRevisions({all.revisions().begin(), all.revisions().end()}), out);
    }
    case Command::kApply:
      return Apply(invocation, client, out);
    case Command::kPublish: {
      SOP_ASSIGN_OR_RETURN(const v1::Sop sop, client.PublishSop(name));
      return Print(
          invocation, sop,
          absl::StrCat("published ", sop.name(), " (rev ", sop.published_revision_id(), ")\n"),
          out);
    }
    case Command::kDelete: {
      v1::DeleteSopRequest request;
      request.set_name(name);
      SOP_ASSIGN_OR_RETURN(const v1::Sop sop, client.DeleteSop(request));
      return Print(invocation, sop, absl::StrCat("deleted ", sop.name(), "\n"), out);
    }
    case Command::kUndelete: {
      v1::UndeleteSopRequest request;
      request.set_name(name);
      SOP_ASSIGN_OR_RETURN(const v1::Sop sop, client.UndeleteSop(request));
      return Print(invocation, sop, absl::StrCat("undeleted ", sop.name(), "\n"), out);
    }
    case Command::kWhoAmI: {
      SOP_ASSIGN_OR_RETURN(const v1::WhoAmIResponse who, client.WhoAmI(v1::WhoAmIRequest()));
      return Print(invocation, who, FormatWhoAmI(who), out);
    }
    case Command::kTokenCreate:
      return CreateToken(invocation, client, out, err);
    case Command::kTokenList: {
      SOP_ASSIGN_OR_RETURN(const v1::ListTokensResponse response,
                           client.ListTokens(invocation.list_tokens));
      return Print(
          invocation, response,
          FormatTokenTable({response.tokens().begin(), response.tokens().end()}, absl::Now()), out);
    }
    case Command::kTokenRevoke: {
      SOP_ASSIGN_OR_RETURN(const v1::Token token, client.RevokeToken(name));
      return Print(invocation, token, absl::StrCat("revoked ", token.name(), "\n"), out);
    }
    case Command::kOrgCreate: {
      SOP_ASSIGN_OR_RETURN(const v1::Org org, client.CreateOrg(invocation.create_org));
      return Print(invocation, org, absl::StrCat("created ", org.name(), "\n"), out);
    }
    case Command::kOrgList: {
      SOP_ASSIGN_OR_RETURN(const v1::ListOrgsResponse response,
                           client.ListOrgs(v1::ListOrgsRequest()));
      return Print(invocation, response,
                   FormatOrgTable({response.orgs().begin(), response.orgs().end()}), out);
    }
  }
  return absl::InternalError("unhandled command");
}

}  // namespace

int RunCommand(const Invocation& invocation, client::Client& client, std::ostream& out,
               std::ostream& err) {
  const absl::Status status = Run(invocation, client, out, err);
  if (status.ok()) return 0;
  err << absl::StatusCodeToString(status.code()) << ": " << status.message() << "\n";
  return 1;
}

}  // namespace sopsidebar::cli
