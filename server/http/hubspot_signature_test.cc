#include "server/http/hubspot_signature.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"

namespace sopsidebar {
namespace {

// The signatures below were computed by Python's standard library, not by
// this code, over the URIs as HubSpot signs them (escapes decoded by hand):
//
// python3 -c '
// import base64, hashlib, hmac
// s = b"8b1d6d38-3f2a-4c5e-9a7b-1f0e2d3c4b5a"
// t = "1767225600000"
// for m, u, b in [
//   ("GET",
//   "https://sop.example.com/hubspot/sops?userId=123&userEmail=ana@example.com&portalId=456&appId=789",
//   ""),
//   ("POST",
//   "https://sop.example.com/hubspot/match?userId=123&userEmail=ana@example.com&portalId=456&appId=789",
//   "{\"objectType\":\"deal\",\"properties\":{\"dealstage\":\"closedwon\"}}"),
//   ("GET",
//   "https://sop.example.com/hubspot/sops:export?filter=a,b;c(d)*&userId=123&userEmail=o'"'"'brien%2Bsales@example.com&portalId=456&appId=789",
//   ""),
//   ("GET", "https://sop.example.com/hubspot/sops?portalId=456", ""),
// ]:
//   print(m, u, b, base64.b64encode(hmac.new(s, (m + u + b + t).encode(),
//   hashlib.sha256).digest()).decode())
// '
//
// kGetLaterSignature is the first one with t = "1767225960000" (6 minutes
// later).
constexpr char kSecret[] = "8b1d6d38-3f2a-4c5e-9a7b-1f0e2d3c4b5a";
constexpr char kTimestamp[] = "1767225600000";
constexpr char kLaterTimestamp[] = "1767225960000";
constexpr char kGetSignature[] = "nhTIcVK1sXaqpZohMdPzR9T3z0ZkXDn9FpwzTzW4Kds=";
constexpr char kPostSignature[] = "qiUHBhsJcoS7lsFp5wJXE5lNdRDUN8ZTUWSoefVU0as=";
constexpr char kEncodedSignature[] = "Hj5NEWa1CiOJB2ZxNK7pWrEFKir1XK83bu6Z8fTiFd4=";
constexpr char kNoCallerSignature[] = "cELTWZdbJVuUVEy46ZedCFrQ4BzJCZpWqE3YndlR+TI=";
constexpr char kGetLaterSignature[] = "yoBW8wm/m0VRmwUpZzybe4oSMZ6/bBRtdhYhyHXcI+E=";

constexpr char kRefusedMessage[] = "the HubSpot request signature is missing, invalid or expired";

// kTimestamp as an absl::Time (also FakeClock's default start).
const absl::Time kSignedAt = absl::FromUnixMillis(1767225600000);

HubSpotRequest GetRequest() {
  return {"GET",
          "https://sop.example.com/hubspot/"
          "sops?userId=123&userEmail=ana%40example.com&portalId=456&appId=789",
          "", kGetSignature, kTimestamp};
}

HubSpotRequest PostRequest() {
  return {"POST",
          "https://sop.example.com/hubspot/"
          "match?userId=123&userEmail=ana%40example.com&portalId=456&appId=789",
          R"({"objectType":"deal","properties":{"dealstage":"closedwon"}})", kPostSignature,
          kTimestamp};
}

HubSpotRequest EncodedRequest() {
  return {"GET",
          "https://sop.example.com/hubspot/sops%3Aexport?filter=a%2Cb%3Bc%28d%29%2A&userId=123&"
          "userEmail=o%27brien%2Bsales%40example.com&portalId=456&appId=789",
          "", kEncodedSignature, kTimestamp};
}

class HubSpotSignatureTest : public ::testing::Test {
 protected:
  void ExpectRefused(const HubSpotRequest& request, HubSpotRefusal refusal,
                     absl::string_view secret = kSecret) {
    HubSpotVerdict verdict = verifier_.Check(request, secret);
    EXPECT_EQ(verdict.caller.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(verdict.caller.status().message(), kRefusedMessage);
    EXPECT_EQ(verdict.refusal, refusal) << HubSpotRefusalName(verdict.refusal);
  }

  FakeClock clock_{kSignedAt + absl::Seconds(2)};
  HubSpotVerifier verifier_{&clock_};
};

TEST_F(HubSpotSignatureTest, GetWithoutBodyIsAcceptedWithItsCaller) {
  HubSpotVerdict verdict = verifier_.Check(GetRequest(), kSecret);
  ASSERT_TRUE(verdict.caller.ok()) << verdict.caller.status();
  EXPECT_EQ(verdict.refusal, HubSpotRefusal::kNone);
  EXPECT_EQ(verdict.caller->portal_id, "456");
  EXPECT_EQ(verdict.caller->user_id, "123");
  EXPECT_EQ(verdict.caller->user_email, "ana@example.com");
  EXPECT_EQ(verdict.caller->app_id, "789");
}

TEST_F(HubSpotSignatureTest, PostWithJsonBodyIsAccepted) {
  absl::StatusOr<HubSpotCaller> caller = verifier_.Verify(PostRequest(), kSecret);
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->user_id, "123");
}

TEST_F(HubSpotSignatureTest, UriWithEncodedCharactersIsSignedDecodedAndItsCallerPercentDecoded) {
  absl::StatusOr<HubSpotCaller> caller = verifier_.Verify(EncodedRequest(), kSecret);
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->user_email, "o'brien+sales@example.com");
  EXPECT_EQ(caller->portal_id, "456");
}

TEST(HubSpotSigningUriTest, DecodesOnlyTheTwelveEscapesHubSpotDecodes) {
  EXPECT_EQ(HubSpotSigningUri("%3A%2F%3F%40%21%24%27%28%29%2A%2C%3B"), ":/?@!$'()*,;");
  EXPECT_EQ(HubSpotSigningUri("%3a%2f%3b"), ":/;");
  EXPECT_EQ(HubSpotSigningUri("a%20b%2B%26%3D%25%253A"), "a%20b%2B%26%3D%25%253A");
  EXPECT_EQ(HubSpotSigningUri("%3"), "%3");
  EXPECT_EQ(HubSpotSigningUri("%%3A3A"), "%:3A");
}

TEST_F(HubSpotSignatureTest, TamperedBodyIsRefused) {
  HubSpotRequest request = PostRequest();
  request.body = R"({"objectType":"deal","properties":{"dealstage":"closedlost"}})";
  ExpectRefused(request, HubSpotRefusal::kWrongSignature);
}

TEST_F(HubSpotSignatureTest, TamperedQueryIsRefused) {
  HubSpotRequest request = GetRequest();
  request.uri =
      "https://sop.example.com/hubspot/"
      "sops?userId=124&userEmail=ana%40example.com&portalId=456&appId=789";
  ExpectRefused(request, HubSpotRefusal::kWrongSignature);
}

TEST_F(HubSpotSignatureTest, TamperedHostOrMethodIsRefused) {
  HubSpotRequest request = GetRequest();
  request.uri =
      "https://evil.example.com/hubspot/"
      "sops?userId=123&userEmail=ana%40example.com&portalId=456&appId=789";
  ExpectRefused(request, HubSpotRefusal::kWrongSignature);
  request = GetRequest();
  request.method = "DELETE";
  ExpectRefused(request, HubSpotRefusal::kWrongSignature);
}

TEST_F(HubSpotSignatureTest, WrongSecretIsRefused) {
  ExpectRefused(GetRequest(), HubSpotRefusal::kWrongSignature,
                "8b1d6d38-3f2a-4c5e-9a7b-1f0e2d3c4b5b");
}

TEST_F(HubSpotSignatureTest, TimestampSixMinutesOldIsRefused) {
  clock_.Set(kSignedAt + absl::Minutes(6));
  ExpectRefused(GetRequest(), HubSpotRefusal::kStale);
}

TEST_F(HubSpotSignatureTest, TimestampExactlyFiveMinutesOldIsStillAccepted) {
  clock_.Set(kSignedAt + absl::Minutes(5));
  EXPECT_TRUE(verifier_.Verify(GetRequest(), kSecret).ok());
}

TEST_F(HubSpotSignatureTest, TimestampSixMinutesAheadIsRefusedAndFourMinutesAheadAccepted) {
  clock_.Set(kSignedAt - absl::Minutes(6));
  ExpectRefused(GetRequest(), HubSpotRefusal::kFuture);
  clock_.Set(kSignedAt - absl::Minutes(4));
  EXPECT_TRUE(verifier_.Verify(GetRequest(), kSecret).ok());
}

TEST_F(HubSpotSignatureTest, SecondIdenticalRequestIsRefusedAsReplay) {
  ASSERT_TRUE(verifier_.Verify(GetRequest(), kSecret).ok());
  clock_.Advance(absl::Minutes(1));
  ExpectRefused(GetRequest(), HubSpotRefusal::kReplayed);
  EXPECT_TRUE(verifier_.Verify(PostRequest(), kSecret).ok());
}

TEST_F(HubSpotSignatureTest, ReplayWithTheSameMacSpelledDifferentlyIsRefused) {
  ASSERT_TRUE(verifier_.Verify(GetRequest(), kSecret).ok());
  HubSpotRequest request = GetRequest();
  request.signature_v3 = "nhTIcVK1sXaqpZohMdPzR9T3z0ZkXDn9FpwzTzW4Kds";  // no padding
  ExpectRefused(request, HubSpotRefusal::kReplayed);
}

TEST_F(HubSpotSignatureTest, RefusedRequestIsNotRemembered) {
  HubSpotRequest tampered = GetRequest();
  tampered.body = "x";
  ExpectRefused(tampered, HubSpotRefusal::kWrongSignature);
  EXPECT_EQ(verifier_.RememberedCount(), 0u);
  EXPECT_TRUE(verifier_.Verify(GetRequest(), kSecret).ok());
  EXPECT_EQ(verifier_.RememberedCount(), 1u);
}

TEST_F(HubSpotSignatureTest, ConcurrentCopiesOfOneRequestAreAcceptedOnce) {
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      if (verifier_.Verify(GetRequest(), kSecret).ok()) ++accepted;
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(accepted.load(), 1);
}

TEST(HubSpotReplayCacheTest, FullCacheForgetsExpiredSignaturesFirst) {
  FakeClock clock(kSignedAt);
  HubSpotVerifier verifier(&clock, {absl::Minutes(5), 1});
  ASSERT_TRUE(verifier.Verify(GetRequest(), kSecret).ok());
  // Six minutes on, the first request has left the window: forgotten to make
  // room for the later one.
  clock.Set(kSignedAt + absl::Minutes(6));
  HubSpotRequest later = GetRequest();
  later.timestamp = kLaterTimestamp;
  later.signature_v3 = kGetLaterSignature;
  absl::StatusOr<HubSpotCaller> caller = verifier.Verify(later, kSecret);
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->user_id, "123");
  EXPECT_EQ(verifier.RememberedCount(), 1u);
}

