#include "server/api/rpc_status.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

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
  if (status.ok()) return rpc;
  // The details in one order whatever order absl keeps payloads in (it
  // promises none): the ErrorInfo first, then the others by type.
  std::vector<std::pair<std::string, std::string>> details;
  status.ForEachPayload([&](absl::string_view type_url, const absl::Cord& payload) {
    // Other payloads are the process's own business.
    if (!absl::StartsWith(type_url, kGoogleRpcTypePrefix)) return;
    details.emplace_back(type_url, type_url == error::kBadRequestType ? CutBadRequest(payload)
                                                                      : std::string(payload));
  });
  std::sort(details.begin(), details.end(), [](const auto& a, const auto& b) {
    const bool a_info = a.first == error::kErrorInfoType;
    const bool b_info = b.first == error::kErrorInfoType;
    return a_info != b_info ? a_info : a.first < b.first;
  });
  if (details.empty() || details.front().first != error::kErrorInfoType) {
    // An error from outside the catalogue (a library's): its code names it.
    google::rpc::ErrorInfo info;
    info.set_reason(absl::StatusCodeToString(status.code()));
    info.set_domain(std::string(error::kErrorDomain));
    rpc.add_details()->PackFrom(info);
  }
  for (auto& [type_url, value] : details) {
    google::protobuf::Any* detail = rpc.add_details();
    detail->set_type_url(std::move(type_url));
    detail->set_value(std::move(value));
  }
  return rpc;
}

}  // namespace sopsidebar
