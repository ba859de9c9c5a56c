// The indexed engine's field dictionary (internal to it: included only by its
// own files and their tests): condition field names as small integers, so
// programs name fields in 16 bits and a lookup resolves the record's fields
// once into an array indexed by id.
//
// Shared by every segment of a matcher: a write that brings new fields
// extends a copy, so older segments' ids stay valid. Ids are dense, in the
// order names were first interned, and never change.
//
// Lookups resolve every record field through Find, an open-addressing table
// on the hasher's hash (cheaper than a general map for a few dozen names).
// Names whose hashes collide only share a probe sequence: Find compares
// names, so a collision costs a comparison, never a wrong id. The hasher is
// a template parameter so tests can force collisions; sopd uses
// FieldDictionary (FieldNameHasher).
//
// Nothing here fails. Thread safety: Find and names are const and may run
// concurrently; Intern must not run concurrently with anything else on the
// same dictionary (matchers intern only into a private copy before sharing
// it).
#ifndef SOPSIDEBAR_SERVER_DOMAIN_MATCHING_FIELD_DICTIONARY_H_
#define SOPSIDEBAR_SERVER_DOMAIN_MATCHING_FIELD_DICTIONARY_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "server/domain/matching/index_hashing.h"

namespace sopsidebar {
namespace indexed_internal {

// A quick hash for field names (looked up for every record field of every
// lookup): length and the first and last eight bytes. Names that share them
// only share a probe sequence.
struct FieldNameHasher {
  static uint64_t Hash(absl::string_view name) {
    const size_t n = name.size();
    const char* p = name.data();
    uint64_t a, b;
    if (n >= 8) {
      a = Load64(p);
      b = Load64(p + n - 8);
    } else if (n >= 4) {
      a = Load32(p);
      b = Load32(p + n - 4);
    } else {
      a = n > 0 ? static_cast<unsigned char>(p[0]) : 0;
      b = n > 0 ? (uint64_t{static_cast<unsigned char>(p[n / 2])} << 8) |
                      (uint64_t{static_cast<unsigned char>(p[n - 1])} << 16)
                : 0;
    }
    return Mix(a ^ (b * 0x9e3779b97f4a7c15ULL) ^ (uint64_t{n} << 56));
  }
};

// `Hasher::Hash(absl::string_view)` returns the uint64_t a name is probed
// by; its low bits pick the home slot.
template <typename Hasher>
class BasicFieldDictionary {
 public:
  // Every interned name, indexed by id.
  const std::vector<std::string>& names() const { return names_; }

  // The id of `name`, interning it (as the next id) when it is new.
  uint32_t Intern(const std::string& name) {
    if (std::optional<uint32_t> id = Find(name)) return *id;
    const auto id = static_cast<uint32_t>(names_.size());
    names_.push_back(name);
    if (slots_.size() < names_.size() * 2) {
      slots_.assign(std::max<size_t>(16, slots_.size() * 2), Slot());
      for (uint32_t i = 0; i < names_.size(); ++i) Insert(i);
    } else {
      Insert(id);
    }
    return id;
  }

  // The id of `name`; nullopt when it was never interned.
  std::optional<uint32_t> Find(absl::string_view name) const {
    if (slots_.empty()) return std::nullopt;
    const uint64_t h = Hasher::Hash(name);
    const size_t mask = slots_.size() - 1;
    for (size_t s = h & mask;; s = (s + 1) & mask) {
      const Slot& slot = slots_[s];
      if (slot.id_plus_one == 0) return std::nullopt;
      if (slot.hash == static_cast<uint32_t>(h) && names_[slot.id_plus_one - 1] == name) {
        return slot.id_plus_one - 1;
      }
    }
  }

 private:
  struct Slot {
    uint32_t id_plus_one = 0;  // 0: empty
    uint32_t hash = 0;         // low bits of the name's hash, to skip most compares
  };

  void Insert(uint32_t id) {
    const uint64_t h = Hasher::Hash(names_[id]);
    const size_t mask = slots_.size() - 1;
    size_t s = h & mask;
    while (slots_[s].id_plus_one != 0) s = (s + 1) & mask;
    slots_[s] = Slot{id + 1, static_cast<uint32_t>(h)};
  }

  std::vector<std::string> names_;
  std::vector<Slot> slots_;  // a power of two, at most half full
};

using FieldDictionary = BasicFieldDictionary<FieldNameHasher>;

}  // namespace indexed_internal
}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_MATCHING_FIELD_DICTIONARY_H_
