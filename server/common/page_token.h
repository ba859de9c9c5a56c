// Page tokens (AIP-158) of every list method (SOPs, revisions, tokens, orgs):
// opaque strings that carry where the next page starts, bound to the request
// they were issued for and signed, so that a caller can neither forge a
// start position nor reuse a token with other parameters.
//
// A token is base64url(HMAC-SHA256(key, request) || cursor). The key is
// random per codec and never stored, so tokens do not survive a restart of
// sopd (AIP-158 lets tokens expire): a caller whose token is rejected lists
// again from the start.
//
// Thread-safe (immutable after construction).
#ifndef SOPSIDEBAR_SERVER_COMMON_PAGE_TOKEN_H_
#define SOPSIDEBAR_SERVER_COMMON_PAGE_TOKEN_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sopsidebar {

class PageTokenCodec {
 public:
  // A codec with a fresh random 256-bit key.
  PageTokenCodec();
  // A codec with `key`: codecs with one key read each other's tokens.
  explicit PageTokenCodec(std::string key);

  // The token that resumes the request described by `request_key` (every
  // parameter but the page size and token, and the method) after `cursor`,
  // which is not empty.
  std::string Make(absl::string_view cursor, absl::string_view request_key) const;

  // The cursor of `token`: empty for an empty token (the first page), else
  // the cursor Make was given when this codec issued `token` for
  // `request_key`. Any other token (malformed, forged, altered, issued for
  // other parameters or by another codec) is INVALID_ARGUMENT "page_token:
  // ...".
  absl::StatusOr<std::string> Read(absl::string_view token, absl::string_view request_key) const;

 private:
  std::string Mac(absl::string_view cursor, absl::string_view request_key) const;

  const std::string key_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_COMMON_PAGE_TOKEN_H_
