// The indexed engine's hashes (internal to it: included only by its own
// files and their tests). Value hashes are equal for values ScalarEquals
// holds for, under the same case mode; distinct values may share a hash, so
// every user of these hashes confirms hits on the values themselves. Hashes
// are never stored outside memory: they may change between builds of sopd.
//
// Thread-safe (pure). Defined here, inline, because every lookup runs them
// per record field and per probe.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_MATCHING_INDEX_HASHING_H_
#define SOPSIDEBAR_SERVER_DOMAIN_MATCHING_INDEX_HASHING_H_

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "common/model/names.h"
#include "google/protobuf/struct.pb.h"

namespace sopsidebar {
namespace indexed_internal {

// A 64-bit finaliser (MurmurHash3's fmix64): every input bit moves every
// output bit.
inline uint64_t Mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// `w` with its ASCII capitals lowered (bytes >= 0x80 unchanged), eight
// bytes at a time: absl::ascii_tolower on each byte.
inline uint64_t LowerAsciiWord(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  const uint64_t low7 = w & (0x7f * kOnes);
  const uint64_t at_least_a = low7 + (0x80 - 'A') * kOnes;
  const uint64_t above_z = low7 + (0x80 - 'Z' - 1) * kOnes;
  const uint64_t upper = at_least_a & ~above_z & ~w & (0x80 * kOnes);
  return w | (upper >> 2);
}

// Unaligned little-endian loads of 8 and 4 bytes.
inline uint64_t Load64(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

inline uint64_t Load32(const char* p) {
  uint32_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// A hash of `s` (ASCII-case-folded when `fold`), eight bytes at a time; the
// tail is read with overlapping loads.
inline uint64_t StringHash(absl::string_view s, bool fold) {
  constexpr uint64_t kMul = 0x9ddfea08eb382d69ULL;
  const char* p = s.data();
  const size_t n = s.size();
  uint64_t h = 0xcbf29ce484222325ULL ^ (n * 0x9e3779b97f4a7c15ULL);
  auto add = [&h, fold](uint64_t w) {
    if (fold) w = LowerAsciiWord(w);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  };
  size_t i = 0;
  for (; i + 8 <= n; i += 8) add(Load64(p + i));
  if (n >= 8) {
    if (i < n) add(Load64(p + n - 8));
  } else if (n >= 4) {
    add(Load32(p) | (Load32(p + n - 4) << 32));
  } else if (n > 0) {
    add(static_cast<unsigned char>(p[0]) | (uint64_t{static_cast<unsigned char>(p[n / 2])} << 8) |
        (uint64_t{static_cast<unsigned char>(p[n - 1])} << 16));
  }
  return Mix(h);
}

// A hash equal for scalars that are ScalarEquals under the case mode (`fold`
// for case-insensitive); nullopt for kinds that equal nothing. Distinct
// values may share a hash: a hash hit is confirmed on the condition itself.
inline std::optional<uint64_t> ScalarHash(const google::protobuf::Value& v, bool fold) {
  switch (v.kind_case()) {
    case google::protobuf::Value::kStringValue:
      return StringHash(v.string_value(), fold);
    case google::protobuf::Value::kNumberValue: {
      double d = v.number_value();
      if (d == 0) d = 0;  // -0 == 0
      uint64_t bits;
      std::memcpy(&bits, &d, sizeof bits);
      return Mix(bits ^ 0x9e3779b97f4a7c15ULL);
    }
    case google::protobuf::Value::kBoolValue:
      return Mix(v.bool_value() ? 0x2545f4914f6cdd1dULL : 0x2545f4914f6cdd1eULL);
    default:
      return std::nullopt;
  }
}

// The high 32 bits of a 64-bit hash: what programs keep of equality values.
inline uint32_t Hash32(uint64_t h) { return static_cast<uint32_t>(h >> 32); }

// The hash a partition is found by, from its org's StringHash and its
// record type (null: any type).
inline uint64_t PartitionHash(uint64_t org_hash, const std::string* record_type) {
  return Mix(org_hash ^ (record_type == nullptr ? 0x51afd7ed558ccdffULL
                                                : StringHash(*record_type, /*fold=*/false) * 31));
}

inline uint64_t PartitionHash(absl::string_view org, const std::string* record_type) {
  return PartitionHash(StringHash(org, /*fold=*/false), record_type);
}

// The salt of the postings of (partition, field, case mode). Salts that
// collide only merge posting lists (see PostingTable).
inline uint32_t PostingSalt(uint32_t partition, uint32_t field, bool fold) {
  return static_cast<uint32_t>(
      Mix((uint64_t{partition} << 33) ^ (uint64_t{field} << 1) ^ (fold ? 1 : 0)));
}

// The posting key of a value (its ScalarHash) under a PostingSalt.
inline uint64_t PostingKey(uint32_t salt, uint64_t value_hash) {
  return Mix(value_hash ^ (salt * 0x9e3779b97f4a7c15ULL));
}

// The order SOPs are kept in inside a segment.
inline uint64_t NameHash(const SopName& name) {
  return absl::Hash<std::pair<absl::string_view, absl::string_view>>()(
      std::make_pair(absl::string_view(name.org), absl::string_view(name.sop)));
}

}  // namespace indexed_internal
}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_MATCHING_INDEX_HASHING_H_
