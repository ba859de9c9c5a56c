// Persistence of the org's webhooks, their deliveries and the REVIEW_DUE
// events already emitted (docs/EVENTS.md). Implementations: RocksDbStore and
// InMemoryWebhookStore (tests). Thread-safe.
//
// Names are the API's: orgs/{org}/webhooks/{webhook},
// orgs/{org}/webhooks/{webhook}/deliveries/{delivery} and
// orgs/{org}/sops/{sop}; INVALID_ARGUMENT for a name of another form.
// Every method is durable when it returns OK (a synced write) and atomic.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_STORE_WEBHOOK_STORE_H_
#define SOPSIDEBAR_SERVER_DOMAIN_STORE_WEBHOOK_STORE_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "sopsidebar/v1/events_service.pb.h"

namespace sopsidebar {

// A stored webhook's parts split from its name, and back.
struct WebhookKeyParts {
  std::string org;
  std::string webhook;
  std::string delivery;  // empty for a webhook
};
// The parts of `name` (a webhook's or a delivery's); INVALID_ARGUMENT naming
// `field` when it has neither form.
absl::Status SplitWebhookName(absl::string_view field, absl::string_view name,
                              WebhookKeyParts* parts);

class WebhookStore {
 public:
  virtual ~WebhookStore() = default;

  // Creates or replaces webhook.name(), its secret included.
  virtual absl::Status PutWebhook(const v1::Webhook& webhook) = 0;
  // Deletes the webhook `name` and every delivery of it, in one write.
  // Deleting a missing webhook is OK.
  virtual absl::Status DeleteWebhook(absl::string_view name) = 0;
  // Every webhook of every org, by name; stops at the first error.
  virtual absl::Status ForEachWebhook(
      const std::function<absl::Status(const v1::Webhook&)>& fn) const = 0;

  // Creates or replaces the deliveries `put` and deletes the deliveries
  // named in `erase`, in one write.
  virtual absl::Status WriteDeliveries(const std::vector<v1::WebhookDelivery>& put,
                                       const std::vector<std::string>& erase) = 0;
  // Every delivery of every webhook, by name; stops at the first error.
  virtual absl::Status ForEachDelivery(
      const std::function<absl::Status(const v1::WebhookDelivery&)>& fn) const = 0;

  // Records that REVIEW_DUE was emitted for the SOP `sop` for the review due
  // at `due` (replacing the previous mark).
  virtual absl::Status PutReviewDueMark(absl::string_view sop, absl::Time due) = 0;
  virtual absl::Status ForEachReviewDueMark(
      const std::function<absl::Status(absl::string_view sop, absl::Time due)>& fn) const = 0;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_STORE_WEBHOOK_STORE_H_
