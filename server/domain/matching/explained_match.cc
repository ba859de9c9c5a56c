#include "server/domain/matching/explained_match.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/macros.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/proto_time.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "server/domain/matching/condition.h"
#include "server/domain/matching/near_miss.h"

namespace sopsidebar {
namespace {

using google::protobuf::internal::WireFormatLite;
using Stream = google::protobuf::io::CodedOutputStream;

// What a match says beyond the SOP and the rule: the current step, when it
// is due and the cadence day. Both forms of a match are made from this.
struct StepState {
  int step = -1;
  std::optional<absl::Time> due;
  int32_t cadence_day = 0;
};

StepState StepStateOf(const v1::Sop& body, const v1::CrmContext& context, absl::Time now) {
  StepState state;
  state.step = CurrentStepIndex(body, context.fields());
  if (state.step >= 0 && body.steps(state.step).has_time_limit()) {
    const v1::TimeLimit& limit = body.steps(state.step).time_limit();
    const std::string& anchor =
        limit.anchor_field().empty() ? body.anchor_field() : limit.anchor_field();
    if (std::optional<absl::Time> start = FieldTime(context.fields(), anchor)) {
      state.due = *start + FromProtoDuration(limit.duration());
    }
  }
  if (std::optional<absl::Time> start = FieldTime(context.fields(), body.anchor_field());
      start && now >= *start) {
    state.cadence_day = static_cast<int32_t>((now - *start) / absl::Hours(24)) + 1;
  }
  return state;
}

// The record's value for `field`, or null.
const google::protobuf::Value* Actual(const v1::CrmContext& context, const std::string& field) {
  auto it = context.fields().find(field);
  return it == context.fields().end() ? nullptr : &it->second;
}

// Every field number written below is under 16: its tag is one byte.
constexpr size_t kTagSize = 1;

size_t Int32FieldSize(int32_t value) {
  return value == 0 ? 0 : kTagSize + WireFormatLite::Int32Size(value);
}

size_t StringFieldSize(absl::string_view value) {
  return value.empty() ? 0 : kTagSize + WireFormatLite::LengthDelimitedSize(value.size());
}

size_t MessageFieldSize(size_t size) {
  return kTagSize + WireFormatLite::LengthDelimitedSize(size);
}

uint8_t* WriteInt32Field(int field, int32_t value, uint8_t* p) {
  return value == 0 ? p : WireFormatLite::WriteInt32ToArray(field, value, p);
}

// The tag and length of a length-delimited field of `size` bytes.
uint8_t* WriteMessageHeader(int field, size_t size, uint8_t* p) {
  p = WireFormatLite::WriteTagToArray(field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED, p);
  return Stream::WriteVarint32ToArray(static_cast<uint32_t>(size), p);
}

uint8_t* WriteBytes(absl::string_view bytes, uint8_t* p) {
  if (bytes.empty()) return p;
  return static_cast<uint8_t*>(memcpy(p, bytes.data(), bytes.size())) + bytes.size();
}

uint8_t* WriteStringField(int field, absl::string_view value, uint8_t* p) {
  return value.empty() ? p : WriteBytes(value, WriteMessageHeader(field, value.size(), p));
}

// A record's value as a message field body: scalars (what CRM fields
// almost always are) written directly, lists and structs by protobuf. A kind
// set in the oneof is written even when it holds its default.
size_t ValueSize(const google::protobuf::Value& value) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kNullValue:
      return kTagSize + WireFormatLite::EnumSize(value.null_value());
    case google::protobuf::Value::kNumberValue:
      return kTagSize + WireFormatLite::kDoubleSize;
    case google::protobuf::Value::kStringValue:
      return kTagSize + WireFormatLite::StringSize(value.string_value());
    case google::protobuf::Value::kBoolValue:
      return kTagSize + WireFormatLite::kBoolSize;
    case google::protobuf::Value::KIND_NOT_SET:
      return 0;
    default:
      return value.ByteSizeLong();
  }
}

