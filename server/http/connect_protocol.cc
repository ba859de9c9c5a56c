#include "server/http/connect_protocol.h"

#include <memory>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/errors.h"
#include "common/json_string.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/util/json_util.h"
#include "server/api/dispatcher.h"
#include "server/api/rpc_status.h"
#include "server/http/proto_json.h"

namespace sopsidebar::connect {

std::optional<ContentType> ParseContentType(absl::string_view value) {
  absl::string_view type = value.substr(0, value.find(';'));
  std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(type));
  if (lower == "application/json") return ContentType{Codec::kJson, false};
  if (lower == "application/proto") return ContentType{Codec::kProto, false};
  if (lower == "application/connect+json") return ContentType{Codec::kJson, true};
  if (lower == "application/connect+proto") return ContentType{Codec::kProto, true};
  return std::nullopt;
}

absl::string_view ContentTypeName(ContentType type) {
  if (type.streaming) {
    return type.codec == Codec::kJson ? "application/connect+json" : "application/connect+proto";
  }
  return type.codec == Codec::kJson ? "application/json" : "application/proto";
}

absl::string_view CodeName(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kCancelled:
      return "canceled";
    case absl::StatusCode::kInvalidArgument:
      return "invalid_argument";
    case absl::StatusCode::kDeadlineExceeded:
      return "deadline_exceeded";
    case absl::StatusCode::kNotFound:
      return "not_found";
    case absl::StatusCode::kAlreadyExists:
      return "already_exists";
    case absl::StatusCode::kPermissionDenied:
      return "permission_denied";
    case absl::StatusCode::kResourceExhausted:
      return "resource_exhausted";
    case absl::StatusCode::kFailedPrecondition:
      return "failed_precondition";
    case absl::StatusCode::kAborted:
      return "aborted";
    case absl::StatusCode::kOutOfRange:
      return "out_of_range";
    case absl::StatusCode::kUnimplemented:
      return "unimplemented";
    case absl::StatusCode::kInternal:
      return "internal";
    case absl::StatusCode::kUnavailable:
      return "unavailable";
    case absl::StatusCode::kDataLoss:
      return "data_loss";
    case absl::StatusCode::kUnauthenticated:
      return "unauthenticated";
    default:
      return "unknown";
  }
}

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kCancelled:
      return 499;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    default:  // unknown, internal, data_loss
      return 500;
  }
}

std::string ErrorJson(const absl::Status& status) {
  google::rpc::Status rpc = ToRpcStatus(status);
  std::string out = "{\"code\":";
  AppendJsonString(CodeName(status.code()), &out);
  if (!rpc.message().empty()) {
    out.append(",\"message\":");
    AppendJsonString(rpc.message(), &out);
  }
  if (rpc.details_size() > 0) {
    out.append(",\"details\":[");
    for (int i = 0; i < rpc.details_size(); ++i) {
      const google::protobuf::Any& detail = rpc.details(i);
      absl::string_view type = detail.type_url();
      size_t slash = type.rfind('/');
      if (slash != absl::string_view::npos) type.remove_prefix(slash + 1);
      std::string value = absl::Base64Escape(detail.value());
      while (!value.empty() && value.back() == '=') value.pop_back();
      if (i > 0) out.push_back(',');
      out.append("{\"type\":");
      AppendJsonString(type, &out);
      out.append(",\"value\":");
      AppendJsonString(value, &out);
      out.push_back('}');
    }
    out.push_back(']');
  }
  out.push_back('}');
  return out;
}

std::string EndStreamJson(const absl::Status& status) {
  if (status.ok()) return "{}";
  return absl::StrCat("{\"error\":", ErrorJson(status), "}");
}

std::string Envelope(uint8_t flags, absl::string_view payload) {
  std::string out;
  out.reserve(5 + payload.size());
  uint32_t size = static_cast<uint32_t>(payload.size());
  out.push_back(static_cast<char>(flags));
  out.push_back(static_cast<char>((size >> 24) & 0xff));
  out.push_back(static_cast<char>((size >> 16) & 0xff));
  out.push_back(static_cast<char>((size >> 8) & 0xff));
  out.push_back(static_cast<char>(size & 0xff));
  out.append(payload.data(), payload.size());
  return out;
}

absl::StatusOr<absl::string_view> SingleEnvelopePayload(absl::string_view body) {
  if (body.size() < 5) {
    return error::InvalidField("request",
                               "a streaming request is one envelope: 5 header bytes "
                               "(flags, big-endian length) and the message");
  }
  uint8_t flags = static_cast<uint8_t>(body[0]);
  if (flags & kCompressedFlag) {
    return error::InvalidField("request",
                               "the envelope is compressed, and no "
                               "Connect-Content-Encoding was negotiated");
  }
  if (flags != 0) {
    return error::InvalidField(
        "request", absl::StrFormat("envelope flags 0x%02x; a request message has 0", flags));
  }
  uint32_t size = (static_cast<uint32_t>(static_cast<uint8_t>(body[1])) << 24) |
                  (static_cast<uint32_t>(static_cast<uint8_t>(body[2])) << 16) |
                  (static_cast<uint32_t>(static_cast<uint8_t>(body[3])) << 8) |
                  static_cast<uint32_t>(static_cast<uint8_t>(body[4]));
  if (size != body.size() - 5) {
    return error::InvalidField(
        "request", absl::StrCat("the envelope says ", size, " bytes, and ", body.size() - 5,
                                " follow; a server-streaming request is exactly one message"));
  }
  return body.substr(5);
}

absl::StatusOr<std::optional<absl::Duration>> ParseTimeout(absl::string_view value) {
  if (value.empty()) return std::optional<absl::Duration>();
  uint64_t ms = 0;
  if (value.size() > 10 || !absl::c_all_of(value, absl::ascii_isdigit) ||
      !absl::SimpleAtoi(value, &ms)) {
    return error::InvalidField(
        "connect-timeout-ms",
        absl::StrCat(error::QuoteInput(value), " is not 1 to 10 digits of milliseconds"));
  }
  return std::optional<absl::Duration>(absl::Milliseconds(ms));
}

absl::Status CheckProtocolVersion(absl::string_view value) {
  if (value.empty() || value == "1") return absl::OkStatus();
  return error::InvalidField("connect-protocol-version",
                             absl::StrCat(error::QuoteInput(value), " is not supported; send 1"));
}

absl::Status ParseMessage(Codec codec, absl::string_view bytes,
                          google::protobuf::Message* message) {
  if (codec == Codec::kProto) return ParseRequest(bytes, message);
  if (absl::StripAsciiWhitespace(bytes).empty()) return absl::OkStatus();
  absl::Status parsed = ParseMessageJson(bytes, message);
  if (!parsed.ok()) {
    return error::MalformedRequest(message->GetDescriptor()->full_name(), parsed.message());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> EncodeMessage(Codec codec, const google::protobuf::Message& prototype,
                                          std::string serialized) {
  if (codec == Codec::kProto) return serialized;
  // An arena: a lookup's response is hundreds of small objects, allocated
  // and freed in one go.
  google::protobuf::Arena arena;
  google::protobuf::Message* message = prototype.New(&arena);
  if (!message->ParseFromString(serialized)) {
    return absl::InternalError(
        absl::StrCat("response is not a valid ", prototype.GetDescriptor()->full_name()));
  }
  std::string json;
  json.reserve(serialized.size() * 2);
  absl::Status written = AppendMessageJson(*message, &json);
  if (!written.ok()) {
    return absl::InternalError(absl::StrCat("response to JSON: ", written.message()));
  }
  return json;
}

}  // namespace sopsidebar::connect
