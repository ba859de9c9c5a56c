// SopService.SearchSops: full-text search over the live revision of every
// published SOP, through a TextIndex (server/search has the Xapian one).
//
// What is indexed: title (weighted highest), the SOP id, purpose, step titles and
// instructions, tags, disqualification codes and labels; each SOP with its
// org and the roles that see it as filter terms. A search asks only for the
// caller's org and the caller's roles, so it never returns, snippets or
// corrects a query towards an SOP the caller may not read (the visibility
// of lookups and reads of published SOPs, sop_visibility.h).
//
// Keeping up with the catalog: Create indexes the registry's published SOPs
// on a thread of its own;
// after that the owner calls CatalogChanged from the registry's catalog
// listener (publish, delete, undelete, visibility change), which only marks
// the index stale. The next search brings it up to date first (re-indexing
// the SOPs whose live revision changed, dropping the unpublished), so a
// search that starts after a change returned shows it.
//
// Errors of SearchSops (common/errors.h):
//   INVALID_ARGUMENT  parent malformed; query empty, over
//                     Options::max_query_chars characters or unparsable;
//                     page_size outside 0..Options::max_page_size
//   NOT_FOUND         parent is not the caller's org
//   PERMISSION_DENIED the caller's roles may not read published SOPs
//   INTERNAL          the index failed (it is rebuilt at the next search)
//
// Thread-safe: searches and updates of the index are serialised by one
// mutex (a Xapian database is not thread-safe); CatalogChanged takes no lock
// and never blocks, so the registry may call it under its write lock.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_SEARCH_SOP_SEARCH_H_
#define SOPSIDEBAR_SERVER_DOMAIN_SEARCH_SOP_SEARCH_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/caller.h"
#include "server/domain/registry/sop_registry.h"
#include "server/domain/search/text_index.h"
#include "sopsidebar/v1/sop_service.pb.h"

namespace sopsidebar {

class SopSearch {
 public:
  struct Options {
    // Results when a request gives no page_size (0).
    int default_page_size = 10;
    // A larger page_size is INVALID_ARGUMENT.
    int max_page_size = 50;
    // A longer query (in characters) is INVALID_ARGUMENT.
    size_t max_query_chars = 500;
    // Bytes of text around the matches in a snippet.
    int snippet_bytes = 200;
  };

  // Indexes the published SOPs of `registry`, which must outlive the
  // search, into `index` (empty), on a thread of its own: start-up does not
  // wait for it (80k SOPs take seconds), and a search that comes first waits
  // for, or does, the indexing. A failed indexing is tried again by the next
  // search.
  static absl::StatusOr<std::unique_ptr<SopSearch>> Create(const SopRegistry* registry,
                                                           std::unique_ptr<TextIndex> index,
                                                           Options options);
  static absl::StatusOr<std::unique_ptr<SopSearch>> Create(const SopRegistry* registry,
                                                           std::unique_ptr<TextIndex> index) {
    return Create(registry, std::move(index), Options());
  }

  absl::StatusOr<v1::SearchSopsResponse> SearchSops(const Caller& caller,
                                                    const v1::SearchSopsRequest& request);

  // Marks the index stale: the registry's published catalog changed. Lock
  // free; call it from SopRegistry's catalog listener.
  void CatalogChanged() { generation_.fetch_add(1, std::memory_order_release); }

  // Waits for the start-up indexing.
  ~SopSearch();

 private:
  SopSearch(const SopRegistry* registry, std::unique_ptr<TextIndex> index, Options options)
      : registry_(registry), index_(std::move(index)), options_(options) {}

  // Brings the index up to the registry's catalog when it changed since the
  // last sync (or a failed write left it unknown).
  absl::Status SyncLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const SopRegistry* const registry_;
  // The start-up indexing.
  std::thread initial_sync_;
  // Bumped by CatalogChanged.
  std::atomic<uint64_t> generation_{0};
  mutable absl::Mutex mu_;
  const std::unique_ptr<TextIndex> index_ ABSL_PT_GUARDED_BY(mu_);
  const Options options_;
  // The generation the index reflects; unset before the first sync and after
  // a failed write.
  std::optional<uint64_t> synced_ ABSL_GUARDED_BY(mu_);
  // What the index holds, by full SOP name: the live revision indexed.
  absl::flat_hash_map<std::string, PublishedSopPtr> indexed_ ABSL_GUARDED_BY(mu_);
};

// The document SopSearch indexes for `sop` (exposed for tests).
TextDocument SearchDocumentOf(const PublishedSop& sop);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_SEARCH_SOP_SEARCH_H_