// `size` is ValueSize(value).
uint8_t* WriteValue(const google::protobuf::Value& value, size_t size, uint8_t* p) {
  using google::protobuf::Value;
  switch (value.kind_case()) {
    case Value::kNullValue:
      return WireFormatLite::WriteEnumToArray(Value::kNullValueFieldNumber, value.null_value(), p);
    case Value::kNumberValue:
      return WireFormatLite::WriteDoubleToArray(Value::kNumberValueFieldNumber,
                                                value.number_value(), p);
    case Value::kStringValue:
      return WriteBytes(value.string_value(), WriteMessageHeader(Value::kStringValueFieldNumber,
                                                                 value.string_value().size(), p));
    case Value::kBoolValue:
      return WireFormatLite::WriteBoolToArray(Value::kBoolValueFieldNumber, value.bool_value(), p);
    case Value::KIND_NOT_SET:
      return p;
    default:
      // ValueSize left the sizes of the list or struct cached.
      ABSL_ASSERT(static_cast<size_t>(value.GetCachedSize()) == size);
      return value.SerializeWithCachedSizesToArray(p);
  }
}

}  // namespace

int CurrentStepIndex(const v1::Sop& sop, const FieldMap& fields) {
  int current = -1;
  for (int i = 0; i < sop.steps_size(); ++i) {
    const v1::Step& step = sop.steps(i);
    if ((current < 0 || step.ordinal() < sop.steps(current).ordinal()) &&
        AllConditionsHold(step.conditions(), fields)) {
      current = i;
    }
  }
  return current;
}

v1::NearMiss ExplainNearMiss(const NearMiss& miss, const v1::CrmContext& context) {
  const v1::TargetingRule& rule = miss.sop->body.targeting_rules(miss.rule_index);
  v1::NearMiss out;
  out.set_sop(miss.sop->name.Full());
  out.set_revision_id(std::to_string(miss.sop->revision));
  out.set_rule_index(miss.rule_index);
  out.set_failed_condition_index(miss.failed_condition);
  if (miss.failed_condition == NearMiss::kRecordType) {
    out.mutable_actual()->set_string_value(context.record_type());
    if (const std::string* type = RecordTypeDifferingOnlyByCase(rule, context.record_type())) {
      out.set_hint(absl::StrCat("differs only by case from record type \"", *type, "\""));
    }
  } else {
    const v1::Condition& failed = rule.conditions(miss.failed_condition);
    *out.mutable_failed_condition() = failed;
    const google::protobuf::Value* actual = Actual(context, failed.field());
    if (actual != nullptr) *out.mutable_actual() = *actual;
    out.set_hint(NearMissHint(failed, actual));
  }
  out.set_priority(miss.priority);
  out.set_specificity(miss.specificity);
  return out;
}

v1::SopMatch ExplainMatch(const SopMatchResult& result, const v1::CrmContext& context,
                          absl::Time now) {
  const v1::Sop& body = result.sop->body;
  const v1::TargetingRule& rule = body.targeting_rules(result.rule_index);
  v1::SopMatch match;
  match.set_sop(result.sop->name.Full());
  match.set_revision_id(std::to_string(result.sop->revision));

  v1::MatchExplanation* why = match.mutable_explanation();
  why->set_rule_index(result.rule_index);
  why->set_rule_description(rule.description());
  why->set_priority(result.priority);
  why->set_specificity(result.specificity);
  if (!rule.record_types().empty()) why->set_matched_record_type(context.record_type());
  for (const v1::Condition& c : rule.conditions()) {
    v1::MatchedCondition* matched = why->add_matched_conditions();
    *matched->mutable_condition() = c;
    if (const google::protobuf::Value* actual = Actual(context, c.field())) {
      *matched->mutable_actual() = *actual;
    }
  }

  const StepState state = StepStateOf(body, context, now);
  match.set_current_step_index(state.step);
  if (state.due) *match.mutable_current_step_due_time() = ToProtoTimestamp(*state.due);
  match.set_cadence_day(state.cadence_day);
  *match.mutable_sop_body() = body;
  if (result.sop->next_review_time != absl::InfiniteFuture()) {
    *match.mutable_next_review_time() = ToProtoTimestamp(result.sop->next_review_time);
    match.set_review_overdue(result.sop->next_review_time < now);
  }
  return match;
}

