// The Connect protocol's wire rules (https://connectrpc.com/docs/protocol),
// free of any HTTP library: content types and codecs, the error JSON and the
// HTTP status of each code, stream envelopes, the end-of-stream message and
// the Connect-Timeout-Ms header. server/http/http_gateway.cc moves the bytes.
// Every function is pure and thread-safe.
#ifndef SOPSIDEBAR_SERVER_HTTP_CONNECT_PROTOCOL_H_
#define SOPSIDEBAR_SERVER_HTTP_CONNECT_PROTOCOL_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"

namespace sopsidebar::connect {

// How messages are encoded on the wire.
enum class Codec { kJson, kProto };

// What a request's Content-Type asks for.
struct ContentType {
  Codec codec = Codec::kJson;
  // application/connect+json and application/connect+proto (enveloped
  // messages); false for the unary application/json and application/proto.
  bool streaming = false;
};

// The Content-Type header `value` (parameters such as "; charset=utf-8" and
// case ignored), or nullopt when it is none of the four Connect types.
std::optional<ContentType> ParseContentType(absl::string_view value);

// The Content-Type of a response to a request of `type`.
absl::string_view ContentTypeName(ContentType type);

// The Connect name of `code` ("invalid_argument", "canceled"); "unknown" for
// OK and codes Connect does not have.
absl::string_view CodeName(absl::StatusCode code);

// The HTTP status of a unary error with `code`, as the protocol's table says
// (invalid_argument 400, unauthenticated 401, resource_exhausted 429,
// unimplemented 501, ...).
int HttpStatusOf(absl::StatusCode code);

// The error JSON of `status` (not OK): {"code":..., "message":...,
// "details":[{"type":"google.rpc.BadRequest","value":"<base64, unpadded>"}]}
// with message and details from ToRpcStatus (server/api/rpc_status.h).
std::string ErrorJson(const absl::Status& status);

// The end-of-stream message's JSON: {} for OK, {"error":<ErrorJson>}
// otherwise.
std::string EndStreamJson(const absl::Status& status);

// Envelope flags.
inline constexpr uint8_t kCompressedFlag = 0x01;
inline constexpr uint8_t kEndStreamFlag = 0x02;

// `payload` in an envelope: the flags byte, its length as four big-endian
// bytes, then the payload.
std::string Envelope(uint8_t flags, absl::string_view payload);

// The payload of `body` when it is exactly one uncompressed message
// envelope (a server-streaming request); INVALID_ARGUMENT saying what is
// wrong otherwise (too short, a flag set, a length other than what follows).
absl::StatusOr<absl::string_view> SingleEnvelopePayload(absl::string_view body);

// The Connect-Timeout-Ms header: nullopt when absent (empty), the duration
// for 1 to 10 ASCII digits, INVALID_ARGUMENT otherwise.
absl::StatusOr<std::optional<absl::Duration>> ParseTimeout(absl::string_view value);

// The Connect-Protocol-Version header: OK when absent or "1",
// INVALID_ARGUMENT otherwise.
absl::Status CheckProtocolVersion(absl::string_view value);

// Parses `bytes` in `codec` into `message`. JSON is protobuf's JSON mapping
// with unknown fields rejected (an empty body is the empty message);
// binary as the gRPC transport parses it (server/api's ParseRequest). Errors are
// INVALID_ARGUMENT naming the message type (common/errors.h's
// MalformedRequest).
absl::Status ParseMessage(Codec codec, absl::string_view bytes, google::protobuf::Message* message);

// `serialized` (wire bytes of a `prototype` message) in `codec`: as is for
// proto, protobuf's JSON mapping for JSON. INTERNAL when the bytes do not
// parse (a bug of the method, not the caller's).
absl::StatusOr<std::string> EncodeMessage(Codec codec, const google::protobuf::Message& prototype,
                                          std::string serialized);

}  // namespace sopsidebar::connect

#endif  // SOPSIDEBAR_SERVER_HTTP_CONNECT_PROTOCOL_H_
