// EventService's domain (docs/EVENTS.md): the org's SOP changes as events,
// streamed to watchers (WatchChanges) and POSTed to the org's webhooks,
// signed, with retries, a dead-letter list and replay.
//
// Where events come from: SopRegistry tells this feed of every durable
// write (SopChangeSink): create, update, restore and undelete are
// SOP_CHANGED, publish SOP_PUBLISHED, delete SOP_DELETED, submit and each
// sign-off that leaves roles awaited SIGN_OFF_REQUESTED (reject and
// MarkSopReviewed emit nothing). REVIEW_DUE comes from a scan of the
// published SOPs every Options::review_due_scan_interval: once per SOP per
// next_review_time, remembered in the WebhookStore (a restart does not emit
// it again; a review moves next_review_time on, and the next one is due
// afresh).
//
// Writes never wait for events: SopWritten only queues the event (a
// mutex and a deque). The feed's own thread then hands it to the watchers
// and writes one PENDING delivery per matching webhook, all of the event's
// in one synced write, right after the SOP write (not in its batch: an
// event of a write acknowledged just before a crash may be lost; documented
// in docs/EVENTS.md). Delivery threads POST them (common/http, one deadline
// per attempt: Options::attempt_timeout); 2xx is DELIVERED; anything else
// (a status, a refused connection, a timeout) is retried after a full-jitter
// backoff (webhook_payload.h) until the webhook's max_attempts, then DEAD.
// Each webhook has at most one attempt in flight, and its due deliveries go
// in event order, so a receiver sees events in order unless one is retried.
// PENDING deliveries are read back at Create and go on after a restart.
// Each webhook keeps its newest Options::max_deliveries_per_webhook
// deliveries (older ones, of any state, are erased in the write that adds
// the new one).
//
// Errors: as SopService's (common/errors.h): INVALID_ARGUMENT naming the
// field (webhook.url: http:// only, TLS is not supported; webhook.secret:
// 16 to 256 characters; webhook.max_attempts: 0 to 20; names and page
// tokens), NOT_FOUND (a webhook or delivery, or another org's), ALREADY_EXISTS
// (webhook_id taken), PERMISSION_DENIED (webhooks: SALES_OPS and ADMIN;
// WatchChanges: every person role), FAILED_PRECONDITION (replaying a
// delivery that is not DEAD), RESOURCE_EXHAUSTED (too many watches or
// webhooks; a watcher 256 events behind is closed with it), storage errors
// as reported (nothing written).
//
// Thread-safe.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_EVENTS_CHANGE_EVENTS_H_
#define SOPSIDEBAR_SERVER_DOMAIN_EVENTS_CHANGE_EVENTS_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/auth/caller.h"
#include "common/http/http_client.h"
#include "server/common/clock.h"
#include "server/common/message_stream.h"
#include "server/domain/registry/sop_change_sink.h"
#include "server/domain/registry/sop_registry.h"
#include "server/domain/store/webhook_store.h"
#include "sopsidebar/v1/events_service.pb.h"

namespace sopsidebar {

class ChangeEvents final : public SopChangeSink {
 public:
  struct Options {
    // Backoff before retry n (1-based): uniform in
    // [0, min(backoff_cap, backoff_base * 2^(n-1))].
    absl::Duration backoff_base = absl::Seconds(1);
    absl::Duration backoff_cap = absl::Minutes(5);
    // One attempt's deadline (connect, send, answer).
    absl::Duration attempt_timeout = absl::Seconds(10);
    // How often published SOPs are checked for a review that fell due.
    absl::Duration review_due_scan_interval = absl::Minutes(1);
    // Threads POSTing deliveries (attempts to different webhooks at once).
    int delivery_threads = 4;
    // A watcher this many events behind is closed (RESOURCE_EXHAUSTED).
    size_t watch_backlog = 256;
    // Open WatchChanges streams, each with a thread of its own.
    size_t max_watches = 256;
    size_t max_webhooks_per_org = 100;
    size_t max_deliveries_per_webhook = 1000;
    // Set when several sopd nodes share the store (--store=etcd): this
    // node's id. Its delivery ids end in it (d000000000012-node-1a2b3c4d),
    // so nodes never write over each other's deliveries, and it sends only
    // its own (others' PENDING ones are their node's to send). The webhooks
    // are read from the store before each event is handed out and before
    // each webhook call, and the REVIEW_DUE marks before each scan, so a
    // webhook or mark written through another node counts here too
    // (docs/SCALING.md says what stays per node).
    std::string node_id;
  };
  // How an attempt is sent: HttpPost (common/http) in sopd.
  using Poster = std::function<absl::StatusOr<HttpResponse>(const HttpPostRequest&)>;

  // Reads the webhooks, deliveries and review marks from `store` and starts
  // the feed's, the delivery and the review threads. `store`, `registry`
  // (for the REVIEW_DUE scan) and `clock` must outlive the feed. Storage
  // errors as reported.
  static absl::StatusOr<std::unique_ptr<ChangeEvents>> Create(WebhookStore* store,
                                                              const SopRegistry* registry,
                                                              const Clock* clock, Options options,
                                                              Poster poster = &HttpPost);
  // Shutdown().
  ~ChangeEvents() override;

  // SopChangeSink: queues the write's events; never blocks on I/O.
  void SopWritten(absl::string_view action, const Caller& caller, const v1::Sop& head) override;

  // EventService.
  absl::StatusOr<std::unique_ptr<MessageSubscription>> WatchChanges(
      const Caller& caller, const v1::WatchChangesRequest& request,
      std::shared_ptr<MessageSink> sink);
  absl::StatusOr<v1::Webhook> CreateWebhook(const Caller& caller,
                                            const v1::CreateWebhookRequest& request);
  absl::StatusOr<v1::Webhook> GetWebhook(const Caller& caller,
                                         const v1::GetWebhookRequest& request) const;
  absl::StatusOr<v1::ListWebhooksResponse> ListWebhooks(
      const Caller& caller, const v1::ListWebhooksRequest& request) const;
  absl::StatusOr<v1::DeleteWebhookResponse> DeleteWebhook(const Caller& caller,
                                                          const v1::DeleteWebhookRequest& request);
  absl::StatusOr<v1::ListWebhookDeliveriesResponse> ListWebhookDeliveries(
      const Caller& caller, const v1::ListWebhookDeliveriesRequest& request) const;
  absl::StatusOr<v1::WebhookDelivery> ReplayWebhookDelivery(
      const Caller& caller, const v1::ReplayWebhookDeliveryRequest& request);

  // One REVIEW_DUE pass now (the review thread runs it every
  // review_due_scan_interval): queues REVIEW_DUE for every published SOP
  // whose next_review_time has passed and was not emitted yet. Returns how
  // many it queued.
  int ScanReviewDue();

  // Waits until every queued event has been handed out and no delivery is
  // due before `horizon` or in flight; false at `timeout`. For tests.
  bool WaitIdleForTesting(absl::Duration timeout);

  // Closes every watch (UNAVAILABLE), hands out the events already queued
  // (their deliveries stored), stops the threads (an attempt in flight
  // finishes first; PENDING deliveries stay stored for the next start).
  // Idempotent.
  void Shutdown();

 private:
  class Impl;
  explicit ChangeEvents(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_EVENTS_CHANGE_EVENTS_H_
