// HubSpot request signatures v3
// (https://developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/request-validation),
// as HubSpot signs the requests of `hubspot.fetch` from UI extensions, and the
// caller HubSpot names in the signed URI. No HTTP library types: a transport
// copies the request's method, URI, body and two headers into a
// HubSpotRequest.
//
// A request is genuine when its X-HubSpot-Signature-v3 header is
// base64(HMAC-SHA256(client secret, method + uri + body + timestamp)), where
// `timestamp` is the X-HubSpot-Request-Timestamp header (milliseconds since
// the epoch) and `uri` is the full URI HubSpot requested with the escapes of
// HubSpotSigningUri decoded. HubSpotVerifier accepts a genuine request once,
// within a window around its timestamp, and reads the caller from the query
// parameters HubSpot added to the signed URI.
#ifndef SOPSIDEBAR_SERVER_HTTP_HUBSPOT_SIGNATURE_H_
#define SOPSIDEBAR_SERVER_HTTP_HUBSPOT_SIGNATURE_H_

#include <cstddef>
#include <functional>
#include <queue>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/common/clock.h"

namespace sopsidebar {

// What a transport knows of one request, as received.
struct HubSpotRequest {
  // The HTTP method as sent ("GET", "POST").
  std::string method;
  // The full URI HubSpot requested: scheme, host, path and query, exactly as
  // HubSpot sent it ("https://sop.example.com/hubspot/sops?userId=1&...").
  // Behind a proxy the transport rebuilds the scheme and host from the public
  // address HubSpot calls, not from the proxy's request line.
  std::string uri;
  // The raw request body, byte for byte (empty when there is none).
  std::string body;
  // The X-HubSpot-Signature-v3 header (empty when absent).
  std::string signature_v3;
  // The X-HubSpot-Request-Timestamp header (empty when absent).
  std::string timestamp;
};

// Who made the request, from the query parameters HubSpot adds to the URI it
// signs: userId, userEmail, portalId and appId, percent-decoded ('+' stays a
// plus: HubSpot escapes a space as %20).
struct HubSpotCaller {
  std::string portal_id;
  std::string user_id;
  std::string user_email;
  std::string app_id;
};

// Why HubSpotVerifier refused a request. For the server's own log only: a
// caller is told the same words whatever the reason, so that a forger learns
// nothing about which check failed. None of them reveals secret material.
enum class HubSpotRefusal {
  kNone,                // accepted
  kMissingHeader,       // no signature or no timestamp header
  kMalformedTimestamp,  // not 1 to 18 ASCII digits
  kMalformedSignature,  // not base64 of 32 bytes
  kStale,               // timestamp older than the window
  kFuture,              // timestamp further ahead than the window
  kWrongSignature,      // the MAC does not match (tampered, or another secret)
  kMissingCaller,       // a genuine URI without one of the four parameters,
                        // with one twice, or with a bad percent escape
  kReplayed,            // the same signature was accepted before
  kTooManyRequests,     // the replay cache is full (UNAVAILABLE)
};

// The refusal's name for logs ("stale", "wrong_signature").
absl::string_view HubSpotRefusalName(HubSpotRefusal refusal);

// `uri` as HubSpot signs it: the escapes %3A %2F %3F %40 %21 %24 %27 %28 %29
// %2A %2C %3B (hex digits in either case, as RFC 3986 treats them alike)
// replaced by : / ? @ ! $ ' ( ) * , ; in one pass, everything else left as
// it is. Thread-safe.
std::string HubSpotSigningUri(absl::string_view uri);

// The portalId the query of `uri` names, read as Check reads the caller, or
// "" when it names no complete caller. Unverified: only to choose the
// secret the request must then verify with. Thread-safe.
std::string HubSpotPortalNamed(absl::string_view uri);

// The verdict on one request.
struct HubSpotVerdict {
  // The caller, or the error to return to it: UNAUTHENTICATED "the HubSpot
  // request signature is missing, invalid or expired" for every refusal but
  // kTooManyRequests, which is UNAVAILABLE (retry later).
  absl::StatusOr<HubSpotCaller> caller;
  // Why it was refused, for the log; kNone when accepted.
  HubSpotRefusal refusal = HubSpotRefusal::kNone;
};

// Verifies HubSpot signatures v3 and refuses replays. Thread-safe: Check
// computes the MAC outside any lock and holds a mutex only to consult and
// update the replay cache.
//
// The replay cache remembers the MAC of every accepted request until its
// timestamp leaves the window (timestamp + window), so it never needs to
// remember more than the requests of one window. Only requests whose MAC is
// right are remembered, so only HubSpot, not a forger, can fill it. When
// `max_remembered` MACs are remembered, the expired ones are forgotten
// first; if none has expired, the request is refused (UNAVAILABLE,
// kTooManyRequests) rather than an unexpired MAC forgotten, since
// forgetting one would let its request be replayed.
class HubSpotVerifier {
 public:
  struct Options {
    // How far a request's timestamp may be from the clock, either way.
    // Default 5 minutes, as HubSpot's documentation asks. Must be positive.
    absl::Duration window = absl::Minutes(5);
    // How many accepted requests the replay cache remembers at most (about
    // 200 bytes each, so some 20 MB at the default). Default 100000. Must be
    // at least 1.
    size_t max_remembered = 100000;
  };

  // A verifier that reads the time from `clock`, which must outlive it.
  explicit HubSpotVerifier(const Clock* clock) : HubSpotVerifier(clock, Options()) {}
  HubSpotVerifier(const Clock* clock, Options options);

  HubSpotVerifier(const HubSpotVerifier&) = delete;
  HubSpotVerifier& operator=(const HubSpotVerifier&) = delete;

  // Accepts `request` when it is signed with `client_secret` (the app's
  // client secret), its timestamp is within the window of the clock, its
  // signature has not been accepted before and its URI names the caller;
  // then the caller is returned and the signature remembered. Otherwise the
  // error and the reason, as HubSpotVerdict says; nothing is remembered.
  HubSpotVerdict Check(const HubSpotRequest& request, absl::string_view client_secret);

  // Check's caller alone, for callers that do not log the reason.
  absl::StatusOr<HubSpotCaller> Verify(const HubSpotRequest& request,
                                       absl::string_view client_secret) {
    return Check(request, client_secret).caller;
  }

  // How many accepted signatures are remembered now (expired ones included
  // until the next Check forgets them).
  size_t RememberedCount() const;

 private:
  // Remembers `mac` until `expiry`, first forgetting MACs expired at `now`.
  // kReplayed when `mac` is remembered already, kTooManyRequests when the
  // cache is full of unexpired MACs; kNone when remembered.
  HubSpotRefusal Remember(std::string mac, absl::Time expiry, absl::Time now);

  using Expiry = std::pair<absl::Time, std::string>;

  const Clock* const clock_;
  const Options options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_set<std::string> remembered_ ABSL_GUARDED_BY(mu_);
  // The remembered MACs, soonest expiry on top.
  std::priority_queue<Expiry, std::vector<Expiry>, std::greater<Expiry>> expiries_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_HTTP_HUBSPOT_SIGNATURE_H_
