// What a webhook POST carries (docs/EVENTS.md): the body (the ChangeEvent
// as proto3 JSON, or Slack's {"text": ...}), its signature header, and the
// retry schedule (exponential backoff with full jitter). Pure functions;
// thread-safe.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_EVENTS_WEBHOOK_PAYLOAD_H_
#define SOPSIDEBAR_SERVER_DOMAIN_EVENTS_WEBHOOK_PAYLOAD_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "sopsidebar/v1/events_service.pb.h"

namespace sopsidebar {

// The X-SopSidebar-Signature header's value for `body` sent at
// `unix_seconds`: "t=<unix_seconds>,v1=<lowercase hex HMAC-SHA256(secret,
// "<unix_seconds>.<body>")>".
std::string WebhookSignature(absl::string_view secret, int64_t unix_seconds,
                             absl::string_view body);

// The body POSTed for `event` in `format` (PAYLOAD_FORMAT_UNSPECIFIED is
// JSON): the event in proto3 JSON (field names in lowerCamelCase, enums by
// name), or {"text": SlackText(event)}.
std::string WebhookBody(v1::Webhook::PayloadFormat format, const v1::ChangeEvent& event);

// One line for people: "Sign-off awaits: Director of Sales — MQL handoff
// (orgs/acme/sops/mql-handoff)", "SOP published: MQL handoff (...)".
std::string SlackText(const v1::ChangeEvent& event);

// The largest wait before the attempt after `failures` failed attempts
// (1 or more): min(cap, base * 2^(failures - 1)).
absl::Duration BackoffCeiling(int failures, absl::Duration base, absl::Duration cap);
// Full jitter: `unit` (uniform in [0, 1)) of BackoffCeiling, so the wait is
// within [0, BackoffCeiling(...)].
absl::Duration FullJitterBackoff(int failures, absl::Duration base, absl::Duration cap,
                                 double unit);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_EVENTS_WEBHOOK_PAYLOAD_H_
