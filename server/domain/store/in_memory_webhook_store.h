// A WebhookStore in memory, for tests of the layers above storage.
// Thread-safe.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_STORE_IN_MEMORY_WEBHOOK_STORE_H_
#define SOPSIDEBAR_SERVER_DOMAIN_STORE_IN_MEMORY_WEBHOOK_STORE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/domain/store/webhook_store.h"

namespace sopsidebar {

class InMemoryWebhookStore : public WebhookStore {
 public:
  absl::Status PutWebhook(const v1::Webhook& webhook) override;
  absl::Status DeleteWebhook(absl::string_view name) override;
  absl::Status ForEachWebhook(
      const std::function<absl::Status(const v1::Webhook&)>& fn) const override;
  absl::Status WriteDeliveries(const std::vector<v1::WebhookDelivery>& put,
                               const std::vector<std::string>& erase) override;
  absl::Status ForEachDelivery(
      const std::function<absl::Status(const v1::WebhookDelivery&)>& fn) const override;
  absl::Status PutReviewDueMark(absl::string_view sop, absl::Time due) override;
  absl::Status ForEachReviewDueMark(
      const std::function<absl::Status(absl::string_view sop, absl::Time due)>& fn) const override;

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, v1::Webhook> webhooks_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::WebhookDelivery> deliveries_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Time> marks_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_STORE_IN_MEMORY_WEBHOOK_STORE_H_
