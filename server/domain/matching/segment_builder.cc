#include "server/domain/matching/segment_builder.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <thread>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "server/domain/matching/index_hashing.h"
#include "server/domain/matching/posting_table.h"
#include "server/domain/matching/rule_compiler.h"
#include "server/domain/matching/rule_program.h"

namespace sopsidebar {
namespace indexed_internal {
namespace {

// Estimated share of records a one-sided range admits (two-sided: half of
// it), against equality's values / distinct values of the field: ranges are
// access conditions only when a rule has no selective equality.
constexpr double kRangeSelectivity = 0.3;
// Full builds compile rules on up to kMaxBuildThreads threads (the
// hardware's), each with at least kMinSopsPerBuildThread SOPs.
constexpr size_t kMaxBuildThreads = 4;
constexpr uint32_t kMinSopsPerBuildThread = 20000;

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

}  // namespace

std::shared_ptr<const Segment> BuildSegment(std::vector<PublishedSopPtr> sops,
                                            const FieldDictionary& dict) {
  auto segment = std::make_shared<Segment>();
  SegmentBuilder(dict, segment.get()).Build(std::move(sops));
  return segment;
}

}  // namespace indexed_internal
}  // namespace sopsidebar
