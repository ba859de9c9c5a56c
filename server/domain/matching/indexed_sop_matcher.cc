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
#include "absl/hash/hash.h"
#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "server/common/proto_time.h"
#include "server/domain/matching/condition.h"
#include "server/domain/matching/near_miss.h"

namespace sopsidebar {
namespace {

using google::protobuf::Value;

// A node with at most this many rules verifies them instead of splitting.
constexpr size_t kLeafRules = 2;
// A split must save at least this many rule visits (see ChooseSplit) ...
constexpr double kMinSplitGain = 0.75;
// ... and is chosen among the fields most rules of the node test.
constexpr size_t kSplitCandidates = 6;
// Range splits cut a field's values into at most this many buckets ...
constexpr size_t kMaxBuckets = 16;
// ... and route a rule whose range overlaps at most this many (a wider one
// stays with the node: copies would multiply down the tree).
constexpr uint64_t kMaxRuleBuckets = 4;
// Splits along one path; deeper rules are verified.
constexpr int kMaxDepth = 12;
// An any_of with more values is verified rather than copied into as many
// children.
constexpr int kMaxSplitValues = 16;
// A visibility group this large is cut into priority bands ...
constexpr size_t kMinBandRules = 4096;
// ... of at least 1/kMaxBands of its rules.
constexpr size_t kMaxBands = 8;
// Segment caps (see the header): the small segment holds at most
// max(kMinSmallCap, n^(1/3)) SOPs, the middle one max(kMinMiddleCap, n^(2/3)).
constexpr size_t kMinSmallCap = 128;
constexpr size_t kMinMiddleCap = 4096;

uint64_t Mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

uint64_t StringKey(absl::string_view s, bool fold) {
  uint64_t h = 0xcbf29ce484222325ULL;
  constexpr uint64_t kPrime = 0x100000001b3ULL;
  if (fold) {
    for (char c : s) h = (h ^ static_cast<unsigned char>(absl::ascii_tolower(c))) * kPrime;
  } else {
    for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * kPrime;
  }
  return Mix(h ^ (s.size() << 1));
}

// The routing key of a scalar, equal for values ScalarEquals under the
// split's case mode (`fold` for case-insensitive); nullopt for kinds that
// equal nothing. Distinct values may share a key: lookups verify.
std::optional<uint64_t> ScalarKey(const Value& v, bool fold) {
  switch (v.kind_case()) {
    case Value::kStringValue:
      return StringKey(v.string_value(), fold);
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

// Field names as small integers, shared by every segment of a matcher: a
// write that brings new fields extends a copy, so older segments' ids stay
// valid.
struct FieldDictionary {
  std::vector<std::string> names;
  absl::flat_hash_map<std::string, uint32_t> ids;

  uint32_t Intern(const std::string& name) {
    auto [it, inserted] = ids.try_emplace(name, static_cast<uint32_t>(names.size()));
    if (inserted) names.push_back(name);
    return it->second;
  }
};

// Rule limits come from validation (<= 20 conditions, <= 50 rules per SOP).
struct RuleEntry {
  uint32_t sop = 0;          // index into Segment::sops
  uint32_t first_field = 0;  // index into Segment::rule_fields
  int32_t priority = 0;
  uint16_t rule_index = 0;
  uint8_t num_conditions = 0;
  uint8_t specificity = 0;
};

struct Node {
  uint32_t first_rule = 0;  // into Segment::node_rules
  uint32_t num_rules = 0;
  uint32_t first_split = 0;  // into Segment::splits
  uint32_t num_splits = 0;
};

// How a split routes: on equal values (exact or case-folded), or on the
// bucket of a number or RFC 3339 time (bucket bounds in Segment::bounds).
enum class SplitMode : uint8_t { kExact = 0, kFolded = 1, kNumberRange = 2, kTimeRange = 3 };

// Children sorted by key (a value's ScalarKey, or a bucket index) in
// Segment::child_keys / child_nodes.
struct Split {
  uint32_t field = 0;
  uint32_t first_child = 0;
  uint32_t num_children = 0;
  uint32_t first_bound = 0;
  uint16_t num_bounds = 0;
  SplitMode mode = SplitMode::kExact;
};

// A range condition's bounds on one monotone scale: numbers as they are,
// times as Unix seconds rounded down. Bucketing on a monotone scale never
// separates a value from an interval holding it.
struct Interval {
  double lo = -HUGE_VAL;
  double hi = HUGE_VAL;
};

double TimeScale(absl::Time t) { return static_cast<double>(absl::ToUnixSeconds(t)); }

// The interval of `c` when it is a range of `mode`'s kind (the same test as
// condition.cc: a time bound makes it a time range).
std::optional<Interval> RangeInterval(const v1::Condition& c, SplitMode mode) {
  if (c.op_case() != v1::Condition::kRange) return std::nullopt;
  const v1::Range& r = c.range();
  const bool time = r.lower_case() == v1::Range::kMinTime || r.upper_case() == v1::Range::kMaxTime;
  if (time != (mode == SplitMode::kTimeRange) ||
      (!time && mode != SplitMode::kNumberRange)) {
    return std::nullopt;
  }
  Interval iv;
  if (time) {
    if (r.has_min_time()) iv.lo = TimeScale(FromProtoTimestamp(r.min_time()));
    if (r.has_max_time()) iv.hi = TimeScale(FromProtoTimestamp(r.max_time()));
  } else {
    if (r.lower_case() == v1::Range::kMin) iv.lo = r.min();
    if (r.upper_case() == v1::Range::kMax) iv.hi = r.max();
  }
  if (std::isnan(iv.lo) || std::isnan(iv.hi)) return std::nullopt;
  return iv;
}

// Bucket i holds [bounds[i-1], bounds[i]).
uint64_t Bucket(const double* bounds, size_t n, double x) {
  return static_cast<uint64_t>(std::upper_bound(bounds, bounds + n, x) - bounds);
}

struct Tree {
  int32_t max_priority = 0;
  RoleSet visible_to = 0;
  uint32_t root = 0;
};

struct Segment {
  std::vector<PublishedSopPtr> sops;
  // (hash of the name, index into sops), sorted.
  std::vector<std::pair<uint64_t, uint32_t>> by_name;
  std::vector<RuleEntry> rules;
  // Per rule, its conditions' field ids.
  std::vector<uint32_t> rule_fields;
  std::vector<Node> nodes;
  std::vector<uint32_t> node_rules;
  std::vector<Split> splits;
  std::vector<uint64_t> child_keys;
  std::vector<uint32_t> child_nodes;
  std::vector<double> bounds;
  // By PartitionKey; trees by descending max_priority.
  absl::flat_hash_map<std::string, std::vector<Tree>> partitions;

  const v1::TargetingRule& Rule(const RuleEntry& r) const {
    return sops[r.sop]->body.targeting_rules(r.rule_index);
  }
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

// The values a rule's condition routes on when splitting on its field under
// `fold`: equals or a short any_of of scalars with the same case mode.
bool SplitValues(const v1::Condition& c, bool fold,
                 const google::protobuf::RepeatedPtrField<Value>** values, const Value** single) {
  if (c.case_insensitive() != fold) return false;
  auto scalar = [](const Value& v) {
    return v.kind_case() == Value::kStringValue || v.kind_case() == Value::kNumberValue ||
           v.kind_case() == Value::kBoolValue;
  };
  if (c.op_case() == v1::Condition::kEquals) {
    if (!scalar(c.equals())) return false;
    *single = &c.equals();
    *values = nullptr;
    return true;
  }
  if (c.op_case() == v1::Condition::kAnyOf) {
    const auto& list = c.any_of().values();
    if (list.empty() || list.size() > kMaxSplitValues) return false;
    for (const Value& v : list) {
      if (!scalar(v)) return false;
    }
    *values = &list;
    *single = nullptr;
    return true;
  }
  return false;
}

class SegmentBuilder {
 public:
  // `dict` must know every condition field of the SOPs built.
  SegmentBuilder(const FieldDictionary& dict, Segment* segment) : dict_(dict), seg_(*segment) {}

  void Build(std::vector<PublishedSopPtr> sops) {
    seg_.sops = std::move(sops);
    seg_.by_name.reserve(seg_.sops.size());
    absl::flat_hash_map<std::string, std::vector<uint32_t>> partitions;
    std::string key;
    std::vector<const std::string*> types;
    for (uint32_t s = 0; s < seg_.sops.size(); ++s) {
      const PublishedSop& sop = *seg_.sops[s];
      seg_.by_name.emplace_back(NameHash(sop.name), s);
      const auto& rules = sop.body.targeting_rules();
      for (int i = 0; i < rules.size(); ++i) {
        const v1::TargetingRule& rule = rules[i];
        const auto id = static_cast<uint32_t>(seg_.rules.size());
        RuleEntry entry;
        entry.sop = s;
        entry.first_field = static_cast<uint32_t>(seg_.rule_fields.size());
        entry.priority = rule.priority();
        entry.rule_index = static_cast<uint16_t>(i);
        entry.num_conditions = static_cast<uint8_t>(rule.conditions_size());
        entry.specificity = static_cast<uint8_t>(RuleSpecificity(rule));
        seg_.rules.push_back(entry);
        for (const v1::Condition& c : rule.conditions()) {
          seg_.rule_fields.push_back(dict_.ids.at(c.field()));
        }
        types.clear();
        for (const std::string& type : rule.record_types()) {
          if (std::none_of(types.begin(), types.end(),
                           [&](const std::string* t) { return *t == type; })) {
            types.push_back(&type);
          }
        }
        if (types.empty()) {
          PartitionKey(sop.name.org, nullptr, &key);
          partitions[key].push_back(id);
        }
        for (const std::string* type : types) {
          PartitionKey(sop.name.org, type, &key);
          partitions[key].push_back(id);
        }
      }
    }
    std::sort(seg_.by_name.begin(), seg_.by_name.end());
    for (auto& [partition_key, rule_ids] : partitions) {
      seg_.partitions[partition_key] = BuildPartition(std::move(rule_ids));
    }
    seg_.rules.shrink_to_fit();
    seg_.rule_fields.shrink_to_fit();
    seg_.nodes.shrink_to_fit();
    seg_.node_rules.shrink_to_fit();
    seg_.splits.shrink_to_fit();
    seg_.child_keys.shrink_to_fit();
    seg_.child_nodes.shrink_to_fit();
    seg_.bounds.shrink_to_fit();
  }

 private:
  // One tree for the SOPs every role sees and one per role for the others
  // (an SOP visible to roles {a, b} is in the trees of a and of b), so a
  // lookup reads only trees its viewer may see; each is cut into priority
  // bands when large.
  std::vector<Tree> BuildPartition(std::vector<uint32_t> rule_ids) {
    absl::flat_hash_map<RoleSet, std::vector<uint32_t>> groups;
    for (uint32_t id : rule_ids) {
      const RoleSet visible_to = seg_.sops[seg_.rules[id].sop]->visible_to;
      if ((visible_to & kAllRoles) == kAllRoles) {
        groups[kAllRoles].push_back(id);
        continue;
      }
      for (RoleSet rest = visible_to; rest != 0; rest &= rest - 1) {
        groups[rest & (~rest + 1)].push_back(id);
      }
    }
    std::vector<Tree> trees;
    for (auto& [visible_to, ids] : groups) {
      std::stable_sort(ids.begin(), ids.end(), [&](uint32_t a, uint32_t b) {
        return seg_.rules[a].priority > seg_.rules[b].priority;
      });
      const size_t band = ids.size() < kMinBandRules
                              ? ids.size()
                              : std::max(kMinBandRules / 2, ids.size() / kMaxBands);
      size_t begin = 0;
      while (begin < ids.size()) {
        size_t end = std::min(ids.size(), begin + band);
        while (end < ids.size() &&
               seg_.rules[ids[end]].priority == seg_.rules[ids[end - 1]].priority) {
          ++end;
        }
        std::vector<uint32_t> band_ids(ids.begin() + begin, ids.begin() + end);
        std::vector<uint64_t> used;
        trees.push_back(Tree{seg_.rules[ids[begin]].priority, visible_to,
                             BuildNode(std::move(band_ids), &used, 0)});
        begin = end;
      }
    }
    std::sort(trees.begin(), trees.end(),
              [](const Tree& a, const Tree& b) { return a.max_priority > b.max_priority; });
    return trees;
  }

  static uint64_t FieldKey(uint32_t field, SplitMode mode) {
    return (uint64_t{field} << 2) | static_cast<uint64_t>(mode);
  }
  static uint32_t FieldOf(uint64_t fk) { return static_cast<uint32_t>(fk >> 2); }
  static SplitMode ModeOf(uint64_t fk) { return static_cast<SplitMode>(fk & 3); }

  // The split modes `c` can route on.
  static std::optional<SplitMode> ModeFor(const v1::Condition& c) {
    const google::protobuf::RepeatedPtrField<Value>* list;
    const Value* single;
    if (SplitValues(c, c.case_insensitive(), &list, &single)) {
      return c.case_insensitive() ? SplitMode::kFolded : SplitMode::kExact;
    }
    for (SplitMode mode : {SplitMode::kNumberRange, SplitMode::kTimeRange}) {
      if (RangeInterval(c, mode)) return mode;
    }
    return std::nullopt;
  }

  // The rule's routing keys for a split on (field, mode), sorted and unique;
  // empty when it has no usable condition there. Equality splits use the
  // condition with fewest values, range splits the one covering fewest
  // buckets of `bounds`.
  void RuleKeys(uint32_t rule_id, uint32_t field, SplitMode mode,
                const std::vector<double>& bounds, std::vector<uint64_t>* keys) {
    keys->clear();
    const RuleEntry& r = seg_.rules[rule_id];
    const v1::TargetingRule& rule = seg_.Rule(r);
    if (mode == SplitMode::kNumberRange || mode == SplitMode::kTimeRange) {
      std::optional<std::pair<uint64_t, uint64_t>> best;
      for (int c = 0; c < r.num_conditions; ++c) {
        if (seg_.rule_fields[r.first_field + c] != field) continue;
        std::optional<Interval> iv = RangeInterval(rule.conditions(c), mode);
        if (!iv) continue;
        const uint64_t a = Bucket(bounds.data(), bounds.size(), iv->lo);
        const uint64_t b = Bucket(bounds.data(), bounds.size(), iv->hi);
        if (!best || b - a < best->second - best->first) best = std::make_pair(a, b);
      }
      if (best && best->second - best->first < kMaxRuleBuckets) {
        for (uint64_t k = best->first; k <= best->second; ++k) keys->push_back(k);
      }
      return;
    }
    const bool fold = mode == SplitMode::kFolded;
    int best_count = 0;
    const Value* best_single = nullptr;
    const google::protobuf::RepeatedPtrField<Value>* best_list = nullptr;
    for (int c = 0; c < r.num_conditions; ++c) {
      if (seg_.rule_fields[r.first_field + c] != field) continue;
      const google::protobuf::RepeatedPtrField<Value>* list;
      const Value* single;
      if (!SplitValues(rule.conditions(c), fold, &list, &single)) continue;
      const int count = single != nullptr ? 1 : list->size();
      if (best_count == 0 || count < best_count) {
        best_count = count;
        best_single = single;
        best_list = list;
      }
    }
    if (best_count == 0) return;
    if (best_single != nullptr) {
      keys->push_back(*ScalarKey(*best_single, fold));
      return;
    }
    for (const Value& v : *best_list) keys->push_back(*ScalarKey(v, fold));
    std::sort(keys->begin(), keys->end());
    keys->erase(std::unique(keys->begin(), keys->end()), keys->end());
  }

  // Up to kMaxBuckets - 1 bucket bounds: quantiles of the interval ends the
  // rules' range conditions on (field, mode) use.
  std::vector<double> RangeBounds(const std::vector<uint32_t>& rules, uint32_t field,
                                  SplitMode mode) {
    std::vector<double> ends;
    for (uint32_t id : rules) {
      const RuleEntry& r = seg_.rules[id];
      const v1::TargetingRule& rule = seg_.Rule(r);
      for (int c = 0; c < r.num_conditions; ++c) {
        if (seg_.rule_fields[r.first_field + c] != field) continue;
        std::optional<Interval> iv = RangeInterval(rule.conditions(c), mode);
        if (!iv) continue;
        for (double x : {iv->lo, iv->hi}) {
          if (std::isfinite(x)) ends.push_back(x);
        }
      }
    }
    std::sort(ends.begin(), ends.end());
    ends.erase(std::unique(ends.begin(), ends.end()), ends.end());
    if (ends.size() < kMaxBuckets) return ends;
    std::vector<double> bounds;
    for (size_t i = 1; i < kMaxBuckets; ++i) bounds.push_back(ends[i * ends.size() / kMaxBuckets]);
    bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
    return bounds;
  }

  struct Choice {
    uint64_t fk = 0;
    std::vector<double> bounds;  // range splits
  };

  // The split expected to leave the fewest rules to visit, assuming a
  // record's value is equally likely to be any of the split's values (or
  // buckets) or, for equality, none of them; nullopt when none gains enough.
  std::optional<Choice> ChooseSplit(const std::vector<uint32_t>& rules,
                                    const std::vector<uint64_t>& used) {
    absl::flat_hash_map<uint64_t, uint32_t> coverage;
    std::vector<uint64_t> seen;
    for (uint32_t id : rules) {
      const RuleEntry& r = seg_.rules[id];
      const v1::TargetingRule& rule = seg_.Rule(r);
      seen.clear();
      for (int c = 0; c < r.num_conditions; ++c) {
        std::optional<SplitMode> mode = ModeFor(rule.conditions(c));
        if (!mode) continue;
        const uint64_t fk = FieldKey(seg_.rule_fields[r.first_field + c], *mode);
        if (std::find(used.begin(), used.end(), fk) != used.end() ||
            std::find(seen.begin(), seen.end(), fk) != seen.end()) {
          continue;
        }
        seen.push_back(fk);
        ++coverage[fk];
      }
    }
    if (coverage.empty()) return std::nullopt;
    std::vector<std::pair<uint32_t, uint64_t>> ranked;
    for (const auto& [fk, count] : coverage) ranked.emplace_back(count, fk);
    std::sort(ranked.begin(), ranked.end(), std::greater<>());
    if (ranked.size() > kSplitCandidates) ranked.resize(kSplitCandidates);
    std::optional<Choice> best;
    double best_gain = kMinSplitGain;
    std::vector<uint64_t> keys;
    for (const auto& [covered, fk] : ranked) {
      const SplitMode mode = ModeOf(fk);
      const bool range = mode == SplitMode::kNumberRange || mode == SplitMode::kTimeRange;
      std::vector<double> bounds;
      if (range) bounds = RangeBounds(rules, FieldOf(fk), mode);
      absl::flat_hash_map<uint64_t, uint32_t> groups;
      size_t copies = 0;
      for (uint32_t id : rules) {
        RuleKeys(id, FieldOf(fk), mode, bounds, &keys);
        for (uint64_t k : keys) ++groups[k];
        copies += keys.size();
      }
      const double outcomes = range ? bounds.size() + 1.0 : groups.size() + 1.0;
      const double gain = covered - static_cast<double>(copies) / outcomes;
      if (gain >= best_gain) {
        best_gain = gain;
        best = Choice{fk, std::move(bounds)};
      }
    }
    return best;
  }

  uint32_t BuildNode(std::vector<uint32_t> rules, std::vector<uint64_t>* used, int depth) {
    const auto id = static_cast<uint32_t>(seg_.nodes.size());
    seg_.nodes.emplace_back();
    std::vector<Split> splits;
    std::vector<uint64_t> keys;
    // Fields split at this node are not split again for its remaining rules
    // (those may still test them, e.g. with ranges too wide to route).
    const size_t path_length = used->size();
    while (rules.size() > kLeafRules && depth < kMaxDepth) {
      std::optional<Choice> choice = ChooseSplit(rules, *used);
      if (!choice) break;
      const uint32_t field = FieldOf(choice->fk);
      const SplitMode mode = ModeOf(choice->fk);
      std::vector<std::pair<uint64_t, std::vector<uint32_t>>> groups;
      absl::flat_hash_map<uint64_t, size_t> group_of;
      std::vector<uint32_t> rest;
      for (uint32_t rule : rules) {
        RuleKeys(rule, field, mode, choice->bounds, &keys);
        if (keys.empty()) {
          rest.push_back(rule);
          continue;
        }
        for (uint64_t k : keys) {
          auto [it, inserted] = group_of.try_emplace(k, groups.size());
          if (inserted) groups.emplace_back(k, std::vector<uint32_t>());
          groups[it->second].second.push_back(rule);
        }
      }
      std::sort(groups.begin(), groups.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      std::vector<std::pair<uint64_t, uint32_t>> children;
      used->push_back(choice->fk);
      for (auto& [key, members] : groups) {
        children.emplace_back(key, BuildNode(std::move(members), used, depth + 1));
      }
      Split split;
      split.field = field;
      split.mode = mode;
      split.first_child = static_cast<uint32_t>(seg_.child_keys.size());
      split.num_children = static_cast<uint32_t>(children.size());
      split.first_bound = static_cast<uint32_t>(seg_.bounds.size());
      split.num_bounds = static_cast<uint32_t>(choice->bounds.size());
      seg_.bounds.insert(seg_.bounds.end(), choice->bounds.begin(), choice->bounds.end());
      for (const auto& [key, child] : children) {
        seg_.child_keys.push_back(key);
        seg_.child_nodes.push_back(child);
      }
      if (split.num_children > 0) splits.push_back(split);
      rules = std::move(rest);
    }
    used->resize(path_length);
    Node& node = seg_.nodes[id];
    node.first_rule = static_cast<uint32_t>(seg_.node_rules.size());
    node.num_rules = static_cast<uint32_t>(rules.size());
    seg_.node_rules.insert(seg_.node_rules.end(), rules.begin(), rules.end());
    node.first_split = static_cast<uint32_t>(seg_.splits.size());
    node.num_splits = static_cast<uint32_t>(splits.size());
    seg_.splits.insert(seg_.splits.end(), splits.begin(), splits.end());
    return id;
  }

  const FieldDictionary& dict_;
  Segment& seg_;
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
    uint32_t sop_base = 0;   // offset of its SOPs in lookup scratch
    uint32_t rule_base = 0;  // offset of its rules in lookup scratch
    size_t live = 0;
  };

  std::shared_ptr<const FieldDictionary> dict;
  std::vector<SegmentRef> segments;  // oldest (largest) first
  uint32_t total_sops = 0;
  uint32_t total_rules = 0;
  size_t live = 0;

  void Rebase() {
    total_sops = total_rules = 0;
    live = 0;
    for (SegmentRef& ref : segments) {
      ref.sop_base = total_sops;
      ref.rule_base = total_rules;
      total_sops += static_cast<uint32_t>(ref.segment->sops.size());
      total_rules += static_cast<uint32_t>(ref.segment->rules.size());
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
  struct TreeRef {
    uint32_t segment;
    uint32_t root;
    int32_t max_priority;
  };

  uint32_t epoch = 0;
  std::vector<uint32_t> field_epoch;
  std::vector<const Value*> field_value;
  std::vector<ParsedTimeMemo> field_time;
  std::vector<uint32_t> sop_epoch;
  std::vector<uint32_t> sop_hit;  // index into hits
  std::vector<uint32_t> rule_epoch;
  std::vector<Hit> hits;
  std::vector<TreeRef> trees;
  std::vector<int32_t> priorities;
  std::string key;

  void Begin(size_t fields, size_t sops, size_t rules) {
    if (++epoch == 0) {
      std::fill(field_epoch.begin(), field_epoch.end(), 0);
      std::fill(sop_epoch.begin(), sop_epoch.end(), 0);
      std::fill(rule_epoch.begin(), rule_epoch.end(), 0);
      epoch = 1;
    }
    if (field_epoch.size() < fields) {
      field_epoch.resize(fields, 0);
      field_value.resize(fields, nullptr);
      field_time.resize(fields);
    }
    if (sop_epoch.size() < sops) {
      sop_epoch.resize(sops, 0);
      sop_hit.resize(sops, 0);
    }
    if (rule_epoch.size() < rules) rule_epoch.resize(rules, 0);
    hits.clear();
    trees.clear();
  }
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

// One lookup (or near-miss search) over one matcher state.
class Lookup {
 public:
  Lookup(const State& state, const MatchQuery& query, bool near_misses)
      : state_(state), query_(query), fields_(query.context->fields()), s_(ThreadScratch()) {
    s_.Begin(state.dict->names.size(), state.total_sops, near_misses ? state.total_rules : 0);
    CollectTrees();
  }

  std::vector<SopMatchResult> Match() {
    const auto k = static_cast<size_t>(query_.max_results);
    if (k == 0) return {};
    for (const Scratch::TreeRef& tree : s_.trees) {
      if (s_.hits.size() >= k && KthPriority(k) > tree.max_priority) break;
      Visit(tree.segment, tree.root);
    }
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

  std::vector<NearMiss> NearMisses(int max) {
    std::vector<NearMiss> misses;
    for (const Scratch::TreeRef& tree : s_.trees) VisitNear(tree.segment, tree.root, 1, &misses);
    RankNearMisses(&misses, max);
    return misses;
  }

 private:
  const PublishedSop* Sop(const Scratch::Hit& h) const {
    return state_.segments[h.segment].segment->sops[h.sop].get();
  }

  void CollectTrees() {
    const std::string& type = query_.context->record_type();
    for (uint32_t si = 0; si < state_.segments.size(); ++si) {
      const Segment& seg = *state_.segments[si].segment;
      for (const std::string* t : {static_cast<const std::string*>(nullptr), &type}) {
        PartitionKey(query_.org, t, &s_.key);
        auto it = seg.partitions.find(s_.key);
        if (it == seg.partitions.end()) continue;
        for (const Tree& tree : it->second) {
          if (RolesMaySee(query_.viewer_roles, tree.visible_to)) {
            s_.trees.push_back(Scratch::TreeRef{si, tree.root, tree.max_priority});
          }
        }
      }
    }
    if (s_.trees.size() > 1) {
      std::sort(s_.trees.begin(), s_.trees.end(),
                [](const Scratch::TreeRef& a, const Scratch::TreeRef& b) {
                  return a.max_priority > b.max_priority;
                });
    }
  }

  int32_t KthPriority(size_t k) {
    s_.priorities.clear();
    for (const Scratch::Hit& h : s_.hits) s_.priorities.push_back(h.priority);
    std::nth_element(s_.priorities.begin(), s_.priorities.begin() + (k - 1), s_.priorities.end(),
                     std::greater<>());
    return s_.priorities[k - 1];
  }

  const Value* FieldValue(uint32_t field) {
    if (s_.field_epoch[field] != s_.epoch) {
      s_.field_epoch[field] = s_.epoch;
      auto it = fields_.find(state_.dict->names[field]);
      s_.field_value[field] = it == fields_.end() ? nullptr : &it->second;
      s_.field_time[field] = ParsedTimeMemo();
    }
    return s_.field_value[field];
  }

  bool Holds(const v1::Condition& c, uint32_t field) {
    const Value* v = FieldValue(field);
    return ConditionHoldsForValue(c, v, &s_.field_time[field]);
  }

  // Calls `visit(child)` for each child of `split` whose key the record's
  // value (or one of its list elements) has.
  template <typename Visit>
  void ForEachMatchingChild(const Segment& seg, uint32_t split_index, Visit visit) {
    const Split& split = seg.splits[split_index];
    const Value* v = FieldValue(split.field);
    if (v == nullptr) return;
    const uint64_t* keys = seg.child_keys.data() + split.first_child;
    const uint64_t* end = keys + split.num_children;
    const double* bounds = seg.bounds.data() + split.first_bound;
    auto probe = [&](const Value& e, ParsedTimeMemo* memo) {
      std::optional<uint64_t> key;
      switch (split.mode) {
        case SplitMode::kExact:
        case SplitMode::kFolded:
          key = ScalarKey(e, split.mode == SplitMode::kFolded);
          break;
        case SplitMode::kNumberRange:
          if (e.kind_case() == Value::kNumberValue) {
            key = Bucket(bounds, split.num_bounds, e.number_value());
          }
          break;
        case SplitMode::kTimeRange: {
          std::optional<absl::Time> t;
          if (memo != nullptr) {
            if (!memo->parsed) {
              memo->time = ValueTime(e);
              memo->parsed = true;
            }
            t = memo->time;
          } else {
            t = ValueTime(e);
          }
          if (t) key = Bucket(bounds, split.num_bounds, TimeScale(*t));
          break;
        }
      }
      if (!key) return;
      const uint64_t* it = std::lower_bound(keys, end, *key);
      if (it != end && *it == *key) visit(seg.child_nodes[split.first_child + (it - keys)]);
    };
    if (v->kind_case() == Value::kListValue) {
      for (const Value& e : v->list_value().values()) probe(e, nullptr);
    } else {
      probe(*v, &s_.field_time[split.field]);
    }
  }

  bool Verify(const Segment& seg, const RuleEntry& r) {
    const v1::TargetingRule& rule = seg.Rule(r);
    for (int c = 0; c < r.num_conditions; ++c) {
      if (!Holds(rule.conditions(c), seg.rule_fields[r.first_field + c])) return false;
    }
    return true;
  }

  void Offer(uint32_t si, const RuleEntry& r) {
    const State::SegmentRef& ref = state_.segments[si];
    if (IsDead(ref.dead.get(), r.sop)) return;
    const uint32_t g = ref.sop_base + r.sop;
    Scratch::Hit hit{si, r.sop, r.priority, r.rule_index, r.specificity};
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

  void Visit(uint32_t si, uint32_t node_id) {
    const Segment& seg = *state_.segments[si].segment;
    const Node& node = seg.nodes[node_id];
    for (uint32_t i = 0; i < node.num_rules; ++i) {
      const RuleEntry& r = seg.rules[seg.node_rules[node.first_rule + i]];
      if (Verify(seg, r)) Offer(si, r);
    }
    for (uint32_t i = 0; i < node.num_splits; ++i) {
      ForEachMatchingChild(seg, node.first_split + i, [&](uint32_t child) { Visit(si, child); });
    }
  }

  // Visits every rule that fails at most `budget` of the splits on its path.
  void VisitNear(uint32_t si, uint32_t node_id, int budget, std::vector<NearMiss>* misses) {
    const State::SegmentRef& ref = state_.segments[si];
    const Segment& seg = *ref.segment;
    const Node& node = seg.nodes[node_id];
    for (uint32_t i = 0; i < node.num_rules; ++i) {
      const uint32_t rule_id = seg.node_rules[node.first_rule + i];
      uint32_t& seen = s_.rule_epoch[ref.rule_base + rule_id];
      if (seen == s_.epoch) continue;
      seen = s_.epoch;
      const RuleEntry& r = seg.rules[rule_id];
      if (IsDead(ref.dead.get(), r.sop)) continue;
      const v1::TargetingRule& rule = seg.Rule(r);
      std::optional<int> failed = SoleFailedCondition(
          rule, [&](int c) { return FieldValue(seg.rule_fields[r.first_field + c]); });
      if (failed) {
        misses->push_back(
            NearMiss{seg.sops[r.sop], r.rule_index, *failed, r.priority, r.specificity});
      }
    }
    for (uint32_t i = 0; i < node.num_splits; ++i) {
      const Split& split = seg.splits[node.first_split + i];
      ForEachMatchingChild(seg, node.first_split + i,
                           [&](uint32_t child) { VisitNear(si, child, budget, misses); });
      if (budget == 0) continue;
      for (uint32_t c = 0; c < split.num_children; ++c) {
        VisitNear(si, seg.child_nodes[split.first_child + c], budget - 1, misses);
      }
    }
  }

  const State& state_;
  const MatchQuery& query_;
  const FieldMap& fields_;
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
        if (dict->ids.contains(c.field()) || (copy && copy->ids.contains(c.field()))) continue;
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
        State::SegmentRef{BuildSegment(std::move(sops), *state->dict), nullptr, 0, 0, n});
  }
  state->Rebase();
  return std::make_unique<IndexedSopMatcher>(std::move(state));
}

std::vector<SopMatchResult> IndexedSopMatcher::Match(const MatchQuery& query) const {
  return Lookup(*state_, query, /*near_misses=*/false).Match();
}

std::vector<NearMiss> IndexedSopMatcher::NearMisses(const MatchQuery& query, int max) const {
  return Lookup(*state_, query, /*near_misses=*/true).NearMisses(max);
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
        State::SegmentRef{BuildSegment(std::move(pending), *next->dict), nullptr, 0, 0, live});
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
