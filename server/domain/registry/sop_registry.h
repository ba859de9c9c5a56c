// The SOP use cases behind SopService and ContextService: validate, apply
// the change to the store as one write with its revision, keep the published
// catalog in step, and answer lookups from it.
//
// Requests and results are the API's protobuf messages (the data model);
// errors come from server/common/errors.h:
//   INVALID_ARGUMENT  the request is malformed; the message names the field
//   NOT_FOUND         no such SOP or revision
//   ALREADY_EXISTS    CreateSop with a taken sop_id
//   ABORTED           a supplied etag is stale
//   FAILED_PRECONDITION  the SOP's state forbids the operation (deleted, ...)
//   storage errors    as the store reports them; nothing was written
//
// Thread-safe. Writes are serialised by one mutex (they are rare and each
// waits for an fsync anyway); reads and lookups never take it.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_SOP_REGISTRY_H_
#define SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_SOP_REGISTRY_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/common/clock.h"
#include "server/domain/matching/sop_matcher.h"
#include "server/domain/registry/published_catalog.h"
#include "server/storage/sop_store.h"
#include "sopsidebar/v1/context_service.pb.h"
#include "sopsidebar/v1/sop_service.pb.h"

namespace sopsidebar {

// Who is calling. The author is recorded on every revision.
struct Caller {
  // "anonymous" when the caller did not say.
  std::string author = "anonymous";
};

class SopRegistry {
 public:
  struct Options {
    // Page size when a request gives none.
    int default_page_size = 50;
    // Larger requested page sizes are reduced to this.
    int max_page_size = 1000;
    // Lookup results when a request gives none; larger requests are reduced
    // to max_lookup_results.
    int default_lookup_results = 10;
    int max_lookup_results = 100;
  };

  // Loads every published SOP from `store` into the catalog. `store` and
  // `clock` must outlive the registry.
  static absl::StatusOr<std::unique_ptr<SopRegistry>> Create(SopStore* store,
                                                             const Clock* clock,
                                                             SopMatcherFactory factory,
                                                             Options options);
  static absl::StatusOr<std::unique_ptr<SopRegistry>> Create(SopStore* store,
                                                             const Clock* clock,
                                                             SopMatcherFactory factory) {
    return Create(store, clock, std::move(factory), Options());
  }

  absl::StatusOr<v1::Sop> CreateSop(const Caller& caller, const v1::CreateSopRequest& request);
  absl::StatusOr<v1::Sop> GetSop(const v1::GetSopRequest& request) const;
  absl::StatusOr<v1::ListSopsResponse> ListSops(const v1::ListSopsRequest& request) const;
  // A no-op update (nothing changes) returns the SOP as is and writes nothing.
  absl::StatusOr<v1::Sop> UpdateSop(const Caller& caller, const v1::UpdateSopRequest& request);
  absl::StatusOr<v1::Sop> DeleteSop(const Caller& caller, const v1::DeleteSopRequest& request);
  absl::StatusOr<v1::Sop> UndeleteSop(const Caller& caller,
                                      const v1::UndeleteSopRequest& request);
  absl::StatusOr<v1::ListSopRevisionsResponse> ListSopRevisions(
      const v1::ListSopRevisionsRequest& request) const;
  absl::StatusOr<v1::SopRevision> GetSopRevision(const v1::GetSopRevisionRequest& request) const;
  // Publishing the revision that is already published returns the SOP as is.
  absl::StatusOr<v1::Sop> PublishSop(const Caller& caller, const v1::PublishSopRequest& request);

  absl::StatusOr<v1::LookupSopsResponse> LookupSops(const v1::LookupSopsRequest& request) const;

  // How many SOPs lookups currently match against.
  size_t published_count() const { return catalog_.size(); }

 private:
  SopRegistry(SopStore* store, const Clock* clock, SopMatcherFactory factory, Options options);

  // Reads the head for a write: NOT_FOUND, or ABORTED when `etag` is set and
  // stale.
  absl::StatusOr<v1::Sop> HeadForWrite(const SopName& name, const std::string& etag) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Stamps `head` as the next revision, writes it with its revision, and
  // returns it.
  absl::StatusOr<v1::Sop> CommitLocked(const Caller& caller, const SopName& name, v1::Sop head,
                                       std::string change_summary,
                                       std::optional<std::string> request_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::StatusOr<PublishedSopPtr> LoadPublished(const v1::Sop& head) const;
  int PageSize(int requested) const;

  SopStore* const store_;
  const Clock* const clock_;
  const Options options_;
  PublishedCatalog catalog_;
  absl::Mutex write_mu_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_SOP_REGISTRY_H_
