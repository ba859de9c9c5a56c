// The org's tamper-evident audit trail (docs/GOVERNANCE.md).
//
// Every write and state change appends one AuditEvent to its org's chain in
// the same atomic store write as the change itself (SopWrite.audit,
// CommentWrite.audit, AuthWrite.audit), so the trail never misses a change that happened and
// never records one that did not. Events of an org are numbered 1, 2, 3, ...
// and each carries the SHA-256 of the one before it and of itself (its
// deterministic serialisation with `hash` empty), both in lowercase hex.
//
// Verify walks the chain and reports the first broken link: an event whose
// own hash does not match its content (edited), whose sequence is not the
// next one (deleted, reordered or inserted), or whose previous_hash is not
// the hash of the event before it. A saved head (GetAuditHead) shows what
// the chain alone cannot: that events were cut off its end, or the whole
// store rolled back to an earlier copy.
//
// Errors come from common/errors.h: INVALID_ARGUMENT names the field;
// NOT_FOUND for another org; PERMISSION_DENIED without Operation::kReadAudit
// (ADMIN, SALES_OPS, VP_SALES, MARKETING_DIRECTOR); storage errors as the
// store reports them.
//
// Thread-safe. Appends are serialised by one mutex, held while the change
// and its event are written, so the chain order is the commit order.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_AUDIT_AUDIT_LOG_H_
#define SOPSIDEBAR_SERVER_DOMAIN_AUDIT_AUDIT_LOG_H_

#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/caller.h"
#include "server/common/clock.h"
#include "server/common/page_token.h"
#include "server/domain/store/sop_store.h"
#include "sopsidebar/v1/admin_service.pb.h"

namespace sopsidebar {

// What one change records, before the log numbers and hashes it.
struct AuditEntry {
  // "sop.publish", ... (AuditEvent.action lists them).
  std::string action;
  // The resource acted on.
  std::string resource;
  // The revision the change created, if it created one.
  std::string revision_id;
  // The change summary, comment or reason.
  std::string detail;
};

class AuditLog {
 public:
  // `store` and `clock` must outlive the log.
  AuditLog(SopStore* store, const Clock* clock);

  // Appends `entry`, done by `caller`, to the chain of `org` (the org of the
  // resource changed: a server admin's token for another org, a new org, are
  // that org's events): builds
  // the complete event (name, sequence, time, actor, client, hashes) and
  // calls `write` with it, which must write it atomically with the change
  // it records. The chain advances only when `write` returns OK; its error
  // is returned as is. `write` runs under the log's mutex and must not call
  // the log.
  absl::Status Append(absl::string_view org, const Caller& caller, AuditEntry entry,
                      const std::function<absl::Status(const v1::AuditEvent&)>& write);

  absl::StatusOr<v1::ListAuditEventsResponse> ListAuditEvents(
      const Caller& caller, const v1::ListAuditEventsRequest& request) const;
  absl::StatusOr<v1::VerifyAuditLogResponse> VerifyAuditLog(
      const Caller& caller, const v1::VerifyAuditLogRequest& request) const;
  absl::StatusOr<v1::AuditHead> GetAuditHead(const Caller& caller,
                                             const v1::GetAuditHeadRequest& request) const;

  // The lowercase hex SHA-256 of `event` with its hash field empty.
  static std::string HashOf(const v1::AuditEvent& event);
  // The previous_hash of an org's first event: 64 zeros.
  static const std::string& GenesisHash();

 private:
  // The org's head as this log knows it, read from the store the first time.
  absl::StatusOr<v1::AuditHead> HeadLocked(absl::string_view org)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The org of `parent` after the access checks every read method makes.
  absl::StatusOr<std::string> ReadableOrg(const Caller& caller, absl::string_view field,
                                          absl::string_view parent) const;

  SopStore* const store_;
  const Clock* const clock_;
  const PageTokenCodec page_tokens_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, v1::AuditHead> heads_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_AUDIT_AUDIT_LOG_H_
