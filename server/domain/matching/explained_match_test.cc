#include "server/domain/matching/explained_match.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/domain/matching/linear_sop_matcher.h"
#include "server/domain/matching/test_sops.h"
#include "server/domain/matching/workload.h"

namespace sopsidebar {
namespace {

using test::Context;
using test::Published;

constexpr char kSop[] = R"pb(
  title: "MQL Acceptance & Handoff"
  anchor_field: "status_changed_at"
  targeting_rules {
    record_types: "Lead" priority: 100 description: "MQL handoff"
    conditions { field: "lead_status" equals { string_value: "MQL – New Handoff" } }
    conditions { field: "lead_score" range { min: 75 } }
    conditions { field: "region" exists: false }
  }
  steps {
    ordinal: 2 title: "Accept or reject"
    conditions { field: "opened" equals { bool_value: true } }
  }
  steps {
    ordinal: 1 title: "Open within 5 minutes"
    time_limit { duration { seconds: 300 } }
    conditions { field: "opened" none_of { values { bool_value: true } } }
  }
)pb";

constexpr char kLead[] = R"pb(
  org: "orgs/default" record_type: "Lead"
  fields { key: "lead_status" value { string_value: "MQL – New Handoff" } }
  fields { key: "lead_score" value { number_value: 82 } }
  fields { key: "status_changed_at" value { string_value: "2026-11-26T10:00:00Z" } }
)pb";

SopMatchResult Result(const PublishedSopPtr& sop) { return SopMatchResult{sop, 0, 100, 4}; }

TEST(ExplainMatchTest, ExplainsRuleAndConditionsWithActualValues) {
  v1::SopMatch match = ExplainMatch(Result(Published("mql", kSop)), Context(kLead),
                                    absl::FromUnixSeconds(1795687200));
  EXPECT_EQ(match.sop(), "orgs/default/sops/mql");
  EXPECT_EQ(match.revision_id(), "1");
  const v1::MatchExplanation& why = match.explanation();
  EXPECT_EQ(why.rule_index(), 0);
  EXPECT_EQ(why.rule_description(), "MQL handoff");
  EXPECT_EQ(why.priority(), 100);
  EXPECT_EQ(why.specificity(), 4);
  EXPECT_EQ(why.matched_record_type(), "Lead");
  ASSERT_EQ(why.matched_conditions_size(), 3);
  EXPECT_EQ(why.matched_conditions(0).condition().field(), "lead_status");
  EXPECT_EQ(why.matched_conditions(0).actual().string_value(), "MQL – New Handoff");
  EXPECT_EQ(why.matched_conditions(1).actual().number_value(), 82);
  EXPECT_FALSE(why.matched_conditions(2).has_actual());
  EXPECT_EQ(match.sop_body().title(), "MQL Acceptance & Handoff");
}

TEST(ExplainMatchTest, CurrentStepIsFirstByOrdinalWhoseConditionsHold) {
  PublishedSopPtr sop = Published("mql", kSop);
  v1::CrmContext lead = Context(kLead);
  v1::SopMatch fresh = ExplainMatch(Result(sop), lead, absl::FromUnixSeconds(1795687200));
  EXPECT_EQ(fresh.current_step_index(), 1);  // ordinal 1 is stored second
  (*lead.mutable_fields())["opened"].set_bool_value(true);
  v1::SopMatch opened = ExplainMatch(Result(sop), lead, absl::FromUnixSeconds(1795687200));
  EXPECT_EQ(opened.current_step_index(), 0);
}

TEST(ExplainMatchTest, DueTimeCountsFromTheAnchorField) {
  v1::SopMatch match = ExplainMatch(Result(Published("mql", kSop)), Context(kLead),
                                    absl::FromUnixSeconds(1795687200 + 60));
  EXPECT_EQ(match.current_step_due_time().seconds(), 1795687200 + 300);
}

