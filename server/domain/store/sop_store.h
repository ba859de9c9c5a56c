// The persistence interface for SOPs: heads (the current state of each SOP)
// and their immutable revisions. Implementations: RocksDbStore (durable)
// and InMemorySopStore (tests). The domain sees only this interface.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_STORE_SOP_STORE_H_
#define SOPSIDEBAR_SERVER_DOMAIN_STORE_SOP_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/model/names.h"
#include "sopsidebar/v1/admin_service.pb.h"
#include "sopsidebar/v1/sop.pb.h"
#include "sopsidebar/v1/sop_service.pb.h"

namespace sopsidebar {

// Who asked for a create, and the request id they gave it (AIP-155).
// Callers choose request ids, so two users' ids may be equal: a request id
// identifies a create only together with its org and user.
struct CreateRequest {
  // The caller's user id, exactly as on their token.
  std::string user_id;
  std::string request_id;
};

// One logical change, written atomically: all of it or nothing.
struct SopWrite {
  // The SOP's new head; head.name says which SOP.
  v1::Sop head;
  // The revision this change creates; revision.name must be under head.name
  // and must not exist yet.
  v1::SopRevision revision;
  // When set, records that this create request (in head.name's org)
  // produced head.name, so a retry finds it (FindRequest).
  std::optional<CreateRequest> request;
  // The audit event recording the change, complete with its sequence and
  // hashes (AuditLog). Unset only for bulk loads, which are not audited.
  std::optional<v1::AuditEvent> audit;
};

// A comment created or resolved, with the audit event recording it: written
// atomically.
struct CommentWrite {
  v1::Comment comment;
  v1::AuditEvent audit;
};

// Thread-safe: reads may run concurrently with each other and with Write.
// Callers serialise read-modify-write sequences within a process
// themselves; across processes sharing one store, the revision a write
// creates (which must not exist) and its audit event's sequence (likewise)
// are what a store compares before it writes.
class SopStore {
 public:
  virtual ~SopStore() = default;

  // The head of `name`, or NOT_FOUND.
  virtual absl::StatusOr<v1::Sop> GetHead(const SopName& name) const = 0;

  // Revision `name`, or NOT_FOUND.
  virtual absl::StatusOr<v1::SopRevision> GetRevision(const RevisionName& name) const = 0;

  // Up to `limit` heads of `org` with sop ids greater than `start_after`,
  // in id order.
  virtual absl::StatusOr<std::vector<v1::Sop>> ListHeads(absl::string_view org,
                                                         absl::string_view start_after,
                                                         int limit) const = 0;

  // Up to `limit` revisions of `sop` numbered below `before` (0: no bound),
  // newest first.
  virtual absl::StatusOr<std::vector<v1::SopRevision>> ListRevisions(const SopName& sop,
                                                                     int64_t before,
                                                                     int limit) const = 0;

  // The SOP name `request` in `org` produced, if any: the same request id
  // from another user, or in another org, is another request.
  virtual absl::StatusOr<std::optional<std::string>> FindRequest(
      absl::string_view org, const CreateRequest& request) const = 0;

  // Calls `fn` with every head of every org, in (org, sop id) order, one call
  // at a time on the calling thread; stops at the first error and returns it.
  // Each call gets a head of its own that `fn` may move from (start-up keeps
  // the published ones without copying them). Meant for loading everything
  // at start.
  virtual absl::Status ForEachHead(const std::function<absl::Status(v1::Sop&&)>& fn) const = 0;

  // Applies `write` atomically and durably (synced before returning OK).
  // INVALID_ARGUMENT for a malformed write; ABORTED (error::EtagMismatch)
  // when write.revision exists already: another writer (on another node,
  // with a shared store) made that revision since the head was read;
  // storage errors otherwise. Nothing was written unless it returns OK.
  virtual absl::Status Write(const SopWrite& write) = 0;

  // Comment `name`, or NOT_FOUND.
  virtual absl::StatusOr<v1::Comment> GetComment(const CommentName& name) const = 0;
  // Every comment on `sop`, in no particular order.
  virtual absl::StatusOr<std::vector<v1::Comment>> ListComments(const SopName& sop) const = 0;
  // Creates or replaces write.comment (by name) and appends write.audit,
  // atomically and durably, as Write does.
  virtual absl::Status WriteComment(const CommentWrite& write) = 0;

  // Up to `limit` audit events of `org` with sequences above `after`, in
  // sequence order as stored: a tampered store may return them out of order
  // or with gaps, which is for the caller (AuditLog) to find.
  virtual absl::StatusOr<std::vector<v1::AuditEvent>> ListAuditEvents(absl::string_view org,
                                                                      int64_t after,
                                                                      int limit) const = 0;
  // The stored audit event of `org` with the highest sequence, if any.
  virtual absl::StatusOr<std::optional<v1::AuditEvent>> LastAuditEvent(
      absl::string_view org) const = 0;

  // The storage engine's own figures, name → number, for monitoring (e.g.
  // "rocksdb.estimate-num-keys", "rocksdb.background-errors"); a figure it
  // cannot read is left out, and an engine without any returns none. Cheap
  // (no I/O); never fails.
  virtual std::vector<std::pair<std::string, uint64_t>> EngineStats() const { return {}; }
};

// The parsed names a write touches.
struct SopWriteKeys {
  SopName sop;
  RevisionName revision;
};

// Checks that `write` names a valid SOP and a revision under it; shared by
// the implementations. INVALID_ARGUMENT otherwise.
absl::StatusOr<SopWriteKeys> CheckSopWrite(const SopWrite& write);

// The org of an audit event `event` names, after checking that its name is
// orgs/{org}/auditEvents/{sequence} with its own positive sequence.
// INVALID_ARGUMENT otherwise.
absl::StatusOr<std::string> CheckAuditEvent(const v1::AuditEvent& event);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_STORE_SOP_STORE_H_