SopMatchWireParts EncodeSopMatchParts(const PublishedSop& sop) {
  v1::SopMatch head;
  head.set_sop(sop.name.Full());
  head.set_revision_id(std::to_string(sop.revision));
  SopMatchWireParts parts;
  head.SerializeToString(&parts.head);
  const size_t body_size = sop.body.ByteSizeLong();
  parts.body.resize(MessageFieldSize(body_size));
  uint8_t* p = reinterpret_cast<uint8_t*>(parts.body.data());
  p = WriteMessageHeader(v1::SopMatch::kSopBodyFieldNumber, body_size, p);
  sop.body.SerializeWithCachedSizesToArray(p);
  parts.rules.reserve(sop.body.targeting_rules_size());
  for (const v1::TargetingRule& rule : sop.body.targeting_rules()) {
    SopMatchWireParts::Rule& encoded = parts.rules.emplace_back();
    v1::MatchedCondition matched;
    for (const v1::Condition& c : rule.conditions()) {
      *matched.mutable_condition() = c;
      matched.AppendToString(&encoded.conditions);
      encoded.condition_ends.push_back(static_cast<uint32_t>(encoded.conditions.size()));
    }
  }
  return parts;
}

const SopMatchWireParts& WireParts(const PublishedSop& sop) {
  const SopMatchWireParts* parts = sop.wire_parts.load(std::memory_order_acquire);
  if (parts != nullptr) return *parts;
  auto made = std::make_unique<const SopMatchWireParts>(EncodeSopMatchParts(sop));
  if (sop.wire_parts.compare_exchange_strong(parts, made.get(), std::memory_order_acq_rel,
                                             std::memory_order_acquire)) {
    return *made.release();
  }
  return *parts;  // another lookup's, equal to ours
}

