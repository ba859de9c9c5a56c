#include "common/drafting/drafter.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "common/errors.h"
#include "common/model/sop_body.h"
#include "common/model/validation.h"
#include "common/status_macros.h"

namespace sopsidebar {

absl::Status ValidateBrief(absl::string_view brief) {
  if (absl::StripAsciiWhitespace(brief).empty()) return error::RequiredField("brief");
  return ValidateText("brief", brief, kMaxBriefChars, TextKind::kMultiline);
}

absl::StatusOr<v1::Sop> FinishDraft(v1::Sop sop) {
  ClearOutputOnlyFields(&sop);
  NormalizeSopBody(&sop);
  SOP_RETURN_IF_ERROR(ValidateSopBody(sop, ""));
  return sop;
}

}  // namespace sopsidebar
