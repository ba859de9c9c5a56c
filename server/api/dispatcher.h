// What every transport does with a call before and after the method: parse
// the request bytes, authenticate the bearer token, run the method where its
// Work says, log rejections, and count, time and access-log every call
// (CallEnded). A transport adds only its framing and its error mapping.
//
// Work::kInline methods run on the transport's thread (RunInline); kReads,
// kWrites and kSlow each on a queue of their own. Queued
// ones (Schedule) run on a bounded WorkQueue, so that a burst of calls waits
// its turn instead of being refused; only a full queue answers UNAVAILABLE,
// at once and with nothing done.
#ifndef SOPSIDEBAR_SERVER_API_DISPATCHER_H_
#define SOPSIDEBAR_SERVER_API_DISPATCHER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/auth/caller.h"
#include "google/protobuf/io/zero_copy_stream.h"
#include "google/protobuf/message.h"
#include "server/api/api_method.h"
#include "server/api/api_metrics.h"
#include "server/common/log.h"
#include "server/common/work_queue.h"
#include "server/domain/auth/access_registry.h"
#include "server/domain/crm/crm_maps.h"

namespace sopsidebar {

// Parses protobuf wire bytes into `request`. INVALID_ARGUMENT naming the
// message (and the field, for invalid UTF-8) when they do not parse.
// Thread-safe.
absl::Status ParseRequest(google::protobuf::io::ZeroCopyInputStream* bytes,
                          google::protobuf::MessageLite* request);
absl::Status ParseRequest(absl::string_view bytes, google::protobuf::MessageLite* request);

// Thread-safe. Destroying it runs the calls already queued, so the
// transports must be stopped first (no new calls) and what the methods use
// must outlive it.
class Dispatcher {
 public:
  struct Options {
    // Threads and waiting calls for Work::kReads.
    int read_threads = 8;
    size_t read_queue = 1024;
    // Threads and waiting calls for Work::kWrites. Writes are serialised in
    // the domain (one fsync each), so a few threads keep the disk busy.
    int write_threads = 4;
    size_t write_queue = 256;
    // Threads and waiting calls for Work::kSlow (DraftSop's model calls).
    int slow_threads = 2;
    size_t slow_queue = 16;
    // The cap on a call's deadline: work not started within it is not done.
    absl::Duration max_call_duration = absl::Seconds(30);
    // Rejected calls (UNAUTHENTICATED, PERMISSION_DENIED, UNAVAILABLE,
    // RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED) are logged at most this often.
    LogLimiter::Options rejection_log;
    // Where those lines go (tests read them here).
    LogLimiter::Sink rejection_sink = &LogLine;
    // Where every call is counted and timed; null: nowhere. Must outlive
    // the dispatcher (ServedApi sets its own).
    ApiMetrics* metrics = nullptr;
    // An info line per call: transport, method, code, latency_ms, caller
    // (the token's name, never its secret), user and peer. Callers cause
    // these lines, so they are rate-limited too (access_log_limit), the
    // first line after a drop saying how many were dropped. Off by default:
    // a line per lookup (a write(2) on the transport's thread) cost 14-58 %
    // of lookup throughput in sopbench (docs/RELIABILITY.md, Observability).
    bool access_log = false;
    LogLimiter::Options access_log_limit = {/*burst=*/10000, /*period=*/absl::Seconds(10)};
    // Fault injection: called on the queue thread just before a queued
    // method runs (after its cancellation and deadline checks), so tests can
    // make a call slow (a slow disk). Empty (the default, and in sopd):
    // nothing.
    std::function<void(const UnaryMethod&)> before_run;
  };

  // `access` and `crm` must outlive the dispatcher. Without `crm` (tests
  // of the transports) no token may state a viewer.
  Dispatcher(const AccessRegistry* access, const CrmMaps* crm, Options options);

  // The viewer metadata of a call (kViewerIdHeader ...), as received; all
  // empty when the call states no viewer.
  struct ViewerHeaders {
    absl::string_view id;
    absl::string_view name;
    absl::string_view crm_roles;
    bool empty() const { return id.empty() && name.empty() && crm_roles.empty(); }
  };