TEST(HubSpotReplayCacheTest, FullCacheOfUnexpiredSignaturesRefusesNewOnesAsUnavailable) {
  FakeClock clock(kSignedAt);
  HubSpotVerifier verifier(&clock, {absl::Minutes(5), 1});
  ASSERT_TRUE(verifier.Verify(GetRequest(), kSecret).ok());
  HubSpotVerdict verdict = verifier.Check(PostRequest(), kSecret);
  EXPECT_EQ(verdict.caller.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(verdict.refusal, HubSpotRefusal::kTooManyRequests);
  // Still remembered: the first one is not replayable.
  EXPECT_EQ(verifier.Check(GetRequest(), kSecret).refusal, HubSpotRefusal::kReplayed);
}

TEST_F(HubSpotSignatureTest, MissingHeadersAreRefused) {
  HubSpotRequest request = GetRequest();
  request.signature_v3.clear();
  ExpectRefused(request, HubSpotRefusal::kMissingHeader);
  request = GetRequest();
  request.timestamp.clear();
  ExpectRefused(request, HubSpotRefusal::kMissingHeader);
}

TEST_F(HubSpotSignatureTest, NonNumericTimestampIsRefused) {
  for (const char* bad : {"abc", "1767225600000.0", "-1767225600000", " 1767225600000",
                          "+1767225600000", "1e12", "1234567890123456789"}) {
    HubSpotRequest request = GetRequest();
    request.timestamp = bad;
    ExpectRefused(request, HubSpotRefusal::kMalformedTimestamp);
  }
}

TEST_F(HubSpotSignatureTest, BadBase64OrWrongLengthSignatureIsRefused) {
  for (const std::string& bad :
       {std::string("not base64!"), std::string("nhTIcVK1sXaqpZohMdPz"),
        absl::Base64Escape(std::string(31, 'x')), absl::Base64Escape(std::string(33, 'x'))}) {
    HubSpotRequest request = GetRequest();
    request.signature_v3 = bad;
    ExpectRefused(request, HubSpotRefusal::kMalformedSignature);
  }
}

TEST_F(HubSpotSignatureTest, GenuineUriWithoutTheCallerIsRefused) {
  HubSpotRequest request{"GET", "https://sop.example.com/hubspot/sops?portalId=456", "",
                         kNoCallerSignature, kTimestamp};
  ExpectRefused(request, HubSpotRefusal::kMissingCaller);
}

TEST_F(HubSpotSignatureTest, ErrorMessageIsTheSameForEveryReason) {
  std::vector<HubSpotRequest> refused;
  HubSpotRequest request = GetRequest();
  request.signature_v3.clear();
  refused.push_back(request);  // missing header
  request = GetRequest();
  request.timestamp = "soon";
  refused.push_back(request);  // malformed timestamp
  request = GetRequest();
  request.signature_v3 = "!!";
  refused.push_back(request);  // malformed signature
  request = GetRequest();
  request.body = "tampered";
  refused.push_back(request);  // wrong signature
  refused.push_back({"GET", "https://sop.example.com/hubspot/sops?portalId=456", "",
                     kNoCallerSignature, kTimestamp});  // no caller
  ASSERT_TRUE(verifier_.Verify(GetRequest(), kSecret).ok());
  refused.push_back(GetRequest());  // replay
  std::vector<std::string> messages;
  for (const HubSpotRequest& each : refused) {
    messages.push_back(std::string(verifier_.Verify(each, kSecret).status().message()));
  }
  clock_.Set(kSignedAt + absl::Minutes(6));
  messages.push_back(std::string(verifier_.Verify(PostRequest(), kSecret).status().message()));
  clock_.Set(kSignedAt - absl::Minutes(6));
  messages.push_back(std::string(verifier_.Verify(PostRequest(), kSecret).status().message()));
  clock_.Set(kSignedAt);
  messages.push_back(std::string(verifier_.Verify(PostRequest(), "other").status().message()));
  ASSERT_EQ(messages.size(), 9u);
  for (const std::string& message : messages) EXPECT_EQ(message, kRefusedMessage);
}

TEST(HubSpotRefusalNameTest, EveryRefusalHasALogName) {
  EXPECT_EQ(HubSpotRefusalName(HubSpotRefusal::kStale), "stale");
  EXPECT_EQ(HubSpotRefusalName(HubSpotRefusal::kWrongSignature), "wrong_signature");
  EXPECT_EQ(HubSpotRefusalName(HubSpotRefusal::kReplayed), "replayed");
}

TEST(HubSpotPortalNamedTest, ReadsThePortalOnlyFromACompleteCaller) {
  EXPECT_EQ(HubSpotPortalNamed(
                "https://sop.example.com/x?userId=1&userEmail=a%40b.com&portalId=456&appId=7"),
            "456");
  EXPECT_EQ(HubSpotPortalNamed("https://sop.example.com/x?portalId=456"), "");
  EXPECT_EQ(HubSpotPortalNamed("https://sop.example.com/x"), "");
}

}  // namespace
}  // namespace sopsidebar
