#include "server/domain/matching/rule_compiler.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

#include "common/proto_time.h"
#include "server/domain/matching/condition.h"
#include "server/domain/matching/index_hashing.h"
#include "server/domain/matching/index_segment.h"

namespace sopsidebar {
namespace indexed_internal {

using google::protobuf::Value;

// Compiles the rules of sops[begin, end) (their segment indexes).
void RuleCompiler::CompileSops(const std::vector<PublishedSopPtr>& sops, uint32_t begin,
                               uint32_t end) {
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

void RuleCompiler::Push(const void* data, size_t bytes) {
  const size_t at = code.size();
  code.resize(at + (bytes + 3) / 4, 0);
  std::memcpy(code.data() + at, data, bytes);
}

// Appends rule `i` of `sop` (segment index `s`) to the code and rules.
void RuleCompiler::Compile(uint32_t s, const PublishedSop& sop, int i,
                           const v1::TargetingRule& rule) {
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
uint16_t RuleCompiler::PushHashes(const std::vector<const Value*>& values, bool fold,
                                  Access* access) {
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
void RuleCompiler::Compile(uint32_t index, const v1::Condition& c) {
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

}  // namespace indexed_internal
}  // namespace sopsidebar
