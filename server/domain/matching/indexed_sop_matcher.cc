#include "server/domain/matching/indexed_sop_matcher.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "server/common/proto_time.h"
#include "server/domain/matching/condition.h"
#include "server/domain/matching/near_miss.h"
#include "server/domain/model/values.h"

namespace sopsidebar {
namespace {

using google::protobuf::Value;

// Segment caps (see the header): the small segment holds at most
// max(kMinSmallCap, n^(1/3)) SOPs, the middle one max(kMinMiddleCap, n^(2/3)).
constexpr size_t kMinSmallCap = 128;
constexpr size_t kMinMiddleCap = 4096;
// Estimated share of records a one-sided range admits (two-sided: half of
// it), against equality's values / distinct values of the field: ranges are
// access conditions only when a rule has no selective equality.
constexpr double kRangeSelectivity = 0.3;
// Full builds compile rules on up to kMaxBuildThreads threads (the
// hardware's), each with at least kMinSopsPerBuildThread SOPs.
constexpr size_t kMaxBuildThreads = 4;
constexpr uint32_t kMinSopsPerBuildThread = 20000;

uint64_t Mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// `w` with its ASCII capitals lowered (bytes >= 0x80 unchanged), eight
// bytes at a time: absl::ascii_tolower on each byte.
uint64_t LowerAsciiWord(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  const uint64_t low7 = w & (0x7f * kOnes);
  const uint64_t at_least_a = low7 + (0x80 - 'A') * kOnes;
  const uint64_t above_z = low7 + (0x80 - 'Z' - 1) * kOnes;
  const uint64_t upper = at_least_a & ~above_z & ~w & (0x80 * kOnes);
  return w | (upper >> 2);
}

uint64_t Load64(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

uint64_t Load32(const char* p) {
  uint32_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// A hash of `s` (ASCII-case-folded when `fold`), eight bytes at a time; the
// tail is read with overlapping loads.
uint64_t StringHash(absl::string_view s, bool fold) {
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
std::optional<uint64_t> ScalarHash(const Value& v, bool fold) {
  switch (v.kind_case()) {
    case Value::kStringValue:
      return StringHash(v.string_value(), fold);
    case Value::kNumberValue: {
      double d = v.number_value();
      if (d == 0) d = 0;  // -0 == 0
      uint64_t bits;
      std::memcpy(&bits, &d, sizeof bits);
      return Mix(bits ^ 0x9e3779b97f4a7c15ULL);
    }
    case Value::kBoolValue:
      return Mix(v.bool_value() ? 0x2545f4914f6cdd1dULL : 0x2545f4914f6cdd1eULL);
    default:
      return std::nullopt;
  }
}

bool Present(const Value* v) {
  return v != nullptr && v->kind_case() != Value::kNullValue &&
         v->kind_case() != Value::KIND_NOT_SET;
}

// Field names as small integers, shared by every segment of a matcher: a
// write that brings new fields extends a copy, so older segments' ids stay
// valid. Lookups resolve every record field through Find, an open-addressing
// table on FieldNameHash (cheaper than a general map for a few dozen names).
class FieldDictionary {
 public:
  const std::vector<std::string>& names() const { return names_; }

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

  std::optional<uint32_t> Find(absl::string_view name) const {
    if (slots_.empty()) return std::nullopt;
    const uint64_t h = FieldNameHash(name);
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
    uint32_t hash = 0;         // low bits of FieldNameHash, to skip most compares
  };

  // A quick hash for field names (looked up for every record field of every
  // lookup): length and the first and last eight bytes. Names that share
  // them only share a probe sequence; Find compares names.
  static uint64_t FieldNameHash(absl::string_view name) {
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

  void Insert(uint32_t id) {
    const uint64_t h = FieldNameHash(names_[id]);
    const size_t mask = slots_.size() - 1;
    size_t s = h & mask;
    while (slots_[s].id_plus_one != 0) s = (s + 1) & mask;
    slots_[s] = Slot{id + 1, static_cast<uint32_t>(h)};
  }

  std::vector<std::string> names_;
  std::vector<Slot> slots_;
};

// How a lookup decides a condition from its compiled form. Ranges, prefixes
// and exists are decided exactly. Equality sets are kept as 32 bits of each
// value's hash: a miss is certain, a hit is "confirm", settled on the
// condition's protobuf (ConditionHoldsForValue) only once every other
// condition of the rule has passed, so hits cost a protobuf read only for
// rules that match (and the rare hash collision).
enum class Op : uint8_t {
  kNever,        // no operator: holds for nothing
  kExists,       // flags & kExistsTrue: exists: true
  kAnyOf,        // equals / any_of: n value hashes follow
  kNoneOf,       // n value hashes follow
  kNumberRange,  // the present bounds follow, as doubles
  kTimeRange,    // the present bounds follow, as absl::Time
  kPrefix,       // n bytes follow
  kProtobuf,     // decided on the protobuf only (operands beyond the limits)
  kAccess,       // the rule's equality access condition: a lookup reaches the
                 // rule through a posting of one of its values, so only the
                 // protobuf confirmation is left (its hashes are not kept)
};

enum ConditionFlags : uint8_t {
  kFold = 1,
  kHasMin = 2,
  kHasMax = 4,
  kExclusiveMin = 8,
  kExclusiveMax = 16,
  kExistsTrue = 32,
};

enum class Verdict : uint8_t { kFails, kHolds, kConfirm };

// A rule's program: kRuleHeaderWords words of header, then per condition
// (in the rule's order, so indexes are the rule's own) its header (one word,
// see EncodeCondition) and its operands. Programs live one after another in Segment::code and are
// named by the offset of their first word.
constexpr uint32_t kRuleHeaderWords = 4;
struct RuleHeader {
  uint32_t sop;  // index into Segment::sops
  int32_t priority;
  RoleSet visible_to;
  uint16_t rule_index;
  uint8_t num_conditions;
  uint8_t specificity;
};
static_assert(sizeof(RuleHeader) == kRuleHeaderWords * 4, "RuleHeader is four words");

// A condition's header, decoded.
struct ConditionHeader {
  uint32_t field = 0;
  Op op = Op::kNever;
  uint8_t flags = 0;
  uint16_t n = 0;  // value hashes (kAnyOf, kNoneOf) or prefix bytes
};
static_assert(std::is_trivially_copyable_v<absl::Time>, "times are copied into programs");
constexpr uint32_t kTimeWords = sizeof(absl::Time) / 4;
constexpr uint32_t kMaxOperands = 0xffff;

template <typename T>
T Read(const uint32_t* at) {
  T t;
  std::memcpy(static_cast<void*>(&t), at, sizeof t);
  return t;
}

// A condition header is one word, field (16 bits) | op (4) | flags (6) |
// n (6), followed by the field and then n in a word of their own when they
// do not fit (field 0xffff and n 63 mean "in the next word").
constexpr uint32_t kFieldEscape = 0xffff;
constexpr uint32_t kCountEscape = 63;
constexpr size_t kMaxConditionHeaderWords = 3;

// Writes `c`'s header to `words`; returns how many words it took.
size_t EncodeCondition(const ConditionHeader& c, uint32_t* words) {
  const uint32_t field = std::min(c.field, kFieldEscape);
  const uint32_t n = std::min<uint32_t>(c.n, kCountEscape);
  size_t k = 0;
  words[k++] = field | (static_cast<uint32_t>(c.op) << 16) | (uint32_t{c.flags} << 20) | (n << 26);
  if (field == kFieldEscape) words[k++] = c.field;
  if (n == kCountEscape) words[k++] = c.n;
  return k;
}

// The condition at `at`; `*operands` is where its operands start.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline ConditionHeader DecodeCondition(const uint32_t* at,
                                                                    const uint32_t** operands) {
  const uint32_t w = *at++;
  ConditionHeader c;
  c.field = w & 0xffff;
  c.op = static_cast<Op>((w >> 16) & 0xf);
  c.flags = static_cast<uint8_t>((w >> 20) & 0x3f);
  c.n = static_cast<uint16_t>(w >> 26);
  if (c.field == kFieldEscape) c.field = *at++;
  if (c.n == kCountEscape) c.n = static_cast<uint16_t>(*at++);
  *operands = at;
  return c;
}

// The words condition `c`'s operands take.
uint32_t OperandWords(const ConditionHeader& c) {
  const auto bounds = [&c] {
    return ((c.flags & kHasMin) ? 1u : 0u) + ((c.flags & kHasMax) ? 1u : 0u);
  };
  switch (c.op) {
    case Op::kAnyOf:
    case Op::kNoneOf:
      return c.n;
    case Op::kNumberRange:
      return 2 * bounds();
    case Op::kTimeRange:
      return kTimeWords * bounds();
    case Op::kPrefix:
      return (c.n + 3u) / 4u;
    default:
      return 0;
  }
}

// The lower and upper bounds of a range condition whose operands start at
// `at` (infinite where absent).
template <typename T>
std::pair<T, T> Bounds(const ConditionHeader& c, const uint32_t* at, T lowest, T highest) {
  constexpr uint32_t kWords = sizeof(T) / 4;
  std::pair<T, T> b(lowest, highest);
  if (c.flags & kHasMin) {
    b.first = Read<T>(at);
    at += kWords;
  }
  if (c.flags & kHasMax) b.second = Read<T>(at);
  return b;
}

template <typename T>
bool InBounds(const T& x, uint8_t flags, const T& lo, const T& hi) {
  if ((flags & kHasMin) && ((flags & kExclusiveMin) ? !(x > lo) : !(x >= lo))) return false;
  if ((flags & kHasMax) && ((flags & kExclusiveMax) ? !(x < hi) : !(x <= hi))) return false;
  return true;
}

// Whether `h` is one of the sorted hashes [set, set + n).
bool HashIn(const uint32_t* set, uint32_t n, uint32_t h) {
  if (n <= 8) {
    for (uint32_t i = 0; i < n; ++i) {
      if (set[i] == h) return true;
    }
    return false;
  }
  return std::binary_search(set, set + n, h);
}

uint32_t Hash32(uint64_t h) { return static_cast<uint32_t>(h >> 32); }

// The rules of one (org, record type or any type): `members` lists them all
// (for near misses); each is reachable from exactly one access path: a
// posting of its equality access condition's values, a range list, or the
// scan list (rules without an indexable condition).
struct Partition {
  std::string org;
  std::string record_type;  // empty: any type
  bool any_type = false;
  uint32_t members_begin = 0, members_end = 0;    // into Segment::members
  uint32_t scan_begin = 0, scan_end = 0;          // into Segment::scan
  uint32_t equality_begin = 0, equality_end = 0;  // into Segment::equality_fields
  uint32_t ranges_begin = 0, ranges_end = 0;      // into Segment::range_lists
};

// The hash a partition is found by, from its org's StringHash and its
// record type (null: any type).
uint64_t PartitionHash(uint64_t org_hash, const std::string* record_type) {
  return Mix(org_hash ^ (record_type == nullptr ? 0x51afd7ed558ccdffULL
                                                : StringHash(*record_type, /*fold=*/false) * 31));
}

uint64_t PartitionHash(absl::string_view org, const std::string* record_type) {
  return PartitionHash(StringHash(org, /*fold=*/false), record_type);
}

// The salt of the postings of (partition, field, case mode). Salts that
// collide only merge posting lists (see PostingTable).
uint32_t PostingSalt(uint32_t partition, uint32_t field, bool fold) {
  return static_cast<uint32_t>(
      Mix((uint64_t{partition} << 33) ^ (uint64_t{field} << 1) ^ (fold ? 1 : 0)));
}

uint64_t PostingKey(uint32_t salt, uint64_t value_hash) {
  return Mix(value_hash ^ (salt * 0x9e3779b97f4a7c15ULL));
}

// An equality access condition's (field, case mode) in a partition: a
// lookup probes the postings of the record's values for it.
struct EqualityField {
  uint32_t field : 31;
  uint32_t fold : 1;
  uint32_t salt;  // PostingSalt
};
static_assert(sizeof(EqualityField) == 8, "EqualityField is two words");

// The rules whose access condition is a range on `field`, sorted by the
// indexed bound on a monotone scale (numbers as they are, times as Unix
// seconds rounded down): by lower bound ascending, or, for `upper` (rules
// bounded above only), by upper bound descending. A record's value admits a
// prefix of the list.
struct RangeList {
  uint32_t field = 0;
  bool time = false;
  bool upper = false;
  uint32_t begin = 0;  // into Segment::range_bounds / range_rules
  uint32_t end = 0;
};

// A hash table from 32 bits of a 64-bit key to its values: keys whose
// fingerprints agree share one list (a superset of each), so a lookup may
// get a few rules it does not need, never miss one; rules are verified
// exactly. Slots are 8 bytes, about 80 % full. A fingerprint's home slot
// grows with the fingerprint, and fingerprints sit at or after their home
// in ascending order (overflowing into a tail rather than wrapping), so a
// search for an absent key stops at the first larger fingerprint: a few
// slots even when the table is full.
class PostingTable {
 public:
  // An entry for Build: `value` under `key`.
  static uint64_t Entry(uint64_t key, uint32_t value) {
    return (uint64_t{Fingerprint(key)} << 32) | value;
  }

  // `entries` (from Entry) in any order.
  void Build(std::vector<uint64_t> entries) {
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

  // The values under `key` (and under keys sharing its fingerprint).
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

struct Segment {
  // Ordered by NameHash.
  std::vector<PublishedSopPtr> sops;
  // Rule programs; rules are named by the offset of their first word.
  std::vector<uint32_t> code;
  std::vector<Partition> partitions;
  PostingTable partition_table;  // PartitionHash -> index into partitions
  std::vector<uint32_t> members;
  std::vector<uint32_t> scan;
  std::vector<EqualityField> equality_fields;
  std::vector<RangeList> range_lists;
  std::vector<double> range_bounds;
  std::vector<uint32_t> range_rules;
  PostingTable postings;  // PostingKey -> rules

  RuleHeader Header(uint32_t rule) const { return Read<RuleHeader>(code.data() + rule); }

  // The partition of (org, record type or any type) with hash `hash`, or -1.
  int64_t FindPartition(uint64_t hash, absl::string_view org, const std::string* type) const {
    auto [begin, end] = partition_table.Find(hash);
    for (const uint32_t* it = begin; it != end; ++it) {
      const Partition& p = partitions[*it];
      if (p.org == org && (type == nullptr ? p.any_type : !p.any_type && p.record_type == *type)) {
        return *it;
      }
    }
    return -1;
  }
};

uint64_t NameHash(const SopName& name) {
  return absl::Hash<std::pair<absl::string_view, absl::string_view>>()(
      std::make_pair(absl::string_view(name.org), absl::string_view(name.sop)));
}

double TimeScale(absl::Time t) { return static_cast<double>(absl::ToUnixSeconds(t)); }

// Compiles the rules of a range of a segment's SOPs into programs of its
// own, with what choosing access conditions needs; SegmentBuilder appends
// the ranges in order. Compilers of different ranges may run concurrently
// (the dictionary and the SOPs are only read).
class RuleCompiler {
 public:
  // A condition a rule could be filed under, with what the index needs.
  struct Access {
    uint32_t condition = 0;
    uint32_t field = 0;
    uint8_t flags = 0;
    Op op = Op::kNever;
    // kAnyOf: full value hashes [first, first + count) in hashes.
    uint32_t first = 0, count = 0;
    // Ranges: the indexed bound on the monotone scale, and which one.
    double bound = 0;
    bool upper = false;
  };
  struct BuiltRule {
    uint32_t at = 0;
    uint32_t access_begin = 0, access_end = 0;  // into options
  };

  // A rule in the partition of (org, record type; null: any type).
  struct Placement {
    absl::string_view org;
    const std::string* type = nullptr;
    uint32_t ordinal = 0;  // into rules
  };

  explicit RuleCompiler(const FieldDictionary& dict) : dict_(dict) {}

  // Compiles the rules of sops[begin, end) (their segment indexes).
  void CompileSops(const std::vector<PublishedSopPtr>& sops, uint32_t begin, uint32_t end) {
    std::vector<const std::string*> types;
    for (uint32_t s = begin; s < end; ++s) {
      const PublishedSop& sop = *sops[s];
      const auto& rule_list = sop.body.targeting_rules();
      for (int i = 0; i < rule_list.size(); ++i) {
        const v1::TargetingRule& rule = rule_list[i];
        const auto ordinal = static_cast<uint32_t>(rules.size());
        Compile(s, sop, i, rule);
        types.clear();
        for (const std::string& type : rule.record_types()) {
          if (std::none_of(types.begin(), types.end(),
                           [&](const std::string* t) { return *t == type; })) {
            types.push_back(&type);
          }
        }
        if (types.empty()) placed.push_back(Placement{sop.name.org, nullptr, ordinal});
        for (const std::string* type : types) {
          placed.push_back(Placement{sop.name.org, type, ordinal});
        }
      }
    }
  }

  std::vector<uint32_t> code;
  std::vector<BuiltRule> rules;  // by ordinal; `at` into code
  std::vector<Access> options;   // access condition candidates, by rule
  std::vector<uint64_t> hashes;  // full hashes of equality access conditions' values
  std::vector<Placement> placed;

 private:
  void Push(const void* data, size_t bytes) {
    const size_t at = code.size();
    code.resize(at + (bytes + 3) / 4, 0);
    std::memcpy(code.data() + at, data, bytes);
  }

  // Appends rule `i` of `sop` (segment index `s`) to the code and rules.
  void Compile(uint32_t s, const PublishedSop& sop, int i, const v1::TargetingRule& rule) {
    const auto at = static_cast<uint32_t>(code.size());
    RuleHeader header;
    header.sop = s;
    header.priority = rule.priority();
    header.visible_to = sop.visible_to;
    header.rule_index = static_cast<uint16_t>(i);
    header.num_conditions = static_cast<uint8_t>(rule.conditions_size());
    header.specificity = static_cast<uint8_t>(RuleSpecificity(rule));
    Push(&header, sizeof header);
    BuiltRule built;
    built.at = at;
    built.access_begin = static_cast<uint32_t>(options.size());
    for (int c = 0; c < rule.conditions_size(); ++c) {
      Compile(static_cast<uint32_t>(c), rule.conditions(c));
    }
    built.access_end = static_cast<uint32_t>(options.size());
    rules.push_back(built);
  }

  // Appends `values`' 32-bit hashes, sorted and distinct, and notes their
  // full hashes for an equality access condition.
  uint16_t PushHashes(const std::vector<const Value*>& values, bool fold, Access* access) {
    pending_.clear();
    for (const Value* v : values) {
      // Kinds that equal nothing are left out: they can never hit.
      if (std::optional<uint64_t> h = ScalarHash(*v, fold)) pending_.push_back(*h);
    }
    std::sort(pending_.begin(), pending_.end());
    pending_.erase(std::unique(pending_.begin(), pending_.end()), pending_.end());
    if (access != nullptr) {
      access->first = static_cast<uint32_t>(hashes.size());
      access->count = static_cast<uint32_t>(pending_.size());
      hashes.insert(hashes.end(), pending_.begin(), pending_.end());
    }
    short_.clear();
    for (uint64_t h : pending_) short_.push_back(Hash32(h));
    std::sort(short_.begin(), short_.end());
    short_.erase(std::unique(short_.begin(), short_.end()), short_.end());
    Push(short_.data(), short_.size() * sizeof(uint32_t));
    return static_cast<uint16_t>(short_.size());
  }

  // The same reading of the operator as condition.cc.
  void Compile(uint32_t index, const v1::Condition& c) {
    ConditionHeader out;
    out.field = *dict_.Find(c.field());
    const bool fold = c.case_insensitive();
    if (fold) out.flags |= kFold;
    // Operands first; the header, whose size depends on them, goes before.
    const size_t header_at = code.size();
    Access access;
    access.condition = index;
    access.field = out.field;
    switch (c.op_case()) {
      case v1::Condition::kExists:
        out.op = Op::kExists;
        if (c.exists()) out.flags |= kExistsTrue;
        break;
      case v1::Condition::kEquals:
      case v1::Condition::kAnyOf:
      case v1::Condition::kNoneOf: {
        values_.clear();
        if (c.op_case() == v1::Condition::kEquals) {
          values_.push_back(&c.equals());
        } else {
          for (const Value& v :
               c.op_case() == v1::Condition::kAnyOf ? c.any_of().values() : c.none_of().values()) {
            values_.push_back(&v);
          }
        }
        if (values_.size() > kMaxOperands) {
          out.op = Op::kProtobuf;
          break;
        }
        const bool any = c.op_case() != v1::Condition::kNoneOf;
        out.op = any ? Op::kAnyOf : Op::kNoneOf;
        out.n = PushHashes(values_, fold, any ? &access : nullptr);
        if (any) {
          access.op = Op::kAnyOf;
          access.flags = out.flags;
        }
        break;
      }
      case v1::Condition::kRange: {
        const v1::Range& r = c.range();
        if (r.exclusive_min()) out.flags |= kExclusiveMin;
        if (r.exclusive_max()) out.flags |= kExclusiveMax;
        if (r.lower_case() == v1::Range::kMinTime || r.upper_case() == v1::Range::kMaxTime) {
          out.op = Op::kTimeRange;
          if (r.has_min_time()) {
            out.flags |= kHasMin;
            const absl::Time t = FromProtoTimestamp(r.min_time());
            Push(&t, sizeof t);
            access.bound = TimeScale(t);
          }
          if (r.has_max_time()) {
            out.flags |= kHasMax;
            const absl::Time t = FromProtoTimestamp(r.max_time());
            Push(&t, sizeof t);
            if (!r.has_min_time()) {
              access.bound = TimeScale(t);
              access.upper = true;
            }
          }
        } else {
          out.op = Op::kNumberRange;
          if (r.lower_case() == v1::Range::kMin) {
            out.flags |= kHasMin;
            const double d = r.min();
            Push(&d, sizeof d);
            access.bound = d;
          }
          if (r.upper_case() == v1::Range::kMax) {
            out.flags |= kHasMax;
            const double d = r.max();
            Push(&d, sizeof d);
            if (!(out.flags & kHasMin)) {
              access.bound = d;
              access.upper = true;
            }
          }
          if (std::isnan(r.min()) || std::isnan(r.max())) break;  // not indexable
        }
        if (out.flags & (kHasMin | kHasMax)) {
          access.op = out.op;
          access.flags = out.flags;
        }
        break;
      }
      case v1::Condition::kPrefix:
        if (c.prefix().size() > kMaxOperands) {
          out.op = Op::kProtobuf;
          break;
        }
        out.op = Op::kPrefix;
        out.n = static_cast<uint16_t>(c.prefix().size());
        Push(c.prefix().data(), c.prefix().size());
        break;
      default:
        break;
    }
    uint32_t words[kMaxConditionHeaderWords];
    code.insert(code.begin() + header_at, words, words + EncodeCondition(out, words));
    if (access.op != Op::kNever) options.push_back(access);
  }

  const FieldDictionary& dict_;
  std::vector<const Value*> values_;  // of the condition being compiled
  std::vector<uint64_t> pending_;
  std::vector<uint32_t> short_;
};

class SegmentBuilder {
 public:
  // `dict` must know every condition field of the SOPs built.
  SegmentBuilder(const FieldDictionary& dict, Segment* segment) : dict_(dict), seg_(*segment) {}

  void Build(std::vector<PublishedSopPtr> sops) {
    {
      std::vector<std::pair<uint64_t, PublishedSopPtr>> by_name;
      by_name.reserve(sops.size());
      for (PublishedSopPtr& sop : sops) by_name.emplace_back(NameHash(sop->name), std::move(sop));
      std::sort(by_name.begin(), by_name.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      seg_.sops.reserve(by_name.size());
      for (auto& [h, sop] : by_name) seg_.sops.push_back(std::move(sop));
    }
    // (partition, rule ordinal) before rules are grouped by partition.
    std::vector<std::pair<uint32_t, uint32_t>> placed;
    {
      const auto n = static_cast<uint32_t>(seg_.sops.size());
      const size_t threads =
          n < kMinSopsPerBuildThread * 2
              ? 1
              : std::clamp<size_t>(std::thread::hardware_concurrency(), 1,
                                   std::min<size_t>(kMaxBuildThreads, n / kMinSopsPerBuildThread));
      std::vector<RuleCompiler> compilers(threads, RuleCompiler(dict_));
      auto range = [&](size_t t) {
        compilers[t].CompileSops(seg_.sops, static_cast<uint32_t>(n * t / threads),
                                 static_cast<uint32_t>(n * (t + 1) / threads));
      };
      std::vector<std::thread> workers;
      for (size_t t = 1; t < threads; ++t) workers.emplace_back(range, t);
      range(0);
      for (std::thread& w : workers) w.join();
      for (RuleCompiler& c : compilers) Append(std::move(c), &placed);
    }
    ChooseAccess();
    Compact();
    std::stable_sort(placed.begin(), placed.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    seg_.members.reserve(placed.size());
    member_ordinals_.reserve(placed.size());
    for (const auto& [p, ordinal] : placed) {
      Partition& part = seg_.partitions[p];
      if (part.members_begin == part.members_end) {
        part.members_begin = static_cast<uint32_t>(seg_.members.size());
      }
      seg_.members.push_back(rules_[ordinal].at);
      member_ordinals_.push_back(ordinal);
      part.members_end = static_cast<uint32_t>(seg_.members.size());
    }
    placed = {};
    std::vector<uint64_t> partition_keys;
    for (uint32_t p = 0; p < seg_.partitions.size(); ++p) {
      const Partition& part = seg_.partitions[p];
      const uint64_t h = PartitionHash(part.org, part.any_type ? nullptr : &part.record_type);
      partition_keys.push_back(PostingTable::Entry(h, p));
    }
    seg_.partition_table.Build(std::move(partition_keys));
    Index();
    seg_.code.shrink_to_fit();
    seg_.scan.shrink_to_fit();
    seg_.equality_fields.shrink_to_fit();
    seg_.range_lists.shrink_to_fit();
    seg_.range_bounds.shrink_to_fit();
    seg_.range_rules.shrink_to_fit();
  }

 private:
  uint32_t PartitionOf(absl::string_view org, const std::string* type) {
    const uint64_t h = PartitionHash(org, type);
    auto [first, inserted] = partition_ids_.try_emplace(h, -1);
    for (int64_t id = first->second; id >= 0; id = same_hash_[id]) {
      const Partition& p = seg_.partitions[id];
      if (p.org == org && (type == nullptr ? p.any_type : !p.any_type && p.record_type == *type)) {
        return static_cast<uint32_t>(id);
      }
    }
    const auto id = static_cast<uint32_t>(seg_.partitions.size());
    Partition& p = seg_.partitions.emplace_back();
    p.org = std::string(org);
    p.any_type = type == nullptr;
    if (type != nullptr) p.record_type = *type;
    same_hash_.push_back(first->second);
    first->second = id;
    return id;
  }

  using Access = RuleCompiler::Access;
  using BuiltRule = RuleCompiler::BuiltRule;

  // Appends a compiler's rules, renumbered, to the segment's.
  void Append(RuleCompiler c, std::vector<std::pair<uint32_t, uint32_t>>* placed) {
    const auto code_base = static_cast<uint32_t>(seg_.code.size());
    const auto rule_base = static_cast<uint32_t>(rules_.size());
    const auto access_base = static_cast<uint32_t>(access_.size());
    const auto hash_base = static_cast<uint32_t>(hashes_.size());
    seg_.code.insert(seg_.code.end(), c.code.begin(), c.code.end());
    c.code = {};
    for (BuiltRule r : c.rules) {
      r.at += code_base;
      r.access_begin += access_base;
      r.access_end += access_base;
      rules_.push_back(r);
    }
    for (Access a : c.options) {
      a.first += hash_base;
      access_.push_back(a);
    }
    hashes_.insert(hashes_.end(), c.hashes.begin(), c.hashes.end());
    for (const RuleCompiler::Placement& p : c.placed) {
      placed->emplace_back(PartitionOf(p.org, p.type), rule_base + p.ordinal);
    }
  }

  // Picks each rule's access condition: the one expected to admit the
  // fewest records (chosen_, by ordinal; -1: none).
  void ChooseAccess() {
    // Distinct values per (field, case mode), for the equality estimate.
    absl::flat_hash_map<uint64_t, uint32_t> distinct;
    {
      absl::flat_hash_set<uint64_t> seen;
      for (const Access& a : access_) {
        if (a.op != Op::kAnyOf) continue;
        const uint64_t fm = (uint64_t{a.field} << 1) | (a.flags & kFold);
        for (uint32_t i = 0; i < a.count; ++i) {
          if (seen.insert(Mix(hashes_[a.first + i] ^ Mix(fm))).second) ++distinct[fm];
        }
      }
    }
    chosen_.reserve(rules_.size());
    for (const BuiltRule& rule : rules_) {
      double best = HUGE_VAL;
      int64_t best_access = -1;
      for (uint32_t i = rule.access_begin; i < rule.access_end; ++i) {
        const Access& a = access_[i];
        double estimate;
        if (a.op == Op::kAnyOf) {
          const uint64_t fm = (uint64_t{a.field} << 1) | (a.flags & kFold);
          estimate = a.count / std::max(2.0, static_cast<double>(distinct[fm]));
        } else {
          const bool both = (a.flags & kHasMin) && (a.flags & kHasMax);
          estimate = both ? kRangeSelectivity / 2 : kRangeSelectivity;
        }
        if (estimate < best) {
          best = estimate;
          best_access = i;
        }
      }
      chosen_.push_back(best_access);
    }
  }

  // Rewrites the code without the value hashes of equality access
  // conditions (their postings stand for them): such a condition becomes
  // kAccess.
  void Compact() {
    std::vector<uint32_t> code;
    code.reserve(seg_.code.size());
    for (size_t o = 0; o < rules_.size(); ++o) {
      const uint32_t* at = seg_.code.data() + rules_[o].at;
      const RuleHeader header = Read<RuleHeader>(at);
      const int64_t access = chosen_[o] >= 0 && access_[chosen_[o]].op == Op::kAnyOf
                                 ? access_[chosen_[o]].condition
                                 : -1;
      rules_[o].at = static_cast<uint32_t>(code.size());
      code.insert(code.end(), at, at + kRuleHeaderWords);
      at += kRuleHeaderWords;
      for (int64_t i = 0; i < header.num_conditions; ++i) {
        const uint32_t* operands;
        ConditionHeader c = DecodeCondition(at, &operands);
        const uint32_t* next = operands + OperandWords(c);
        if (i == access) {
          c.op = Op::kAccess;
          c.n = 0;
          uint32_t words[kMaxConditionHeaderWords];
          code.insert(code.end(), words, words + EncodeCondition(c, words));
        } else {
          code.insert(code.end(), at, next);
        }
        at = next;
      }
    }
    seg_.code = std::move(code);
  }

  // Files each rule under its access condition in each of its partitions:
  // postings for equality, range lists for ranges, the scan list otherwise.
  // O(total conditions) plus sorting.
  void Index() {
    std::vector<uint64_t> postings;
    // (partition, field, time, upper, bound, rule)
    std::vector<std::tuple<uint32_t, uint32_t, bool, bool, double, uint32_t>> ranges;
    absl::flat_hash_set<std::tuple<uint32_t, uint32_t, bool>> equality;
    for (uint32_t p = 0; p < seg_.partitions.size(); ++p) {
      Partition& part = seg_.partitions[p];
      part.scan_begin = static_cast<uint32_t>(seg_.scan.size());
      for (uint32_t m = part.members_begin; m < part.members_end; ++m) {
        const uint32_t rule = seg_.members[m];
        const int64_t which = chosen_[member_ordinals_[m]];
        if (which < 0) {
          seg_.scan.push_back(rule);
          continue;
        }
        const Access& a = access_[which];
        if (a.op == Op::kAnyOf) {
          const bool fold = (a.flags & kFold) != 0;
          equality.emplace(p, a.field, fold);
          const uint32_t salt = PostingSalt(p, a.field, fold);
          for (uint32_t i = 0; i < a.count; ++i) {
            postings.push_back(PostingTable::Entry(PostingKey(salt, hashes_[a.first + i]), rule));
          }
        } else {
          ranges.emplace_back(p, a.field, a.op == Op::kTimeRange, a.upper,
                              a.upper ? -a.bound : a.bound, rule);
        }
      }
      part.scan_end = static_cast<uint32_t>(seg_.scan.size());
    }
    seg_.postings.Build(std::move(postings));

    std::vector<std::tuple<uint32_t, uint32_t, bool>> fields(equality.begin(), equality.end());
    std::sort(fields.begin(), fields.end());
    for (const auto& [p, field, fold] : fields) {
      Partition& part = seg_.partitions[p];
      if (part.equality_begin == part.equality_end) {
        part.equality_begin = static_cast<uint32_t>(seg_.equality_fields.size());
      }
      seg_.equality_fields.push_back(EqualityField{field, fold, PostingSalt(p, field, fold)});
      part.equality_end = static_cast<uint32_t>(seg_.equality_fields.size());
    }

    std::sort(ranges.begin(), ranges.end());
    for (size_t i = 0; i < ranges.size(); ++i) {
      const auto& [p, field, time, upper, bound, rule] = ranges[i];
      if (i == 0 || std::tie(p, field, time, upper) !=
                        std::tie(std::get<0>(ranges[i - 1]), std::get<1>(ranges[i - 1]),
                                 std::get<2>(ranges[i - 1]), std::get<3>(ranges[i - 1]))) {
        Partition& part = seg_.partitions[p];
        if (part.ranges_begin == part.ranges_end) {
          part.ranges_begin = static_cast<uint32_t>(seg_.range_lists.size());
        }
        const auto at = static_cast<uint32_t>(seg_.range_bounds.size());
        seg_.range_lists.push_back(RangeList{field, time, upper, at, at});
        part.ranges_end = static_cast<uint32_t>(seg_.range_lists.size());
      }
      seg_.range_bounds.push_back(upper ? -bound : bound);
      seg_.range_rules.push_back(rule);
      seg_.range_lists.back().end = static_cast<uint32_t>(seg_.range_bounds.size());
    }
  }

  const FieldDictionary& dict_;
  Segment& seg_;
  // Build-time only.
  // PartitionHash -> the last partition with it; same_hash_[p]: the one
  // before p (-1: none).
  absl::flat_hash_map<uint64_t, int64_t> partition_ids_;
  std::vector<int64_t> same_hash_;
  std::vector<BuiltRule> rules_;           // by ordinal
  std::vector<uint32_t> member_ordinals_;  // parallel to Segment::members
  std::vector<int64_t> chosen_;            // access condition by ordinal
  std::vector<Access> access_;
  std::vector<uint64_t> hashes_;  // full hashes of equality access conditions' values
};

// Bit i set: Segment::sops[i] has been replaced or removed.
using DeadSet = std::vector<uint64_t>;

bool IsDead(const DeadSet* dead, uint32_t sop) {
  return dead != nullptr && (((*dead)[sop >> 6] >> (sop & 63)) & 1) != 0;
}

}  // namespace

struct IndexedSopMatcher::State {
  struct SegmentRef {
    std::shared_ptr<const Segment> segment;
    std::shared_ptr<const DeadSet> dead;  // null: none
    uint32_t sop_base = 0;                // offset of its SOPs in lookup scratch
    size_t live = 0;
  };

  std::shared_ptr<const FieldDictionary> dict;
  std::vector<SegmentRef> segments;  // oldest (largest) first
  uint32_t total_sops = 0;
  size_t live = 0;

  void Rebase() {
    total_sops = 0;
    live = 0;
    for (SegmentRef& ref : segments) {
      ref.sop_base = total_sops;
      total_sops += static_cast<uint32_t>(ref.segment->sops.size());
      live += ref.live;
    }
  }
};

namespace {

using State = IndexedSopMatcher::State;

std::shared_ptr<const Segment> BuildSegment(std::vector<PublishedSopPtr> sops,
                                            const FieldDictionary& dict) {
  auto segment = std::make_shared<Segment>();
  SegmentBuilder(dict, segment.get()).Build(std::move(sops));
  return segment;
}

std::optional<absl::Time> MemoTime(const Value& v, ParsedTimeMemo* memo) {
  if (memo == nullptr) return ValueTime(v);
  if (!memo->parsed) {
    memo->time = ValueTime(v);
    memo->parsed = true;
  }
  return memo->time;
}

// A lookup's per-thread working memory, reused so the hot path allocates
// only its results. Entries are valid when their epoch is the current one.
struct Scratch {
  struct Hit {
    uint32_t segment;
    uint32_t sop;
    int32_t priority;
    uint16_t rule_index;
    uint8_t specificity;
  };
  // The record's value of one dictionary field, resolved once per lookup.
  struct Slot {
    uint32_t epoch = 0;
    bool present = false;
    uint8_t hashed = 0;    // bit m: hash[m] computed (m = fold)
    uint8_t hashable = 0;  // bit m: hash[m] exists (the value is a scalar)
    const Value* value = nullptr;
    uint64_t hash[2] = {0, 0};
    ParsedTimeMemo memo;
  };

  uint32_t epoch = 0;
  std::vector<Slot> slots;
  std::vector<uint32_t> sop_epoch;
  std::vector<uint32_t> sop_hit;  // index into hits
  std::vector<Hit> hits;
  std::vector<uint32_t> candidates;  // rules of the partition being searched
  std::vector<const uint32_t*> conditions;

  void Begin(size_t fields, size_t sops) {
    if (++epoch == 0) {
      for (Slot& s : slots) s.epoch = 0;
      std::fill(sop_epoch.begin(), sop_epoch.end(), 0);
      epoch = 1;
    }
    if (slots.size() < fields) slots.resize(fields);
    if (sop_epoch.size() < sops) {
      sop_epoch.resize(sops, 0);
      sop_hit.resize(sops, 0);
    }
    hits.clear();
  }
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

// How far ahead of verification candidates' programs are prefetched.
constexpr size_t kPrefetchDistance = 8;

// One lookup (or near-miss search) over one matcher state.
class Lookup {
 public:
  Lookup(const State& state, const MatchQuery& query)
      : state_(state), query_(query), s_(ThreadScratch()) {
    s_.Begin(state.dict->names().size(), state.total_sops);
    Resolve();
  }

  std::vector<SopMatchResult> Match() {
    const auto k = static_cast<size_t>(query_.max_results);
    if (k == 0) return {};
    ForEachPartition([&](uint32_t si, uint32_t p) { Search(si, p); });
    auto before = [&](const Scratch::Hit& a, const Scratch::Hit& b) {
      return CompareRank(a.priority, a.specificity, *Sop(a), b.priority, b.specificity, *Sop(b)) <
             0;
    };
    const size_t n = std::min(s_.hits.size(), k);
    std::partial_sort(s_.hits.begin(), s_.hits.begin() + n, s_.hits.end(), before);
    std::vector<SopMatchResult> results;
    results.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      const Scratch::Hit& h = s_.hits[i];
      results.push_back(SopMatchResult{state_.segments[h.segment].segment->sops[h.sop],
                                       h.rule_index, h.priority, h.specificity});
    }
    return results;
  }

  // Near misses may fail their access condition, so every rule in scope is
  // checked (the interface allows a scan).
  std::vector<NearMiss> NearMisses(int max) {
    std::vector<NearMiss> misses;
    ForEachPartition([&](uint32_t si, uint32_t p) {
      ForEachVisibleMember(si, p, [&](const Segment& seg, const RuleHeader& h) {
        std::optional<int> failed = SoleFailedCondition(
            h.num_conditions, [&](int c) { return Decide(seg, h, c, s_.conditions[c]); });
        if (failed) {
          misses.push_back(
              NearMiss{seg.sops[h.sop], h.rule_index, *failed, h.priority, h.specificity});
        }
      });
    });
    // Rules filed under a record type the context's differs from only by
    // case, each under the first such type it names (it may name several).
    const std::string& type = query_.context->record_type();
    ForEachCaseVariantPartition([&](uint32_t si, uint32_t p) {
      const std::string& partition_type = state_.segments[si].segment->partitions[p].record_type;
      ForEachVisibleMember(si, p, [&](const Segment& seg, const RuleHeader& h) {
        const std::string* variant = RecordTypeDifferingOnlyByCase(
            seg.sops[h.sop]->body.targeting_rules(h.rule_index), type);
        if (variant == nullptr || *variant != partition_type) return;
        bool all_hold = true;
        for (int c = 0; c < h.num_conditions && all_hold; ++c) {
          all_hold = Decide(seg, h, c, s_.conditions[c]);
        }
        if (all_hold) {
          misses.push_back(NearMiss{seg.sops[h.sop], h.rule_index, NearMiss::kRecordType,
                                    h.priority, h.specificity});
        }
      });
    });
    RankNearMisses(&misses, max);
    return misses;
  }

 private:
  const PublishedSop* Sop(const Scratch::Hit& h) const {
    return state_.segments[h.segment].segment->sops[h.sop].get();
  }

  void Resolve() {
    const FieldDictionary& dict = *state_.dict;
    for (const auto& [name, value] : query_.context->fields()) {
      std::optional<uint32_t> id = dict.Find(name);
      if (!id) continue;
      Scratch::Slot& s = s_.slots[*id];
      s.epoch = s_.epoch;
      s.value = &value;
      s.present = Present(&value);
      s.hashed = 0;
      s.hashable = 0;
      s.memo = ParsedTimeMemo();
    }
  }

  // The slot of `field`, null when the record lacks it.
  Scratch::Slot* Get(uint32_t field) {
    Scratch::Slot& s = s_.slots[field];
    return s.epoch == s_.epoch ? &s : nullptr;
  }

  // The hash of a scalar slot's value under `fold`.
  static std::optional<uint64_t> SlotHash(Scratch::Slot& s, bool fold) {
    const uint8_t bit = fold ? 2 : 1;
    if (!(s.hashed & bit)) {
      s.hashed |= bit;
      if (std::optional<uint64_t> h = ScalarHash(*s.value, fold)) {
        s.hash[fold ? 1 : 0] = *h;
        s.hashable |= bit;
      }
    }
    if (!(s.hashable & bit)) return std::nullopt;
    return s.hash[fold ? 1 : 0];
  }

  template <typename Visit>
  void ForEachPartition(Visit visit) {
    const std::string& type = query_.context->record_type();
    const uint64_t org_hash = StringHash(query_.org, /*fold=*/false);
    const uint64_t any_hash = PartitionHash(org_hash, nullptr);
    const uint64_t type_hash = PartitionHash(org_hash, &type);
    for (uint32_t si = 0; si < state_.segments.size(); ++si) {
      const Segment& seg = *state_.segments[si].segment;
      const int64_t any = seg.FindPartition(any_hash, query_.org, nullptr);
      if (any >= 0) visit(si, static_cast<uint32_t>(any));
      const int64_t typed = seg.FindPartition(type_hash, query_.org, &type);
      if (typed >= 0) visit(si, static_cast<uint32_t>(typed));
    }
  }

  // Calls visit(segment, header) for every live rule of partition `p` of
  // segment `si` the viewer may see, with s_.conditions set to its
  // conditions' starts.
  template <typename Visit>
  void ForEachVisibleMember(uint32_t si, uint32_t p, Visit visit) {
    const State::SegmentRef& ref = state_.segments[si];
    const Segment& seg = *ref.segment;
    const Partition& part = seg.partitions[p];
    for (uint32_t m = part.members_begin; m < part.members_end; ++m) {
      const uint32_t rule = seg.members[m];
      const RuleHeader h = seg.Header(rule);
      if (!RolesMaySee(query_.viewer_roles, h.visible_to) || IsDead(ref.dead.get(), h.sop)) {
        continue;
      }
      ConditionStarts(seg, rule, h);
      visit(seg, h);
    }
  }

  // The org's partitions of record types the context's differs from only by
  // case (a scan of the partitions: near misses only).
  template <typename Visit>
  void ForEachCaseVariantPartition(Visit visit) {
    const std::string& type = query_.context->record_type();
    for (uint32_t si = 0; si < state_.segments.size(); ++si) {
      const Segment& seg = *state_.segments[si].segment;
      for (uint32_t p = 0; p < seg.partitions.size(); ++p) {
        const Partition& part = seg.partitions[p];
        if (part.org == query_.org && !part.any_type && part.record_type != type &&
            absl::EqualsIgnoreCase(part.record_type, type)) {
          visit(si, p);
        }
      }
    }
  }

  // Whether the record's value (or an element of it) hashes to one of the
  // condition's value hashes [set, set + n).
  bool HashHit(const uint32_t* set, uint32_t n, bool fold, Scratch::Slot& s) {
    if (s.value->kind_case() == Value::kListValue) {
      for (const Value& e : s.value->list_value().values()) {
        std::optional<uint64_t> h = ScalarHash(e, fold);
        if (h && HashIn(set, n, Hash32(*h))) return true;
      }
      return false;
    }
    std::optional<uint64_t> h = SlotHash(s, fold);
    return h && HashIn(set, n, Hash32(*h));
  }

  // One scalar against a range or prefix condition (condition.cc's
  // ScalarSatisfies).
  static bool Satisfies(const ConditionHeader& c, const uint32_t* operands, const Value& v,
                        ParsedTimeMemo* memo) {
    switch (c.op) {
      case Op::kNumberRange: {
        if (v.kind_case() != Value::kNumberValue) return false;
        const auto [lo, hi] = Bounds<double>(c, operands, -HUGE_VAL, HUGE_VAL);
        return InBounds(v.number_value(), c.flags, lo, hi);
      }
      case Op::kTimeRange: {
        std::optional<absl::Time> t = MemoTime(v, memo);
        if (!t) return false;
        const auto [lo, hi] =
            Bounds<absl::Time>(c, operands, absl::InfinitePast(), absl::InfiniteFuture());
        return InBounds(*t, c.flags, lo, hi);
      }
      case Op::kPrefix:
        return v.kind_case() == Value::kStringValue &&
               HasPrefix(v.string_value(),
                         absl::string_view(reinterpret_cast<const char*>(operands), c.n),
                         (c.flags & kFold) ? CaseMode::kIgnoreAsciiCase : CaseMode::kExact);
      default:
        return false;
    }
  }

  // The first phase for the condition at `at`: exact for all but equality
  // hits (kConfirm).
  Verdict Screen(const uint32_t* at) {
    const uint32_t* operands;
    const ConditionHeader c = DecodeCondition(at, &operands);
    Scratch::Slot* s = Get(c.field);
    const bool present = s != nullptr && s->present;
    switch (c.op) {
      case Op::kNever:
        return Verdict::kFails;
      case Op::kProtobuf:
      case Op::kAccess:
        return Verdict::kConfirm;
      case Op::kExists:
        return ((c.flags & kExistsTrue) != 0) == present ? Verdict::kHolds : Verdict::kFails;
      case Op::kAnyOf:
        return present && HashHit(operands, c.n, c.flags & kFold, *s) ? Verdict::kConfirm
                                                                      : Verdict::kFails;
      case Op::kNoneOf:
        return present && HashHit(operands, c.n, c.flags & kFold, *s) ? Verdict::kConfirm
                                                                      : Verdict::kHolds;
      default:
        break;
    }
    if (!present) return Verdict::kFails;
    if (s->value->kind_case() == Value::kListValue) {
      for (const Value& v : s->value->list_value().values()) {
        if (Satisfies(c, operands, v, nullptr)) return Verdict::kHolds;
      }
      return Verdict::kFails;
    }
    return Satisfies(c, operands, *s->value, &s->memo) ? Verdict::kHolds : Verdict::kFails;
  }

  // Settles a kConfirm verdict on condition `i` of the rule's protobuf.
  bool Confirm(const Segment& seg, const RuleHeader& h, int i, const uint32_t* at) {
    const v1::Condition& condition =
        seg.sops[h.sop]->body.targeting_rules(h.rule_index).conditions(i);
    const uint32_t* operands;
    Scratch::Slot* s = Get(DecodeCondition(at, &operands).field);
    return ConditionHoldsForValue(condition, s != nullptr ? s->value : nullptr,
                                  s != nullptr ? &s->memo : nullptr);
  }

  // Whether condition `i` (at `at`) of the rule holds, exactly.
  bool Decide(const Segment& seg, const RuleHeader& h, int i, const uint32_t* at) {
    switch (Screen(at)) {
      case Verdict::kHolds:
        return true;
      case Verdict::kFails:
        return false;
      case Verdict::kConfirm:
        return Confirm(seg, h, i, at);
    }
    return false;
  }

  static const uint32_t* NextCondition(const uint32_t* at) {
    const uint32_t* operands;
    const ConditionHeader c = DecodeCondition(at, &operands);
    return operands + OperandWords(c);
  }

  // s_.conditions[i]: where condition i of `rule` starts.
  void ConditionStarts(const Segment& seg, uint32_t rule, const RuleHeader& h) {
    s_.conditions.clear();
    const uint32_t* at = seg.code.data() + rule + kRuleHeaderWords;
    for (uint32_t i = 0; i < h.num_conditions; ++i, at = NextCondition(at)) {
      s_.conditions.push_back(at);
    }
  }

  // Verifies `rule`: every condition screened, then equality hits confirmed.
  void Verify(uint32_t si, const State::SegmentRef& ref, uint32_t rule) {
    const Segment& seg = *ref.segment;
    const RuleHeader h = seg.Header(rule);
    if (!RolesMaySee(query_.viewer_roles, h.visible_to) || IsDead(ref.dead.get(), h.sop)) {
      return;
    }
    // Conditions to confirm, by index (rules have at most kMaxConditions
    // conditions; beyond 64, every one is confirmed).
    uint64_t confirm = 0;
    const uint32_t* at = seg.code.data() + rule + kRuleHeaderWords;
    for (uint32_t i = 0; i < h.num_conditions; ++i, at = NextCondition(at)) {
      switch (Screen(at)) {
        case Verdict::kFails:
          return;
        case Verdict::kConfirm:
          confirm |= i < 64 ? uint64_t{1} << i : ~uint64_t{0};
          break;
        case Verdict::kHolds:
          break;
      }
    }
    if (confirm != 0) {
      ConditionStarts(seg, rule, h);
      for (uint32_t i = 0; i < h.num_conditions; ++i) {
        if (((confirm >> std::min(i, 63u)) & 1) &&
            !Confirm(seg, h, static_cast<int>(i), s_.conditions[i])) {
          return;
        }
      }
    }
    Offer(si, ref, h);
  }

  void Offer(uint32_t si, const State::SegmentRef& ref, const RuleHeader& e) {
    const uint32_t g = ref.sop_base + e.sop;
    Scratch::Hit hit{si, e.sop, e.priority, e.rule_index, e.specificity};
    if (s_.sop_epoch[g] != s_.epoch) {
      s_.sop_epoch[g] = s_.epoch;
      s_.sop_hit[g] = static_cast<uint32_t>(s_.hits.size());
      s_.hits.push_back(hit);
      return;
    }
    Scratch::Hit& best = s_.hits[s_.sop_hit[g]];
    if (std::make_tuple(hit.priority, hit.specificity, -int{hit.rule_index}) >
        std::make_tuple(best.priority, best.specificity, -int{best.rule_index})) {
      best = hit;
    }
  }

  // Verifies the rules of partition `p` of segment `si` that the record's
  // values reach through their access conditions: gathers them first, then
  // verifies them with their programs prefetched a few ahead.
  void Search(uint32_t si, uint32_t p) {
    const State::SegmentRef& ref = state_.segments[si];
    const Segment& seg = *ref.segment;
    const Partition& part = seg.partitions[p];
    std::vector<uint32_t>& candidates = s_.candidates;
    candidates.assign(seg.scan.begin() + part.scan_begin, seg.scan.begin() + part.scan_end);
    auto probe = [&](const EqualityField& f, uint64_t h) {
      auto [begin, end] = seg.postings.Find(PostingKey(f.salt, h));
      if (begin != end) candidates.insert(candidates.end(), begin, end);
    };
    for (uint32_t i = part.equality_begin; i < part.equality_end; ++i) {
      const EqualityField& f = seg.equality_fields[i];
      Scratch::Slot* s = Get(f.field);
      if (s == nullptr || !s->present) continue;
      if (s->value->kind_case() == Value::kListValue) {
        for (const Value& e : s->value->list_value().values()) {
          if (std::optional<uint64_t> h = ScalarHash(e, f.fold)) probe(f, *h);
        }
      } else if (std::optional<uint64_t> h = SlotHash(*s, f.fold)) {
        probe(f, *h);
      }
    }
    auto admit = [&](const RangeList& list, double x) {
      const double* begin = seg.range_bounds.data() + list.begin;
      const double* end = seg.range_bounds.data() + list.end;
      const double* last = list.upper ? std::upper_bound(begin, end, x, std::greater<>())
                                      : std::upper_bound(begin, end, x);
      const uint32_t* rules = seg.range_rules.data() + list.begin;
      if (last != begin) candidates.insert(candidates.end(), rules, rules + (last - begin));
    };
    auto scale = [](const RangeList& list, const Value& v,
                    ParsedTimeMemo* memo) -> std::optional<double> {
      if (!list.time) {
        if (v.kind_case() != Value::kNumberValue) return std::nullopt;
        return v.number_value();
      }
      std::optional<absl::Time> t = MemoTime(v, memo);
      if (!t) return std::nullopt;
      return TimeScale(*t);
    };
    for (uint32_t i = part.ranges_begin; i < part.ranges_end; ++i) {
      const RangeList& list = seg.range_lists[i];
      Scratch::Slot* s = Get(list.field);
      if (s == nullptr || !s->present) continue;
      if (s->value->kind_case() == Value::kListValue) {
        for (const Value& e : s->value->list_value().values()) {
          if (std::optional<double> x = scale(list, e, nullptr)) admit(list, *x);
        }
      } else if (std::optional<double> x = scale(list, *s->value, &s->memo)) {
        admit(list, *x);
      }
    }
    const uint32_t* code = seg.code.data();
    for (size_t i = 0; i < candidates.size(); ++i) {
      if (i + kPrefetchDistance < candidates.size()) {
        __builtin_prefetch(code + candidates[i + kPrefetchDistance]);
      }
      Verify(si, ref, candidates[i]);
    }
  }

  const State& state_;
  const MatchQuery& query_;
  Scratch& s_;
};

// Where `name` lives: (segment, sop) of its live entry.
std::optional<std::pair<size_t, uint32_t>> FindLive(const State& state, const SopName& name) {
  const uint64_t h = NameHash(name);
  for (size_t si = state.segments.size(); si-- > 0;) {
    const State::SegmentRef& ref = state.segments[si];
    const auto& sops = ref.segment->sops;
    auto it = std::partition_point(sops.begin(), sops.end(), [h](const PublishedSopPtr& sop) {
      return NameHash(sop->name) < h;
    });
    for (; it != sops.end() && NameHash((*it)->name) == h; ++it) {
      const auto i = static_cast<uint32_t>(it - sops.begin());
      if ((*it)->name == name && !IsDead(ref.dead.get(), i)) return std::make_pair(si, i);
    }
  }
  return std::nullopt;
}

std::shared_ptr<const FieldDictionary> Extend(std::shared_ptr<const FieldDictionary> dict,
                                              const std::vector<PublishedSopPtr>& sops) {
  std::shared_ptr<FieldDictionary> copy;
  for (const PublishedSopPtr& sop : sops) {
    for (const v1::TargetingRule& rule : sop->body.targeting_rules()) {
      for (const v1::Condition& c : rule.conditions()) {
        if (dict->Find(c.field()) || (copy && copy->Find(c.field()))) continue;
        if (!copy) copy = std::make_shared<FieldDictionary>(*dict);
        copy->Intern(c.field());
      }
    }
  }
  return copy ? copy : dict;
}

}  // namespace

IndexedSopMatcher::IndexedSopMatcher(std::shared_ptr<const State> state)
    : state_(std::move(state)) {}

IndexedSopMatcher::~IndexedSopMatcher() = default;

std::unique_ptr<const SopMatcher> IndexedSopMatcher::Build(std::vector<PublishedSopPtr> sops) {
  auto state = std::make_shared<State>();
  state->dict = Extend(std::make_shared<const FieldDictionary>(), sops);
  if (!sops.empty()) {
    const size_t n = sops.size();
    state->segments.push_back(
        State::SegmentRef{BuildSegment(std::move(sops), *state->dict), nullptr, 0, n});
  }
  state->Rebase();
  return std::make_unique<IndexedSopMatcher>(std::move(state));
}

std::vector<SopMatchResult> IndexedSopMatcher::Match(const MatchQuery& query) const {
  return Lookup(*state_, query).Match();
}

std::vector<NearMiss> IndexedSopMatcher::NearMisses(const MatchQuery& query, int max) const {
  return Lookup(*state_, query).NearMisses(max);
}

std::unique_ptr<const SopMatcher> IndexedSopMatcher::WithChanges(
    std::vector<PublishedSopPtr> puts, const std::vector<SopName>& removes) const {
  auto next = std::make_shared<State>(*state_);
  // The last put of a name wins.
  std::vector<PublishedSopPtr> pending;
  absl::flat_hash_map<std::string, size_t> put_at;
  for (PublishedSopPtr& sop : puts) {
    auto [it, inserted] = put_at.try_emplace(sop->name.Full(), pending.size());
    if (inserted) {
      pending.push_back(std::move(sop));
    } else {
      pending[it->second] = std::move(sop);
    }
  }
  // Dead sets are copied on first write, never changed once shared.
  std::vector<std::shared_ptr<DeadSet>> own(next->segments.size());
  auto kill = [&](const SopName& name) {
    std::optional<std::pair<size_t, uint32_t>> at = FindLive(*next, name);
    if (!at) return;
    State::SegmentRef& ref = next->segments[at->first];
    std::shared_ptr<DeadSet>& dead = own[at->first];
    if (!dead) {
      dead = ref.dead ? std::make_shared<DeadSet>(*ref.dead)
                      : std::make_shared<DeadSet>((ref.segment->sops.size() + 63) / 64, 0);
      ref.dead = dead;
    }
    (*dead)[at->second >> 6] |= uint64_t{1} << (at->second & 63);
    --ref.live;
  };
  for (const SopName& name : removes) kill(name);
  for (const PublishedSopPtr& sop : pending) kill(sop->name);

  auto absorb_last = [&] {
    const State::SegmentRef& ref = next->segments.back();
    for (uint32_t i = 0; i < ref.segment->sops.size(); ++i) {
      if (!IsDead(ref.dead.get(), i)) pending.push_back(ref.segment->sops[i]);
    }
    next->segments.pop_back();
  };
  next->segments.erase(std::remove_if(next->segments.begin(), next->segments.end(),
                                      [](const State::SegmentRef& r) { return r.live == 0; }),
                       next->segments.end());
  size_t n = pending.size();
  for (const State::SegmentRef& ref : next->segments) n += ref.live;
  const double cube_root = std::cbrt(static_cast<double>(n));
  const size_t small_cap = std::max(kMinSmallCap, static_cast<size_t>(cube_root));
  const size_t middle_cap = std::max(kMinMiddleCap, static_cast<size_t>(cube_root * cube_root));
  // A base with a quarter of its SOPs dead is rebuilt.
  if (!next->segments.empty() &&
      next->segments.front().live * 4 < next->segments.front().segment->sops.size() * 3) {
    while (!next->segments.empty()) absorb_last();
  }
  while (!next->segments.empty()) {
    const size_t k = next->segments.size();
    if (k == 2 && pending.size() <= small_cap) break;
    if (k == 1 && pending.size() <= middle_cap) break;
    absorb_last();
  }
  if (next->segments.empty()) {
    return Build(std::move(pending));
  }
  if (!pending.empty()) {
    next->dict = Extend(next->dict, pending);
    const size_t live = pending.size();
    next->segments.push_back(
        State::SegmentRef{BuildSegment(std::move(pending), *next->dict), nullptr, 0, live});
  }
  next->Rebase();
  return std::make_unique<IndexedSopMatcher>(std::move(next));
}

std::vector<PublishedSopPtr> IndexedSopMatcher::PublishedSops(absl::string_view org) const {
  std::vector<PublishedSopPtr> out;
  for (const State::SegmentRef& ref : state_->segments) {
    for (uint32_t i = 0; i < ref.segment->sops.size(); ++i) {
      if (!IsDead(ref.dead.get(), i) && ref.segment->sops[i]->name.org == org) {
        out.push_back(ref.segment->sops[i]);
      }
    }
  }
  return out;
}

size_t IndexedSopMatcher::segment_count() const { return state_->segments.size(); }

size_t IndexedSopMatcher::sop_count() const { return state_->live; }

}  // namespace sopsidebar
