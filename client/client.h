// The C++ client of sopd.
//
//   ConnectionOptions options;
//   options.target = "sopd.example.com:443";
//   options.token = token;  // Sent as `authorization: Bearer ...`.
//   options.tls.enabled = true;
//   Client client(MakeGrpcConnection(options));
//   absl::StatusOr<v1::Sop> sop = client.GetSop("orgs/default/sops/mql-handoff");
#ifndef SOPSIDEBAR_CLIENT_CLIENT_H_
#define SOPSIDEBAR_CLIENT_CLIENT_H_

#include <functional>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/connection.h"
#include "sopsidebar/v1/admin_service.pb.h"
#include "sopsidebar/v1/analytics_service.pb.h"
#include "sopsidebar/v1/authoring_service.pb.h"
#include "sopsidebar/v1/context_service.pb.h"
#include "sopsidebar/v1/sop.pb.h"
#include "sopsidebar/v1/sop_service.pb.h"
#include "sopsidebar/v1/template_service.pb.h"

namespace sopsidebar::client {

// One method per RPC, plus conveniences. A cheap value: copies share the
// Connection. Thread-safe when the Connection is (MakeGrpcConnection's is).
// Errors are those of the RPC (see sop_service.proto, admin_service.proto and
// Connection).
class Client {
 public:
  explicit Client(std::shared_ptr<Connection> connection);

  absl::StatusOr<v1::Sop> CreateSop(const v1::CreateSopRequest& request);
  absl::StatusOr<v1::Sop> GetSop(const v1::GetSopRequest& request);
  absl::StatusOr<v1::ListSopsResponse> ListSops(const v1::ListSopsRequest& request);
  absl::StatusOr<v1::Sop> UpdateSop(const v1::UpdateSopRequest& request);
  absl::StatusOr<v1::Sop> DeleteSop(const v1::DeleteSopRequest& request);
  absl::StatusOr<v1::Sop> UndeleteSop(const v1::UndeleteSopRequest& request);
  absl::StatusOr<v1::ListSopRevisionsResponse> ListSopRevisions(
      const v1::ListSopRevisionsRequest& request);
  absl::StatusOr<v1::SopRevision> GetSopRevision(const v1::GetSopRevisionRequest& request);
  absl::StatusOr<v1::PublishSopResponse> PublishSop(const v1::PublishSopRequest& request);
  absl::StatusOr<v1::CheckTargetingResponse> CheckTargeting(
      const v1::CheckTargetingRequest& request);
  absl::StatusOr<v1::LookupSopsResponse> LookupSops(const v1::LookupSopsRequest& request);
  // Blocks, calling `on_message` with each message of the stream until it
  // returns false (then returns OK) or the stream ends (then returns its
  // status); see Connection::WatchSops. Retried like reads only until the
  // first message arrives; a stream sopd ends with `reconnect` (shutting
  // down) is opened again, and the caller sees only the results.
  absl::Status WatchSops(const v1::WatchSopsRequest& request,
                         const std::function<bool(const v1::WatchSopsResponse&)>& on_message);

  // See Connection::CreateBackup; sopctl's WriteBackup (client/cli) writes
  // the stream to a directory.
  absl::Status CreateBackup(const v1::CreateBackupRequest& request,
                            const std::function<bool(const v1::CreateBackupResponse&)>& on_message);

  absl::StatusOr<v1::WhoAmIResponse> WhoAmI(const v1::WhoAmIRequest& request);
  absl::StatusOr<v1::CreateTokenResponse> CreateToken(const v1::CreateTokenRequest& request);
  absl::StatusOr<v1::ListTokensResponse> ListTokens(const v1::ListTokensRequest& request);
  absl::StatusOr<v1::Token> GetToken(const v1::GetTokenRequest& request);
  absl::StatusOr<v1::Token> RevokeToken(const v1::RevokeTokenRequest& request);
  absl::StatusOr<v1::Org> CreateOrg(const v1::CreateOrgRequest& request);
  absl::StatusOr<v1::ListOrgsResponse> ListOrgs(const v1::ListOrgsRequest& request);
  absl::StatusOr<v1::Org> GetOrg(const v1::GetOrgRequest& request);
  absl::StatusOr<v1::PingResponse> Ping(const v1::PingRequest& request);
  absl::StatusOr<v1::RoleMap> GetRoleMap(const v1::GetRoleMapRequest& request);
  absl::StatusOr<v1::RoleMap> UpdateRoleMap(const v1::UpdateRoleMapRequest& request);
  absl::StatusOr<v1::FieldMap> GetFieldMap(const v1::GetFieldMapRequest& request);
  absl::StatusOr<v1::FieldMap> UpdateFieldMap(const v1::UpdateFieldMapRequest& request);

