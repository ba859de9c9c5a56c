#include "client/cli/in_process_sopd.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/model/names.h"
#include "common/status_macros.h"
#include "server/domain/matching/indexed_sop_matcher.h"
#include "server/domain/registry/crm_lookup.h"
#include "server/search/xapian_text_index.h"

namespace sopsidebar::cli {
namespace {

// The transport's side of an in-process watch: what the hub sends waits
// here, in order, for the blocking WatchSops to take it. Thread-safe.
class QueueSink : public MessageSink {
 public:
  void Send(std::string message) override {
    absl::MutexLock lock(&mu_);
    if (!closed_) messages_.push_back(std::move(message));
  }
  void Close(absl::Status status) override {
    absl::MutexLock lock(&mu_);
    if (closed_) return;
    closed_ = true;
    status_ = std::move(status);
  }

  // Waits for the next message: true with it in `message`; false once the
  // sink is closed and every message before the close was taken, with the
  // close's status in `status`.
  bool Next(std::string* message, absl::Status* status) {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &QueueSink::Ready));
    if (messages_.empty()) {
      *status = status_;
      return false;
    }
    *message = std::move(messages_.front());
    messages_.pop_front();
    return true;
  }

 private:
  bool Ready() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !messages_.empty() || closed_; }

  absl::Mutex mu_;
  std::deque<std::string> messages_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
};

// What sopd's transports do with a call, minus gRPC: the bearer token is
// authenticated on every call, and every unary call runs sopd's own method
// table (CallUnary; the typed methods reach it through GenericUnaryConnection),
// with the request and the response crossing as bytes.
class InProcessConnection : public client::GenericUnaryConnection {
 public:
  InProcessConnection(InProcessSopd* sopd, std::string token,
                      client::ConnectionOptions::Viewer viewer)
      : sopd_(sopd), token_(std::move(token)), viewer_(std::move(viewer)) {}

  // As sopd's WatchSops handler: the hub opens the watch and sends its
  // messages (as bytes) to a sink, which this call drains on its own thread.
  absl::Status WatchSops(
      const v1::WatchSopsRequest& request,
      const std::function<bool(const v1::WatchSopsResponse&)>& on_message) override {
    v1::WatchSopsRequest received;
    if (!received.ParseFromString(request.SerializeAsString())) {
      return error::MalformedRequest(request.GetTypeName(), "malformed protobuf");
    }
    SOP_ASSIGN_OR_RETURN(const Caller caller, Authenticate());
    auto sink = std::make_shared<QueueSink>();
    // Destroyed before `sink` on every return: the hub stops sending first.
    SOP_ASSIGN_OR_RETURN(const std::unique_ptr<MessageSubscription> subscription,
                         sopd_->Watch(caller, received, sink));
    std::string bytes;
    absl::Status end;
    while (sink->Next(&bytes, &end)) {
      v1::WatchSopsResponse message;
      if (!message.ParseFromString(bytes)) {
        return absl::InternalError("the watch sent a WatchSopsResponse that does not parse");
      }
      // Cancelling: the subscription's destructor ends the watch.
      if (!on_message(message)) return absl::OkStatus();
    }
    return end;
  }

  // As sopd's dispatcher: the request parsed from its bytes into the
  // method's own type, the caller authenticated, the bound method run, its
  // bytes parsed as the client would.
  absl::Status CallUnary(const google::protobuf::MethodDescriptor& method,
                         const google::protobuf::Message& request,
                         google::protobuf::Message* response) override {
    SOP_RETURN_IF_ERROR(client::CheckUnaryCall(method, request, response));
    SOP_ASSIGN_OR_RETURN(const MethodLookup* methods, sopd_->methods());
    const UnaryMethod* bound = methods->FindUnary(MethodPath(method));
    if (bound == nullptr) {
      return absl::UnimplementedError(absl::StrCat(method.full_name(), " is not served"));
    }
    std::unique_ptr<google::protobuf::Message> received(bound->request_prototype->New());
    if (!received->ParseFromString(request.SerializeAsString())) {
      return error::MalformedRequest(request.GetTypeName(), "malformed protobuf");
    }
    SOP_ASSIGN_OR_RETURN(const Caller caller, Authenticate());
    SOP_ASSIGN_OR_RETURN(const std::string wire, bound->run(caller, *received));
    if (!response->ParseFromString(wire)) {
      return absl::InternalError(
          absl::StrCat("a ", response->GetTypeName(), " that does not parse"));
    }
    return absl::OkStatus();
  }

