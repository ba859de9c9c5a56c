// Comparisons of JSON-like values (google.protobuf.Value), shared by
// validation and matching. Thread-safe (pure).
#ifndef SOPSIDEBAR_COMMON_MODEL_VALUES_H_
#define SOPSIDEBAR_COMMON_MODEL_VALUES_H_

#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace sopsidebar {

enum class CaseMode { kExact, kIgnoreAsciiCase };

// Values from C++ scalars.
google::protobuf::Value StringValue(std::string s);
google::protobuf::Value NumberValue(double d);
google::protobuf::Value BoolValue(bool b);

// True for a string, number or bool.
bool IsScalar(const google::protobuf::Value& v);

// Equal scalars of the same kind; strings compared under `mode`. A number
// never equals a string, even "82" and 82.
bool ScalarEquals(const google::protobuf::Value& a, const google::protobuf::Value& b,
                  CaseMode mode);

// `s` starts with `prefix` under `mode`.
bool HasPrefix(absl::string_view s, absl::string_view prefix, CaseMode mode);

// A short human rendering: strings quoted, numbers without trailing zeros,
// lists in brackets.
std::string DescribeValue(const google::protobuf::Value& v);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_COMMON_MODEL_VALUES_H_
