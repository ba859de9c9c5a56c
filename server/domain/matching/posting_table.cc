#include "server/domain/matching/posting_table.h"

#include <algorithm>
#include <cstddef>

namespace sopsidebar {
namespace indexed_internal {

void PostingTable::Build(std::vector<uint64_t> entries) {
  // By fingerprint, then value: integers sort fast.
  std::sort(entries.begin(), entries.end());
  auto fingerprint = [](uint64_t entry) { return static_cast<uint32_t>(entry >> 32); };
  size_t distinct = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i == 0 || fingerprint(entries[i]) != fingerprint(entries[i - 1])) ++distinct;
  }
  capacity_ = static_cast<uint32_t>(distinct + distinct / 4 + 1);
  slots_.assign(capacity_, Slot{});
  values_.resize(entries.size());
  uint32_t next = 0;  // the first free slot
  for (size_t i = 0; i < entries.size(); ++i) {
    const uint32_t fp = fingerprint(entries[i]);
    if (i == 0 || fp != fingerprint(entries[i - 1])) {
      next = std::max(next, Home(fp));
      // Keep an empty slot after the last one, to end its values.
      if (next + 1 >= slots_.size()) slots_.resize(next + 2, Slot{});
      slots_[next].fingerprint = fp;
      slots_[next].begin = static_cast<uint32_t>(i);
      ++next;
    }
    values_[i] = static_cast<uint32_t>(entries[i]);
  }
  entries = {};
  slots_.shrink_to_fit();  // the tail grew it
  // Empty slots (and the sentinel after the last one) begin where the
  // next occupied slot does, so a slot's values end at its successor's
  // begin.
  uint32_t end = static_cast<uint32_t>(values_.size());
  for (size_t s = slots_.size(); s-- > 0;) {
    if (slots_[s].fingerprint == 0) {
      slots_[s].begin = end;
    } else {
      end = slots_[s].begin;
    }
  }
}

}  // namespace indexed_internal
}  // namespace sopsidebar