 private:
  // The caller of every call: the token's, or the viewer it acts for, as
  // sopd's dispatcher decides (server/api/dispatcher.cc).
  absl::StatusOr<Caller> Authenticate() const {
    SOP_ASSIGN_OR_RETURN(const Caller caller, sopd_->access().Authenticate(token_));
    if (viewer_.id.empty()) return caller;
    ViewerClaim claim;
    claim.id = viewer_.id;
    claim.display_name = viewer_.name;
    claim.crm_roles = viewer_.crm_roles;
    return sopd_->crm().ActFor(caller, claim);
  }

  InProcessSopd* const sopd_;
  const std::string token_;
  const client::ConnectionOptions::Viewer viewer_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<InProcessSopd>> InProcessSopd::Start(Options options) {
  std::unique_ptr<InProcessSopd> sopd(new InProcessSopd(options));
  SOP_RETURN_IF_ERROR(sopd->Restart());
  SOP_ASSIGN_OR_RETURN(std::optional<std::string> admin, sopd->access_->BootstrapAdminToken());
  if (!admin.has_value()) return absl::InternalError("a new auth store already holds tokens");
  sopd->admin_token_ = *std::move(admin);
  return sopd;
}

InProcessSopd::~InProcessSopd() { StopWatches(); }

absl::Status InProcessSopd::Restart() {
  StopWatches();
  // Before what it reads (the registry) is replaced.
  analytics_.reset();
  SOP_ASSIGN_OR_RETURN(access_, AccessRegistry::Create(&auth_store_, &clock_));
  SOP_ASSIGN_OR_RETURN(crm_, CrmMaps::Create(&auth_store_, &clock_));
  // The matcher sopd serves lookups with.
  SOP_ASSIGN_OR_RETURN(registry_, SopRegistry::Create(&sop_store_, &clock_,
                                                      IndexedSopMatcher::Build, registry_options_));
  // Wired as sopd wires it (server/app/sopd_server.cc).
  AccessRegistry* const access = access_.get();
  registry_->SetOrgPolicySource(OrgPoliciesOf(access));
  templates_ = std::make_unique<TemplateRegistry>(&sop_store_, &clock_, &registry_->audit());
  registry_->SetTemplateSource(templates_.get());
  watches_ = std::make_unique<LookupWatchHub>(
      registry_.get(), [access](const Caller& c) { return access->CheckActive(c); },
      watch_options_);
  analytics_ = std::make_unique<Analytics>(&event_store_, &sop_store_, registry_.get(), crm_.get(),
                                           &clock_, Analytics::Options());
  SOP_ASSIGN_OR_RETURN(std::unique_ptr<XapianTextIndex> search_index, XapianTextIndex::Create());
  SOP_ASSIGN_OR_RETURN(search_, SopSearch::Create(registry_.get(), std::move(search_index)));
  LookupWatchHub* const hub = watches_.get();
  SopSearch* const search = search_.get();
  registry_->SetCatalogListener([hub, search] {
    hub->CatalogChanged();
    search->CatalogChanged();
  });
  ApiExtras extras;
  extras.analytics = analytics_.get();
  extras.search = search;
  authoring_ = std::make_unique<Authoring>(registry_.get(), &builtin_drafter_, nullptr);
  extras.authoring = authoring_.get();
  extras.templates = templates_.get();
  // sopd's own table; a sopd that cannot build it would not start, and every
  // unary call here fails with why.
  absl::StatusOr<std::unique_ptr<ApiMethods>> methods =
      ApiMethods::Create(registry_.get(), access_.get(), crm_.get(), watches_.get(), extras);
  if (methods.ok()) {
    methods_ = *std::move(methods);
    methods_status_ = absl::OkStatus();
  } else {
    methods_.reset();
    methods_status_ = absl::InternalError(absl::StrCat(
        "in-process sopd: the method table cannot be built: ", methods.status().message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<const MethodLookup*> InProcessSopd::methods() const {
  if (methods_ == nullptr) return methods_status_;
  return methods_.get();
}

void InProcessSopd::StopWatches() {
  // The table holds the hub.
  methods_.reset();
  if (watches_ == nullptr) return;
  // The registry must not tell a destroyed hub of a change.
  registry_->SetCatalogListener(nullptr);
  watches_->Shutdown();
  watches_.reset();
}

void InProcessSopd::EndWatches() {
  std::vector<std::weak_ptr<MessageSink>> sinks;
  {
    absl::MutexLock lock(&sinks_mu_);
    sinks.swap(sinks_);
  }
  for (const std::weak_ptr<MessageSink>& weak : sinks) {
    if (std::shared_ptr<MessageSink> sink = weak.lock()) sink->Close(absl::OkStatus());
  }
}

size_t InProcessSopd::open_watches() const {
  return watches_ == nullptr ? 0 : watches_->open_watches();
}

absl::StatusOr<std::unique_ptr<MessageSubscription>> InProcessSopd::Watch(
    const Caller& caller, const v1::WatchSopsRequest& request, std::shared_ptr<MessageSink> sink) {
  if (watches_ == nullptr) return absl::UnavailableError("sopd is not serving watches");
  {
    absl::MutexLock lock(&sinks_mu_);
    sinks_.erase(std::remove_if(sinks_.begin(), sinks_.end(),
                                [](const std::weak_ptr<MessageSink>& s) { return s.expired(); }),
                 sinks_.end());
    sinks_.push_back(sink);
  }
  return WatchSops(*watches_, *crm_, caller, request, std::move(sink));
}

absl::StatusOr<std::string> InProcessSopd::IssueToken(const std::string& org,
                                                      const std::string& user_id,
                                                      const std::vector<v1::Role>& roles) {
  SOP_ASSIGN_OR_RETURN(const Caller admin, access_->Authenticate(admin_token_));
  v1::CreateOrgRequest create_org;
  create_org.set_org_id(org);
  absl::StatusOr<v1::Org> created = access_->CreateOrg(admin, create_org);
  if (!created.ok() && created.status().code() != absl::StatusCode::kAlreadyExists) {
    return created.status();
  }
  v1::CreateTokenRequest request;
  request.set_parent(OrgName(org));
  request.mutable_token()->set_user_id(user_id);
  for (v1::Role role : roles) request.mutable_token()->add_roles(role);
  SOP_ASSIGN_OR_RETURN(v1::CreateTokenResponse issued, access_->CreateToken(admin, request));
  return std::move(*issued.mutable_secret());
}

std::shared_ptr<client::Connection> InProcessSopd::Connect(
    std::string token, client::ConnectionOptions::Viewer viewer) {
  return std::make_shared<InProcessConnection>(this, std::move(token), std::move(viewer));
}

void FaultInjectingConnection::Fail(const std::string& method, const std::string& name,
                                    absl::Status status) {
  absl::MutexLock lock(&mu_);
  failures_[absl::StrCat(method, " ", name)] = std::move(status);
}

void FaultInjectingConnection::FailEverything(absl::Status status) {
  absl::MutexLock lock(&mu_);
  fail_everything_ = std::move(status);
}

std::vector<std::string> FaultInjectingConnection::calls() const {
  absl::MutexLock lock(&mu_);
  return calls_;
}

void FaultInjectingConnection::ClearCalls() {
  absl::MutexLock lock(&mu_);
  calls_.clear();
  requests_.clear();
}

absl::Status FaultInjectingConnection::Record(const std::string& method, const std::string& name,
                                              const google::protobuf::Message& request) {
  absl::MutexLock lock(&mu_);
  calls_.push_back(method);
  requests_.emplace_back(request.New());
  requests_.back()->CopyFrom(request);
  if (!fail_everything_.ok()) return fail_everything_;
  auto it = failures_.find(absl::StrCat(method, " ", name));
  return it == failures_.end() ? absl::OkStatus() : it->second;
}

absl::StatusOr<v1::Sop> FaultInjectingConnection::CreateSop(const v1::CreateSopRequest& request) {
  return Forward("CreateSop", absl::StrCat(request.parent(), "/sops/", request.sop_id()), request,
                 &client::Connection::CreateSop);
}
absl::StatusOr<v1::Sop> FaultInjectingConnection::GetSop(const v1::GetSopRequest& request) {
  return Forward("GetSop", request.name(), request, &client::Connection::GetSop);
}
absl::StatusOr<v1::ListSopsResponse> FaultInjectingConnection::ListSops(
    const v1::ListSopsRequest& request) {
  return Forward("ListSops", request.parent(), request, &client::Connection::ListSops);
}
absl::StatusOr<v1::Sop> FaultInjectingConnection::UpdateSop(const v1::UpdateSopRequest& request) {
  return Forward("UpdateSop", request.sop().name(), request, &client::Connection::UpdateSop);
}
absl::StatusOr<v1::Sop> FaultInjectingConnection::DeleteSop(const v1::DeleteSopRequest& request) {
  return Forward("DeleteSop", request.name(), request, &client::Connection::DeleteSop);
}
absl::StatusOr<v1::Sop> FaultInjectingConnection::UndeleteSop(
    const v1::UndeleteSopRequest& request) {
  return Forward("UndeleteSop", request.name(), request, &client::Connection::UndeleteSop);
}
absl::StatusOr<v1::ListSopRevisionsResponse> FaultInjectingConnection::ListSopRevisions(
    const v1::ListSopRevisionsRequest& request) {
  return Forward("ListSopRevisions", request.name(), request,
                 &client::Connection::ListSopRevisions);
}
absl::StatusOr<v1::SopRevision> FaultInjectingConnection::GetSopRevision(
    const v1::GetSopRevisionRequest& request) {
  return Forward("GetSopRevision", request.name(), request, &client::Connection::GetSopRevision);
}
absl::StatusOr<v1::PublishSopResponse> FaultInjectingConnection::PublishSop(
    const v1::PublishSopRequest& request) {
  return Forward("PublishSop", request.name(), request, &client::Connection::PublishSop);
}
absl::StatusOr<v1::CheckTargetingResponse> FaultInjectingConnection::CheckTargeting(
    const v1::CheckTargetingRequest& request) {
  return Forward("CheckTargeting", request.name(), request, &client::Connection::CheckTargeting);
}
absl::StatusOr<v1::LookupSopsResponse> FaultInjectingConnection::LookupSops(
    const v1::LookupSopsRequest& request) {
  return Forward("LookupSops", request.context().org(), request, &client::Connection::LookupSops);
}
absl::Status FaultInjectingConnection::WatchSops(
    const v1::WatchSopsRequest& request,
    const std::function<bool(const v1::WatchSopsResponse&)>& on_message) {
  if (absl::Status failure = Record("WatchSops", request.context().org(), request); !failure.ok()) {
    return failure;
  }
  return inner_->WatchSops(request, on_message);
}
absl::StatusOr<v1::WhoAmIResponse> FaultInjectingConnection::WhoAmI(
    const v1::WhoAmIRequest& request) {
  return Forward("WhoAmI", "", request, &client::Connection::WhoAmI);
}
absl::StatusOr<v1::CreateTokenResponse> FaultInjectingConnection::CreateToken(
    const v1::CreateTokenRequest& request) {
  return Forward("CreateToken", request.parent(), request, &client::Connection::CreateToken);
}
absl::StatusOr<v1::ListTokensResponse> FaultInjectingConnection::ListTokens(
    const v1::ListTokensRequest& request) {
  return Forward("ListTokens", request.parent(), request, &client::Connection::ListTokens);
}
absl::StatusOr<v1::Token> FaultInjectingConnection::GetToken(const v1::GetTokenRequest& request) {
  return Forward("GetToken", request.name(), request, &client::Connection::GetToken);
}
absl::StatusOr<v1::Token> FaultInjectingConnection::RevokeToken(
    const v1::RevokeTokenRequest& request) {
  return Forward("RevokeToken", request.name(), request, &client::Connection::RevokeToken);
}
absl::StatusOr<v1::Org> FaultInjectingConnection::CreateOrg(const v1::CreateOrgRequest& request) {
  return Forward("CreateOrg", OrgName(request.org_id()), request, &client::Connection::CreateOrg);
}
absl::StatusOr<v1::ListOrgsResponse> FaultInjectingConnection::ListOrgs(
    const v1::ListOrgsRequest& request) {
  return Forward("ListOrgs", "", request, &client::Connection::ListOrgs);
}
absl::StatusOr<v1::Org> FaultInjectingConnection::GetOrg(const v1::GetOrgRequest& request) {
  return Forward("GetOrg", request.name(), request, &client::Connection::GetOrg);
}
absl::StatusOr<v1::RoleMap> FaultInjectingConnection::GetRoleMap(const v1::GetRoleMapRequest& request) {
  return Forward("GetRoleMap", request.name(), request, &client::Connection::GetRoleMap);
}
absl::StatusOr<v1::RoleMap> FaultInjectingConnection::UpdateRoleMap(const v1::UpdateRoleMapRequest& request) {
  return Forward("UpdateRoleMap", request.role_map().name(), request, &client::Connection::UpdateRoleMap);
}
absl::StatusOr<v1::FieldMap> FaultInjectingConnection::GetFieldMap(const v1::GetFieldMapRequest& request) {
  return Forward("GetFieldMap", request.name(), request, &client::Connection::GetFieldMap);
}
absl::StatusOr<v1::FieldMap> FaultInjectingConnection::UpdateFieldMap(const v1::UpdateFieldMapRequest& request) {
  return Forward("UpdateFieldMap", request.field_map().name(), request, &client::Connection::UpdateFieldMap);
}
absl::Status FaultInjectingConnection::CallUnary(const google::protobuf::MethodDescriptor& method,
                                                 const google::protobuf::Message& request,
                                                 google::protobuf::Message* response) {
  std::string name;
  const google::protobuf::Descriptor* type = request.GetDescriptor();
  for (const char* field : {"name", "parent", "revision_a"}) {
    const google::protobuf::FieldDescriptor* f = type->FindFieldByName(field);
    if (f != nullptr && !f->is_repeated() &&
        f->type() == google::protobuf::FieldDescriptor::TYPE_STRING) {
      name = request.GetReflection()->GetString(request, f);
      break;
    }
  }
  if (absl::Status failure = Record(method.name(), name, request); !failure.ok()) return failure;
  std::shared_ptr<const google::protobuf::Message> canned;
  {
    absl::MutexLock lock(&mu_);
    auto it = responses_.find(absl::StrCat(method.name(), " ", name));
    if (it != responses_.end()) canned = it->second;
  }
  if (canned == nullptr) return inner_->CallUnary(method, request, response);
  if (canned->GetDescriptor() != response->GetDescriptor()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the response given for ", method.name(), " is a ", canned->GetTypeName()));
  }
  response->CopyFrom(*canned);
  return absl::OkStatus();
}

void FaultInjectingConnection::Respond(const std::string& method, const std::string& name,
                                       const google::protobuf::Message& response) {
  std::shared_ptr<google::protobuf::Message> copy(response.New());
  copy->CopyFrom(response);
  absl::MutexLock lock(&mu_);
  responses_[absl::StrCat(method, " ", name)] = std::move(copy);
}
absl::StatusOr<v1::PingResponse> FaultInjectingConnection::Ping(const v1::PingRequest& request) {
  return Forward("Ping", "", request, &client::Connection::Ping);
}

}  // namespace sopsidebar::cli
