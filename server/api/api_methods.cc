#include "server/api/api_methods.h"

#include <memory>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/errors.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "google/protobuf/message.h"
#include "server/api/api_metrics.h"
#include "server/domain/analytics/analytics.h"
#include "server/domain/authoring/authoring.h"
#include "server/domain/backup/backup_source.h"
#include "server/domain/events/change_events.h"
#include "server/domain/registry/targeting_preview.h"
#include "server/domain/search/sop_search.h"
#include "server/domain/templates/template_registry.h"
#include "sopsidebar/v1/admin_service.pb.h"
#include "sopsidebar/v1/analytics_service.pb.h"
#include "sopsidebar/v1/authoring_service.pb.h"
#include "sopsidebar/v1/context_service.pb.h"
#include "sopsidebar/v1/events_service.pb.h"
#include "sopsidebar/v1/sop_service.pb.h"
#include "sopsidebar/v1/template_service.pb.h"

namespace sopsidebar {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::Message;
using google::protobuf::MethodDescriptor;

const google::protobuf::ServiceDescriptor* FindService(const std::string& name) {
  return google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
}

// The method of the served services whose request is `request`: every
// request message belongs to exactly one method (AIP-136's <Method>Request).
const MethodDescriptor* MethodTaking(const Descriptor* request) {
  for (const std::string& name : ApiMethods::ServiceNames()) {
    const google::protobuf::ServiceDescriptor* service = FindService(name);
    for (int i = 0; service != nullptr && i < service->method_count(); ++i) {
      if (service->method(i)->input_type() == request) return service->method(i);
    }
  }
  return nullptr;
}

absl::StatusOr<std::string> Serialized(absl::StatusOr<std::string> wire) { return wire; }
template <typename Response>
absl::StatusOr<std::string> Serialized(absl::StatusOr<Response> response) {
  if (!response.ok()) return response.status();
  return response->SerializeAsString();
}

// The response type of a handler: a message, or std::string for one that
// writes the wire form itself.
template <typename Result>
const Descriptor* ResponseType() {
  using Response = typename Result::value_type;
  if constexpr (std::is_same_v<Response, std::string>) {
    return nullptr;
  } else {
    return Response::descriptor();
  }
}

class Binder {
 public:
  // Binds the method taking `Request` to `fn(const Caller&, const Request&)`,
  // which returns absl::StatusOr of the response message or of its bytes.
  template <typename Request, typename Fn>
  void Unary(Work work, Fn fn) {
    const MethodDescriptor* method = MethodTaking(Request::descriptor());
    if (method == nullptr || method->server_streaming() || method->client_streaming()) {
      Fail(absl::StrCat("no unary method takes ", Request::descriptor()->full_name()));
      return;
    }
    using Result = std::invoke_result_t<Fn, const Caller&, const Request&>;
    const Descriptor* response = ResponseType<Result>();
    if (response != nullptr && response != method->output_type()) {
      Fail(absl::StrCat(method->full_name(), " returns ", method->output_type()->full_name(),
                        ", not ", response->full_name()));
      return;
    }
    UnaryMethod bound;
    bound.descriptor = method;
    bound.work = work;
    bound.request_prototype = &Request::default_instance();
    bound.response_prototype =
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(method->output_type());
    bound.run = [fn = std::move(fn)](const Caller& caller, const Message& request) {
      return Serialized(fn(caller, static_cast<const Request&>(request)));
    };
    unary_.emplace(MethodPath(*method), std::move(bound));
  }

  // Binds the server-streaming method taking `Request`.
  template <typename Request, typename Response, typename Open>
  void Stream(Open open, std::function<std::string()> heartbeat,
              Delivery delivery = Delivery::kNewest) {
    const MethodDescriptor* method = MethodTaking(Request::descriptor());
    if (method == nullptr || !method->server_streaming() || method->client_streaming() ||
        method->output_type() != Response::descriptor()) {
      Fail(absl::StrCat("no server-streaming method takes ", Request::descriptor()->full_name(),
                        " and returns ", Response::descriptor()->full_name()));
      return;
    }
    StreamMethod bound;
    bound.descriptor = method;
    bound.delivery = delivery;
    bound.request_prototype = &Request::default_instance();
    bound.response_prototype = &Response::default_instance();
    bound.open = [open = std::move(open)](const Caller& caller, const Message& request,
                                          std::shared_ptr<MessageSink> sink) {
      return open(caller, static_cast<const Request&>(request), std::move(sink));
    };
    bound.heartbeat = std::move(heartbeat);
    streams_.emplace(MethodPath(*method), std::move(bound));
  }