TEST(ExplainMatchTest, CadenceDayIsOneBasedFromTheAnchor) {
  PublishedSopPtr sop = Published("mql", kSop);
  EXPECT_EQ(ExplainMatch(Result(sop), Context(kLead), absl::FromUnixSeconds(1795687200 + 10))
                .cadence_day(),
            1);
  EXPECT_EQ(ExplainMatch(Result(sop), Context(kLead),
                         absl::FromUnixSeconds(1795687200 + 2 * 86400 + 5))
                .cadence_day(),
            3);
}

TEST(ExplainMatchTest, WithoutAnchorThereIsNoDueTimeOrCadenceDay) {
  v1::CrmContext lead = Context(kLead);
  lead.mutable_fields()->erase("status_changed_at");
  v1::SopMatch match =
      ExplainMatch(Result(Published("mql", kSop)), lead, absl::FromUnixSeconds(1795687200));
  EXPECT_FALSE(match.has_current_step_due_time());
  EXPECT_EQ(match.cadence_day(), 0);
}

TEST(ExplainMatchTest, NoStepHoldingGivesMinusOne) {
  PublishedSopPtr sop = Published("x", R"pb(
    targeting_rules { record_types: "Lead" }
    steps { ordinal: 1 title: "only" conditions { field: "never" exists: true } }
  )pb");
  EXPECT_EQ(ExplainMatch(SopMatchResult{sop, 0, 0, 1}, Context(kLead), absl::Now())
                .current_step_index(),
            -1);
}

// The near miss of kSop's rule failing condition `failed` on a lead whose
// lead_status and lead_score are given in text-proto form.
v1::NearMiss ExplainedMiss(int failed, const std::string& status, const std::string& score) {
  PublishedSopPtr sop = Published("x", kSop);
  v1::CrmContext lead = Context(R"pb(org: "orgs/default" record_type: "Lead")pb");
  (*lead.mutable_fields())["lead_status"] = test::ParseText<google::protobuf::Value>(status);
  (*lead.mutable_fields())["lead_score"] = test::ParseText<google::protobuf::Value>(score);
  return ExplainNearMiss(NearMiss{sop, 0, failed, 100, 4}, lead);
}

TEST(ExplainNearMissTest, NamesTheFailedConditionAndTheRecordsValue) {
  v1::NearMiss miss = ExplainedMiss(0, R"pb(string_value: "Open")pb", "number_value: 82");
  EXPECT_EQ(miss.sop(), "orgs/default/sops/x");
  EXPECT_EQ(miss.failed_condition_index(), 0);
  EXPECT_EQ(miss.failed_condition().field(), "lead_status");
  EXPECT_EQ(miss.actual().string_value(), "Open");
  EXPECT_EQ(miss.hint(), "");
}

TEST(ExplainNearMissTest, HintsAHyphenWhereTheRuleHasAnEnDash) {
  EXPECT_EQ(ExplainedMiss(0, R"pb(string_value: "MQL - New Handoff")pb", "number_value: 82")
                .hint(),
            "differs only by dash");
}

TEST(ExplainNearMissTest, HintsAValueInTheWrongCase) {
  EXPECT_EQ(ExplainedMiss(0, R"pb(string_value: "mql – new handoff")pb", "number_value: 82")
                .hint(),
            "differs only by case");
  EXPECT_EQ(ExplainedMiss(0, R"pb(string_value: "MQL — NEW HANDOFF")pb", "number_value: 82")
                .hint(),
            "differs only by case and dash");
}

TEST(ExplainNearMissTest, HintsAStringWhereTheRuleExpectsANumber) {
  v1::NearMiss miss =
      ExplainedMiss(1, R"pb(string_value: "MQL – New Handoff")pb", R"pb(string_value: "82")pb");
  EXPECT_EQ(miss.failed_condition().field(), "lead_score");
  EXPECT_EQ(miss.actual().string_value(), "82");
  EXPECT_EQ(miss.hint(), "a string where the rule expects a number");
}

