#include "client/client.h"

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace sopsidebar::client {
namespace {

// Drives a List RPC through its pages; `items` picks the repeated field.
template <typename Item, typename Request, typename List, typename Items>
absl::StatusOr<std::vector<Item>> AllPages(Request request, List list, Items items) {
  std::vector<Item> all;
  for (;;) {
    auto page = list(request);
    if (!page.ok()) return page.status();
    for (auto& item : *items(&*page)) all.push_back(std::move(item));
    if (page->next_page_token().empty()) return all;
    if (page->next_page_token() == request.page_token()) {
      return absl::InternalError(
          absl::StrCat("server returned the same page token \"", request.page_token(), "\" again"));
    }
    request.set_page_token(page->next_page_token());
  }
}

// `method` ("sopsidebar.v1.SopService.SubmitSop") through CallUnary.
template <typename Response>
absl::StatusOr<Response> Unary(Connection& connection, absl::string_view method,
                               const google::protobuf::Message& request) {
  const google::protobuf::MethodDescriptor* descriptor = FindUnaryMethod(method);
  if (descriptor == nullptr) {
    return absl::InternalError(absl::StrCat("no unary method ", method, " in the protos"));
  }
  Response response;
  absl::Status status = connection.CallUnary(*descriptor, request, &response);
  if (!status.ok()) return status;
  return response;
}

constexpr absl::string_view kSopService = "sopsidebar.v1.SopService.";
constexpr absl::string_view kAdminService = "sopsidebar.v1.AdminService.";
constexpr absl::string_view kAnalyticsService = "sopsidebar.v1.AnalyticsService.";
constexpr absl::string_view kAuthoringService = "sopsidebar.v1.AuthoringService.";
constexpr absl::string_view kEventService = "sopsidebar.v1.EventService.";
constexpr absl::string_view kTemplateService = "sopsidebar.v1.TemplateService.";

}  // namespace

Client::Client(std::shared_ptr<Connection> connection) : connection_(std::move(connection)) {}

absl::StatusOr<v1::SopTemplate> Client::CreateTemplate(const v1::CreateTemplateRequest& request) {
  return Unary<v1::SopTemplate>(*connection_, absl::StrCat(kTemplateService, "CreateTemplate"),
                                request);
}
absl::StatusOr<v1::SopTemplate> Client::GetTemplate(const v1::GetTemplateRequest& request) {
  return Unary<v1::SopTemplate>(*connection_, absl::StrCat(kTemplateService, "GetTemplate"),
                                request);
}
absl::StatusOr<v1::ListTemplatesResponse> Client::ListTemplates(
    const v1::ListTemplatesRequest& request) {
  return Unary<v1::ListTemplatesResponse>(*connection_,
                                          absl::StrCat(kTemplateService, "ListTemplates"), request);
}
absl::StatusOr<v1::SopTemplate> Client::UpdateTemplate(const v1::UpdateTemplateRequest& request) {
  return Unary<v1::SopTemplate>(*connection_, absl::StrCat(kTemplateService, "UpdateTemplate"),
                                request);
}
absl::StatusOr<v1::DeleteTemplateResponse> Client::DeleteTemplate(
    const v1::DeleteTemplateRequest& request) {
  return Unary<v1::DeleteTemplateResponse>(
      *connection_, absl::StrCat(kTemplateService, "DeleteTemplate"), request);
}
absl::StatusOr<std::vector<v1::SopTemplate>> Client::ListAllTemplates(
    v1::ListTemplatesRequest request) {
  return AllPages<v1::SopTemplate>(
      std::move(request), [this](const auto& r) { return ListTemplates(r); },
      [](v1::ListTemplatesResponse* page) { return page->mutable_templates(); });
}

absl::StatusOr<v1::Sop> Client::CreateSop(const v1::CreateSopRequest& request) {
  return connection_->CreateSop(request);
}
absl::StatusOr<v1::Sop> Client::GetSop(const v1::GetSopRequest& request) {
  return connection_->GetSop(request);
}
absl::StatusOr<v1::ListSopsResponse> Client::ListSops(const v1::ListSopsRequest& request) {
  return connection_->ListSops(request);
}
absl::StatusOr<v1::Sop> Client::UpdateSop(const v1::UpdateSopRequest& request) {
  return connection_->UpdateSop(request);
}
absl::StatusOr<v1::Sop> Client::DeleteSop(const v1::DeleteSopRequest& request) {
  return connection_->DeleteSop(request);
}
absl::StatusOr<v1::Sop> Client::UndeleteSop(const v1::UndeleteSopRequest& request) {
  return connection_->UndeleteSop(request);
}
absl::StatusOr<v1::ListSopRevisionsResponse> Client::ListSopRevisions(
    const v1::ListSopRevisionsRequest& request) {
  return connection_->ListSopRevisions(request);
}
absl::StatusOr<v1::SopRevision> Client::GetSopRevision(const v1::GetSopRevisionRequest& request) {
  return connection_->GetSopRevision(request);
}
absl::StatusOr<v1::PublishSopResponse> Client::PublishSop(const v1::PublishSopRequest& request) {
  return connection_->PublishSop(request);
}
absl::StatusOr<v1::CheckTargetingResponse> Client::CheckTargeting(
    const v1::CheckTargetingRequest& request) {
  return connection_->CheckTargeting(request);
}
absl::StatusOr<v1::LookupSopsResponse> Client::LookupSops(const v1::LookupSopsRequest& request) {
  return connection_->LookupSops(request);
}

absl::Status Client::WatchSops(
    const v1::WatchSopsRequest& request,
    const std::function<bool(const v1::WatchSopsResponse&)>& on_message) {
  return connection_->WatchSops(request, on_message);
}
absl::Status Client::CreateBackup(
    const v1::CreateBackupRequest& request,
    const std::function<bool(const v1::CreateBackupResponse&)>& on_message) {
  return connection_->CreateBackup(request, on_message);
}
absl::StatusOr<v1::WhoAmIResponse> Client::WhoAmI(const v1::WhoAmIRequest& request) {
  return connection_->WhoAmI(request);
}
absl::StatusOr<v1::CreateTokenResponse> Client::CreateToken(const v1::CreateTokenRequest& request) {
  return connection_->CreateToken(request);
}
absl::StatusOr<v1::ListTokensResponse> Client::ListTokens(const v1::ListTokensRequest& request) {
  return connection_->ListTokens(request);
}
absl::StatusOr<v1::Token> Client::GetToken(const v1::GetTokenRequest& request) {
  return connection_->GetToken(request);
}
absl::StatusOr<v1::Token> Client::RevokeToken(const v1::RevokeTokenRequest& request) {
  return connection_->RevokeToken(request);
}
absl::StatusOr<v1::Org> Client::CreateOrg(const v1::CreateOrgRequest& request) {
  return connection_->CreateOrg(request);
}
absl::StatusOr<v1::ListOrgsResponse> Client::ListOrgs(const v1::ListOrgsRequest& request) {
  return connection_->ListOrgs(request);
}
absl::StatusOr<v1::Org> Client::GetOrg(const v1::GetOrgRequest& request) {
  return connection_->GetOrg(request);
}
absl::StatusOr<v1::RoleMap> Client::GetRoleMap(const v1::GetRoleMapRequest& request) {
  return connection_->GetRoleMap(request);
}
absl::StatusOr<v1::RoleMap> Client::UpdateRoleMap(const v1::UpdateRoleMapRequest& request) {
  return connection_->UpdateRoleMap(request);
}
absl::StatusOr<v1::FieldMap> Client::GetFieldMap(const v1::GetFieldMapRequest& request) {
  return connection_->GetFieldMap(request);
}
absl::StatusOr<v1::FieldMap> Client::UpdateFieldMap(const v1::UpdateFieldMapRequest& request) {
  return connection_->UpdateFieldMap(request);
}
absl::StatusOr<v1::PingResponse> Client::Ping(const v1::PingRequest& request) {
  return connection_->Ping(request);
}

absl::StatusOr<v1::PreviewTargetingResponse> Client::PreviewTargeting(
    const v1::PreviewTargetingRequest& request) {
  return Unary<v1::PreviewTargetingResponse>(
      *connection_, absl::StrCat(kSopService, "PreviewTargeting"), request);
}
absl::StatusOr<v1::Sop> Client::SubmitSop(const v1::SubmitSopRequest& request) {
  return Unary<v1::Sop>(*connection_, absl::StrCat(kSopService, "SubmitSop"), request);
}
absl::StatusOr<v1::Sop> Client::ApproveSop(const v1::ApproveSopRequest& request) {
  return Unary<v1::Sop>(*connection_, absl::StrCat(kSopService, "ApproveSop"), request);
}
absl::StatusOr<v1::Sop> Client::RejectSop(const v1::RejectSopRequest& request) {
  return Unary<v1::Sop>(*connection_, absl::StrCat(kSopService, "RejectSop"), request);
}
absl::StatusOr<v1::SopDiff> Client::DiffSopRevisions(const v1::DiffSopRevisionsRequest& request) {
  return Unary<v1::SopDiff>(*connection_, absl::StrCat(kSopService, "DiffSopRevisions"), request);
}
absl::StatusOr<v1::Sop> Client::RestoreSopRevision(const v1::RestoreSopRevisionRequest& request) {
  return Unary<v1::Sop>(*connection_, absl::StrCat(kSopService, "RestoreSopRevision"), request);
}
absl::StatusOr<v1::Sop> Client::MarkSopReviewed(const v1::MarkSopReviewedRequest& request) {
  return Unary<v1::Sop>(*connection_, absl::StrCat(kSopService, "MarkSopReviewed"), request);
}
absl::StatusOr<v1::ListDueReviewsResponse> Client::ListDueReviews(
    const v1::ListDueReviewsRequest& request) {
  return Unary<v1::ListDueReviewsResponse>(*connection_,
                                           absl::StrCat(kSopService, "ListDueReviews"), request);
}
absl::StatusOr<v1::Comment> Client::AddComment(const v1::AddCommentRequest& request) {
  return Unary<v1::Comment>(*connection_, absl::StrCat(kSopService, "AddComment"), request);
}
absl::StatusOr<v1::Webhook> Client::CreateWebhook(const v1::CreateWebhookRequest& request) {
  return Unary<v1::Webhook>(*connection_, absl::StrCat(kEventService, "CreateWebhook"), request);
}
absl::StatusOr<v1::Webhook> Client::GetWebhook(const v1::GetWebhookRequest& request) {
  return Unary<v1::Webhook>(*connection_, absl::StrCat(kEventService, "GetWebhook"), request);
}
absl::StatusOr<v1::ListWebhooksResponse> Client::ListWebhooks(
    const v1::ListWebhooksRequest& request) {
  return Unary<v1::ListWebhooksResponse>(*connection_, absl::StrCat(kEventService, "ListWebhooks"),
                                         request);
}
absl::StatusOr<v1::DeleteWebhookResponse> Client::DeleteWebhook(
    const v1::DeleteWebhookRequest& request) {
  return Unary<v1::DeleteWebhookResponse>(*connection_,
                                          absl::StrCat(kEventService, "DeleteWebhook"), request);
}
absl::StatusOr<v1::ListWebhookDeliveriesResponse> Client::ListWebhookDeliveries(
    const v1::ListWebhookDeliveriesRequest& request) {
  return Unary<v1::ListWebhookDeliveriesResponse>(
      *connection_, absl::StrCat(kEventService, "ListWebhookDeliveries"), request);
}
absl::StatusOr<v1::WebhookDelivery> Client::ReplayWebhookDelivery(
    const v1::ReplayWebhookDeliveryRequest& request) {
  return Unary<v1::WebhookDelivery>(*connection_,
                                    absl::StrCat(kEventService, "ReplayWebhookDelivery"), request);
}
absl::Status Client::WatchChanges(const v1::WatchChangesRequest& request,
                                  const std::function<bool(const v1::ChangeEvent&)>& on_message) {
  return connection_->WatchChanges(request, on_message);
}
absl::StatusOr<v1::SearchSopsResponse> Client::SearchSops(const v1::SearchSopsRequest& request) {
  return Unary<v1::SearchSopsResponse>(*connection_, absl::StrCat(kSopService, "SearchSops"),
                                       request);
}
absl::StatusOr<v1::ListCommentsResponse> Client::ListComments(
    const v1::ListCommentsRequest& request) {
  return Unary<v1::ListCommentsResponse>(*connection_, absl::StrCat(kSopService, "ListComments"),
                                         request);
}
absl::StatusOr<v1::Comment> Client::ResolveComment(const v1::ResolveCommentRequest& request) {
  return Unary<v1::Comment>(*connection_, absl::StrCat(kSopService, "ResolveComment"), request);
}
absl::StatusOr<v1::ListAuditEventsResponse> Client::ListAuditEvents(
    const v1::ListAuditEventsRequest& request) {
  return Unary<v1::ListAuditEventsResponse>(
      *connection_, absl::StrCat(kAdminService, "ListAuditEvents"), request);
}
absl::StatusOr<v1::VerifyAuditLogResponse> Client::VerifyAuditLog(
    const v1::VerifyAuditLogRequest& request) {
  return Unary<v1::VerifyAuditLogResponse>(*connection_,
                                           absl::StrCat(kAdminService, "VerifyAuditLog"), request);
}
absl::StatusOr<v1::AuditHead> Client::GetAuditHead(const v1::GetAuditHeadRequest& request) {
  return Unary<v1::AuditHead>(*connection_, absl::StrCat(kAdminService, "GetAuditHead"), request);
}
absl::StatusOr<v1::Org> Client::UpdateOrg(const v1::UpdateOrgRequest& request) {
  return Unary<v1::Org>(*connection_, absl::StrCat(kAdminService, "UpdateOrg"), request);
}

absl::StatusOr<v1::SopDiagram> Client::GetSopDiagram(const v1::GetSopDiagramRequest& request) {
  return Unary<v1::SopDiagram>(*connection_, absl::StrCat(kAuthoringService, "GetSopDiagram"),
                               request);
}
absl::StatusOr<v1::DraftSopResponse> Client::DraftSop(const v1::DraftSopRequest& request) {
  return Unary<v1::DraftSopResponse>(*connection_, absl::StrCat(kAuthoringService, "DraftSop"),
                                     request);
}
absl::StatusOr<v1::ValidateSopResponse> Client::ValidateSop(const v1::ValidateSopRequest& request) {
  return Unary<v1::ValidateSopResponse>(*connection_,
                                        absl::StrCat(kAuthoringService, "ValidateSop"), request);
}
absl::StatusOr<v1::RecordEventsResponse> Client::RecordEvents(
    const v1::RecordEventsRequest& request) {
  return Unary<v1::RecordEventsResponse>(*connection_,
                                         absl::StrCat(kAnalyticsService, "RecordEvents"), request);
}
absl::StatusOr<v1::SlaReport> Client::GetSlaReport(const v1::GetSlaReportRequest& request) {
  return Unary<v1::SlaReport>(*connection_, absl::StrCat(kAnalyticsService, "GetSlaReport"),
                              request);
}
absl::StatusOr<v1::CodeReport> Client::GetCodeReport(const v1::GetCodeReportRequest& request) {
  return Unary<v1::CodeReport>(*connection_, absl::StrCat(kAnalyticsService, "GetCodeReport"),
                               request);
}
absl::StatusOr<v1::UsageReport> Client::GetUsageReport(const v1::GetUsageReportRequest& request) {
  return Unary<v1::UsageReport>(*connection_, absl::StrCat(kAnalyticsService, "GetUsageReport"),
                                request);
}
absl::StatusOr<v1::CoverageReport> Client::GetCoverageReport(
    const v1::GetCoverageReportRequest& request) {
  return Unary<v1::CoverageReport>(*connection_,
                                   absl::StrCat(kAnalyticsService, "GetCoverageReport"), request);
}
absl::StatusOr<v1::ValidateTransitionResponse> Client::ValidateTransition(
    const v1::ValidateTransitionRequest& request) {
  return Unary<v1::ValidateTransitionResponse>(
      *connection_, "sopsidebar.v1.ContextService.ValidateTransition", request);
}

absl::StatusOr<v1::Sop> Client::GetSop(absl::string_view name) {
  v1::GetSopRequest request;
  request.set_name(std::string(name));
  return GetSop(request);
}

absl::StatusOr<v1::PublishSopResponse> Client::PublishSop(absl::string_view name) {
  v1::PublishSopRequest request;
  request.set_name(std::string(name));
  return PublishSop(request);
}

absl::StatusOr<v1::CheckTargetingResponse> Client::CheckTargeting(absl::string_view name) {
  v1::CheckTargetingRequest request;
  request.set_name(std::string(name));
  return CheckTargeting(request);
}

absl::StatusOr<v1::Token> Client::GetToken(absl::string_view name) {
  v1::GetTokenRequest request;
  request.set_name(std::string(name));
  return GetToken(request);
}

absl::StatusOr<v1::Org> Client::GetOrg(absl::string_view name) {
  v1::GetOrgRequest request;
  request.set_name(std::string(name));
  return GetOrg(request);
}

absl::StatusOr<v1::Token> Client::RevokeToken(absl::string_view name) {
  v1::RevokeTokenRequest request;
  request.set_name(std::string(name));
  return RevokeToken(request);
}

absl::StatusOr<std::vector<v1::Sop>> Client::ListAllSops(v1::ListSopsRequest request) {
  return AllPages<v1::Sop>(
      std::move(request), [this](const v1::ListSopsRequest& r) { return ListSops(r); },
      [](v1::ListSopsResponse* page) { return page->mutable_sops(); });
}

absl::StatusOr<std::vector<v1::SopRevision>> Client::ListAllSopRevisions(
    v1::ListSopRevisionsRequest request) {
  return AllPages<v1::SopRevision>(
      std::move(request),
      [this](const v1::ListSopRevisionsRequest& r) { return ListSopRevisions(r); },
      [](v1::ListSopRevisionsResponse* page) { return page->mutable_revisions(); });
}

absl::StatusOr<std::vector<v1::Token>> Client::ListAllTokens(v1::ListTokensRequest request) {
  return AllPages<v1::Token>(
      std::move(request), [this](const v1::ListTokensRequest& r) { return ListTokens(r); },
      [](v1::ListTokensResponse* page) { return page->mutable_tokens(); });
}

absl::StatusOr<std::vector<v1::Org>> Client::ListAllOrgs(v1::ListOrgsRequest request) {
  return AllPages<v1::Org>(
      std::move(request), [this](const v1::ListOrgsRequest& r) { return ListOrgs(r); },
      [](v1::ListOrgsResponse* page) { return page->mutable_orgs(); });
}

absl::StatusOr<std::vector<v1::Sop>> Client::ListAllDueReviews(v1::ListDueReviewsRequest request) {
  return AllPages<v1::Sop>(
      std::move(request), [this](const v1::ListDueReviewsRequest& r) { return ListDueReviews(r); },
      [](v1::ListDueReviewsResponse* page) { return page->mutable_sops(); });
}

absl::StatusOr<std::vector<v1::Comment>> Client::ListAllComments(v1::ListCommentsRequest request) {
  return AllPages<v1::Comment>(
      std::move(request), [this](const v1::ListCommentsRequest& r) { return ListComments(r); },
      [](v1::ListCommentsResponse* page) { return page->mutable_comments(); });
}

absl::StatusOr<std::vector<v1::AuditEvent>> Client::ListAllAuditEvents(
    v1::ListAuditEventsRequest request) {
  return AllPages<v1::AuditEvent>(
      std::move(request),
      [this](const v1::ListAuditEventsRequest& r) { return ListAuditEvents(r); },
      [](v1::ListAuditEventsResponse* page) { return page->mutable_events(); });
}

}  // namespace sopsidebar::client
