// Protobuf messages as JSON, in proto3's canonical JSON mapping, written
// straight from the message by reflection. google::protobuf::util's
// MessageToJsonString writes the same JSON but goes through a generic
// stream converter that costs several times the lookup it encodes
// (docs/PERFORMANCE.md): the Connect gateway's JSON responses use this.
#ifndef SOPSIDEBAR_SERVER_HTTP_PROTO_JSON_H_
#define SOPSIDEBAR_SERVER_HTTP_PROTO_JSON_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace sopsidebar {

// Appends `message` as JSON to `out`: fields by their JSON names (lowerCamelCase),
// fields at their default value left out (as proto3 has them), 64-bit integers
// as strings, enums by name, bytes in base64, and the well-known types
// Timestamp, Duration, FieldMask, Value, ListValue and Struct in their own
// forms; other well-known types (Any, the wrappers) as MessageToJsonString
// writes them. Parsing the result with JsonStringToMessage gives `message`
// back. INVALID_ARGUMENT, with `out` unchanged, for what JSON cannot hold:
// a Value number that is NaN or infinite, a Timestamp or Duration out of
// range. Thread-safe.
absl::Status AppendMessageJson(const google::protobuf::Message& message, std::string* out);

// Reads `json` into `message` (cleared first) as JsonStringToMessage does
// with unknown fields refused, for the requests the gateway takes: the
// common case is read straight by reflection; anything this reader does not
// take for certain (an error, an escape or a form it leaves to protobuf, a
// field type it does not handle) is read again by protobuf's own parser,
// whose verdict and error message then stand. So it accepts exactly what
// protobuf accepts, into the same message. INVALID_ARGUMENT with protobuf's
// message otherwise. Thread-safe.
absl::Status ParseMessageJson(absl::string_view json, google::protobuf::Message* message);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_HTTP_PROTO_JSON_H_