TEST(ExplainNearMissTest, NoHintWhenTheCorrectedValueWouldStillFail) {
  EXPECT_EQ(ExplainedMiss(1, R"pb(string_value: "MQL – New Handoff")pb",
                          R"pb(string_value: "70")pb")
                .hint(),
            "");
  EXPECT_EQ(ExplainedMiss(0, R"pb(string_value: "SQL - Accepted")pb", "number_value: 82").hint(),
            "");
}

TEST(ExplainNearMissTest, ARecordTypeInTheWrongCaseIsTheFailure) {
  PublishedSopPtr sop = Published("x", kSop);
  v1::CrmContext lead = Context(kLead);
  lead.set_record_type("lead");
  v1::NearMiss miss = ExplainNearMiss(NearMiss{sop, 0, NearMiss::kRecordType, 100, 4}, lead);
  EXPECT_EQ(miss.failed_condition_index(), -1);
  EXPECT_FALSE(miss.has_failed_condition());
  EXPECT_EQ(miss.actual().string_value(), "lead");
  EXPECT_EQ(miss.hint(), R"(differs only by case from record type "Lead")");
}

// The wire form AppendExplainedMatch writes for `result`, as the only match
// of a LookupSopsResponse.
std::string AppendedWire(const SopMatchResult& result, const v1::CrmContext& context,
                         absl::Time now) {
  std::string wire;
  AppendExplainedMatch(v1::LookupSopsResponse::kMatchesFieldNumber, result, context, now,
                       EncodeSopMatchParts(*result.sop), &wire);
  return wire;
}

// What serialising the response ExplainMatch builds gives.
std::string ExplainedWire(const SopMatchResult& result, const v1::CrmContext& context,
                          absl::Time now) {
  v1::LookupSopsResponse response;
  *response.add_matches() = ExplainMatch(result, context, now);
  return response.SerializeAsString();
}

TEST(AppendExplainedMatchTest, WritesTheBytesOfTheExplainedMatch) {
  PublishedSopPtr sop = Published("mql", kSop);
  const absl::Time now = absl::FromUnixSeconds(1795687200 + 2 * 86400 + 5);
  v1::CrmContext lead = Context(kLead);
  EXPECT_EQ(AppendedWire(Result(sop), lead, now), ExplainedWire(Result(sop), lead, now));

  // Another step is current (no time limit), and no anchor at all.
  (*lead.mutable_fields())["opened"].set_bool_value(true);
  EXPECT_EQ(AppendedWire(Result(sop), lead, now), ExplainedWire(Result(sop), lead, now));
  lead.mutable_fields()->erase("status_changed_at");
  EXPECT_EQ(AppendedWire(Result(sop), lead, now), ExplainedWire(Result(sop), lead, now));
}

TEST(AppendExplainedMatchTest, WritesDefaultsAndNegativeStepLikeTheMessage) {
  PublishedSopPtr sop = Published("x", R"pb(
    targeting_rules { record_types: "Lead" }
    targeting_rules {
      priority: -3
      conditions { field: "tags" any_of { values { string_value: "a" } } }
      conditions { field: "absent" exists: false }
    }
    steps { ordinal: 1 title: "only" conditions { field: "never" exists: true } }
  )pb");
  v1::CrmContext lead = Context(kLead);
  (*lead.mutable_fields())["tags"].mutable_list_value()->add_values()->set_string_value("a");
  (*lead.mutable_fields())["nothing"].set_null_value(google::protobuf::NULL_VALUE);
  for (const SopMatchResult& result :
       {SopMatchResult{sop, 0, 0, 1}, SopMatchResult{sop, 1, -3, 2}}) {
    EXPECT_EQ(AppendedWire(result, lead, absl::Now()), ExplainedWire(result, lead, absl::Now()));
  }
  lead.clear_record_type();
  EXPECT_EQ(AppendedWire(SopMatchResult{sop, 0, 0, 1}, lead, absl::Now()),
            ExplainedWire(SopMatchResult{sop, 0, 0, 1}, lead, absl::Now()));
}

