#include "server/domain/matching/rule_program.h"

#include <algorithm>

namespace sopsidebar {
namespace indexed_internal {

size_t EncodeCondition(const ConditionHeader& c, uint32_t* words) {
  const uint32_t field = std::min(c.field, kFieldEscape);
  const uint32_t n = std::min<uint32_t>(c.n, kCountEscape);
  size_t k = 0;
  words[k++] = field | (static_cast<uint32_t>(c.op) << 16) | (uint32_t{c.flags} << 20) | (n << 26);
  if (field == kFieldEscape) words[k++] = c.field;
  if (n == kCountEscape) words[k++] = c.n;
  return k;
}

}  // namespace indexed_internal
}  // namespace sopsidebar
