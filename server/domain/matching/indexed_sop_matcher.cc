#include "server/domain/matching/indexed_sop_matcher.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

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
// table on StringHash (cheaper than a general map for a few dozen names).
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
    const uint64_t h = StringHash(name, /*fold=*/false);
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
    uint32_t hash = 0;         // low bits of StringHash, to skip most compares
  };

  void Insert(uint32_t id) {
    const uint64_t h = StringHash(names_[id], /*fold=*/false);
    const size_t mask = slots_.size() - 1;
    size_t s = h & mask;
    while (slots_[s].id_plus_one != 0) s = (s + 1) & mask;
    slots_[s] = Slot{id + 1, static_cast<uint32_t>(h)};
  }

  std::vector<std::string> names_;
  std::vector<Slot> slots_;
};

// A condition compiled for verification without its protobuf: what
// condition.cc decides from the operator's parameters, with equality sets
// as keys of 32 hash bits and a value id (a key hit is confirmed on the
// segment's copy of the value, so verification never reads the protobuf).
enum class Op : uint8_t {
  kNever,        // no operator: holds for nothing
  kExists,       // flags & kExistsTrue: exists: true
  kAnyOf,        // equals / any_of: eq_keys [a, a + b)
  kNoneOf,       // eq_keys [a, a + b)
  kNumberRange,  // numbers [a, a + 2): lower, upper
  kTimeRange,    // times [a, a + 2): lower, upper
  kPrefix,       // chars [a, a + b)
};

enum ConditionFlags : uint8_t {
  kFold = 1,
  kHasMin = 2,
  kHasMax = 4,
  kExclusiveMin = 8,
  kExclusiveMax = 16,
  kExistsTrue = 32,
};

struct CompiledCondition {
  uint32_t field = 0;
  Op op = Op::kNever;
  uint8_t flags = 0;
  uint32_t a = 0;
  uint32_t b = 0;
};

// A distinct equality value of a segment (Segment::eq_values, indexed by
// the low half of Segment::eq_keys), so a hash hit is confirmed
// exactly without reading the protobuf (ScalarEquals): a string is chars
// [a, a + length), a number Segment::numbers[a], a bool a.
enum EqKind : uint32_t { kEqString = 0, kEqNumber = 1u << 30, kEqBool = 2u << 30 };
constexpr uint32_t kEqKindMask = 3u << 30;

struct EqValue {
  uint32_t a = 0;
  uint32_t kind_length = 0;  // EqKind | string length
};

// One rule in one partition (a rule naming two record types has an entry in
// each). Rule limits come from validation (<= 20 conditions, <= 50 rules
// per SOP).
struct RuleEntry {
  uint32_t sop = 0;              // index into Segment::sops
  uint32_t first_condition = 0;  // index into Segment::conditions
  int32_t priority = 0;
  RoleSet visible_to = 0;
  uint16_t rule_index = 0;
  uint8_t num_conditions = 0;
  uint8_t specificity = 0;
};

// An equality access condition's (field, case mode) in a partition: a
// lookup probes the postings of the record's values for it.
struct EqualityField {
  uint32_t field = 0;
  bool fold = false;
};

// The entries whose access condition is a range on `field`, sorted by the
// indexed bound on a monotone scale (numbers as they are, times as Unix
// seconds rounded down): by lower bound ascending, or, for `upper` (rules
// bounded above only), by upper bound descending. A record's value admits a
// prefix of the list.
struct RangeList {
  uint32_t field = 0;
  bool time = false;
  bool upper = false;
  uint32_t begin = 0;  // into Segment::range_bounds / range_entries
  uint32_t end = 0;
};

// The rules of one (org, record type or any type), as entries
// [entries_begin, entries_end), with each entry reachable from exactly one
// access path: a posting of its equality access condition's values, a range
// list, or the scan list (rules without an indexable condition).
struct Partition {
  uint32_t entries_begin = 0, entries_end = 0;
  uint32_t scan_begin = 0, scan_end = 0;            // into Segment::scan
  uint32_t equality_begin = 0, equality_end = 0;    // into Segment::equality_fields
  uint32_t ranges_begin = 0, ranges_end = 0;        // into Segment::range_lists
};

