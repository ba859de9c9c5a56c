#include "server/domain/matching/lookup.h"

#include <optional>
#include <string>

#include "server/common/proto_time.h"
#include "server/domain/matching/condition.h"

namespace sopsidebar {

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
  const v1::Condition& failed =
      miss.sop->body.targeting_rules(miss.rule_index).conditions(miss.failed_condition);
  v1::NearMiss out;
  out.set_sop(miss.sop->name.Full());
  out.set_revision_id(std::to_string(miss.sop->revision));
  out.set_rule_index(miss.rule_index);
  out.set_failed_condition_index(miss.failed_condition);
  *out.mutable_failed_condition() = failed;
  auto it = context.fields().find(failed.field());
  if (it != context.fields().end()) *out.mutable_actual() = it->second;
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
    auto it = context.fields().find(c.field());
    if (it != context.fields().end()) *matched->mutable_actual() = it->second;
  }

  const int step = CurrentStepIndex(body, context.fields());
  match.set_current_step_index(step);
  if (step >= 0 && body.steps(step).has_time_limit()) {
    const v1::TimeLimit& limit = body.steps(step).time_limit();
    const std::string& anchor =
        limit.anchor_field().empty() ? body.anchor_field() : limit.anchor_field();
    if (std::optional<absl::Time> start = FieldTime(context.fields(), anchor)) {
      *match.mutable_current_step_due_time() =
          ToProtoTimestamp(*start + FromProtoDuration(limit.duration()));
    }
  }
  if (std::optional<absl::Time> start = FieldTime(context.fields(), body.anchor_field());
      start && now >= *start) {
    match.set_cadence_day(static_cast<int32_t>((now - *start) / absl::Hours(24)) + 1);
  }
  *match.mutable_sop_body() = body;
  return match;
}

}  // namespace sopsidebar
