// sopd's domain in the test's process, for tests of sopctl's commands: the
// real SopRegistry and AccessRegistry over in-memory stores and a fixed
// clock, called through a client::Connection as sopd's handlers call them.
// So the tests meet the server's own validation, permissions, update masks,
// publish rules, ties and page tokens, not a model of them that drifts.
//
// Every unary call runs sopd's own method table (server/api/api_methods.h):
// each RPC reaches the domain exactly as sopd's transports reach it, with no
// mapping here, so a new RPC needs no line in this file.
//
// What a real sopd does that no domain call can (a server going away, a write
// refused half-way through a run) is injected by FaultInjectingConnection, a
// decorator over the real connection, which also records the calls.
#ifndef SOPSIDEBAR_CLIENT_CLI_IN_PROCESS_SOPD_H_
#define SOPSIDEBAR_CLIENT_CLI_IN_PROCESS_SOPD_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/connection.h"
#include "common/model/roles.h"
#include "google/protobuf/message.h"
#include "plugins/drafting/builtin/builtin_drafter.h"
#include "server/api/api_methods.h"
#include "server/common/clock.h"
#include "server/common/message_stream.h"
#include "server/domain/analytics/analytics.h"
#include "server/domain/auth/access_registry.h"
#include "server/domain/authoring/authoring.h"
#include "server/domain/crm/crm_maps.h"
#include "server/domain/registry/lookup_watch.h"
#include "server/domain/registry/sop_registry.h"
#include "server/domain/search/sop_search.h"
#include "server/domain/store/in_memory_auth_store.h"
#include "server/domain/store/in_memory_event_store.h"
#include "server/domain/store/in_memory_sop_store.h"
#include "server/domain/templates/template_registry.h"

namespace sopsidebar::cli {

// Owns the stores, the clock, the registries and the lookup watch hub (wired
// to the registry's catalog changes as sopd wires it). Thread-safe as the
// registries are, except Restart. Must outlive the connections it makes.
class InProcessSopd {
 public:
  struct Options {
    // The fixed time of the clock: 2024-05-01 08:00:00 UTC.
    absl::Time now = absl::FromUnixSeconds(1714550400);
    // Default: sopd's own; tests of paging make pages smaller.
    SopRegistry::Options registry;
    // Default: sopd's own.
    LookupWatchHub::Options watches;
  };

  // Closes the open watches (UNAVAILABLE, as sopd's shutdown does).
  ~InProcessSopd();

  // Starts with orgs/default and its server-admin ADMIN token, as sopd's
  // first start does.
  static absl::StatusOr<std::unique_ptr<InProcessSopd>> Start(Options options);

  // The secret of the server-admin token of the first start.
  const std::string& admin_token() const { return admin_token_; }

  // Issues a token for `user_id` with `roles` in the org `org` (an id),
  // creating the org if it is missing, as a server admin would through
  // AdminService; returns its secret.
  absl::StatusOr<std::string> IssueToken(const std::string& org, const std::string& user_id,
                                         const std::vector<v1::Role>& roles);

  // A Connection that calls as the bearer of `token` (a secret), as sopd
  // would after authenticating it: every call, UNAUTHENTICATED when the token
  // is not an active one. Requests and responses cross as bytes, as on the
  // wire. With a `viewer` (id set), the token acts for it as sopd's
  // dispatcher makes an INTEGRATION token act for the viewer its metadata
  // states (PERMISSION_DENIED for any other token). Lookups and watches of a
  // context with a crm are mapped by the org's field map, as sopd maps them.
  // Every unary call (typed or CallUnary) runs the method of sopd's method
  // table, the Work it names on the calling thread; INTERNAL, saying why,
  // when the table cannot be built (a method of the protos that sopd does
  // not bind).
  std::shared_ptr<client::Connection> Connect(std::string token,
                                              client::ConnectionOptions::Viewer viewer = {});

  // Loads the registries again from the stores, as sopd's restart does: what
  // a test planted in the stores is served from then on, and page tokens
  // issued before do not survive. Open watches end with UNAVAILABLE. No
  // call may be in flight.
  absl::Status Restart();

