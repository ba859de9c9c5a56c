#include "server/service/call_runner.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "server/service/grpc_status.h"
#include "server/service/library_logs.h"

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

absl::StatusOr<Caller> CallAuthenticator::Authenticate(const grpc::ServerContextBase& ctx) const {
  auto it = ctx.client_metadata().find("authorization");
  if (it == ctx.client_metadata().end()) return error::Unauthenticated();
  absl::string_view value(it->second.data(), it->second.size());
  if (!absl::StartsWithIgnoreCase(value, kBearer)) return error::Unauthenticated();
  absl::StatusOr<Caller> caller = access_->Authenticate(value.substr(kBearer.size()));
  if (!caller.ok()) return caller.status();
  caller->deadline =
      std::min(absl::FromChrono(ctx.deadline()), absl::Now() + max_call_duration_);
  return caller;
}

CallRunner::CallRunner(const CallAuthenticator* auth, Options options)
    : auth_(auth),
      rejection_log_(options.rejection_log),
      reads_({"reads", options.read_threads, options.read_queue}),
      writes_({"writes", options.write_threads, options.write_queue}) {}

absl::StatusOr<Caller> CallRunner::Admit(const grpc::CallbackServerContext& ctx,
                                         const grpc::ByteBuffer& bytes,
                                         google::protobuf::MessageLite* request) const {
  {
    ProtobufLogCapture capture;
    // The reader only reads the buffer; it takes it non-const.
    grpc::ProtoBufferReader reader(const_cast<grpc::ByteBuffer*>(&bytes));
    if (!reader.status().ok() || !request->ParseFromZeroCopyStream(&reader)) {
      return error::MalformedRequest(request->GetTypeName(), ParseFailureReason(capture.text()));
    }
  }
  return auth_->Authenticate(ctx);
}

absl::Status CallRunner::StillWanted(const grpc::CallbackServerContext& ctx,
                                     const Caller& caller) {
  if (ctx.IsCancelled()) return absl::CancelledError("the call was cancelled while it waited");
  if (absl::Now() > caller.deadline) return error::DeadlineExceeded("the call's turn came");
  return absl::OkStatus();
}

absl::Status CallRunner::Respond(absl::StatusOr<std::string> wire, grpc::ByteBuffer* out) {
  if (!wire.ok()) return wire.status();
  grpc::Slice slice(wire->data(), wire->size());
  grpc::ByteBuffer response(&slice, 1);
  out->Swap(&response);
  return absl::OkStatus();
}

absl::Status CallRunner::WriteMessage(const google::protobuf::MessageLite& message,
                                      grpc::ByteBuffer* out) {
  bool own_buffer = false;
  grpc::Status serialized =
      grpc::SerializationTraits<google::protobuf::MessageLite>::Serialize(message, out,
                                                                           &own_buffer);
  if (!serialized.ok()) {
    return absl::InternalError(absl::StrCat("cannot serialise the response: ",
                                            serialized.error_message()));
  }
  return absl::OkStatus();
}

void CallRunner::Finish(const grpc::CallbackServerContext& ctx,
                        grpc::ServerUnaryReactor* reactor, absl::string_view method,
                        const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      // Who was turned away, never with what credentials.
      rejection_log_.Log(absl::StrCat("rejected ", method, " from ", ctx.peer(), ": ",
                                      absl::StatusCodeToString(status.code()), ": ",
                                      status.message()));
      break;
    default:
      break;
  }
  reactor->Finish(ToGrpcStatus(status));
}

}  // namespace sopsidebar
