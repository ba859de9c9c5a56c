#include "server/domain/store/in_memory_webhook_store.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace sopsidebar {

absl::Status InMemoryWebhookStore::PutWebhook(const v1::Webhook& webhook) {
  WebhookKeyParts parts;
  SOP_RETURN_IF_ERROR(SplitWebhookName("webhook.name", webhook.name(), &parts));
  absl::MutexLock lock(&mu_);
  webhooks_[webhook.name()] = webhook;
  return absl::OkStatus();
}

absl::Status InMemoryWebhookStore::DeleteWebhook(absl::string_view name) {
  WebhookKeyParts parts;
  SOP_RETURN_IF_ERROR(SplitWebhookName("name", name, &parts));
  absl::MutexLock lock(&mu_);
  webhooks_.erase(std::string(name));
  const std::string prefix = absl::StrCat(name, "/");
  for (auto it = deliveries_.lower_bound(prefix);
       it != deliveries_.end() && absl::StartsWith(it->first, prefix);) {
    it = deliveries_.erase(it);
  }
  return absl::OkStatus();
}

absl::Status InMemoryWebhookStore::ForEachWebhook(
    const std::function<absl::Status(const v1::Webhook&)>& fn) const {
  absl::MutexLock lock(&mu_);
  for (const auto& [name, webhook] : webhooks_) SOP_RETURN_IF_ERROR(fn(webhook));
  return absl::OkStatus();
}

absl::Status InMemoryWebhookStore::WriteDeliveries(const std::vector<v1::WebhookDelivery>& put,
                                                   const std::vector<std::string>& erase) {
  WebhookKeyParts parts;
  for (const v1::WebhookDelivery& d : put) {
    SOP_RETURN_IF_ERROR(SplitWebhookName("delivery.name", d.name(), &parts));
  }
  absl::MutexLock lock(&mu_);
  for (const std::string& name : erase) deliveries_.erase(name);
  for (const v1::WebhookDelivery& d : put) deliveries_[d.name()] = d;
  return absl::OkStatus();
}

absl::Status InMemoryWebhookStore::ForEachDelivery(
    const std::function<absl::Status(const v1::WebhookDelivery&)>& fn) const {
  absl::MutexLock lock(&mu_);
  for (const auto& [name, delivery] : deliveries_) SOP_RETURN_IF_ERROR(fn(delivery));
  return absl::OkStatus();
}

absl::Status InMemoryWebhookStore::PutReviewDueMark(absl::string_view sop, absl::Time due) {
  absl::MutexLock lock(&mu_);
  marks_[std::string(sop)] = due;
  return absl::OkStatus();
}

absl::Status InMemoryWebhookStore::ForEachReviewDueMark(
    const std::function<absl::Status(absl::string_view sop, absl::Time due)>& fn) const {
  absl::MutexLock lock(&mu_);
  for (const auto& [sop, due] : marks_) SOP_RETURN_IF_ERROR(fn(sop, due));
  return absl::OkStatus();
}

}  // namespace sopsidebar