  // The caller behind an `authorization` value "Bearer <token>" (the scheme
  // in any case), with the deadline the earlier of `transport_deadline` and
  // now + max_call_duration. UNAUTHENTICATED otherwise, never saying why.
  // When `viewer` is not empty, the viewer an INTEGRATION token acts for
  // (CrmMaps::ActFor): PERMISSION_DENIED for any other token,
  // INVALID_ARGUMENT naming the header for malformed ones.
  absl::StatusOr<Caller> Authenticate(absl::string_view authorization, const ViewerHeaders& viewer,
                                      absl::Time transport_deadline) const;

  // For a request HubSpot signed (hubspot.fetch): the HubSpot INTEGRATION
  // token of `portal_id` and its app's client secret, which the transport
  // verifies the signature with before calling ActFor.
  // UNAUTHENTICATED when no active token has that portal.
  absl::StatusOr<AccessRegistry::HubSpotIntegration> FindHubSpotIntegration(
      absl::string_view portal_id) const {
    return access_->FindHubSpotIntegration(portal_id);
  }
  // `integration` acting for `viewer` (CrmMaps::ActFor), with the deadline
  // Authenticate would give. PERMISSION_DENIED without CrmMaps.
  absl::StatusOr<Caller> ActFor(Caller integration, const ViewerClaim& viewer,
                                absl::Time transport_deadline) const;

  // Runs a Work::kInline method here and now.
  static absl::StatusOr<std::string> RunInline(const UnaryMethod& method, const Caller& caller,
                                               const google::protobuf::Message& request) {
    return method.run(caller, request);
  }

  // Queues a kReads, kWrites or kSlow method; `done` gets its result exactly once,
  // on a queue thread, or before Schedule returns when the queue is full
  // (UNAVAILABLE). When its turn comes, a call whose `cancelled()` is true
  // gets CANCELLED and one past its caller's deadline DEADLINE_EXCEEDED,
  // without running.
  using Done = absl::AnyInvocable<void(absl::StatusOr<std::string>) &&>;
  void Schedule(const UnaryMethod& method, Caller caller,
                std::unique_ptr<google::protobuf::Message> request, std::function<bool()> cancelled,
                Done done);

  // Logs `status` (rate-limited) when it turns a caller away: who, never
  // with what credentials.
  void LogIfRejected(absl::string_view method, absl::string_view peer, const absl::Status& status);

  // A call as the transport saw it, for CallEnded.
  struct CallRecord {
    Transport transport = Transport::kGrpc;
    // Null for a path no method has; `path` is then what was asked for.
    const google::protobuf::MethodDescriptor* method = nullptr;
    absl::string_view path;
    absl::string_view peer;
    // The caller's token name and user id; empty when not authenticated.
    absl::string_view token_name;
    absl::string_view user_id;
    // When the transport had the request.
    absl::Time start;
  };
  // Every call ends here once, on every transport, whatever its outcome
  // (a stream when it opens or fails to): counts and times it (metrics) and
  // writes its access line (access_log, and the info level, permitting).
  void CallEnded(const CallRecord& call, const absl::Status& status);

  // Whether CallEnded writes access lines: transports keep the caller's
  // ids for it only then.
  bool access_log() const { return access_log_ && LogEnabled(LogLevel::kInfo); }

 private:
  const AccessRegistry* const access_;
  const CrmMaps* const crm_;
  const absl::Duration max_call_duration_;
  const std::function<void(const UnaryMethod&)> before_run_;
  LogLimiter rejection_log_;
  ApiMetrics* const metrics_;
  const bool access_log_;
  LogLimiter access_log_limit_;
  // Declared last: destroyed first, while everything its tasks use exists.
  WorkQueue reads_;
  WorkQueue writes_;
  WorkQueue slow_;
};

// Caller::client for a call over `transport` ("grpc", "http") from `peer`
// with the user agent `user_agent`: "http 127.0.0.1:40022 Mozilla/5.0 ...".
// The user agent is the client's own words: unprintable characters are
// escaped and it is cut to 200 bytes.
std::string ClientOf(absl::string_view transport, absl::string_view peer,
                     absl::string_view user_agent);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_API_DISPATCHER_H_
