// Evaluation of targeting conditions and rules against a CRM record, with
// the semantics of docs/ARCHITECTURE.md ("Matching semantics"). Shared by
// every matcher engine, so engines differ in speed only, never in meaning.
// Thread-safe (pure).
#ifndef SOPSIDEBAR_SERVER_DOMAIN_MATCHING_CONDITION_H_
#define SOPSIDEBAR_SERVER_DOMAIN_MATCHING_CONDITION_H_

#include <optional>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/map.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "google/protobuf/struct.pb.h"
#include "sopsidebar/v1/context_service.pb.h"
#include "sopsidebar/v1/sop.pb.h"

namespace sopsidebar {

using FieldMap = google::protobuf::Map<std::string, google::protobuf::Value>;

// True when `condition` holds for a record with `fields`. A field missing
// from the record satisfies only `exists: false` and `none_of`.
bool ConditionHolds(const v1::Condition& condition, const FieldMap& fields);

// The RFC 3339 time of one scalar field value, parsed on first use, so that
// several time ranges on the same value parse it once. Start each value with
// a fresh memo.
struct ParsedTimeMemo {
  bool parsed = false;
  std::optional<absl::Time> time;
};

// The same test given the record's value for the condition's field directly:
// `value` is null when the record lacks the field; `memo`, when given, is
// `value`'s. Engines that resolve fields once per lookup call this;
// ConditionHolds is defined by it.
bool ConditionHoldsForValue(const v1::Condition& condition,
                            const google::protobuf::Value* value,
                            ParsedTimeMemo* memo = nullptr);

// True when every condition holds (vacuously for none).
bool AllConditionsHold(const google::protobuf::RepeatedPtrField<v1::Condition>& conditions,
                       const FieldMap& fields);

// True when `rule` accepts the context's record type and all its conditions
// hold.
bool RuleMatches(const v1::TargetingRule& rule, const v1::CrmContext& context);

// How specific a rule is: its conditions, plus one when it names record
// types.
int RuleSpecificity(const v1::TargetingRule& rule);

// The RFC 3339 time a value holds, if it holds one.
std::optional<absl::Time> ValueTime(const google::protobuf::Value& value);

// The RFC 3339 time a field holds, if it holds one.
std::optional<absl::Time> FieldTime(const FieldMap& fields, absl::string_view field);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_MATCHING_CONDITION_H_