  // Ends every open WatchSops stream with OK, as a server ending its streams
  // normally would: each WatchSops delivers what it has received so far,
  // then returns OK. Watches opened later are not affected.
  void EndWatches();
  // Opens a watch on the hub as sopd's WatchSops handler does (WatchSops of
  // crm_lookup.h, and its errors), delivering to `sink`, and keeps the sink for
  // EndWatches. What the connections of Connect call.
  absl::StatusOr<std::unique_ptr<MessageSubscription>> Watch(const Caller& caller,
                                                             const v1::WatchSopsRequest& request,
                                                             std::shared_ptr<MessageSink> sink);
  // How many WatchSops streams are open (the hub's count).
  size_t open_watches() const;

  // The stores, to read or plant what a test needs beside the API.
  InMemorySopStore& sop_store() { return sop_store_; }
  FakeClock& clock() { return clock_; }
  SopRegistry& registry() { return *registry_; }
  AccessRegistry& access() { return *access_; }
  CrmMaps& crm() { return *crm_; }
  // sopd's method table over the registries, or why it could not be built
  // (as sopd would refuse to start).
  absl::StatusOr<const MethodLookup*> methods() const;

 private:
  explicit InProcessSopd(const Options& options)
      : clock_(options.now), registry_options_(options.registry), watch_options_(options.watches) {}

  // Unwires and shuts down the hub, if any.
  void StopWatches();

  FakeClock clock_;
  const SopRegistry::Options registry_options_;
  const LookupWatchHub::Options watch_options_;
  InMemorySopStore sop_store_;
  InMemoryAuthStore auth_store_;
  // Retention measured by the fake clock.
  InMemoryEventStore event_store_{
      InMemoryEventStore::Options{Analytics::Options().retention, [this] { return clock_.Now(); }}};
  std::unique_ptr<AccessRegistry> access_;
  std::unique_ptr<CrmMaps> crm_;
  std::unique_ptr<SopRegistry> registry_;
  // After registry_: destroyed before it.
  std::unique_ptr<Analytics> analytics_;
  std::unique_ptr<SopSearch> search_;
  // AuthoringService with the built-in drafter (no model).
  BuiltinDrafter builtin_drafter_;
  std::unique_ptr<Authoring> authoring_;
  std::unique_ptr<TemplateRegistry> templates_;
  std::unique_ptr<LookupWatchHub> watches_;
  // Over the registries and the hub; set by Restart, as is methods_status_
  // when the table cannot be built.
  std::unique_ptr<ApiMethods> methods_;
  absl::Status methods_status_;
  std::string admin_token_;
  absl::Mutex sinks_mu_;
  // The sinks of the watches opened, for EndWatches; expired once closed.
  std::vector<std::weak_ptr<MessageSink>> sinks_ ABSL_GUARDED_BY(sinks_mu_);
};

// A Connection over another (`inner`) that records each call and fails the
// calls it is told to fail, with nothing sent on. Thread-safe.
class FaultInjectingConnection : public client::Connection {
 public:
  explicit FaultInjectingConnection(std::shared_ptr<client::Connection> inner)
      : inner_(std::move(inner)) {}

  // Fails `method` (e.g. "PublishSop") for the SOP, token or org `name` it
  // is about, with `status`, from now on.
  void Fail(const std::string& method, const std::string& name, absl::Status status);
  // Fails every call with `status` from now on ("sopd went away").
  void FailEverything(absl::Status status);
  // Answers CallUnary of `method` (e.g. "VerifyAuditLog") about `name` with
  // a copy of `response` from now on, sending nothing on: what the domain
  // cannot be made to answer (a broken audit chain). A response of another
  // type than the method's fails the call with INVALID_ARGUMENT.
  void Respond(const std::string& method, const std::string& name,
               const google::protobuf::Message& response);

  // The methods called, in order, failed ones included.
  std::vector<std::string> calls() const;
  void ClearCalls();
  // The requests of type `Request` sent on, in order.
  template <typename Request>
  std::vector<Request> requests() const {
    absl::MutexLock lock(&mu_);
    std::vector<Request> found;
    for (const auto& request : requests_) {
      if (const auto* typed = dynamic_cast<const Request*>(request.get())) found.push_back(*typed);
    }
    return found;
  }