TEST(AppendExplainedMatchTest, ActualValuesOfEveryKindAreWrittenLikeTheMessage) {
  PublishedSopPtr sop = Published("x", R"pb(
    targeting_rules {
      conditions { field: "null" exists: true }
      conditions { field: "zero" exists: true }
      conditions { field: "minus_zero" exists: true }
      conditions { field: "empty" exists: true }
      conditions { field: "text" exists: true }
      conditions { field: "no" exists: true }
      conditions { field: "yes" exists: true }
      conditions { field: "list" exists: true }
      conditions { field: "struct" exists: true }
      conditions { field: "unset" exists: true }
      conditions { field: "missing" exists: false }
    }
  )pb");
  v1::CrmContext context = Context(R"pb(org: "orgs/default" record_type: "Lead")pb");
  auto& fields = *context.mutable_fields();
  fields["null"].set_null_value(google::protobuf::NULL_VALUE);
  fields["zero"].set_number_value(0);
  fields["minus_zero"].set_number_value(-0.0);
  fields["empty"].set_string_value("");
  fields["text"].set_string_value(std::string(200, 'x'));  // a two-byte length
  fields["no"].set_bool_value(false);
  fields["yes"].set_bool_value(true);
  fields["list"].mutable_list_value()->add_values()->set_number_value(1.5);
  (*fields["struct"].mutable_struct_value()->mutable_fields())["k"].set_string_value("v");
  fields["unset"];
  const SopMatchResult result{sop, 0, 0, 11};
  EXPECT_EQ(AppendedWire(result, context, absl::Now()),
            ExplainedWire(result, context, absl::Now()));
}

TEST(AppendExplainedMatchTest, AppendsAfterWhatIsThere) {
  PublishedSopPtr a = Published("a", kSop);
  PublishedSopPtr b = Published("b", kSop, 2000);
  const v1::CrmContext lead = Context(kLead);
  const absl::Time now = absl::FromUnixSeconds(1795687200);
  std::string wire;
  for (const PublishedSopPtr& sop : {a, b}) {
    AppendExplainedMatch(v1::LookupSopsResponse::kMatchesFieldNumber, Result(sop), lead, now,
                         EncodeSopMatchParts(*sop), &wire);
  }
  v1::LookupSopsResponse response;
  ASSERT_TRUE(response.ParseFromString(wire));
  ASSERT_EQ(response.matches_size(), 2);
  EXPECT_EQ(response.matches(0).sop(), "orgs/default/sops/a");
  EXPECT_EQ(response.matches(1).sop(), "orgs/default/sops/b");
  EXPECT_EQ(response.matches(1).SerializeAsString(),
            ExplainMatch(Result(b), lead, now).SerializeAsString());
}

// Every match of seeded workloads (CRM-shaped and adversarial: lists, nulls,
// case folding, every operator), written both ways.
TEST(AppendExplainedMatchTest, WorkloadMatchesAreWrittenExactlyAsExplained) {
  const absl::Time now = absl::FromUnixSeconds(1795687200);
  int compared = 0;
  auto compare_all = [&](const std::vector<PublishedSopPtr>& sops,
                         const std::vector<WorkloadQuery>& queries) {
    std::unique_ptr<const SopMatcher> matcher = LinearSopMatcher::Build(sops);
    for (const WorkloadQuery& query : queries) {
      for (const SopMatchResult& result : matcher->Match(query.AsMatchQuery(20))) {
        ASSERT_EQ(AppendedWire(result, query.context, now),
                  ExplainedWire(result, query.context, now))
            << result.sop->name.Full() << " rule " << result.rule_index;
        ++compared;
      }
    }
  };
  CrmWorkloadOptions crm_options;
  crm_options.seed = 7;
  crm_options.rules = 600;
  CrmWorkload crm(crm_options);
  compare_all(crm.sops(), crm.Queries(300, 8));
  AdversarialOptions adversarial_options;
  adversarial_options.seed = 9;
  AdversarialWorkload adversarial(adversarial_options);
  compare_all(adversarial.sops(), adversarial.Queries(300, 10));
  EXPECT_GT(compared, 300);
}

}  // namespace
}  // namespace sopsidebar