  // Review, comments and the audit trail, sent with Connection::CallUnary;
  // retried as RetryOptions says (DiffSopRevisions, ListDueReviews,
  // ListComments, ListAuditEvents, VerifyAuditLog and GetAuditHead are
  // reads). Errors as the RPC's (sop_service.proto, admin_service.proto);
  // UNIMPLEMENTED from a sopd that predates them.
  absl::StatusOr<v1::Sop> SubmitSop(const v1::SubmitSopRequest& request);
  absl::StatusOr<v1::Sop> ApproveSop(const v1::ApproveSopRequest& request);
  absl::StatusOr<v1::Sop> RejectSop(const v1::RejectSopRequest& request);
  absl::StatusOr<v1::SopDiff> DiffSopRevisions(const v1::DiffSopRevisionsRequest& request);
  absl::StatusOr<v1::Sop> RestoreSopRevision(const v1::RestoreSopRevisionRequest& request);
  absl::StatusOr<v1::Sop> MarkSopReviewed(const v1::MarkSopReviewedRequest& request);
  absl::StatusOr<v1::ListDueReviewsResponse> ListDueReviews(
      const v1::ListDueReviewsRequest& request);
  absl::StatusOr<v1::Comment> AddComment(const v1::AddCommentRequest& request);
  absl::StatusOr<v1::ListCommentsResponse> ListComments(const v1::ListCommentsRequest& request);
  // Full-text search; a read, retried as RetryOptions says. Errors as
  // SopService.SearchSops'; UNIMPLEMENTED from a sopd without it.
  absl::StatusOr<v1::SearchSopsResponse> SearchSops(const v1::SearchSopsRequest& request);
  // What publishing a draft would change for CRM records; read only, so a
  // read (retried). Errors as SopService.PreviewTargeting's; UNIMPLEMENTED
  // from a sopd without it.
  absl::StatusOr<v1::PreviewTargetingResponse> PreviewTargeting(
      const v1::PreviewTargetingRequest& request);
  absl::StatusOr<v1::Comment> ResolveComment(const v1::ResolveCommentRequest& request);
  absl::StatusOr<v1::ListAuditEventsResponse> ListAuditEvents(
      const v1::ListAuditEventsRequest& request);
  absl::StatusOr<v1::VerifyAuditLogResponse> VerifyAuditLog(
      const v1::VerifyAuditLogRequest& request);
  absl::StatusOr<v1::AuditHead> GetAuditHead(const v1::GetAuditHeadRequest& request);
  absl::StatusOr<v1::Org> UpdateOrg(const v1::UpdateOrgRequest& request);

  // The feedback loop (analytics_service.proto), sent with
  // Connection::CallUnary. RecordEvents is idempotent by event id, so a
  // retry never counts twice.
  absl::StatusOr<v1::RecordEventsResponse> RecordEvents(const v1::RecordEventsRequest& request);
  absl::StatusOr<v1::SlaReport> GetSlaReport(const v1::GetSlaReportRequest& request);
  absl::StatusOr<v1::CodeReport> GetCodeReport(const v1::GetCodeReportRequest& request);
  absl::StatusOr<v1::UsageReport> GetUsageReport(const v1::GetUsageReportRequest& request);
  absl::StatusOr<v1::CoverageReport> GetCoverageReport(const v1::GetCoverageReportRequest& request);
  absl::StatusOr<v1::ValidateTransitionResponse> ValidateTransition(
      const v1::ValidateTransitionRequest& request);

