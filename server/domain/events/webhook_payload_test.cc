#include "server/domain/events/webhook_payload.h"

#include "common/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

using ::testing::HasSubstr;

TEST(WebhookSignatureTest, IsHmacSha256OfTimestampDotBodyInHex) {
  // Computed with Python: hmac.new(b"0123456789abcdef-secret",
  // b'1767225600.{"a":1}', hashlib.sha256).hexdigest()
  EXPECT_EQ(WebhookSignature("0123456789abcdef-secret", 1767225600, R"({"a":1})"),
            "t=1767225600,v1=5d91ed1ad3a14b5b5cefaab47117f0afa1654e5241fa27d18b5f43d5af0a8345");
}

TEST(WebhookSignatureTest, ChangesWithTheBodyTheTimeAndTheSecret) {
  const std::string base = WebhookSignature("0123456789abcdef", 100, "body");
  EXPECT_NE(base, WebhookSignature("0123456789abcdef", 100, "bodY"));
  EXPECT_NE(base, WebhookSignature("0123456789abcdef", 101, "body"));
  EXPECT_NE(base, WebhookSignature("0123456789abcdeF", 100, "body"));
}

TEST(BackoffTest, CeilingDoublesFromTheBaseUpToTheCap) {
  const absl::Duration base = absl::Seconds(1);
  const absl::Duration cap = absl::Minutes(5);
  EXPECT_EQ(BackoffCeiling(1, base, cap), absl::Seconds(1));
  EXPECT_EQ(BackoffCeiling(2, base, cap), absl::Seconds(2));
  EXPECT_EQ(BackoffCeiling(5, base, cap), absl::Seconds(16));
  EXPECT_EQ(BackoffCeiling(9, base, cap), absl::Seconds(256));
  EXPECT_EQ(BackoffCeiling(10, base, cap), cap);
  EXPECT_EQ(BackoffCeiling(1000, base, cap), cap);
}

TEST(BackoffTest, FullJitterStaysWithinZeroAndTheCeiling) {
  const absl::Duration base = absl::Milliseconds(100);
  const absl::Duration cap = absl::Seconds(3);
  for (int failures = 1; failures <= 20; ++failures) {
    const absl::Duration ceiling =
        std::min(cap, base * static_cast<double>(int64_t{1} << std::min(failures - 1, 40)));
    for (double unit : {0.0, 0.25, 0.5, 0.999999, 1.0, -1.0, 2.0}) {
      const absl::Duration wait = FullJitterBackoff(failures, base, cap, unit);
      EXPECT_GE(wait, absl::ZeroDuration()) << failures << " " << unit;
      EXPECT_LE(wait, ceiling) << failures << " " << unit;
    }
    EXPECT_EQ(FullJitterBackoff(failures, base, cap, 0.0), absl::ZeroDuration());
    EXPECT_EQ(FullJitterBackoff(failures, base, cap, 0.5), ceiling / 2);
  }
}

v1::ChangeEvent SignOffEvent() {
  v1::ChangeEvent event;
  event.set_event_id("evt-1");
  event.set_type(v1::ChangeEvent::SIGN_OFF_REQUESTED);
  event.set_sop("orgs/acme/sops/mql-handoff");
  event.set_title("MQL handoff");
  event.set_revision_id("3");
  event.set_actor("ops@acme.test");
  event.add_awaiting_roles(v1::MARKETING_DIRECTOR);
  event.add_awaiting_roles(v1::VP_SALES);
  *event.mutable_time() = ToProtoTimestamp(absl::FromUnixSeconds(1767225600));
  return event;
}

TEST(WebhookBodyTest, SlackTextNamesTheAwaitedRolesAndTheTitle) {
  const std::string text = SlackText(SignOffEvent());
  EXPECT_THAT(text,
              HasSubstr("Sign-off awaits: Marketing Director, VP Sales \xe2\x80\x94 MQL handoff"));
  EXPECT_THAT(text, HasSubstr("orgs/acme/sops/mql-handoff"));
  const std::string body = WebhookBody(v1::Webhook::SLACK, SignOffEvent());
  EXPECT_THAT(body, testing::StartsWith("{\"text\":\"Sign-off awaits: "));
}

TEST(WebhookBodyTest, JsonIsTheEventInProto3Json) {
  const std::string body = WebhookBody(v1::Webhook::JSON, SignOffEvent());
  EXPECT_THAT(body, HasSubstr("\"eventId\":\"evt-1\""));
  EXPECT_THAT(body, HasSubstr("\"type\":\"SIGN_OFF_REQUESTED\""));
  EXPECT_THAT(body, HasSubstr("\"awaitingRoles\":[\"MARKETING_DIRECTOR\",\"VP_SALES\"]"));
  EXPECT_THAT(body, HasSubstr("\"time\":\"2026-01-01T00:00:00Z\""));
  EXPECT_EQ(WebhookBody(v1::Webhook::PAYLOAD_FORMAT_UNSPECIFIED, SignOffEvent()), body);
}

TEST(WebhookBodyTest, SlackTextIsEscapedAsJson) {
  v1::ChangeEvent event = SignOffEvent();
  event.set_type(v1::ChangeEvent::SOP_CHANGED);
  event.set_title("Quote \" and \\ and\nnewline");
  EXPECT_THAT(WebhookBody(v1::Webhook::SLACK, event),
              HasSubstr(R"(SOP changed: Quote \" and \\ and\nnewline)"));
}

}  // namespace
}  // namespace sopsidebar
