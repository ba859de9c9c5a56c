// The indexed engine's posting table (internal to it: included only by its
// own files and their tests): the multimap from 64-bit keys to 32-bit values
// that equality postings (PostingKey -> rule) and a segment's partitions
// (PartitionHash -> partition) are kept in.
//
// A hash table from 32 bits of a 64-bit key to its values: keys whose
// fingerprints agree share one list (a superset of each), so a lookup may
// get a few rules it does not need, never miss one; rules are verified
// exactly. Slots are 8 bytes, about 80 % full. A fingerprint's home slot
// grows with the fingerprint, and fingerprints sit at or after their home
// in ascending order (overflowing into a tail rather than wrapping), so a
// search for an absent key stops at the first larger fingerprint: a few
// slots even when the table is full.
//
// Nothing here fails. Thread safety: Find is const and may run concurrently
// from any number of threads; Build must not run concurrently with anything
// else on the same table (segments build their tables before sharing them).
#ifndef SOPSIDEBAR_SERVER_DOMAIN_MATCHING_POSTING_TABLE_H_
#define SOPSIDEBAR_SERVER_DOMAIN_MATCHING_POSTING_TABLE_H_

#include <cstdint>
#include <utility>
#include <vector>

namespace sopsidebar {
namespace indexed_internal {

class PostingTable {
 public:
  // An entry for Build: `value` under `key`. Only the key's fingerprint is
  // kept.
  static uint64_t Entry(uint64_t key, uint32_t value) {
    return (uint64_t{Fingerprint(key)} << 32) | value;
  }

  // Replaces the table's contents with `entries` (from Entry) in any order.
  // A value listed twice under one key is kept twice.
  void Build(std::vector<uint64_t> entries);

  // The values under `key` and under every key sharing its fingerprint (the
  // high 32 bits of the key, 0 read as 1), all of them ascending; an empty
  // range when there are none. Valid until the next Build.
  std::pair<const uint32_t*, const uint32_t*> Find(uint64_t key) const {
    if (capacity_ == 0) return {nullptr, nullptr};
    const uint32_t fp = Fingerprint(key);
    // The last slot is always empty.
    for (const Slot* slot = slots_.data() + Home(fp);; ++slot) {
      if (slot->fingerprint == fp) {
        return {values_.data() + slot->begin, values_.data() + slot[1].begin};
      }
      if (slot->fingerprint == 0 || slot->fingerprint > fp) return {nullptr, nullptr};
    }
  }

 private:
  struct Slot {
    uint32_t fingerprint = 0;  // 0: empty
    uint32_t begin = 0;        // values [begin, next slot's begin)
  };

  static uint32_t Fingerprint(uint64_t key) {
    const auto fp = static_cast<uint32_t>(key >> 32);
    return fp == 0 ? 1 : fp;
  }
  // The first slot a fingerprint may sit in; monotone in the fingerprint.
  uint32_t Home(uint32_t fp) const {
    return static_cast<uint32_t>((uint64_t{fp} * capacity_) >> 32);
  }

  uint32_t capacity_ = 0;  // home slots; the table may extend beyond them
  std::vector<Slot> slots_;
  std::vector<uint32_t> values_;
};

}  // namespace indexed_internal
}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_MATCHING_POSTING_TABLE_H_
