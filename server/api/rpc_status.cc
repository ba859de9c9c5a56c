#include "server/api/rpc_status.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/utf8.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace sopsidebar {
namespace {

constexpr absl::string_view kGoogleRpcTypePrefix = "type.googleapis.com/google.rpc.";

// A backstop: the catalogue quotes input short (error::QuoteInput), but a
// message that still grew would reach the client as a metadata-size error
// instead of its own code.
std::string CutMessage(absl::string_view message) {
  if (message.size() <= kMaxGrpcMessageBytes) return std::string(message);
  return absl::StrCat(Utf8Prefix(message, kMaxGrpcMessageBytes), "… (", message.size(), " bytes)");
}

// The BadRequest `payload`, keeping the violations that fit in
// kMaxGrpcBadRequestBytes; when some are left off, a last violation without
// a field says how many.
std::string CutBadRequest(const absl::Cord& payload) {
  google::rpc::BadRequest bad_request;
  if (payload.size() <= kMaxGrpcBadRequestBytes ||
      !bad_request.ParseFromString(std::string(payload))) {
    return std::string(payload);
  }
  google::rpc::BadRequest kept;
  // Room for the note on what was left off.
  constexpr size_t kNoteBytes = 64;
  int i = 0;
  for (; i < bad_request.field_violations_size(); ++i) {
    *kept.add_field_violations() = bad_request.field_violations(i);
    if (kept.ByteSizeLong() + kNoteBytes > kMaxGrpcBadRequestBytes) {
      kept.mutable_field_violations()->RemoveLast();
      break;
    }
  }
  if (i < bad_request.field_violations_size()) {
    kept.add_field_violations()->set_description(
        absl::StrCat("… and ", bad_request.field_violations_size() - i, " more violations"));
  }
  return kept.SerializeAsString();
}

}  // namespace

google::rpc::Status ToRpcStatus(const absl::Status& status) {
  google::rpc::Status rpc;
  rpc.set_code(static_cast<int>(status.code()));
  rpc.set_message(CutMessage(status.message()));
  bool has_info = false;
  status.ForEachPayload([&](absl::string_view type_url, const absl::Cord& payload) {
    // Other payloads are the process's own business.
    if (!absl::StartsWith(type_url, kGoogleRpcTypePrefix)) return;
    google::protobuf::Any* detail = rpc.add_details();
    detail->set_type_url(std::string(type_url));
    detail->set_value(type_url == error::kBadRequestType ? CutBadRequest(payload)
                                                         : std::string(payload));
    has_info = has_info || type_url == error::kErrorInfoType;
  });
  if (!has_info && !status.ok()) {
    // An error from outside the catalogue (a library's): its code names it.
    google::rpc::ErrorInfo info;
    info.set_reason(absl::StatusCodeToString(status.code()));
    info.set_domain(std::string(error::kErrorDomain));
    rpc.add_details()->PackFrom(info);
  }
  return rpc;
}

}  // namespace sopsidebar