  // OK when every method of the served services is bound.
  absl::Status Complete() const {
    if (!error_.ok()) return error_;
    for (const std::string& name : ApiMethods::ServiceNames()) {
      const google::protobuf::ServiceDescriptor* service = FindService(name);
      if (service == nullptr) return absl::InternalError(absl::StrCat("no service ", name));
      for (int i = 0; i < service->method_count(); ++i) {
        const std::string path = MethodPath(*service->method(i));
        if (!unary_.contains(path) && !streams_.contains(path)) {
          return absl::InternalError(absl::StrCat(path, " has no binding"));
        }
      }
    }
    return absl::OkStatus();
  }

  absl::flat_hash_map<std::string, UnaryMethod> TakeUnary() { return std::move(unary_); }
  absl::flat_hash_map<std::string, StreamMethod> TakeStreams() { return std::move(streams_); }

 private:
  void Fail(std::string message) {
    if (error_.ok()) error_ = absl::InternalError(std::move(message));
  }

  absl::flat_hash_map<std::string, UnaryMethod> unary_;
  absl::flat_hash_map<std::string, StreamMethod> streams_;
  absl::Status error_;
};

// A handler calling `call(*part, caller, request)`, or answering
// UNIMPLEMENTED for `method` when the server runs without that part
// (ApiExtras).
template <typename Part, typename Call>
auto IfPresent(Part* part, absl::string_view method, Call call) {
  return [part, method, call](const Caller& caller,
                              const auto& request) -> decltype(call(*part, caller, request)) {
    if (part == nullptr) return error::NotServed(method);
    return call(*part, caller, request);
  };
}

std::string Heartbeat() {
  v1::WatchSopsResponse response;
  *response.mutable_heartbeat()->mutable_send_time() = ToProtoTimestamp(absl::Now());
  return response.SerializeAsString();
}

}  // namespace

std::string MethodPath(const MethodDescriptor& method) {
  return absl::StrCat("/", method.service()->full_name(), "/", method.name());
}

const std::vector<std::string>& ApiMethods::ServiceNames() {
  static const auto* const names = new std::vector<std::string>{
      "sopsidebar.v1.SopService",       "sopsidebar.v1.ContextService",
      "sopsidebar.v1.AdminService",     "sopsidebar.v1.AnalyticsService",
      "sopsidebar.v1.AuthoringService", "sopsidebar.v1.EventService",
      "sopsidebar.v1.TemplateService"};
  return *names;
}

