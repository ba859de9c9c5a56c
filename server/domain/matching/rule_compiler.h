// The indexed engine's rule compiler (internal to it: included only by its
// own files and their tests): targeting rules to programs (rule_program.h),
// with what SegmentBuilder needs to choose each rule's access condition
// (every candidate, with the full hashes of equality values) and to file it
// in partitions. A compiler compiles a range of a segment's SOPs into
// programs of its own; SegmentBuilder appends the ranges in order.
//
// Nothing here fails: the dictionary must know every condition field of the
// SOPs compiled. Thread safety: a compiler is used by one thread at a time;
// compilers of different ranges may run concurrently (the dictionary and the
// SOPs are only read).
#ifndef SOPSIDEBAR_SERVER_DOMAIN_MATCHING_RULE_COMPILER_H_
#define SOPSIDEBAR_SERVER_DOMAIN_MATCHING_RULE_COMPILER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"
#include "server/domain/matching/field_dictionary.h"
#include "server/domain/matching/rule_program.h"
#include "server/domain/matching/sop_matcher.h"

namespace sopsidebar {
namespace indexed_internal {

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
  void CompileSops(const std::vector<PublishedSopPtr>& sops, uint32_t begin, uint32_t end);

  std::vector<uint32_t> code;
  std::vector<BuiltRule> rules;  // by ordinal; `at` into code
  std::vector<Access> options;   // access condition candidates, by rule
  std::vector<uint64_t> hashes;  // full hashes of equality access conditions' values
  std::vector<Placement> placed;

 private:
  // Appends `bytes` bytes at `data` to the code, zero-padded to whole words.
  void Push(const void* data, size_t bytes);

  // Appends rule `i` of `sop` (segment index `s`) to the code and rules.
  void Compile(uint32_t s, const PublishedSop& sop, int i, const v1::TargetingRule& rule);

  // Appends `values`' 32-bit hashes, sorted and distinct, and notes their
  // full hashes for an equality access condition.
  uint16_t PushHashes(const std::vector<const google::protobuf::Value*>& values, bool fold,
                      Access* access);

  // The same reading of the operator as condition.cc.
  void Compile(uint32_t index, const v1::Condition& c);

  const FieldDictionary& dict_;
  std::vector<const google::protobuf::Value*> values_;  // of the condition being compiled
  std::vector<uint64_t> pending_;
  std::vector<uint32_t> short_;
};

}  // namespace indexed_internal
}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_MATCHING_RULE_COMPILER_H_
