#include "server/common/page_token.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "server/common/crypto.h"

namespace sopsidebar {
namespace {

constexpr size_t kMacSize = 32;  // HMAC-SHA256
constexpr int kKeyBytes = 32;

}  // namespace

PageTokenCodec::PageTokenCodec() : PageTokenCodec(RandomHexSecret(kKeyBytes)) {}

PageTokenCodec::PageTokenCodec(std::string key) : key_(std::move(key)) {}

std::string PageTokenCodec::Mac(absl::string_view cursor, absl::string_view request_key) const {
  // The request key's length first, so that no other (request, cursor) pair
  // signs the same bytes.
  return HmacSha256(key_, absl::StrCat(request_key.size(), ":", request_key, cursor));
}

std::string PageTokenCodec::Make(absl::string_view cursor, absl::string_view request_key) const {
  return absl::WebSafeBase64Escape(absl::StrCat(Mac(cursor, request_key), cursor));
}

absl::StatusOr<std::string> PageTokenCodec::Read(absl::string_view token,
                                                 absl::string_view request_key) const {
  if (token.empty()) return std::string();
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw) || raw.size() <= kMacSize) {
    return error::InvalidPageToken();
  }
  const absl::string_view mac = absl::string_view(raw).substr(0, kMacSize);
  std::string cursor = raw.substr(kMacSize);
  if (!ConstantTimeEquals(mac, Mac(cursor, request_key))) return error::InvalidPageToken();
  return cursor;
}

}  // namespace sopsidebar