// Writes what ExplainMatch builds, field by field in number order: the
// encoded head (1-2), the explanation (3) with the rule's encoded conditions
// and the record's values serialised in place, the step state (4-6) and the
// encoded body (7). Sizes are computed first so that every length prefix is
// known.
void AppendExplainedMatch(int field_number, const SopMatchResult& result,
                          const v1::CrmContext& context, absl::Time now,
                          const SopMatchWireParts& parts, std::string* out) {
  const v1::Sop& body = result.sop->body;
  const v1::TargetingRule& rule = body.targeting_rules(result.rule_index);
  const absl::string_view record_type =
      rule.record_types().empty() ? absl::string_view() : context.record_type();

  const SopMatchWireParts::Rule& encoded = parts.rules[result.rule_index];
  struct Matched {
    absl::string_view condition;            // the encoded field
    const google::protobuf::Value* actual;  // or null
    size_t actual_size;
    size_t size;  // of the MatchedCondition message
  };
  absl::InlinedVector<Matched, 8> matched;
  matched.reserve(rule.conditions_size());
  size_t explanation_size = Int32FieldSize(result.rule_index) +
                            StringFieldSize(rule.description()) + Int32FieldSize(result.priority) +
                            Int32FieldSize(result.specificity) + StringFieldSize(record_type);
  for (int i = 0; i < rule.conditions_size(); ++i) {
    const size_t begin = i == 0 ? 0 : encoded.condition_ends[i - 1];
    const absl::string_view condition =
        absl::string_view(encoded.conditions).substr(begin, encoded.condition_ends[i] - begin);
    Matched& m = matched.emplace_back(
        Matched{condition, Actual(context, rule.conditions(i).field()), 0, condition.size()});
    if (m.actual != nullptr) {
      m.actual_size = ValueSize(*m.actual);
      m.size += MessageFieldSize(m.actual_size);
    }
    explanation_size += MessageFieldSize(m.size);
  }

  const StepState state = StepStateOf(body, context, now);
  std::optional<google::protobuf::Timestamp> due;
  size_t due_size = 0;
  if (state.due) {
    due = ToProtoTimestamp(*state.due);
    due_size = due->ByteSizeLong();
  }
  std::optional<google::protobuf::Timestamp> next_review;
  size_t next_review_size = 0;
  bool overdue = false;
  if (result.sop->next_review_time != absl::InfiniteFuture()) {
    next_review = ToProtoTimestamp(result.sop->next_review_time);
    next_review_size = next_review->ByteSizeLong();
    overdue = result.sop->next_review_time < now;
  }
  const size_t match_size = parts.head.size() + MessageFieldSize(explanation_size) +
                            Int32FieldSize(state.step) + (due ? MessageFieldSize(due_size) : 0) +
                            Int32FieldSize(state.cadence_day) + parts.body.size() +
                            (next_review ? MessageFieldSize(next_review_size) : 0) +
                            (overdue ? 1 + WireFormatLite::kBoolSize : 0);

  const size_t start = out->size();
  const size_t total = Stream::VarintSize32(WireFormatLite::MakeTag(
                           field_number, WireFormatLite::WIRETYPE_LENGTH_DELIMITED)) +
                       WireFormatLite::LengthDelimitedSize(match_size);
  out->resize(start + total);
  uint8_t* p = reinterpret_cast<uint8_t*>(out->data()) + start;
  p = WriteMessageHeader(field_number, match_size, p);
  p = WriteBytes(parts.head, p);

  p = WriteMessageHeader(v1::SopMatch::kExplanationFieldNumber, explanation_size, p);
  p = WriteInt32Field(v1::MatchExplanation::kRuleIndexFieldNumber, result.rule_index, p);
  p = WriteStringField(v1::MatchExplanation::kRuleDescriptionFieldNumber, rule.description(), p);
  p = WriteInt32Field(v1::MatchExplanation::kPriorityFieldNumber, result.priority, p);
  p = WriteInt32Field(v1::MatchExplanation::kSpecificityFieldNumber, result.specificity, p);
  p = WriteStringField(v1::MatchExplanation::kMatchedRecordTypeFieldNumber, record_type, p);
  for (const Matched& m : matched) {
    p = WriteMessageHeader(v1::MatchExplanation::kMatchedConditionsFieldNumber, m.size, p);
    p = WriteBytes(m.condition, p);
    if (m.actual != nullptr) {
      p = WriteMessageHeader(v1::MatchedCondition::kActualFieldNumber, m.actual_size, p);
      p = WriteValue(*m.actual, m.actual_size, p);
    }
  }

  p = WriteInt32Field(v1::SopMatch::kCurrentStepIndexFieldNumber, state.step, p);
  if (due) {
    p = WriteMessageHeader(v1::SopMatch::kCurrentStepDueTimeFieldNumber, due_size, p);
    p = due->SerializeWithCachedSizesToArray(p);
  }
  p = WriteInt32Field(v1::SopMatch::kCadenceDayFieldNumber, state.cadence_day, p);
  p = WriteBytes(parts.body, p);
  if (next_review) {
    p = WriteMessageHeader(v1::SopMatch::kNextReviewTimeFieldNumber, next_review_size, p);
    p = next_review->SerializeWithCachedSizesToArray(p);
  }
  if (overdue)
    p = WireFormatLite::WriteBoolToArray(v1::SopMatch::kReviewOverdueFieldNumber, true, p);
  ABSL_ASSERT(p == reinterpret_cast<uint8_t*>(out->data()) + out->size());
}

}  // namespace sopsidebar
