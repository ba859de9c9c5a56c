#include "server/api/dispatcher.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/errors.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "server/api/protobuf_logs.h"
#include "server/common/clock.h"

namespace sopsidebar {
namespace {

constexpr absl::string_view kBearer = "bearer ";

// Why protobuf refused to parse, in the caller's terms. Protobuf reports
// invalid UTF-8 as "String field 'pkg.Message.field' contains invalid UTF-8
// data when parsing a protocol buffer. ..."; every other failure (broken wire
// data, nesting past the depth limit) without a word.
std::string ParseFailureReason(absl::string_view logged) {
  constexpr absl::string_view kUtf8Prefix = "String field '";
  if (absl::StartsWith(logged, kUtf8Prefix)) {
    const absl::string_view rest = logged.substr(kUtf8Prefix.size());
    const size_t end = rest.find('\'');
    if (end != absl::string_view::npos) {
      return absl::StrCat("string field ", rest.substr(0, end), " is not valid UTF-8");
    }
  }
  return "malformed protobuf, or nested more than 100 levels deep";
}

}  // namespace

absl::Status ParseRequest(google::protobuf::io::ZeroCopyInputStream* bytes,
                          google::protobuf::MessageLite* request) {
  RouteProtobufLogs();
  ProtobufLogCapture capture;
  if (!request->ParseFromZeroCopyStream(bytes)) {
    return error::MalformedRequest(request->GetTypeName(), ParseFailureReason(capture.text()));
  }
  return absl::OkStatus();
}

absl::Status ParseRequest(absl::string_view bytes, google::protobuf::MessageLite* request) {
  google::protobuf::io::ArrayInputStream stream(bytes.data(), static_cast<int>(bytes.size()));
  return ParseRequest(&stream, request);
}

Dispatcher::Dispatcher(const AccessRegistry* access, const CrmMaps* crm, Options options)
    : access_(access),
      crm_(crm),
      max_call_duration_(options.max_call_duration),
      before_run_(std::move(options.before_run)),
      rejection_log_(options.rejection_log, &Clock::Real(), std::move(options.rejection_sink)),
      metrics_(options.metrics),
      access_log_(options.access_log),
      access_log_limit_(options.access_log_limit, &Clock::Real()),
      reads_({"reads", options.read_threads, options.read_queue}),
      writes_({"writes", options.write_threads, options.write_queue}),
      slow_({"slow", options.slow_threads, options.slow_queue}) {}

absl::StatusOr<Caller> Dispatcher::Authenticate(absl::string_view authorization,
                                                const ViewerHeaders& viewer,
                                                absl::Time transport_deadline) const {
  if (!absl::StartsWithIgnoreCase(authorization, kBearer)) return error::Unauthenticated();
  absl::StatusOr<Caller> caller = access_->Authenticate(authorization.substr(kBearer.size()));
  if (!caller.ok()) return caller.status();
  caller->deadline = std::min(transport_deadline, absl::Now() + max_call_duration_);
  if (viewer.empty()) return caller;
  if (crm_ == nullptr || !(caller->roles & RoleBit(v1::INTEGRATION))) {
    return error::ViewerNotAllowed(kViewerIdHeader);
  }
  absl::StatusOr<ViewerClaim> claim = ParseViewerHeaders(viewer.id, viewer.name, viewer.crm_roles);
  if (!claim.ok()) return claim.status();
  return crm_->ActFor(*caller, *claim);
}

absl::StatusOr<Caller> Dispatcher::ActFor(Caller integration, const ViewerClaim& viewer,
                                          absl::Time transport_deadline) const {
  if (crm_ == nullptr) return error::ViewerNotAllowed(kViewerIdHeader);
  integration.deadline = std::min(transport_deadline, absl::Now() + max_call_duration_);
  return crm_->ActFor(integration, viewer);
}

void Dispatcher::Schedule(const UnaryMethod& method, Caller caller,
                          std::unique_ptr<google::protobuf::Message> request,
                          std::function<bool()> cancelled, Done done) {
  WorkQueue& queue = method.work == Work::kWrites ? writes_
                     : method.work == Work::kSlow ? slow_
                                                  : reads_;
  // The task owns `done` until it runs; a refused task is handed back
  // through `refused` so that `done` still answers the call.
  auto state = std::make_shared<Done>(std::move(done));
  const bool queued = queue.TrySchedule(
      [&method, caller = std::move(caller), request = std::move(request),
       cancelled = std::move(cancelled), state, before_run = &before_run_]() mutable {
        absl::StatusOr<std::string> result;
        if (cancelled && cancelled()) {
          result = absl::CancelledError("the call was cancelled while it waited");
        } else if (absl::Now() > caller.deadline) {
          result = error::DeadlineExceeded("the call's turn came");
        } else {
          if (*before_run) (*before_run)(method);
          result = method.run(caller, *request);
        }
        std::move (*state)(std::move(result));
      });
  if (!queued) std::move (*state)(error::ServerBusy(queue.options().name, queue.queued()));
}

std::string ClientOf(absl::string_view transport, absl::string_view peer,
                     absl::string_view user_agent) {
  constexpr size_t kMaxUserAgent = 200;
  std::string client = absl::StrCat(transport, " ", peer);
  if (!user_agent.empty()) {
    absl::StrAppend(
        &client, " ",
        absl::CHexEscape(user_agent.substr(0, std::min(user_agent.size(), kMaxUserAgent))));
  }
  return client;
}

void Dispatcher::LogIfRejected(absl::string_view method, absl::string_view peer,
                               const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      // Who was turned away, never with what credentials.
      rejection_log_.Log(absl::StrCat("rejected ", method, " from ", peer, ": ",
                                      absl::StatusCodeToString(status.code()), ": ",
                                      status.message()));
      break;
    default:
      break;
  }
}

void Dispatcher::CallEnded(const CallRecord& call, const absl::Status& status) {
  const absl::Duration latency = absl::Now() - call.start;
  if (metrics_ != nullptr) metrics_->CallEnded(call.transport, call.method, status.code(), latency);
  if (!access_log()) return;
  int64_t dropped = 0;
  if (!access_log_limit_.Admit(&dropped)) return;
  constexpr size_t kMaxPath = 200;
  const std::string path =
      call.method != nullptr
          ? MethodPath(*call.method)
          : std::string(call.path.substr(0, std::min(call.path.size(), kMaxPath)));
  const std::string latency_ms = absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(latency));
  const std::string dropped_text = absl::StrCat(dropped);
  // Every value the fields view outlives them: no temporaries below.
  const std::string code = absl::StatusCodeToString(status.code());
  const LogField fields[] = {{"transport", TransportName(call.transport)},
                             {"method", path},
                             {"code", code},
                             {"latency_ms", latency_ms},
                             {"caller", call.token_name},
                             {"user", call.user_id},
                             {"peer", call.peer},
                             {"dropped_before", dropped_text}};
  // The count of dropped lines only when there were some.
  LogEvent(LogLevel::kInfo, "access",
           absl::MakeConstSpan(fields, dropped == 0 ? std::size(fields) - 1 : std::size(fields)));
}

}  // namespace sopsidebar
