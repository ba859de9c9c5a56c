// What a node hears of the records written anywhere in a store that several
// sopd nodes share (the etcd store): the port through which each node keeps
// its in-memory state (the lookup catalog, tokens, CRM maps) in step with
// writes made on other nodes. A single-node store (RocksDB) has no such
// feed: every write goes through this node's own registries.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_STORE_STORE_CHANGES_H_
#define SOPSIDEBAR_SERVER_DOMAIN_STORE_STORE_CHANGES_H_

#include <cstdint>

#include "absl/time/time.h"
#include "sopsidebar/internal/v1/records.pb.h"
#include "sopsidebar/v1/admin_service.pb.h"
#include "sopsidebar/v1/sop.pb.h"

namespace sopsidebar {

// Called with every record as stored, in store order, on the follower's one
// thread; a record this node wrote itself comes too (applying it again must
// change nothing). After the follower fell behind the store's history
// (etcd compacted it), every current record is sent again. Implementations
// must not call back into the store's follower.
class StoreChangeListener {
 public:
  virtual ~StoreChangeListener() = default;
  virtual void HeadStored(v1::Sop head) = 0;
  virtual void TokenStored(const internal::v1::TokenRecord& record) = 0;
  virtual void OrgStored(const v1::Org& org) = 0;
  virtual void RoleMapStored(const v1::RoleMap& map) = 0;
  virtual void FieldMapStored(const v1::FieldMap& map) = 0;
};

// How far a follower has come: the store revision its node's state
// reflects, and the last time it heard from the store (then the node was
// at most `behind` revisions behind it).
struct StoreFollowState {
  int64_t revision = 0;
  int64_t behind = 0;
  absl::Time last_contact = absl::InfinitePast();
  bool connected = false;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_STORE_STORE_CHANGES_H_
