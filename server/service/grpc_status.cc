#include "server/service/grpc_status.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "server/common/utf8.h"

namespace sopsidebar {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl::StatusCode and grpc::StatusCode share their numbering.
  const auto code = static_cast<grpc::StatusCode>(status.code());
  const absl::string_view message = status.message();
  if (message.size() <= kMaxGrpcMessageBytes) return grpc::Status(code, std::string(message));
  // A backstop: the catalogue quotes input short (error::QuoteInput), but a
  // message that still grew would reach the client as a metadata-size error
  // instead of its own code.
  return grpc::Status(code, absl::StrCat(Utf8Prefix(message, kMaxGrpcMessageBytes), "… (",
                                         message.size(), " bytes)"));
}

}  // namespace sopsidebar
