// Counts the lookups that matched no SOP (coverage gaps) by org, record type
// and status, in memory on the lookup's thread, and hands the counts to the
// event store as aggregate deltas when flushed (Analytics flushes every
// second). The lookup pays one hash, one uncontended lock of one of 16
// shards and one map increment, and only when nothing matched.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_ANALYTICS_COVERAGE_RECORDER_H_
#define SOPSIDEBAR_SERVER_DOMAIN_ANALYTICS_COVERAGE_RECORDER_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/domain/registry/crm_lookup.h"
#include "server/domain/store/event_store.h"

namespace sopsidebar {

// Thread-safe.
class CoverageRecorder final : public UnmatchedLookupSink {
 public:
  // Distinct (org, record type, status) keys a shard holds between flushes;
  // further new keys count under status kOtherStatus, so memory stays
  // bounded whatever contexts arrive.
  static constexpr size_t kMaxKeysPerShard = 4096;
  static constexpr absl::string_view kOtherStatus = "(other)";
  // Longer record types and statuses are cut to this many bytes.
  static constexpr size_t kMaxValueBytes = 128;

  void Unmatched(absl::string_view org, const v1::CrmContext& context) override;

  // Writes the counts since the last flush to `store`, one write per org,
  // on `day`. Counts whose write fails are lost, and the first error is
  // returned (coverage is a hint, not a ledger).
  absl::Status Flush(EventStore& store, DayNumber day);

 private:
  struct Shard {
    absl::Mutex mu;
    // "{org}\0{record_type}\0{status}" -> lookups.
    absl::flat_hash_map<std::string, int64_t> counts ABSL_GUARDED_BY(mu);
  };
  std::array<Shard, 16> shards_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_ANALYTICS_COVERAGE_RECORDER_H_
