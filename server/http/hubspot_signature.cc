#include "server/http/hubspot_signature.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/percent_encoding.h"
#include "server/common/crypto.h"

namespace sopsidebar {
namespace {

// The same words for every refusal a forger could learn from.
constexpr absl::string_view kRefusedMessage =
    "the HubSpot request signature is missing, invalid or expired";

// An HMAC-SHA256 is 32 bytes.
constexpr size_t kMacBytes = 32;

// 18 digits fit an int64_t; milliseconds since the epoch have 13 until 2286.
constexpr size_t kMaxTimestampDigits = 18;

HubSpotVerdict Refuse(HubSpotRefusal refusal) {
  if (refusal == HubSpotRefusal::kTooManyRequests) {
    return {absl::UnavailableError(
                "too many HubSpot requests within the signature window; retry later"),
            refusal};
  }
  return {absl::UnauthenticatedError(kRefusedMessage), refusal};
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The character an escape HubSpot decodes before signing stands for, or
// nullopt for every other byte.
std::optional<char> SigningDecoded(int byte) {
  switch (byte) {
    case ':':
    case '/':
    case '?':
    case '@':
    case '!':
    case '$':
    case '\'':
    case '(':
    case ')':
    case '*':
    case ',':
    case ';':
      return static_cast<char>(byte);
    default:
      return std::nullopt;
  }
}

// `text` percent-decoded ('+' stays a plus); nullopt for a bad escape or a
// NUL.
std::optional<std::string> DecodeParameter(absl::string_view text) {
  absl::StatusOr<std::string> decoded = PercentDecode("query", text, /*plus_is_space=*/false);
  if (!decoded.ok() || absl::StrContains(*decoded, '\0')) return std::nullopt;
  return *std::move(decoded);
}

// The caller named by the query of `signed_uri` (the URI as signed, so that
// it is read from exactly the bytes the signature covers: the query starts
// at the first '?' there and ends at a '#'). nullopt when one of the four
// parameters is missing, empty or given twice, or has a bad escape.
std::optional<HubSpotCaller> CallerOf(absl::string_view signed_uri) {
  size_t question = signed_uri.find('?');
  if (question == absl::string_view::npos) return std::nullopt;
  absl::string_view query = signed_uri.substr(question + 1);
  query = query.substr(0, query.find('#'));
  struct Field {
    absl::string_view name;
    std::string HubSpotCaller::*member;
    bool seen = false;
  };
  Field fields[] = {{"portalId", &HubSpotCaller::portal_id},
                    {"userId", &HubSpotCaller::user_id},
                    {"userEmail", &HubSpotCaller::user_email},
                    {"appId", &HubSpotCaller::app_id}};
  HubSpotCaller caller;
  for (absl::string_view pair : absl::StrSplit(query, '&')) {
    std::pair<absl::string_view, absl::string_view> name_value =
        absl::StrSplit(pair, absl::MaxSplits('=', 1));
    std::optional<std::string> name = DecodeParameter(name_value.first);
    if (!name.has_value()) return std::nullopt;
    for (Field& field : fields) {
      if (*name != field.name) continue;
      std::optional<std::string> value = DecodeParameter(name_value.second);
      if (field.seen || !value.has_value() || value->empty()) return std::nullopt;
      field.seen = true;
      caller.*field.member = *std::move(value);
    }
  }
  for (const Field& field : fields) {
    if (!field.seen) return std::nullopt;
  }
  return caller;
}

std::optional<int64_t> ParseTimestamp(absl::string_view text) {
  if (text.empty() || text.size() > kMaxTimestampDigits) return std::nullopt;
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  int64_t millis = 0;
  if (!absl::SimpleAtoi(text, &millis)) return std::nullopt;
  return millis;
}

}  // namespace

absl::string_view HubSpotRefusalName(HubSpotRefusal refusal) {
  switch (refusal) {
    case HubSpotRefusal::kNone:
      return "none";
    case HubSpotRefusal::kMissingHeader:
      return "missing_header";
    case HubSpotRefusal::kMalformedTimestamp:
      return "malformed_timestamp";
    case HubSpotRefusal::kMalformedSignature:
      return "malformed_signature";
    case HubSpotRefusal::kStale:
      return "stale";
    case HubSpotRefusal::kFuture:
      return "future";
    case HubSpotRefusal::kWrongSignature:
      return "wrong_signature";
    case HubSpotRefusal::kMissingCaller:
      return "missing_caller";
    case HubSpotRefusal::kReplayed:
      return "replayed";
    case HubSpotRefusal::kTooManyRequests:
      return "too_many_requests";
  }
  return "unknown";
}

std::string HubSpotPortalNamed(absl::string_view uri) {
  std::optional<HubSpotCaller> caller = CallerOf(HubSpotSigningUri(uri));
  return caller.has_value() ? caller->portal_id : "";
}

std::string HubSpotSigningUri(absl::string_view uri) {
  std::string signing;
  signing.reserve(uri.size());
  for (size_t i = 0; i < uri.size(); ++i) {
    if (uri[i] == '%' && i + 2 < uri.size()) {
      int high = HexValue(uri[i + 1]);
      int low = HexValue(uri[i + 2]);
      std::optional<char> decoded =
          high < 0 || low < 0 ? std::nullopt : SigningDecoded(high * 16 + low);
      if (decoded.has_value()) {
        signing.push_back(*decoded);
        i += 2;
        continue;
      }
    }
    signing.push_back(uri[i]);
  }
  return signing;
}

HubSpotVerifier::HubSpotVerifier(const Clock* clock, Options options)
    : clock_(clock), options_(options) {}

HubSpotVerdict HubSpotVerifier::Check(const HubSpotRequest& request,
                                      absl::string_view client_secret) {
  if (request.signature_v3.empty() || request.timestamp.empty()) {
    return Refuse(HubSpotRefusal::kMissingHeader);
  }
  std::optional<int64_t> millis = ParseTimestamp(request.timestamp);
  if (!millis.has_value()) return Refuse(HubSpotRefusal::kMalformedTimestamp);
  std::string given_mac;
  if (!absl::Base64Unescape(request.signature_v3, &given_mac) || given_mac.size() != kMacBytes) {
    return Refuse(HubSpotRefusal::kMalformedSignature);
  }
  absl::Time now = clock_->Now();
  absl::Time signed_at = absl::FromUnixMillis(*millis);
  if (now - signed_at > options_.window) return Refuse(HubSpotRefusal::kStale);
  if (signed_at - now > options_.window) return Refuse(HubSpotRefusal::kFuture);

  std::string signing_uri = HubSpotSigningUri(request.uri);
  std::string expected_mac = HmacSha256(
      client_secret, absl::StrCat(request.method, signing_uri, request.body, request.timestamp));
  if (!ConstantTimeEquals(expected_mac, given_mac)) return Refuse(HubSpotRefusal::kWrongSignature);

  std::optional<HubSpotCaller> caller = CallerOf(signing_uri);
  if (!caller.has_value()) return Refuse(HubSpotRefusal::kMissingCaller);
  // Keyed by the MAC's bytes, not its base64 text, so that another spelling
  // of the same bytes (the unused low bits of the last character, missing
  // padding) is the same signature.
  HubSpotRefusal refusal = Remember(std::move(given_mac), signed_at + options_.window, now);
  if (refusal != HubSpotRefusal::kNone) return Refuse(refusal);
  return {*std::move(caller), HubSpotRefusal::kNone};
}

HubSpotRefusal HubSpotVerifier::Remember(std::string mac, absl::Time expiry, absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (remembered_.contains(mac)) return HubSpotRefusal::kReplayed;
  // A MAC whose request is still inside the window at `now` stays: its
  // timestamp would pass the freshness check.
  while (!expiries_.empty() && expiries_.top().first < now) {
    remembered_.erase(expiries_.top().second);
    expiries_.pop();
  }
  if (remembered_.size() >= options_.max_remembered) return HubSpotRefusal::kTooManyRequests;
  remembered_.insert(mac);
  expiries_.emplace(expiry, std::move(mac));
  return HubSpotRefusal::kNone;
}

size_t HubSpotVerifier::RememberedCount() const {
  absl::MutexLock lock(&mu_);
  return remembered_.size();
}

}  // namespace sopsidebar
