#include "server/domain/analytics/coverage_recorder.h"

#include <utility>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/domain/analytics/analytics_counters.h"
#include "server/domain/analytics/event_facts.h"

namespace sopsidebar {

void CoverageRecorder::Unmatched(absl::string_view org, const v1::CrmContext& context) {
  const absl::string_view record_type =
      absl::string_view(context.record_type()).substr(0, kMaxValueBytes);
  const std::string status = GroupValue(context, kLeadStatusField).substr(0, kMaxValueBytes);
  std::string key = absl::StrCat(org, absl::string_view("\0", 1), record_type,
                                 absl::string_view("\0", 1), status);
  Shard& shard = shards_[absl::Hash<std::string>{}(key) % shards_.size()];
  absl::MutexLock lock(&shard.mu);
  auto it = shard.counts.find(key);
  if (it != shard.counts.end()) {
    ++it->second;
    return;
  }
  if (shard.counts.size() >= kMaxKeysPerShard) {
    key = absl::StrCat(org, absl::string_view("\0", 1), record_type, absl::string_view("\0", 1),
                       kOtherStatus);
  }
  ++shard.counts[key];
}

absl::Status CoverageRecorder::Flush(EventStore& store, DayNumber day) {
  absl::flat_hash_map<std::string, EventWrite> writes;  // by org
  for (Shard& shard : shards_) {
    absl::flat_hash_map<std::string, int64_t> counts;
    {
      absl::MutexLock lock(&shard.mu);
      counts.swap(shard.counts);
    }
    for (const auto& [key, count] : counts) {
      std::vector<std::string> parts = absl::StrSplit(key, absl::MaxSplits('\0', 2));
      parts.resize(3);
      EventWrite& write = writes[parts[0]];
      write.org = parts[0];
      AggregateDelta& delta = write.deltas.emplace_back();
      delta.day = day;
      delta.dimensions.set_record_type(std::move(parts[1]));
      delta.dimensions.set_status(std::move(parts[2]));
      (*delta.delta.mutable_counts())[std::string(counters::kUnmatchedLookups)] = count;
    }
  }
  absl::Status first_error;
  for (auto& [org, write] : writes) {
    absl::Status written = store.Write(write);
    if (first_error.ok()) first_error = written;
  }
  return first_error;
}

}  // namespace sopsidebar