  absl::StatusOr<v1::Sop> CreateSop(const v1::CreateSopRequest& request) override;
  absl::StatusOr<v1::Sop> GetSop(const v1::GetSopRequest& request) override;
  absl::StatusOr<v1::ListSopsResponse> ListSops(const v1::ListSopsRequest& request) override;
  absl::StatusOr<v1::Sop> UpdateSop(const v1::UpdateSopRequest& request) override;
  absl::StatusOr<v1::Sop> DeleteSop(const v1::DeleteSopRequest& request) override;
  absl::StatusOr<v1::Sop> UndeleteSop(const v1::UndeleteSopRequest& request) override;
  absl::StatusOr<v1::ListSopRevisionsResponse> ListSopRevisions(
      const v1::ListSopRevisionsRequest& request) override;
  absl::StatusOr<v1::SopRevision> GetSopRevision(const v1::GetSopRevisionRequest& request) override;
  absl::StatusOr<v1::PublishSopResponse> PublishSop(const v1::PublishSopRequest& request) override;
  absl::StatusOr<v1::CheckTargetingResponse> CheckTargeting(
      const v1::CheckTargetingRequest& request) override;
  absl::StatusOr<v1::LookupSopsResponse> LookupSops(const v1::LookupSopsRequest& request) override;
  // Recorded as "WatchSops" about the context's org; a failure is returned
  // before any message, as a stream failing to open.
  absl::Status WatchSops(
      const v1::WatchSopsRequest& request,
      const std::function<bool(const v1::WatchSopsResponse&)>& on_message) override;
  absl::StatusOr<v1::WhoAmIResponse> WhoAmI(const v1::WhoAmIRequest& request) override;
  absl::StatusOr<v1::CreateTokenResponse> CreateToken(
      const v1::CreateTokenRequest& request) override;
  absl::StatusOr<v1::ListTokensResponse> ListTokens(const v1::ListTokensRequest& request) override;
  absl::StatusOr<v1::Token> GetToken(const v1::GetTokenRequest& request) override;
  absl::StatusOr<v1::Token> RevokeToken(const v1::RevokeTokenRequest& request) override;
  absl::StatusOr<v1::Org> CreateOrg(const v1::CreateOrgRequest& request) override;
  absl::StatusOr<v1::ListOrgsResponse> ListOrgs(const v1::ListOrgsRequest& request) override;
  absl::StatusOr<v1::Org> GetOrg(const v1::GetOrgRequest& request) override;
  absl::StatusOr<v1::PingResponse> Ping(const v1::PingRequest& request) override;
  absl::StatusOr<v1::RoleMap> GetRoleMap(const v1::GetRoleMapRequest& request) override;
  absl::StatusOr<v1::RoleMap> UpdateRoleMap(const v1::UpdateRoleMapRequest& request) override;
  absl::StatusOr<v1::FieldMap> GetFieldMap(const v1::GetFieldMapRequest& request) override;
  absl::StatusOr<v1::FieldMap> UpdateFieldMap(const v1::UpdateFieldMapRequest& request) override;
  // Recorded as the method's name ("SubmitSop") about the request's name,
  // else its parent, else its revision_a (the SOP, comment, revision or org
  // it is about), so Fail("SubmitSop", "orgs/default/sops/x", ...) fails it.
  absl::Status CallUnary(const google::protobuf::MethodDescriptor& method,
                         const google::protobuf::Message& request,
                         google::protobuf::Message* response) override;

 private:
  // Records the call of `method` about `name`; the status to fail it with,
  // or OK to send it on.
  absl::Status Record(const std::string& method, const std::string& name,
                      const google::protobuf::Message& request);

  // Records, then fails or forwards to `inner_`'s `method_fn`.
  template <typename Response, typename Request>
  absl::StatusOr<Response> Forward(
      const std::string& method, const std::string& name, const Request& request,
      absl::StatusOr<Response> (client::Connection::*method_fn)(const Request&)) {
    if (absl::Status failure = Record(method, name, request); !failure.ok()) return failure;
    return (inner_.get()->*method_fn)(request);
  }

  const std::shared_ptr<client::Connection> inner_;
  mutable absl::Mutex mu_;
  std::vector<std::string> calls_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<google::protobuf::Message>> requests_ ABSL_GUARDED_BY(mu_);
  // By "<method> <name>".
  std::map<std::string, absl::Status> failures_ ABSL_GUARDED_BY(mu_);
  absl::Status fail_everything_ ABSL_GUARDED_BY(mu_);
  // By "<method> <name>".
  std::map<std::string, std::shared_ptr<const google::protobuf::Message>> responses_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace sopsidebar::cli

#endif  // SOPSIDEBAR_CLIENT_CLI_IN_PROCESS_SOPD_H_
