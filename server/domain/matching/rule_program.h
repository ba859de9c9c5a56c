// The indexed engine's rule programs (internal to it: included only by its
// own files and their tests): the encoding a targeting rule is compiled into
// (RuleCompiler writes it, a lookup screens it) and the pieces that read it.
//
// A program is kRuleHeaderWords words of RuleHeader, then per condition, in
// the rule's order, a condition header (one to three words, see
// EncodeCondition) and its operands: 32 bits of each equality value's hash
// (sorted), number bounds as doubles, time bounds as absl::Time, prefix
// bytes. The encoding lives only in memory; nothing persists it.
//
// Nothing here fails: callers keep operand counts within kMaxOperands
// (larger conditions compile to Op::kProtobuf). Thread-safe (pure); the
// readers are inline because a lookup runs them for every candidate rule.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_MATCHING_RULE_PROGRAM_H_
#define SOPSIDEBAR_SERVER_DOMAIN_MATCHING_RULE_PROGRAM_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/time/time.h"
#include "common/model/roles.h"

namespace sopsidebar {
namespace indexed_internal {

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
// see EncodeCondition) and its operands. Programs live one after another in
// Segment::code and are named by the offset of their first word.
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

// Writes `c`'s header to `words` (room for kMaxConditionHeaderWords);
// returns how many words it took.
size_t EncodeCondition(const ConditionHeader& c, uint32_t* words);

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
inline uint32_t OperandWords(const ConditionHeader& c) {
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

// Where the condition after the one at `at` starts.
inline const uint32_t* NextCondition(const uint32_t* at) {
  const uint32_t* operands;
  const ConditionHeader c = DecodeCondition(at, &operands);
  return operands + OperandWords(c);
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
inline bool HashIn(const uint32_t* set, uint32_t n, uint32_t h) {
  if (n <= 8) {
    for (uint32_t i = 0; i < n; ++i) {
      if (set[i] == h) return true;
    }
    return false;
  }
  return std::binary_search(set, set + n, h);
}
}  // namespace indexed_internal
}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_MATCHING_RULE_PROGRAM_H_