uint64_t PostingKey(uint32_t partition, uint32_t field, bool fold, uint64_t value_hash) {
  const uint64_t k = Mix(value_hash ^ Mix((uint64_t{partition} << 32) ^ (uint64_t{field} << 1) ^
                                          (fold ? 1 : 0)));
  return k == 0 ? 1 : k;
}

// Open addressing from a posting key to its entries (a CSR over the slots).
struct PostingTable {
  uint64_t mask = 0;
  std::vector<uint64_t> keys;      // 0: empty slot
  std::vector<uint32_t> offsets;   // slot i holds entries [offsets[i], offsets[i + 1])
  std::vector<uint32_t> entries;

  // `pairs` (key, entry) sorted by key.
  void Build(const std::vector<std::pair<uint64_t, uint32_t>>& pairs) {
    size_t distinct = 0;
    for (size_t i = 0; i < pairs.size(); ++i) {
      if (i == 0 || pairs[i].first != pairs[i - 1].first) ++distinct;
    }
    size_t capacity = 1;
    while (capacity * 3 < distinct * 4 + 1) capacity <<= 1;
    mask = capacity - 1;
    keys.assign(capacity, 0);
    offsets.assign(capacity + 1, 0);
    std::vector<uint32_t> slot_of(pairs.size());
    for (size_t i = 0; i < pairs.size(); ++i) {
      if (i > 0 && pairs[i].first == pairs[i - 1].first) {
        slot_of[i] = slot_of[i - 1];
      } else {
        uint64_t s = pairs[i].first & mask;
        while (keys[s] != 0) s = (s + 1) & mask;
        keys[s] = pairs[i].first;
        slot_of[i] = static_cast<uint32_t>(s);
      }
      ++offsets[slot_of[i] + 1];
    }
    for (size_t s = 0; s < capacity; ++s) offsets[s + 1] += offsets[s];
    entries.resize(pairs.size());
    std::vector<uint32_t> next(offsets.begin(), offsets.end() - 1);
    for (size_t i = 0; i < pairs.size(); ++i) entries[next[slot_of[i]]++] = pairs[i].second;
  }

  // The entries under `key` (a hash collision may add others).
  std::pair<const uint32_t*, const uint32_t*> Find(uint64_t key) const {
    if (keys.empty()) return {nullptr, nullptr};
    for (uint64_t s = key & mask;; s = (s + 1) & mask) {
      const uint64_t k = keys[s];
      if (k == key) return {entries.data() + offsets[s], entries.data() + offsets[s + 1]};
      if (k == 0) return {nullptr, nullptr};
    }
  }
};

struct Segment {
  std::vector<PublishedSopPtr> sops;
  // (hash of the name, index into sops), sorted.
  std::vector<std::pair<uint64_t, uint32_t>> by_name;
  std::vector<RuleEntry> entries;
  std::vector<CompiledCondition> conditions;
  // Per equality condition, sorted: (32 bits of the value's hash) << 32 |
  // index into eq_values.
  std::vector<uint64_t> eq_keys;
  std::vector<EqValue> eq_values;  // distinct
  std::vector<double> numbers;
  std::vector<absl::Time> times;
  std::string chars;
  std::vector<Partition> partitions;
  // PartitionKey -> index into partitions.
  absl::flat_hash_map<std::string, uint32_t> partition_ids;
  std::vector<uint32_t> scan;
  std::vector<EqualityField> equality_fields;
  std::vector<RangeList> range_lists;
  std::vector<double> range_bounds;
  std::vector<uint32_t> range_entries;
  PostingTable postings;
};

uint64_t NameHash(const SopName& name) {
  return absl::Hash<std::pair<absl::string_view, absl::string_view>>()(
      std::make_pair(absl::string_view(name.org), absl::string_view(name.sop)));
}

// "org\0*" holds the rules for any record type, "org\0=type" those naming
// `type`.
void PartitionKey(absl::string_view org, const std::string* record_type, std::string* key) {
  key->assign(org.data(), org.size());
  key->push_back('\0');
  if (record_type == nullptr) {
    key->push_back('*');
  } else {
    key->push_back('=');
    key->append(*record_type);
  }
}

