// The port the registry tells of its durable writes (the events feed:
// server/domain/events implements it).
#ifndef SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_SOP_CHANGE_SINK_H_
#define SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_SOP_CHANGE_SINK_H_

#include "absl/strings/string_view.h"
#include "common/auth/caller.h"
#include "sopsidebar/v1/sop.pb.h"

namespace sopsidebar {

class SopChangeSink {
 public:
  virtual ~SopChangeSink() = default;
  // `head` (the SOP as written) was durably written by `caller` through
  // `action`, the audit action: "sop.create", "sop.update", "sop.delete",
  // "sop.undelete", "sop.publish", "sop.emergency_publish", "sop.submit",
  // "sop.approve", "sop.reject", "sop.restore", "sop.review". Called once
  // per write, in write order, on the writer's thread while the registry's
  // write lock is held: must not block (queue the work) and must not call
  // the registry's writes.
  virtual void SopWritten(absl::string_view action, const Caller& caller, const v1::Sop& head) = 0;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_SOP_CHANGE_SINK_H_
