#include "server/domain/matching/indexed_lookup.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <tuple>

#include "absl/base/attributes.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/model/values.h"
#include "google/protobuf/struct.pb.h"
#include "server/domain/matching/condition.h"
#include "server/domain/matching/field_dictionary.h"
#include "server/domain/matching/index_hashing.h"
#include "server/domain/matching/index_segment.h"
#include "server/domain/matching/near_miss.h"
#include "server/domain/matching/rule_program.h"

namespace sopsidebar {
namespace indexed_internal {
namespace {

using google::protobuf::Value;

bool Present(const Value* v) {
  return v != nullptr && v->kind_case() != Value::kNullValue &&
         v->kind_case() != Value::KIND_NOT_SET;
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
  Lookup(const IndexState& state, const MatchQuery& query)
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
    const IndexState::SegmentRef& ref = state_.segments[si];
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
  // condition's value hashes [set, set + n). Always inlined, like
  // ConditionStarts: with the hash helpers inlined from their headers, GCC
  // would otherwise call these two once per candidate.
  ABSL_ATTRIBUTE_ALWAYS_INLINE bool HashHit(const uint32_t* set, uint32_t n, bool fold,
                                            Scratch::Slot& s) {
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

  // s_.conditions[i]: where condition i of `rule` starts.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void ConditionStarts(const Segment& seg, uint32_t rule,
                                                    const RuleHeader& h) {
    s_.conditions.clear();
    const uint32_t* at = seg.code.data() + rule + kRuleHeaderWords;
    for (uint32_t i = 0; i < h.num_conditions; ++i, at = NextCondition(at)) {
      s_.conditions.push_back(at);
    }
  }

  // Verifies `rule`: every condition screened, then equality hits confirmed.
  void Verify(uint32_t si, const IndexState::SegmentRef& ref, uint32_t rule) {
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

  void Offer(uint32_t si, const IndexState::SegmentRef& ref, const RuleHeader& e) {
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
    const IndexState::SegmentRef& ref = state_.segments[si];
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

  const IndexState& state_;
  const MatchQuery& query_;
  Scratch& s_;
};

}  // namespace

std::vector<SopMatchResult> IndexedMatch(const IndexState& state, const MatchQuery& query) {
  return Lookup(state, query).Match();
}

std::vector<NearMiss> IndexedNearMisses(const IndexState& state, const MatchQuery& query, int max) {
  return Lookup(state, query).NearMisses(max);
}

}  // namespace indexed_internal
}  // namespace sopsidebar
