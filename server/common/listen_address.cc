#include "server/common/listen_address.h"

#include <arpa/inet.h>

#include <string>

#include "absl/strings/strip.h"

namespace sopsidebar {

bool IsLoopbackAddress(absl::string_view listen_address) {
  const size_t colon = listen_address.rfind(':');
  if (colon == absl::string_view::npos) return false;
  absl::string_view host = listen_address.substr(0, colon);
  const bool bracketed = absl::ConsumePrefix(&host, "[") && absl::ConsumeSuffix(&host, "]");
  if (!bracketed && host == "localhost") return true;
  const std::string literal(host);
  unsigned char bytes[16];
  if (!bracketed && inet_pton(AF_INET, literal.c_str(), bytes) == 1) return bytes[0] == 127;
  if (inet_pton(AF_INET6, literal.c_str(), bytes) == 1) {
    static const unsigned char kLoopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return std::equal(bytes, bytes + 16, kLoopback6);
  }
  return false;
}

}  // namespace sopsidebar
