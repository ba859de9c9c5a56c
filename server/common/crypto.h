// Secrets and their hashes (OpenSSL). Thread-safe.
#ifndef SOPSIDEBAR_SERVER_COMMON_CRYPTO_H_
#define SOPSIDEBAR_SERVER_COMMON_CRYPTO_H_

#include <string>

#include "absl/strings/string_view.h"

namespace sopsidebar {

// The 32-byte SHA-256 digest of `data`.
std::string Sha256(absl::string_view data);

// The 32-byte HMAC-SHA256 (RFC 2104) of `data` under `key`.
std::string HmacSha256(absl::string_view key, absl::string_view data);

// `bytes` bytes from a cryptographically secure generator, as lowercase hex.
std::string RandomHexSecret(int bytes);

// Compares without leaking, through timing, where `a` and `b` differ.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_COMMON_CRYPTO_H_