double TimeScale(absl::Time t) { return static_cast<double>(absl::ToUnixSeconds(t)); }

class SegmentBuilder {
 public:
  // `dict` must know every condition field of the SOPs built.
  SegmentBuilder(const FieldDictionary& dict, Segment* segment) : dict_(dict), seg_(*segment) {}

  void Build(std::vector<PublishedSopPtr> sops) {
    seg_.sops = std::move(sops);
    seg_.by_name.reserve(seg_.sops.size());
    // (partition, entry) before entries are grouped by partition.
    std::vector<std::pair<uint32_t, RuleEntry>> placed;
    std::string key;
    std::vector<const std::string*> types;
    for (uint32_t s = 0; s < seg_.sops.size(); ++s) {
      const PublishedSop& sop = *seg_.sops[s];
      seg_.by_name.emplace_back(NameHash(sop.name), s);
      const auto& rules = sop.body.targeting_rules();
      for (int i = 0; i < rules.size(); ++i) {
        const v1::TargetingRule& rule = rules[i];
        RuleEntry entry;
        entry.sop = s;
        entry.first_condition = static_cast<uint32_t>(seg_.conditions.size());
        entry.priority = rule.priority();
        entry.visible_to = sop.visible_to;
        entry.rule_index = static_cast<uint16_t>(i);
        entry.num_conditions = static_cast<uint8_t>(rule.conditions_size());
        entry.specificity = static_cast<uint8_t>(RuleSpecificity(rule));
        for (const v1::Condition& c : rule.conditions()) Compile(c);
        types.clear();
        for (const std::string& type : rule.record_types()) {
          if (std::none_of(types.begin(), types.end(),
                           [&](const std::string* t) { return *t == type; })) {
            types.push_back(&type);
          }
        }
        if (types.empty()) {
          PartitionKey(sop.name.org, nullptr, &key);
          placed.emplace_back(PartitionOf(key), entry);
        }
        for (const std::string* type : types) {
          PartitionKey(sop.name.org, type, &key);
          placed.emplace_back(PartitionOf(key), entry);
        }
      }
    }
    std::sort(seg_.by_name.begin(), seg_.by_name.end());
    std::stable_sort(placed.begin(), placed.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    seg_.entries.reserve(placed.size());
    for (const auto& [p, entry] : placed) {
      Partition& part = seg_.partitions[p];
      if (part.entries_begin == part.entries_end) {
        part.entries_begin = static_cast<uint32_t>(seg_.entries.size());
      }
      seg_.entries.push_back(entry);
      part.entries_end = static_cast<uint32_t>(seg_.entries.size());
    }
    placed.clear();
    placed.shrink_to_fit();
    Index();
    seg_.entries.shrink_to_fit();
    seg_.conditions.shrink_to_fit();
    seg_.eq_keys.shrink_to_fit();
    seg_.eq_values.shrink_to_fit();
    seg_.numbers.shrink_to_fit();
    seg_.times.shrink_to_fit();
    seg_.chars.shrink_to_fit();
    seg_.scan.shrink_to_fit();
    seg_.equality_fields.shrink_to_fit();
    seg_.range_lists.shrink_to_fit();
    seg_.range_bounds.shrink_to_fit();
    seg_.range_entries.shrink_to_fit();
  }

 private:
  uint32_t PartitionOf(const std::string& key) {
    auto [it, inserted] =
        seg_.partition_ids.try_emplace(key, static_cast<uint32_t>(seg_.partitions.size()));
    if (inserted) seg_.partitions.emplace_back();
    return it->second;
  }

  // `v` as an EqValue (strings interned in chars); nullopt for kinds that
  // equal nothing.
  // `exact_hash` is ScalarHash(v, /*fold=*/false) when the caller has it.
  std::optional<uint32_t> MakeEqValue(const Value& v, std::optional<uint64_t> exact_hash) {
    const auto next = static_cast<uint32_t>(seg_.eq_values.size());
    switch (v.kind_case()) {
      case Value::kStringValue: {
        const absl::string_view str = v.string_value();
        // Longer strings (far beyond validation's limits) would not fit.
        if (str.size() >= (1u << 30)) return std::nullopt;
        // Keyed by hash and confirmed on chars (hot in cache, unlike the
        // SOPs' strings); a colliding string is stored again, unshared.
        auto [it, inserted] = interned_strings_.try_emplace(
            exact_hash ? *exact_hash : StringHash(str, /*fold=*/false), next);
        if (!inserted) {
          const EqValue& q = seg_.eq_values[it->second];
          if (q.kind_length == str.size() &&
              absl::string_view(seg_.chars.data() + q.a, str.size()) == str) {
            return it->second;
          }
        }
        seg_.eq_values.push_back(EqValue{static_cast<uint32_t>(seg_.chars.size()),
                                         kEqString | static_cast<uint32_t>(str.size())});
        seg_.chars.append(str.data(), str.size());
        return next;
      }
      case Value::kNumberValue: {
        double d = v.number_value();
        uint64_t bits;
        std::memcpy(&bits, &d, sizeof bits);
        auto [it, inserted] = interned_numbers_.try_emplace(bits, next);
        if (inserted) {
          seg_.eq_values.push_back(EqValue{static_cast<uint32_t>(seg_.numbers.size()), kEqNumber});
          seg_.numbers.push_back(d);
        }
        return it->second;
      }
      case Value::kBoolValue: {
        int64_t& id = interned_bools_[v.bool_value() ? 1 : 0];
        if (id < 0) {
          id = next;
          seg_.eq_values.push_back(EqValue{v.bool_value() ? 1u : 0u, kEqBool});
        }
        return static_cast<uint32_t>(id);
      }
      default:
        return std::nullopt;
    }
  }

  // Files value `id` (full hash `h`) in the current condition's keys; the
  // full hash is kept for the index build (order does not matter there).
  void AddKey(uint64_t h, uint32_t id) {
    seg_.eq_keys.push_back((h >> 32 << 32) | id);
    full_hashes_.push_back(h);
  }

  void AddHashes(const google::protobuf::RepeatedPtrField<Value>& values, bool fold,
                 CompiledCondition* out) {
    out->a = static_cast<uint32_t>(seg_.eq_keys.size());
    pending_.clear();
    for (const Value& v : values) {
      // Kinds that equal nothing are left out: they can never hit.
      if (std::optional<uint64_t> h = ScalarHash(v, fold)) pending_.emplace_back(*h, &v);
    }
    // Order within a run of equal hashes does not matter (eq_keys are
    // sorted below).
    std::sort(pending_.begin(), pending_.end(),
              [](const auto& x, const auto& y) { return x.first < y.first; });
    const CaseMode mode = fold ? CaseMode::kIgnoreAsciiCase : CaseMode::kExact;
    for (size_t i = 0, run = 0; i < pending_.size(); ++i) {
      if (i > 0 && pending_[i].first != pending_[i - 1].first) run = i;
      // Exact duplicates (within a run of equal hashes) are dropped.
      bool dup = false;
      for (size_t j = run; j < i && !dup; ++j) {
        dup = ScalarEquals(*pending_[j].second, *pending_[i].second, mode);
      }
      if (dup) continue;
      if (std::optional<uint32_t> q = MakeEqValue(*pending_[i].second,
                                                     fold ? std::nullopt
                                                          : std::optional<uint64_t>(
                                                                pending_[i].first))) {
        AddKey(pending_[i].first, *q);
      }
    }
    out->b = static_cast<uint32_t>(seg_.eq_keys.size()) - out->a;
    std::sort(seg_.eq_keys.begin() + out->a, seg_.eq_keys.end());
  }

  // The same reading of the operator as condition.cc.
  void Compile(const v1::Condition& c) {
    CompiledCondition out;
    out.field = *dict_.Find(c.field());
    const bool fold = c.case_insensitive();
    if (fold) out.flags |= kFold;
    switch (c.op_case()) {
      case v1::Condition::kExists:
        out.op = Op::kExists;
        if (c.exists()) out.flags |= kExistsTrue;
        break;
      case v1::Condition::kEquals: {
        out.op = Op::kAnyOf;
        out.a = static_cast<uint32_t>(seg_.eq_keys.size());
        std::optional<uint64_t> h = ScalarHash(c.equals(), fold);
        std::optional<uint32_t> q = MakeEqValue(c.equals(), fold ? std::nullopt : h);
        if (h && q) {
          AddKey(*h, *q);
        }
        out.b = static_cast<uint32_t>(seg_.eq_keys.size()) - out.a;
        break;
      }
      case v1::Condition::kAnyOf:
        out.op = Op::kAnyOf;
        AddHashes(c.any_of().values(), fold, &out);
        break;
      case v1::Condition::kNoneOf:
        out.op = Op::kNoneOf;
        AddHashes(c.none_of().values(), fold, &out);
        break;
      case v1::Condition::kRange: {
        const v1::Range& r = c.range();
        if (r.exclusive_min()) out.flags |= kExclusiveMin;
        if (r.exclusive_max()) out.flags |= kExclusiveMax;
        if (r.lower_case() == v1::Range::kMinTime || r.upper_case() == v1::Range::kMaxTime) {
          out.op = Op::kTimeRange;
          out.a = static_cast<uint32_t>(seg_.times.size());
          seg_.times.push_back(r.has_min_time() ? FromProtoTimestamp(r.min_time())
                                                : absl::InfinitePast());
          seg_.times.push_back(r.has_max_time() ? FromProtoTimestamp(r.max_time())
                                                : absl::InfiniteFuture());
          if (r.has_min_time()) out.flags |= kHasMin;
          if (r.has_max_time()) out.flags |= kHasMax;
        } else {
          out.op = Op::kNumberRange;
          out.a = static_cast<uint32_t>(seg_.numbers.size());
          const bool lo = r.lower_case() == v1::Range::kMin;
          const bool hi = r.upper_case() == v1::Range::kMax;
          seg_.numbers.push_back(lo ? r.min() : -HUGE_VAL);
          seg_.numbers.push_back(hi ? r.max() : HUGE_VAL);
          if (lo) out.flags |= kHasMin;
          if (hi) out.flags |= kHasMax;
        }
        break;
      }
      case v1::Condition::kPrefix:
        out.op = Op::kPrefix;
        out.a = static_cast<uint32_t>(seg_.chars.size());
        out.b = static_cast<uint32_t>(c.prefix().size());
        seg_.chars.append(c.prefix());
        break;
      default:
        out.op = Op::kNever;
        break;
    }
    seg_.conditions.push_back(out);
  }

  // A range's bound on the monotone scale when the range can serve as an
  // access condition: (bound, upper).
  std::optional<std::pair<double, bool>> RangeAccess(const CompiledCondition& c) const {
    if (c.op == Op::kNumberRange) {
      const double lo = seg_.numbers[c.a], hi = seg_.numbers[c.a + 1];
      if (std::isnan(lo) || std::isnan(hi)) return std::nullopt;
      if (c.flags & kHasMin) return std::make_pair(lo, false);
      if (c.flags & kHasMax) return std::make_pair(hi, true);
      return std::nullopt;
    }
    if (c.op == Op::kTimeRange) {
      if (c.flags & kHasMin) return std::make_pair(TimeScale(seg_.times[c.a]), false);
      if (c.flags & kHasMax) return std::make_pair(TimeScale(seg_.times[c.a + 1]), true);
    }
    return std::nullopt;
  }

  // Picks each entry's access condition (the one expected to admit the
  // fewest records) and files the entry under it: postings for equality,
  // range lists for ranges, the scan list otherwise. O(total conditions).
  void Index() {
    // Distinct values per (field, case mode), for the equality estimate.
    absl::flat_hash_map<uint64_t, uint32_t> distinct;
    {
      absl::flat_hash_set<uint64_t> seen;
      for (const CompiledCondition& c : seg_.conditions) {
        if (c.op != Op::kAnyOf) continue;
        const uint64_t fm = (uint64_t{c.field} << 1) | (c.flags & kFold);
        for (uint32_t i = 0; i < c.b; ++i) {
          if (seen.insert(Mix(full_hashes_[c.a + i] ^ Mix(fm))).second) ++distinct[fm];
        }
      }
    }
    std::vector<std::pair<uint64_t, uint32_t>> postings;
    // (partition, field, time, upper, bound, entry)
    std::vector<std::tuple<uint32_t, uint32_t, bool, bool, double, uint32_t>> ranges;
    absl::flat_hash_set<std::tuple<uint32_t, uint32_t, bool>> equality;
    for (uint32_t p = 0; p < seg_.partitions.size(); ++p) {
      Partition& part = seg_.partitions[p];
      part.scan_begin = static_cast<uint32_t>(seg_.scan.size());
      for (uint32_t e = part.entries_begin; e < part.entries_end; ++e) {
        const RuleEntry& entry = seg_.entries[e];
        double best = HUGE_VAL;
        int best_condition = -1;
        for (uint32_t i = 0; i < entry.num_conditions; ++i) {
          const CompiledCondition& c = seg_.conditions[entry.first_condition + i];
          double estimate = HUGE_VAL;
          if (c.op == Op::kAnyOf) {
            const uint64_t fm = (uint64_t{c.field} << 1) | (c.flags & kFold);
            estimate = c.b / std::max(2.0, static_cast<double>(distinct[fm]));
          } else if (RangeAccess(c)) {
            const bool both = (c.flags & kHasMin) && (c.flags & kHasMax);
            estimate = both ? kRangeSelectivity / 2 : kRangeSelectivity;
          }
          if (estimate < best) {
            best = estimate;
            best_condition = static_cast<int>(i);
          }
        }
        if (best_condition < 0) {
          seg_.scan.push_back(e);
          continue;
        }
        const CompiledCondition& c = seg_.conditions[entry.first_condition + best_condition];
        if (c.op == Op::kAnyOf) {
          const bool fold = (c.flags & kFold) != 0;
          equality.emplace(p, c.field, fold);
          for (uint32_t i = 0; i < c.b; ++i) {
            postings.emplace_back(PostingKey(p, c.field, fold, full_hashes_[c.a + i]), e);
          }
        } else {
          const auto [bound, upper] = *RangeAccess(c);
          ranges.emplace_back(p, c.field, c.op == Op::kTimeRange, upper, upper ? -bound : bound,
                              e);
        }
      }
      part.scan_end = static_cast<uint32_t>(seg_.scan.size());
    }
    std::sort(postings.begin(), postings.end());
    seg_.postings.Build(postings);
    postings.clear();
    postings.shrink_to_fit();

    std::vector<std::tuple<uint32_t, uint32_t, bool>> fields(equality.begin(), equality.end());
    std::sort(fields.begin(), fields.end());
    for (const auto& [p, field, fold] : fields) {
      Partition& part = seg_.partitions[p];
      if (part.equality_begin == part.equality_end) {
        part.equality_begin = static_cast<uint32_t>(seg_.equality_fields.size());
      }
      seg_.equality_fields.push_back(EqualityField{field, fold});
      part.equality_end = static_cast<uint32_t>(seg_.equality_fields.size());
    }

    std::sort(ranges.begin(), ranges.end());
    for (size_t i = 0; i < ranges.size(); ++i) {
      const auto& [p, field, time, upper, bound, e] = ranges[i];
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
      seg_.range_entries.push_back(e);
      seg_.range_lists.back().end = static_cast<uint32_t>(seg_.range_bounds.size());
    }
  }

  const FieldDictionary& dict_;
  Segment& seg_;
  // Build-time only: value -> index into eq_values; the values of one
  // any_of being compiled.
  absl::flat_hash_map<uint64_t, uint32_t> interned_strings_;  // by exact StringHash
  absl::flat_hash_map<uint64_t, uint32_t> interned_numbers_;  // by bits
  int64_t interned_bools_[2] = {-1, -1};
  std::vector<uint64_t> full_hashes_;  // parallel to eq_keys
  std::vector<std::pair<uint64_t, const Value*>> pending_;
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

template <typename T>
bool InBounds(const T& x, uint8_t flags, const T& lo, const T& hi) {
  if ((flags & kHasMin) && ((flags & kExclusiveMin) ? !(x > lo) : !(x >= lo))) return false;
  if ((flags & kHasMax) && ((flags & kExclusiveMax) ? !(x < hi) : !(x <= hi))) return false;
  return true;
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
    const Value* value = nullptr;
    bool present = false;
    uint8_t hashed = 0;    // bit m: hash[m] computed (m = fold)
    uint8_t hashable = 0;  // bit m: hash[m] exists (the value is a scalar)
    uint64_t hash[2] = {0, 0};
    ParsedTimeMemo memo;
  };

  uint32_t epoch = 0;
  std::vector<Slot> slots;
  std::vector<uint32_t> sop_epoch;
  std::vector<uint32_t> sop_hit;  // index into hits
  std::vector<Hit> hits;
  std::string key;

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
    ForEachPartition([&](uint32_t si, uint32_t p) { Candidates(si, p); });
    auto before = [&](const Scratch::Hit& a, const Scratch::Hit& b) {
      return CompareRank(a.priority, a.specificity, *Sop(a), b.priority, b.specificity,
                         *Sop(b)) < 0;
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

  // Near misses may fail their access condition, so every entry in scope is
  // checked (the interface allows a scan).
  std::vector<NearMiss> NearMisses(int max) {
    std::vector<NearMiss> misses;
    ForEachPartition([&](uint32_t si, uint32_t p) {
      const State::SegmentRef& ref = state_.segments[si];
      const Segment& seg = *ref.segment;
      const Partition& part = seg.partitions[p];
      for (uint32_t id = part.entries_begin; id < part.entries_end; ++id) {
        const RuleEntry& e = seg.entries[id];
        if (!RolesMaySee(query_.viewer_roles, e.visible_to) || IsDead(ref.dead.get(), e.sop)) {
          continue;
        }
        std::optional<int> failed = SoleFailedCondition(
            e.num_conditions, [&](int c) { return Holds(seg, e, static_cast<uint32_t>(c)); });
        if (failed) {
          misses.push_back(
              NearMiss{seg.sops[e.sop], e.rule_index, *failed, e.priority, e.specificity});
        }
      }
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
  std::optional<uint64_t> SlotHash(Scratch::Slot& s, bool fold) {
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
    for (uint32_t si = 0; si < state_.segments.size(); ++si) {
      const Segment& seg = *state_.segments[si].segment;
      for (const std::string* t : {static_cast<const std::string*>(nullptr), &type}) {
        PartitionKey(query_.org, t, &s_.key);
        auto it = seg.partition_ids.find(s_.key);
        if (it != seg.partition_ids.end()) visit(si, it->second);
      }
    }
  }

  // ScalarEquals(v, eq_values[j]) under the case mode.
  static bool EqualsValue(const Segment& seg, uint32_t j, const Value& v, bool fold) {
    const EqValue& q = seg.eq_values[j];
    switch (v.kind_case()) {
      case Value::kStringValue: {
        const std::string& str = v.string_value();
        if (str.size() != q.kind_length || (q.kind_length & kEqKindMask) != kEqString) {
          return false;
        }
        const absl::string_view mine(seg.chars.data() + q.a, str.size());
        return fold ? absl::EqualsIgnoreCase(str, mine) : absl::string_view(str) == mine;
      }
      case Value::kNumberValue:
        return q.kind_length == kEqNumber && v.number_value() == seg.numbers[q.a];
      case Value::kBoolValue:
        return q.kind_length == kEqBool && (q.a != 0) == v.bool_value();
      default:
        return false;
    }
  }

  // Whether scalar `v` (hash `h` under the condition's case mode) equals
  // one of the condition's values, exactly.
  static bool InSet(const Segment& seg, const CompiledCondition& c, uint64_t h, const Value& v) {
    const bool fold = (c.flags & kFold) != 0;
    const uint64_t top = h >> 32;
    const uint64_t* begin = seg.eq_keys.data() + c.a;
    const uint64_t* end = begin + c.b;
    const uint64_t* it =
        c.b <= 16 ? std::find_if(begin, end, [top](uint64_t k) { return k >> 32 == top; })
                  : std::lower_bound(begin, end, top << 32);
    for (; it != end && *it >> 32 == top; ++it) {
      if (EqualsValue(seg, static_cast<uint32_t>(*it), v, fold)) return true;
    }
    return false;
  }

  // Whether the record's value (or an element of it) equals one of the
  // condition's values (exact).
  bool AnyEqual(const Segment& seg, const CompiledCondition& c, Scratch::Slot& s) {
    const bool fold = (c.flags & kFold) != 0;
    if (s.value->kind_case() == Value::kListValue) {
      for (const Value& e : s.value->list_value().values()) {
        std::optional<uint64_t> h = ScalarHash(e, fold);
        if (h && InSet(seg, c, *h, e)) return true;
      }
      return false;
    }
    std::optional<uint64_t> h = SlotHash(s, fold);
    return h && InSet(seg, c, *h, *s.value);
  }

  // One scalar against a range or prefix condition (condition.cc's
  // ScalarSatisfies).
  static bool Satisfies(const Segment& seg, const CompiledCondition& c, const Value& v,
                        ParsedTimeMemo* memo) {
    switch (c.op) {
      case Op::kNumberRange:
        return v.kind_case() == Value::kNumberValue &&
               InBounds(v.number_value(), c.flags, seg.numbers[c.a], seg.numbers[c.a + 1]);
      case Op::kTimeRange: {
        std::optional<absl::Time> t = MemoTime(v, memo);
        return t && InBounds(*t, c.flags, seg.times[c.a], seg.times[c.a + 1]);
      }
      case Op::kPrefix:
        return v.kind_case() == Value::kStringValue &&
               HasPrefix(v.string_value(), absl::string_view(seg.chars.data() + c.a, c.b),
                         (c.flags & kFold) ? CaseMode::kIgnoreAsciiCase : CaseMode::kExact);
      default:
        return false;
    }
  }

  // ConditionHoldsForValue for condition `i` of `e`, from its compiled form.
  bool Holds(const Segment& seg, const RuleEntry& e, uint32_t i) {
    const CompiledCondition& c = seg.conditions[e.first_condition + i];
    Scratch::Slot* s = Get(c.field);
    const bool present = s != nullptr && s->present;
    switch (c.op) {
      case Op::kNever:
        return false;
      case Op::kExists:
        return ((c.flags & kExistsTrue) != 0) == present;
      case Op::kNoneOf:
        return !present || !AnyEqual(seg, c, *s);
      case Op::kAnyOf:
        return present && AnyEqual(seg, c, *s);
      default:
        break;
    }
    if (!present) return false;
    if (s->value->kind_case() == Value::kListValue) {
      for (const Value& v : s->value->list_value().values()) {
        if (Satisfies(seg, c, v, nullptr)) return true;
      }
      return false;
    }
    return Satisfies(seg, c, *s->value, &s->memo);
  }

  void Consider(uint32_t si, const State::SegmentRef& ref, uint32_t id) {
    const Segment& seg = *ref.segment;
    const RuleEntry& e = seg.entries[id];
    if (!RolesMaySee(query_.viewer_roles, e.visible_to) || IsDead(ref.dead.get(), e.sop)) {
      return;
    }
    for (uint32_t i = 0; i < e.num_conditions; ++i) {
      if (!Holds(seg, e, i)) return;
    }
    Offer(si, ref, e);
  }

  void Offer(uint32_t si, const State::SegmentRef& ref, const RuleEntry& e) {
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

  // Verifies the entries of partition `p` of segment `si` that the record's
  // values reach through their access conditions.
  void Candidates(uint32_t si, uint32_t p) {
    const State::SegmentRef& ref = state_.segments[si];
    const Segment& seg = *ref.segment;
    const Partition& part = seg.partitions[p];
    for (uint32_t i = part.scan_begin; i < part.scan_end; ++i) Consider(si, ref, seg.scan[i]);
    auto probe = [&](const EqualityField& f, uint64_t h) {
      auto [begin, end] = seg.postings.Find(PostingKey(p, f.field, f.fold, h));
      for (const uint32_t* it = begin; it != end; ++it) Consider(si, ref, *it);
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
      for (const double* it = begin; it != last; ++it) {
        Consider(si, ref, seg.range_entries[it - seg.range_bounds.data()]);
      }
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
    const auto& by_name = ref.segment->by_name;
    for (auto it = std::lower_bound(by_name.begin(), by_name.end(), std::make_pair(h, 0u));
         it != by_name.end() && it->first == h; ++it) {
      if (ref.segment->sops[it->second]->name == name && !IsDead(ref.dead.get(), it->second)) {
        return std::make_pair(si, it->second);
      }
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
