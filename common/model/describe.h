// Short human renderings of parts of an SOP, shared by sopctl's text output
// and the generated diagrams (common/diagram). Thread-safe (pure functions).
#ifndef SOPSIDEBAR_COMMON_MODEL_DESCRIBE_H_
#define SOPSIDEBAR_COMMON_MODEL_DESCRIBE_H_

#include <string>

#include "absl/time/time.h"
#include "sopsidebar/v1/sop.pb.h"

namespace sopsidebar {

// One condition as an expression: `lead_score >= 75`, `lead_status = "MQL"`,
// `lead_source in ["Web", "Event"]`, `title starts with "VP"`, with
// " (any case)" after a case-insensitive one. The field and values are
// written as they are: callers escape them for where they show them.
std::string DescribeCondition(const v1::Condition& condition);

// The two largest units of a non-negative duration, rounded down to
// seconds: "45s", "4m", "4m30s", "1h5m", "2d3h"; negative ones are "0s".
std::string HumanDuration(absl::Duration duration);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_COMMON_MODEL_DESCRIBE_H_