absl::StatusOr<std::unique_ptr<ApiMethods>> ApiMethods::Create(SopRegistry* registry,
                                                               AccessRegistry* access, CrmMaps* crm,
                                                               LookupWatchHub* watches,
                                                               ApiExtras extras) {
  // Where each method runs (Work): storage reads and writes on their queues;
  // what is in memory (lookups, tokens and orgs) inline.
  Binder bind;
  SopRegistry* const r = registry;
  bind.Unary<v1::CreateSopRequest>(Work::kWrites,
                                   [r](auto& c, auto& q) { return r->CreateSop(c, q); });
  bind.Unary<v1::GetSopRequest>(Work::kReads, [r](auto& c, auto& q) { return r->GetSop(c, q); });
  bind.Unary<v1::ListSopsRequest>(Work::kReads,
                                  [r](auto& c, auto& q) { return r->ListSops(c, q); });
  bind.Unary<v1::UpdateSopRequest>(Work::kWrites,
                                   [r](auto& c, auto& q) { return r->UpdateSop(c, q); });
  bind.Unary<v1::DeleteSopRequest>(Work::kWrites,
                                   [r](auto& c, auto& q) { return r->DeleteSop(c, q); });
  bind.Unary<v1::UndeleteSopRequest>(Work::kWrites,
                                     [r](auto& c, auto& q) { return r->UndeleteSop(c, q); });
  bind.Unary<v1::ListSopRevisionsRequest>(
      Work::kReads, [r](auto& c, auto& q) { return r->ListSopRevisions(c, q); });
  bind.Unary<v1::GetSopRevisionRequest>(Work::kReads,
                                        [r](auto& c, auto& q) { return r->GetSopRevision(c, q); });
  bind.Unary<v1::PublishSopRequest>(Work::kWrites,
                                    [r](auto& c, auto& q) { return r->PublishSop(c, q); });
  bind.Unary<v1::CheckTargetingRequest>(Work::kReads,
                                        [r](auto& c, auto& q) { return r->CheckTargeting(c, q); });
  // Read only: two matchers per request, nothing stored (targeting_preview.h).
  auto preview = std::make_shared<const TargetingPreview>(registry, crm);
  bind.Unary<v1::PreviewTargetingRequest>(
      Work::kReads, [preview](auto& c, auto& q) { return preview->Preview(c, q); });
  bind.Unary<v1::SubmitSopRequest>(Work::kWrites,
                                   [r](auto& c, auto& q) { return r->SubmitSop(c, q); });
  bind.Unary<v1::ApproveSopRequest>(Work::kWrites,
                                    [r](auto& c, auto& q) { return r->ApproveSop(c, q); });
  bind.Unary<v1::RejectSopRequest>(Work::kWrites,
                                   [r](auto& c, auto& q) { return r->RejectSop(c, q); });
  bind.Unary<v1::DiffSopRevisionsRequest>(
      Work::kReads, [r](auto& c, auto& q) { return r->DiffSopRevisions(c, q); });
  bind.Unary<v1::RestoreSopRevisionRequest>(
      Work::kWrites, [r](auto& c, auto& q) { return r->RestoreSopRevision(c, q); });
  bind.Unary<v1::MarkSopReviewedRequest>(
      Work::kWrites, [r](auto& c, auto& q) { return r->MarkSopReviewed(c, q); });
  bind.Unary<v1::ListDueReviewsRequest>(Work::kReads,
                                        [r](auto& c, auto& q) { return r->ListDueReviews(c, q); });
  bind.Unary<v1::AddCommentRequest>(Work::kWrites,
                                    [r](auto& c, auto& q) { return r->AddComment(c, q); });
  bind.Unary<v1::ListCommentsRequest>(Work::kReads,
                                      [r](auto& c, auto& q) { return r->ListComments(c, q); });
  bind.Unary<v1::ResolveCommentRequest>(Work::kWrites,
                                        [r](auto& c, auto& q) { return r->ResolveComment(c, q); });
  const AuditLog* const audit = &registry->audit();
  bind.Unary<v1::ListAuditEventsRequest>(
      Work::kReads, [audit](auto& c, auto& q) { return audit->ListAuditEvents(c, q); });
  bind.Unary<v1::VerifyAuditLogRequest>(
      Work::kReads, [audit](auto& c, auto& q) { return audit->VerifyAuditLog(c, q); });
  bind.Unary<v1::GetAuditHeadRequest>(
      Work::kReads, [audit](auto& c, auto& q) { return audit->GetAuditHead(c, q); });

  // The lookup hot path writes its response's bytes without building it; a
  // context in a CRM's names is mapped first (crm_lookup.h).
  // Unmatched lookups are counted for the coverage report.
  UnmatchedLookupSink* const unmatched =
      extras.analytics == nullptr ? nullptr : extras.analytics->unmatched_lookups();
  ApiMetrics* const metrics = extras.metrics;
  bind.Unary<v1::LookupSopsRequest>(
      Work::kInline, [r, crm, unmatched, metrics](auto& c, auto& q) -> absl::StatusOr<std::string> {
        std::string wire;
        int matches = 0;
        SOP_RETURN_IF_ERROR(LookupSopsWire(*r, *crm, c, q, &wire, unmatched, &matches));
        if (metrics != nullptr) metrics->LookupAnswered(matches);
        return wire;
      });
  bind.Stream<v1::WatchSopsRequest, v1::WatchSopsResponse>(
      [watches, crm](auto& c, auto& q, std::shared_ptr<MessageSink> sink) {
        return WatchSops(*watches, *crm, c, q, std::move(sink));
      },
      &Heartbeat);

  // Full-text search, where the server keeps an index (SopSearch).
  bind.Unary<v1::SearchSopsRequest>(
      Work::kReads, IfPresent(extras.search, "SopService.SearchSops",
                              [](SopSearch& s, auto& c, auto& q) { return s.SearchSops(c, q); }));

  // Analytics: events are writes (one synced write a batch); reports scan
  // the stored aggregates; ValidateTransition is a lookup.
  Analytics* const an = extras.analytics;
  bind.Unary<v1::RecordEventsRequest>(Work::kWrites, IfPresent(an, "AnalyticsService.RecordEvents",
                                                               [](Analytics& a, auto& c, auto& q) {
                                                                 return a.RecordEvents(c, q);
                                                               }));
  bind.Unary<v1::GetSlaReportRequest>(
      Work::kReads, IfPresent(an, "AnalyticsService.GetSlaReport",
                              [](Analytics& a, auto& c, auto& q) { return a.GetSlaReport(c, q); }));
  bind.Unary<v1::GetCodeReportRequest>(Work::kReads, IfPresent(an, "AnalyticsService.GetCodeReport",
                                                               [](Analytics& a, auto& c, auto& q) {
                                                                 return a.GetCodeReport(c, q);
                                                               }));
  bind.Unary<v1::GetUsageReportRequest>(
      Work::kReads,
      IfPresent(an, "AnalyticsService.GetUsageReport",
                [](Analytics& a, auto& c, auto& q) { return a.GetUsageReport(c, q); }));
  bind.Unary<v1::GetCoverageReportRequest>(
      Work::kReads,
      IfPresent(an, "AnalyticsService.GetCoverageReport",
                [](Analytics& a, auto& c, auto& q) { return a.GetCoverageReport(c, q); }));
  bind.Unary<v1::ValidateTransitionRequest>(
      Work::kInline,
      IfPresent(an, "ContextService.ValidateTransition",
                [](Analytics& a, auto& c, auto& q) { return a.ValidateTransition(c, q); }));

  // Authoring: diagrams read storage and validation parses up to an SOP's
  // size of YAML, on the read queue; a draft may wait on a model server
  // for up to its timeout, so it runs on the slow queue (never holding a
  // read or write thread) and takes the registry's write path only to save.
  const Authoring* const au = extras.authoring;
  bind.Unary<v1::GetSopDiagramRequest>(
      Work::kReads,
      IfPresent(au, "AuthoringService.GetSopDiagram",
                [](const Authoring& x, auto& c, auto& q) { return x.GetSopDiagram(c, q); }));
  bind.Unary<v1::DraftSopRequest>(Work::kSlow, IfPresent(au, "AuthoringService.DraftSop",
                                                         [](const Authoring& x, auto& c, auto& q) {
                                                           return x.DraftSop(c, q);
                                                         }));
  bind.Unary<v1::ValidateSopRequest>(
      Work::kReads,
      IfPresent(au, "AuthoringService.ValidateSop",
                [](const Authoring& x, auto& c, auto& q) { return x.ValidateSop(c, q); }));
  // Templates: CRUD over the store (TemplateRegistry).
  TemplateRegistry* const tr = extras.templates;
  bind.Unary<v1::CreateTemplateRequest>(
      Work::kWrites,
      IfPresent(tr, "TemplateService.CreateTemplate",
                [](TemplateRegistry& t, auto& c, auto& q) { return t.CreateTemplate(c, q); }));
  bind.Unary<v1::GetTemplateRequest>(
      Work::kReads,
      IfPresent(tr, "TemplateService.GetTemplate",
                [](TemplateRegistry& t, auto& c, auto& q) { return t.GetTemplate(c, q); }));
  bind.Unary<v1::ListTemplatesRequest>(
      Work::kReads,
      IfPresent(tr, "TemplateService.ListTemplates",
                [](TemplateRegistry& t, auto& c, auto& q) { return t.ListTemplates(c, q); }));
  bind.Unary<v1::UpdateTemplateRequest>(
      Work::kWrites,
      IfPresent(tr, "TemplateService.UpdateTemplate",
                [](TemplateRegistry& t, auto& c, auto& q) { return t.UpdateTemplate(c, q); }));
  bind.Unary<v1::DeleteTemplateRequest>(
      Work::kWrites,
      IfPresent(tr, "TemplateService.DeleteTemplate",
                [](TemplateRegistry& t, auto& c, auto& q) { return t.DeleteTemplate(c, q); }));

  AccessRegistry* const a = access;
  bind.Unary<v1::WhoAmIRequest>(Work::kInline, [a](auto& c, auto&) { return a->WhoAmI(c); });
  bind.Unary<v1::CreateTokenRequest>(Work::kWrites,
                                     [a](auto& c, auto& q) { return a->CreateToken(c, q); });
  bind.Unary<v1::ListTokensRequest>(Work::kInline,
                                    [a](auto& c, auto& q) { return a->ListTokens(c, q); });
  bind.Unary<v1::GetTokenRequest>(Work::kInline,
                                  [a](auto& c, auto& q) { return a->GetToken(c, q); });
  bind.Unary<v1::RevokeTokenRequest>(Work::kWrites,
                                     [a](auto& c, auto& q) { return a->RevokeToken(c, q); });
  bind.Unary<v1::CreateOrgRequest>(Work::kWrites,
                                   [a](auto& c, auto& q) { return a->CreateOrg(c, q); });
  bind.Unary<v1::ListOrgsRequest>(Work::kInline,
                                  [a](auto& c, auto& q) { return a->ListOrgs(c, q); });
  bind.Unary<v1::GetOrgRequest>(Work::kInline, [a](auto& c, auto& q) { return a->GetOrg(c, q); });
  bind.Unary<v1::UpdateOrgRequest>(Work::kWrites,
                                   [a](auto& c, auto& q) { return a->UpdateOrg(c, q); });
  bind.Unary<v1::PingRequest>(Work::kInline, [a](auto& c, auto& q) { return a->Ping(c, q); });
  bind.Unary<v1::GetRoleMapRequest>(Work::kInline,
                                    [crm](auto& c, auto& q) { return crm->GetRoleMap(c, q); });
  bind.Unary<v1::UpdateRoleMapRequest>(
      Work::kWrites, [crm](auto& c, auto& q) { return crm->UpdateRoleMap(c, q); });
  bind.Unary<v1::GetFieldMapRequest>(Work::kInline,
                                     [crm](auto& c, auto& q) { return crm->GetFieldMap(c, q); });
  bind.Unary<v1::UpdateFieldMapRequest>(
      Work::kWrites, [crm](auto& c, auto& q) { return crm->UpdateFieldMap(c, q); });

  // Backups stream every chunk (none may be coalesced away) from a thread
  // of their own, which reads the checkpoint's files.
  BackupSource* const backups = extras.backups;
  bind.Stream<v1::CreateBackupRequest, v1::CreateBackupResponse>(
      [backups](auto& c, auto& q, std::shared_ptr<MessageSink> sink)
          -> absl::StatusOr<std::unique_ptr<MessageSubscription>> {
        if (backups == nullptr) return error::NotServed("AdminService.CreateBackup");
        return backups->CreateBackup(c, q, std::move(sink));
      },
      nullptr, Delivery::kEveryMessage);

  // Events: webhooks live in memory (writes are synced store writes); the
  // change stream writes every event, paced by a thread per stream.
  ChangeEvents* const ev = extras.events;
  bind.Unary<v1::CreateWebhookRequest>(
      Work::kWrites,
      IfPresent(ev, "EventService.CreateWebhook",
                [](ChangeEvents& e, auto& c, auto& q) { return e.CreateWebhook(c, q); }));
  bind.Unary<v1::GetWebhookRequest>(Work::kInline, IfPresent(ev, "EventService.GetWebhook",
                                                             [](ChangeEvents& e, auto& c, auto& q) {
                                                               return e.GetWebhook(c, q);
                                                             }));
  bind.Unary<v1::ListWebhooksRequest>(
      Work::kInline,
      IfPresent(ev, "EventService.ListWebhooks",
                [](ChangeEvents& e, auto& c, auto& q) { return e.ListWebhooks(c, q); }));
  bind.Unary<v1::DeleteWebhookRequest>(
      Work::kWrites,
      IfPresent(ev, "EventService.DeleteWebhook",
                [](ChangeEvents& e, auto& c, auto& q) { return e.DeleteWebhook(c, q); }));
  bind.Unary<v1::ListWebhookDeliveriesRequest>(
      Work::kInline,
      IfPresent(ev, "EventService.ListWebhookDeliveries",
                [](ChangeEvents& e, auto& c, auto& q) { return e.ListWebhookDeliveries(c, q); }));
  bind.Unary<v1::ReplayWebhookDeliveryRequest>(
      Work::kWrites,
      IfPresent(ev, "EventService.ReplayWebhookDelivery",
                [](ChangeEvents& e, auto& c, auto& q) { return e.ReplayWebhookDelivery(c, q); }));
  bind.Stream<v1::WatchChangesRequest, v1::ChangeEvent>(
      [ev](auto& c, auto& q, std::shared_ptr<MessageSink> sink)
          -> absl::StatusOr<std::unique_ptr<MessageSubscription>> {
        if (ev == nullptr) return error::NotServed("EventService.WatchChanges");
        return ev->WatchChanges(c, q, std::move(sink));
      },
      nullptr, Delivery::kEveryMessage);

  absl::Status complete = bind.Complete();
  if (!complete.ok()) return complete;
  auto methods = std::unique_ptr<ApiMethods>(new ApiMethods());
  methods->unary_ = bind.TakeUnary();
  methods->streams_ = bind.TakeStreams();
  return methods;
}

const UnaryMethod* ApiMethods::FindUnary(absl::string_view path) const {
  auto it = unary_.find(path);
  return it == unary_.end() ? nullptr : &it->second;
}

const StreamMethod* ApiMethods::FindStream(absl::string_view path) const {
  auto it = streams_.find(path);
  return it == streams_.end() ? nullptr : &it->second;
}

}  // namespace sopsidebar
