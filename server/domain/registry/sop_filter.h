// The ListSops filter (docs/API.md): a subset of AIP-160, terms joined by AND:
//
//   state = DRAFT | PUBLISHED | DELETED
//   owner = "Sales Ops"          the SOP's owner, exactly
//   tags:"mql"  tags = "mql"     the SOP carries the tag (also `tag = "mql"`)
//
// e.g. `state = PUBLISHED AND tags:"mql" AND owner = "Sales Ops"`. A value is
// a quoted string (no escapes) or a single word; AND is upper case; spaces
// around operators are optional.
//
// Thread-safe (pure functions; SopFilter is a value).
#ifndef SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_SOP_FILTER_H_
#define SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_SOP_FILTER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sopsidebar/v1/sop.pb.h"

namespace sopsidebar {

struct SopFilter {
  std::optional<v1::Sop::State> state;  // the last state term
  std::optional<std::string> owner;     // the last owner term
  std::vector<std::string> tags;        // every one of them

  // True when `sop` satisfies every term.
  bool Matches(const v1::Sop& sop) const;
};

// The filter `text` states; an empty or blank text has no terms. Else
// INVALID_ARGUMENT "filter: <what> at position <n>", n counting characters
// from 0: an unterminated quote, an empty term (a leading, doubled or
// trailing AND), an unknown key, a missing or wrong operator, a missing or
// empty value, an unknown state, or two terms without AND between them.
// Input is quoted through error::QuoteInput.
absl::StatusOr<SopFilter> ParseSopFilter(absl::string_view text);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_SOP_FILTER_H_