  // Authoring (authoring_service.proto), sent with Connection::CallUnary.
  // GetSopDiagram is retried like reads; DraftSop and ValidateSop are not
  // (a DraftSop retry is safe only with a request_id, which the caller
  // repeats itself).
  absl::StatusOr<v1::SopDiagram> GetSopDiagram(const v1::GetSopDiagramRequest& request);
  absl::StatusOr<v1::DraftSopResponse> DraftSop(const v1::DraftSopRequest& request);
  absl::StatusOr<v1::ValidateSopResponse> ValidateSop(const v1::ValidateSopRequest& request);
  // Events (events_service.proto), sent with Connection::CallUnary; the
  // reads (GetWebhook, ListWebhooks, ListWebhookDeliveries) retried as
  // RetryOptions says. WatchChanges: see Connection::WatchChanges.
  absl::StatusOr<v1::Webhook> CreateWebhook(const v1::CreateWebhookRequest& request);
  absl::StatusOr<v1::Webhook> GetWebhook(const v1::GetWebhookRequest& request);
  absl::StatusOr<v1::ListWebhooksResponse> ListWebhooks(const v1::ListWebhooksRequest& request);
  absl::StatusOr<v1::DeleteWebhookResponse> DeleteWebhook(const v1::DeleteWebhookRequest& request);
  absl::StatusOr<v1::ListWebhookDeliveriesResponse> ListWebhookDeliveries(
      const v1::ListWebhookDeliveriesRequest& request);
  absl::StatusOr<v1::WebhookDelivery> ReplayWebhookDelivery(
      const v1::ReplayWebhookDeliveryRequest& request);
  absl::Status WatchChanges(const v1::WatchChangesRequest& request,
                            const std::function<bool(const v1::ChangeEvent&)>& on_message);
  // SOP templates (template_service.proto), sent with Connection::CallUnary;
  // Get and List are reads. Errors as the RPC's; UNIMPLEMENTED from a sopd
  // that predates them.
  absl::StatusOr<v1::SopTemplate> CreateTemplate(const v1::CreateTemplateRequest& request);
  absl::StatusOr<v1::SopTemplate> GetTemplate(const v1::GetTemplateRequest& request);
  absl::StatusOr<v1::ListTemplatesResponse> ListTemplates(const v1::ListTemplatesRequest& request);
  absl::StatusOr<v1::SopTemplate> UpdateTemplate(const v1::UpdateTemplateRequest& request);
  absl::StatusOr<v1::DeleteTemplateResponse> DeleteTemplate(
      const v1::DeleteTemplateRequest& request);
  // Every page of ListTemplates, by name; errors as ListAllSops.
  absl::StatusOr<std::vector<v1::SopTemplate>> ListAllTemplates(v1::ListTemplatesRequest request);

  // The SOP named orgs/{org}/sops/{sop}.
  absl::StatusOr<v1::Sop> GetSop(absl::string_view name);
  // Publishes the current draft of orgs/{org}/sops/{sop}, whatever its etag.
  // The response's ties are warnings: the publish happened.
  absl::StatusOr<v1::PublishSopResponse> PublishSop(absl::string_view name);
  // The published SOPs the current draft of orgs/{org}/sops/{sop} would tie
  // with. Retried like reads.
  absl::StatusOr<v1::CheckTargetingResponse> CheckTargeting(absl::string_view name);
  // The token named orgs/{org}/tokens/{token}, without its secret.
  absl::StatusOr<v1::Token> GetToken(absl::string_view name);
  // Revokes the token named orgs/{org}/tokens/{token}.
  absl::StatusOr<v1::Token> RevokeToken(absl::string_view name);
  // The org named orgs/{org}.
  absl::StatusOr<v1::Org> GetOrg(absl::string_view name);
  // Every page of ListSops, starting at request.page_token. INTERNAL when the
  // server hands back the page token it was given (it would never end).
  absl::StatusOr<std::vector<v1::Sop>> ListAllSops(v1::ListSopsRequest request);
  // Every page of ListSopRevisions, newest first; errors as ListAllSops.
  absl::StatusOr<std::vector<v1::SopRevision>> ListAllSopRevisions(
      v1::ListSopRevisionsRequest request);
  // Every page of ListTokens, by name; errors as ListAllSops.
  absl::StatusOr<std::vector<v1::Token>> ListAllTokens(v1::ListTokensRequest request);
  // Every page of ListOrgs, by name; errors as ListAllSops.
  absl::StatusOr<std::vector<v1::Org>> ListAllOrgs(v1::ListOrgsRequest request);
  // Every page of ListDueReviews, soonest first; errors as ListAllSops.
  absl::StatusOr<std::vector<v1::Sop>> ListAllDueReviews(v1::ListDueReviewsRequest request);
  // Every page of ListComments, oldest first; errors as ListAllSops.
  absl::StatusOr<std::vector<v1::Comment>> ListAllComments(v1::ListCommentsRequest request);
  // Every page of ListAuditEvents, oldest first; errors as ListAllSops.
  absl::StatusOr<std::vector<v1::AuditEvent>> ListAllAuditEvents(
      v1::ListAuditEventsRequest request);

 private:
  std::shared_ptr<Connection> connection_;
};

}  // namespace sopsidebar::client

#endif  // SOPSIDEBAR_CLIENT_CLIENT_H_
