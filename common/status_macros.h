// Early-return helpers for absl::Status and absl::StatusOr (Abseil 20220623
// ships none).
#ifndef SOPSIDEBAR_COMMON_STATUS_MACROS_H_
#define SOPSIDEBAR_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns `expr`'s status from the enclosing function when it is not OK.
#define SOP_RETURN_IF_ERROR(expr)                  \
  do {                                             \
    ::absl::Status sop_status_ = (expr);           \
    if (!sop_status_.ok()) return sop_status_;     \
  } while (false)

#define SOP_STATUS_CONCAT_INNER_(a, b) a##b
#define SOP_STATUS_CONCAT_(a, b) SOP_STATUS_CONCAT_INNER_(a, b)

// Evaluates `rexpr` (an absl::StatusOr<T>); returns its status when not OK,
// otherwise moves the value into `lhs` (a declaration or an lvalue).
#define SOP_ASSIGN_OR_RETURN(lhs, rexpr) \
  SOP_ASSIGN_OR_RETURN_IMPL_(SOP_STATUS_CONCAT_(sop_statusor_, __LINE__), lhs, rexpr)

#define SOP_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                               \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // SOPSIDEBAR_COMMON_STATUS_MACROS_H_
