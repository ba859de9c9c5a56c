#include "server/domain/analytics/coverage_recorder.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/domain/analytics/analytics_counters.h"
#include "server/domain/analytics/event_facts.h"

namespace sopsidebar {

namespace {

// `key` = "{org}\0{record_type}\0{status}", in its existing capacity when
// it fits (StrAppend's generic path costs more than the appends).
void SetKey(std::string& key, absl::string_view org, absl::string_view record_type,
            absl::string_view status) {
  key.clear();
  key.append(org.data(), org.size());
  key.push_back('\0');
  key.append(record_type.data(), record_type.size());
  key.push_back('\0');
  key.append(status.data(), status.size());
}

}  // namespace

// The hot path: the key is built in a buffer the thread keeps, and looked
// up as a string_view, so a key seen before costs no allocation; only a new
// key is copied into its shard.
void CoverageRecorder::Unmatched(absl::string_view org, const v1::CrmContext& context) {
  const absl::string_view record_type =
      absl::string_view(context.record_type()).substr(0, kMaxValueBytes);
  thread_local std::string key, number;
  const absl::string_view status =
      GroupValueView(context, kLeadStatusField, number).substr(0, kMaxValueBytes);
  SetKey(key, org, record_type, status);
  Shard& shard = shards_[absl::Hash<absl::string_view>{}(key) % shards_.size()];
  absl::MutexLock lock(&shard.mu);
  auto it = shard.counts.find(absl::string_view(key));
  if (it != shard.counts.end()) {
    ++it->second;
    return;
  }
  if (shard.counts.size() >= kMaxKeysPerShard) {
    SetKey(key, org, record_type, kOtherStatus);
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
