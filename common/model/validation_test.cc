#include "common/model/validation.h"

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/model/field_behavior.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

template <typename T>
T Parse(const std::string& text) {
  T message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

constexpr char kValidSop[] = R"pb(
  title: "MQL Acceptance & Handoff"
  owner: "Sales Operations Manager"
  review_cycle: QUARTERLY
  anchor_field: "status_changed_at"
  targeting_rules {
    record_types: "Lead"
    priority: 100
    conditions { field: "lead_status" equals { string_value: "MQL – New Handoff" } }
    conditions { field: "lead_score" range { min: 75 } }
    conditions { field: "country" prefix: "US" }
  }
  assets { id: "call-script-a" title: "Call Script A" }
  steps { ordinal: 1 title: "Open the lead" responsible_role: SDR
          time_limit { duration { seconds: 300 } } asset_ids: "call-script-a"
          required_updates { field: "lead_status" } }
  steps { ordinal: 2 title: "Qualify" }
  cadence { day: 1 channel: CALL action: "Call" within { seconds: 300 } }
  sla_terms { name: "min_lead_score" number: 75 }
  disqualification_codes { code: "D-TooSmall" label: "Company too small" }
  visibility_roles: SDR
  visibility_roles: AE
)pb";

// Validates kValidSop with `change` merged in; returns the status.
absl::Status ValidateWith(const std::string& change) {
  v1::Sop sop = Parse<v1::Sop>(kValidSop);
  sop.MergeFrom(Parse<v1::Sop>(change));
  return ValidateSopBody(sop, "sop");
}

void ExpectInvalid(const absl::Status& s, const std::string& message_start) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(std::string(s.message()).substr(0, message_start.size()), message_start) << s;
}

TEST(ValidateSopBodyTest, AcceptsACompleteSop) {
  EXPECT_TRUE(ValidateSopBody(Parse<v1::Sop>(kValidSop), "sop").ok());
}

TEST(ValidateSopBodyTest, EmptyPrefixGivesRelativePaths) {
  v1::Sop sop = Parse<v1::Sop>(kValidSop);
  sop.clear_title();
  ExpectInvalid(ValidateSopBody(sop, ""), "title: is required");
}

TEST(ValidateSopBodyTest, RequiredFieldsAreNamed) {
  v1::Sop sop = Parse<v1::Sop>(kValidSop);
  sop.clear_owner();
  ExpectInvalid(ValidateSopBody(sop, "sop"), "sop.owner: is required");
  sop = Parse<v1::Sop>(kValidSop);
  sop.mutable_steps(1)->clear_title();
  ExpectInvalid(ValidateSopBody(sop, "sop"), "sop.steps[1].title: is required");
}

TEST(ValidateSopBodyTest, SopLargerThanTheSizeLimitIsInvalidThoughEachFieldIsWithinItsOwn) {
  v1::Sop sop = Parse<v1::Sop>(kValidSop);
  // Two steps of 160 field updates with 10 000-character notes: 3.2 MB.
  for (int step = 0; step < 2; ++step) {
    for (int i = 0; i < 160; ++i) {
      v1::FieldUpdate& update = *sop.mutable_steps(step)->add_required_updates();
      update.set_field("lead_status");
      update.set_note(std::string(10000, 'n'));
    }
  }
  ASSERT_GT(sop.ByteSizeLong(), Limits::kMaxSopBytes);
  ExpectInvalid(ValidateSopBody(sop, "sop"),
                absl::StrCat("sop: ", sop.ByteSizeLong(),
                             " bytes serialised, more than the limit of 3145728 bytes"));
  v1::Step& last = *sop.mutable_steps(1);
  last.mutable_required_updates()->DeleteSubrange(0, last.required_updates_size());
  ASSERT_LT(sop.ByteSizeLong(), Limits::kMaxSopBytes);
  EXPECT_TRUE(ValidateSopBody(sop, "sop").ok()) << ValidateSopBody(sop, "sop");
}

TEST(SopBodyViolationsTest, ListsMissingRequiredFieldsFirstThenTheRestInFieldOrder) {
  v1::Sop sop = Parse<v1::Sop>(kValidSop);
  sop.clear_owner();
  sop.mutable_targeting_rules(0)->set_priority(5000);
  sop.mutable_steps(1)->clear_title();
  sop.add_visibility_roles(v1::SDR);
  const std::vector<error::FieldViolation> expected = {
      {"sop.owner", "is required"},
      {"sop.steps[1].title", "is required"},
      {"sop.targeting_rules[0].priority", "must be between 0 and 1000"},
      {"sop.visibility_roles[2]", "duplicate role SDR"},
  };
  EXPECT_EQ(SopBodyViolations(sop, "sop"), expected);
}

TEST(ValidateSopBodyTest, ErrorCarriesEveryViolationAsDataAndListsThemInTheMessage) {
  v1::Sop sop = Parse<v1::Sop>(kValidSop);
  sop.clear_title();
  sop.clear_owner();
  sop.mutable_steps(0)->clear_title();
  const absl::Status status = ValidateSopBody(sop, "sop");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "sop.title: is required; sop.owner: is required; sop.steps[0].title: is required");
  const std::vector<error::FieldViolation> expected = {{"sop.title", "is required"},
                                                       {"sop.owner", "is required"},
                                                       {"sop.steps[0].title", "is required"}};
  EXPECT_EQ(error::FieldViolationsOf(status), expected);
}

// A REQUIRED field of `message` that is set, at `path`.
struct RequiredField {
  std::string path;
  google::protobuf::Message* message;
  const google::protobuf::FieldDescriptor* field;
};

// Every REQUIRED field set in `message` and its nested messages, found by
// reflection: what clearing should make "is required".
void FindSetRequiredFields(google::protobuf::Message* message, const std::string& path,
                           std::vector<RequiredField>* found) {
  const google::protobuf::Reflection& r = *message->GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  r.ListFields(*message, &fields);
  for (const google::protobuf::FieldDescriptor* field : fields) {
    const std::string p = absl::StrCat(path, ".", field->name());
    if (HasFieldBehavior(field, v1::FIELD_BEHAVIOR_REQUIRED)) found->push_back({p, message, field});
    if (field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE ||
        absl::StartsWith(field->message_type()->full_name(), "google.protobuf.")) {
      continue;
    }
    if (field->is_repeated()) {
      for (int i = 0; i < r.FieldSize(*message, field); ++i) {
        FindSetRequiredFields(r.MutableRepeatedMessage(message, field, i),
                              absl::StrCat(p, "[", i, "]"), found);
      }
    } else {
      FindSetRequiredFields(r.MutableMessage(message, field), p, found);
    }
  }
}

TEST(SopBodyViolationsTest, ClearingEachRequiredFieldReportsExactlyThatField) {
  v1::Sop valid = Parse<v1::Sop>(kValidSop);
  // Without an asset id, a step's reference to it would fail too.
  valid.mutable_steps(0)->clear_asset_ids();
  v1::Sop paths_only = valid;
  std::vector<RequiredField> required;
  FindSetRequiredFields(&paths_only, "sop", &required);
  std::vector<std::string> paths;
  for (const RequiredField& f : required) paths.push_back(f.path);
  // The annotations kValidSop exercises; a field that loses its annotation
  // fails here.
  EXPECT_THAT(paths,
              ::testing::UnorderedElementsAre(
                  "sop.title", "sop.owner", "sop.targeting_rules[0].conditions[0].field",
                  "sop.targeting_rules[0].conditions[1].field",
                  "sop.targeting_rules[0].conditions[2].field",
                  "sop.targeting_rules[0].conditions[2].prefix", "sop.assets[0].id",
                  "sop.assets[0].title", "sop.steps[0].title", "sop.steps[0].time_limit.duration",
                  "sop.steps[0].required_updates[0].field", "sop.steps[1].title",
                  "sop.cadence[0].channel", "sop.cadence[0].action", "sop.sla_terms[0].name",
                  "sop.disqualification_codes[0].code", "sop.disqualification_codes[0].label"));
  for (size_t i = 0; i < required.size(); ++i) {
    v1::Sop sop = valid;
    std::vector<RequiredField> in_copy;
    FindSetRequiredFields(&sop, "sop", &in_copy);
    ASSERT_EQ(in_copy.size(), required.size());
    const RequiredField& f = in_copy[i];
    if (f.field->real_containing_oneof() != nullptr) {
      // A oneof member stays chosen: set to its empty value.
      f.message->GetReflection()->SetString(f.message, f.field, "");
    } else {
      f.message->GetReflection()->ClearField(f.message, f.field);
    }
    const std::vector<error::FieldViolation> expected = {{f.path, "is required"}};
    EXPECT_EQ(SopBodyViolations(sop, "sop"), expected) << f.path;
  }
}

TEST(SopBodyViolationsTest, ValidSopHasNone) {
  EXPECT_TRUE(SopBodyViolations(Parse<v1::Sop>(kValidSop), "sop").empty());
}

TEST(ValidateSopBodyTest, DuplicateStepOrdinalIsRejected) {
  ExpectInvalid(ValidateWith(R"pb(steps { ordinal: 2 title: "Again" })pb"),
                "sop.steps[2].ordinal: duplicate ordinal 2");
}

TEST(ValidateSopBodyTest, OversizeStringsAndListsNameTheLimit) {
  v1::Sop sop = Parse<v1::Sop>(kValidSop);
  sop.set_title(std::string(201, 'x'));
  ExpectInvalid(ValidateSopBody(sop, "sop"),
                "sop.title: longer than the limit of 200 characters");
  sop = Parse<v1::Sop>(kValidSop);
  for (int i = 0; i <= 200; ++i) sop.add_tags("t" + std::to_string(i));
  ExpectInvalid(ValidateSopBody(sop, "sop"), "sop.tags: more than the limit of 200 items");
  sop = Parse<v1::Sop>(kValidSop);
  for (int i = 0; i < 20; ++i) {
    auto* c = sop.mutable_targeting_rules(0)->add_conditions();
    c->set_field("f" + std::to_string(i));
    c->set_exists(true);
  }
  ExpectInvalid(ValidateSopBody(sop, "sop"),
                "sop.targeting_rules[0].conditions: more than the limit of 20 items");
}

TEST(ValidateSopBodyTest, OwnerUserIdIsOptionalAndAsLongAsATokenUserId) {
  v1::Sop sop = Parse<v1::Sop>(kValidSop);
  sop.set_owner_user_id(std::string(256, 'u'));
  EXPECT_TRUE(ValidateSopBody(sop, "sop").ok());
  sop.set_owner_user_id(std::string(257, 'u'));
  ExpectInvalid(ValidateSopBody(sop, "sop"),
                "sop.owner_user_id: longer than the limit of 256 characters");
}

TEST(ValidateSopBodyTest, UnknownEnumValuesAreRejected) {
  v1::Sop sop = Parse<v1::Sop>(kValidSop);
  sop.set_review_cycle(static_cast<v1::ReviewCycle>(42));
  ExpectInvalid(ValidateSopBody(sop, "sop"), "sop.review_cycle: unknown enum value 42");
  sop = Parse<v1::Sop>(kValidSop);
  sop.add_visibility_roles(static_cast<v1::Role>(99));
  ExpectInvalid(ValidateSopBody(sop, "sop"), "sop.visibility_roles[2]: unknown enum value 99");
}

TEST(ValidateSopBodyTest, UnspecifiedRoleIsRejectedInVisibility) {
  ExpectInvalid(ValidateWith("visibility_roles: ROLE_UNSPECIFIED"),
                "sop.visibility_roles[2]: is required");
}

TEST(ValidateSopBodyTest, IntegrationIsNoRoleAnSopNames) {
  ExpectInvalid(ValidateWith("visibility_roles: INTEGRATION"),
                "sop.visibility_roles[2]: INTEGRATION is a CRM integration's role");
  ExpectInvalid(ValidateWith("required_approver_roles: INTEGRATION"),
                "sop.required_approver_roles[0]: INTEGRATION is a CRM integration's role");
}

TEST(ValidateSopBodyTest, EmptyRuleIsRejected) {
  ExpectInvalid(ValidateWith("targeting_rules { priority: 1 }"),
                "sop.targeting_rules[1]: is empty");
}

TEST(ValidateSopBodyTest, ConditionWithoutOperatorIsRejected) {
  ExpectInvalid(ValidateWith(R"pb(targeting_rules { conditions { field: "title" } })pb"),
                "sop.targeting_rules[1].conditions[0]: needs one operator");
}

TEST(ValidateSopBodyTest, MissingAndPresentOnOneFieldContradict) {
  ExpectInvalid(ValidateWith(R"pb(targeting_rules {
                                    conditions { field: "title" exists: false }
                                    conditions { field: "title" prefix: "VP" }
                                  })pb"),
                "sop.targeting_rules[1].conditions[1]: contradicts conditions[0]");
}

TEST(ValidateSopBodyTest, EqualsExcludedByNoneOfContradicts) {
  ExpectInvalid(
      ValidateWith(R"pb(targeting_rules {
                          conditions { field: "lead_source" equals { string_value: "Web" } }
                          conditions {
                            field: "lead_source"
                            none_of { values { string_value: "Web" } }
                          }
                        })pb"),
      "sop.targeting_rules[1].conditions[1]: contradicts conditions[0]");
}

TEST(ValidateSopBodyTest, CaseInsensitiveEqualsIsNotExcludedByExactNoneOf) {
  EXPECT_TRUE(ValidateWith(R"pb(targeting_rules {
                                  conditions {
                                    field: "lead_source"
                                    equals { string_value: "Web" }
                                    case_insensitive: true
                                  }
                                  conditions {
                                    field: "lead_source"
                                    none_of { values { string_value: "Web" } }
                                  }
                                })pb")
                  .ok());
}

TEST(ValidateSopBodyTest, EmptyRangeIsRejected) {
  ExpectInvalid(
      ValidateWith(R"pb(targeting_rules {
                          conditions { field: "lead_score" range { min: 80 max: 70 } }
                        })pb"),
      "sop.targeting_rules[1].conditions[0].range: is empty");
  ExpectInvalid(
      ValidateWith(R"pb(targeting_rules {
                          conditions {
                            field: "lead_score"
                            range { min: 70 max: 70 exclusive_max: true }
                          }
                        })pb"),
      "sop.targeting_rules[1].conditions[0].range: is empty");
}

TEST(ValidateSopBodyTest, RangeMixingNumberAndTimeIsRejected) {
  ExpectInvalid(
      ValidateWith(R"pb(targeting_rules {
                          conditions { field: "x" range { min: 1 max_time { seconds: 5 } } }
                        })pb"),
      "sop.targeting_rules[1].conditions[0].range: mixes");
}

TEST(ValidateSopBodyTest, BadFieldNamesAreRejected) {
  ExpectInvalid(
      ValidateWith(R"pb(targeting_rules { conditions { field: "lead status" exists: true } })pb"),
      "sop.targeting_rules[1].conditions[0].field: \"lead status\" is not a field name");
}

TEST(ValidateSopBodyTest, StepAssetMustExist) {
  ExpectInvalid(ValidateWith(R"pb(steps { ordinal: 3 title: "x" asset_ids: "nope" })pb"),
                "sop.steps[2].asset_ids[0]: no asset with id \"nope\"");
}

TEST(ValidateSopBodyTest, CadenceDayAndChannelAreChecked) {
  ExpectInvalid(ValidateWith(R"pb(cadence { day: 0 channel: EMAIL action: "x" })pb"),
                "sop.cadence[1].day: must be between 1 and 365");
  ExpectInvalid(ValidateWith(R"pb(cadence { day: 2 action: "x" })pb"),
                "sop.cadence[1].channel: is required");
}

TEST(ValidateSopBodyTest, DuplicateDisqualificationCodeIsRejected) {
  ExpectInvalid(ValidateWith(R"pb(disqualification_codes { code: "D-TooSmall" label: "x" })pb"),
                "sop.disqualification_codes[1].code: duplicate code \"D-TooSmall\"");
}

TEST(ValidateSopBodyTest, PriorityOutOfRangeIsRejected) {
  ExpectInvalid(ValidateWith(R"pb(targeting_rules { record_types: "Lead" priority: 1001 })pb"),
                "sop.targeting_rules[1].priority: must be between 0 and 1000");
}

constexpr char kValidContext[] = R"pb(
  org: "orgs/default"
  record_type: "Lead"
  record_id: "00Q5e00000AbCdE"
  fields { key: "lead_status" value { string_value: "MQL – New Handoff" } }
  fields { key: "lead_score" value { number_value: 82 } }
  fields { key: "IsConverted" value { bool_value: false } }
  fields { key: "Industry" value { null_value: NULL_VALUE } }
  fields {
    key: "interests"
    value { list_value { values { string_value: "a" } values { number_value: 2 } } }
  }
)pb";

TEST(ValidateCrmContextTest, AcceptsScalarsNullsAndFlatLists) {
  EXPECT_TRUE(ValidateCrmContext(Parse<v1::CrmContext>(kValidContext), "context").ok());
}

TEST(ValidateCrmContextTest, NestedObjectIsWrongValueType) {
  v1::CrmContext context = Parse<v1::CrmContext>(kValidContext);
  (*context.mutable_fields())["address"].mutable_struct_value();
  ExpectInvalid(ValidateCrmContext(context, "context"),
                "context.fields[\"address\"]: nested objects are not supported");
}

TEST(ValidateCrmContextTest, NestedListIsWrongValueType) {
  v1::CrmContext context = Parse<v1::CrmContext>(kValidContext);
  (*context.mutable_fields())["x"].mutable_list_value()->add_values()->mutable_list_value();
  ExpectInvalid(ValidateCrmContext(context, "context"),
                "context.fields[\"x\"][0]: must be a string, number or bool, not a list");
}

TEST(ValidateCrmContextTest, UnsetValueIsRejected) {
  v1::CrmContext context = Parse<v1::CrmContext>(kValidContext);
  (*context.mutable_fields())["x"];
  ExpectInvalid(ValidateCrmContext(context, "context"), "context.fields[\"x\"]: value is not set");
}

TEST(ValidateCrmContextTest, OrgMayBeLeftOutButNotMalformed) {
  v1::CrmContext context = Parse<v1::CrmContext>(kValidContext);
  context.clear_org();
  EXPECT_EQ(ValidateCrmContext(context, "context"), absl::OkStatus());
  context.set_org("default");
  ExpectInvalid(ValidateCrmContext(context, "context"), "context.org: \"default\" is not a valid name");
}

TEST(ValidateCrmContextTest, RecordTypeIsRequired) {
  v1::CrmContext context = Parse<v1::CrmContext>(kValidContext);
  context.clear_record_type();
  ExpectInvalid(ValidateCrmContext(context, "context"), "context.record_type: is required");
}

TEST(ValidateCrmContextTest, OversizeValueNamesTheLimit) {
  v1::CrmContext context = Parse<v1::CrmContext>(kValidContext);
  (*context.mutable_fields())["title"].set_string_value(std::string(1025, 'x'));
  ExpectInvalid(ValidateCrmContext(context, "context"),
                "context.fields[\"title\"]: longer than the limit of 1024 characters");
}

TEST(ValidateCrmContextTest, MegabyteFieldNameIsQuotedShort) {
  v1::CrmContext context = Parse<v1::CrmContext>(kValidContext);
  (*context.mutable_fields())[std::string(1 << 20, 'f')].set_number_value(1);
  const absl::Status s = ValidateCrmContext(context, "context");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), absl::StrCat("context.fields[\"", std::string(64, 'f'),
                                      "\"… (1048576 bytes)]: is not a field name (a letter, "
                                      "then letters, digits, '_' or '.', at most 128)"));
}

TEST(ValidateSopBodyTest, MegabyteInputIsQuotedShort) {
  v1::Sop sop = Parse<v1::Sop>(kValidSop);
  sop.mutable_targeting_rules(0)->mutable_conditions(0)->set_field(std::string(1 << 20, 'f'));
  const absl::Status s = ValidateSopBody(sop, "sop");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "sop.targeting_rules[0].conditions[0].field: longer than the limit of "
                         "128 characters");
  sop = Parse<v1::Sop>(kValidSop);
  sop.mutable_steps(0)->set_asset_ids(0, std::string(200, 'a'));
  ExpectInvalid(ValidateSopBody(sop, "sop"),
                absl::StrCat("sop.steps[0].asset_ids[0]: no asset with id \"",
                             std::string(64, 'a'), "\"… (200 bytes) in assets"));
}

// n copies of `s`.
std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

void ExpectInvalidExactly(const absl::Status& s, const std::string& message) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(s.message(), message);
}

TEST(ValidateSopBodyTest, LimitsCountCharactersNotBytes) {
  v1::Sop sop = Parse<v1::Sop>(kValidSop);
  sop.set_title(Repeat("\u00e9", 200));  // 400 bytes
  EXPECT_TRUE(ValidateSopBody(sop, "sop").ok()) << ValidateSopBody(sop, "sop");
  sop.set_title(Repeat("\u00e9", 201));
  ExpectInvalidExactly(ValidateSopBody(sop, "sop"),
                       "sop.title: longer than the limit of 200 characters");
  sop = Parse<v1::Sop>(kValidSop);
  sop.set_owner(Repeat("\u00e9", 256));
  sop.add_tags(Repeat("\u00e9", 256));
  sop.mutable_targeting_rules(0)->mutable_conditions(0)->mutable_equals()->set_string_value(
      Repeat("\u00e9", 1024));
  EXPECT_TRUE(ValidateSopBody(sop, "sop").ok()) << ValidateSopBody(sop, "sop");
}

TEST(ValidateSopBodyTest, FourByteCharactersCountOnce) {
  v1::Sop sop = Parse<v1::Sop>(kValidSop);
  sop.set_title(Repeat("\U0001F600", 200));  // 800 bytes: the byte cap is 4 x 200
  EXPECT_TRUE(ValidateSopBody(sop, "sop").ok()) << ValidateSopBody(sop, "sop");
  sop.set_title(Repeat("\U0001F600", 201));
  ExpectInvalidExactly(ValidateSopBody(sop, "sop"),
                       "sop.title: longer than the limit of 200 characters");
  sop.set_title(std::string(4 * 200 + 1, 'x'));
  ExpectInvalidExactly(ValidateSopBody(sop, "sop"),
                       "sop.title: longer than the limit of 200 characters");
}

TEST(ValidateSopBodyTest, InvalidUtf8IsRejectedWithItsPosition) {
  v1::Sop sop = Parse<v1::Sop>(kValidSop);
  sop.set_title("Caf\u00e9 \xff");
  ExpectInvalidExactly(ValidateSopBody(sop, "sop"),
                       "sop.title: is not valid UTF-8 (byte 0xff at position 5)");
  sop = Parse<v1::Sop>(kValidSop);
  sop.mutable_steps(0)->set_instructions("ok\n\xc3");
  ExpectInvalidExactly(ValidateSopBody(sop, "sop"),
                       "sop.steps[0].instructions: is not valid UTF-8 (byte 0xc3 at position 3)");
}

TEST(ValidateSopBodyTest, ControlCharactersInOneLineFieldsAreRejectedWithTheirPosition) {
  const std::pair<std::function<void(v1::Sop*)>, std::string> cases[] = {
      {[](v1::Sop* sop) { sop->set_title("Open\x1b[2J"); },
       "sop.title: control character U+001B at position 4 is not allowed"},
      {[](v1::Sop* sop) { sop->set_owner("Sales\r\nOps"); },
       "sop.owner: control character U+000D at position 5 is not allowed"},
      {[](v1::Sop* sop) { sop->add_tags("a\tb"); },
       "sop.tags[0]: control character U+0009 at position 1 is not allowed"},
      {[](v1::Sop* sop) { sop->mutable_steps(1)->set_title("\u00e9\u0085"); },
       "sop.steps[1].title: control character U+0085 at position 1 is not allowed"},
      {[](v1::Sop* sop) { sop->mutable_disqualification_codes(0)->set_label("Too small\a"); },
       "sop.disqualification_codes[0].label: control character U+0007 at position 9 is not "
       "allowed"},
      {[](v1::Sop* sop) { sop->mutable_assets(0)->set_id("x\x7f"); },
       // The step's reference to the asset no longer resolves: every violation is listed.
       "sop.assets[0].id: control character U+007F at position 1 is not allowed; "
       "sop.steps[0].asset_ids[0]: no asset with id \"call-script-a\" in assets"},
      {[](v1::Sop* sop) { sop->mutable_targeting_rules(0)->set_description("\nAccepted"); },
       "sop.targeting_rules[0].description: control character U+000A at position 0 is not "
       "allowed"},
  };
  for (const auto& [change, message] : cases) {
    v1::Sop sop = Parse<v1::Sop>(kValidSop);
    change(&sop);
    ExpectInvalidExactly(ValidateSopBody(sop, "sop"), message);
  }
}

TEST(ValidateSopBodyTest, LongTextsAllowNewlinesAndTabsButNoOtherControls) {
  v1::Sop sop = Parse<v1::Sop>(kValidSop);
  sop.set_purpose("Why:\n\n| a\t| b |\n");
  sop.mutable_steps(0)->set_instructions("1. Open\n2. Call");
  EXPECT_TRUE(ValidateSopBody(sop, "sop").ok()) << ValidateSopBody(sop, "sop");
  sop.mutable_steps(0)->set_instructions("1. Open\n\x1b]0;owned\a");
  ExpectInvalidExactly(ValidateSopBody(sop, "sop"),
                       "sop.steps[0].instructions: control character U+001B at position 8 is not "
                       "allowed (only newlines and tabs)");
  sop = Parse<v1::Sop>(kValidSop);
  sop.set_purpose("a\r\nb");
  ExpectInvalid(ValidateSopBody(sop, "sop"), "sop.purpose: control character U+000D at position 1");
}

TEST(ValidateSopBodyTest, AssetUriNeedsHttpsHttpOrMailto) {
  v1::Sop sop = Parse<v1::Sop>(kValidSop);
  for (const char* uri : {"https://sops.example.com/a", "HTTP://example.com", "mailto:ops@x.com",
                          "MailTo:ops@x.com"}) {
    sop.mutable_assets(0)->set_uri(uri);
    EXPECT_TRUE(ValidateSopBody(sop, "sop").ok()) << uri << ": " << ValidateSopBody(sop, "sop");
  }
  sop.mutable_assets(0)->set_uri("javascript:alert(1)");
  ExpectInvalidExactly(ValidateSopBody(sop, "sop"),
                       "sop.assets[0].uri: scheme \"javascript\" is not allowed; use https:, "
                       "http: or mailto:");
  sop.mutable_assets(0)->set_uri("JavaScript:alert(1)");
  ExpectInvalid(ValidateSopBody(sop, "sop"), "sop.assets[0].uri: scheme \"JavaScript\"");
  sop.mutable_assets(0)->set_uri("data:text/html,<script>");
  ExpectInvalid(ValidateSopBody(sop, "sop"), "sop.assets[0].uri: scheme \"data\"");
  for (const char* uri : {"/assets/a", " javascript:alert(1)", "sops.example.com/a"}) {
    sop.mutable_assets(0)->set_uri(uri);
    ExpectInvalidExactly(ValidateSopBody(sop, "sop"),
                         "sop.assets[0].uri: needs an https:, http: or mailto: URI");
  }
}

TEST(ValidateCrmContextTest, ValueLimitCountsCharacters) {
  v1::CrmContext context = Parse<v1::CrmContext>(kValidContext);
  (*context.mutable_fields())["title"].set_string_value(Repeat("\u00e9", 1024));
  EXPECT_TRUE(ValidateCrmContext(context, "context").ok());
  (*context.mutable_fields())["title"].set_string_value(Repeat("\u00e9", 1025));
  ExpectInvalidExactly(ValidateCrmContext(context, "context"),
                       "context.fields[\"title\"]: longer than the limit of 1024 characters");
}

TEST(ValidateCrmContextTest, RecordIdMayNotHoldControlCharacters) {
  v1::CrmContext context = Parse<v1::CrmContext>(kValidContext);
  context.set_record_id("00Q\x1b");
  ExpectInvalidExactly(ValidateCrmContext(context, "context"),
                       "context.record_id: control character U+001B at position 3 is not "
                       "allowed");
}

}  // namespace
}  // namespace sopsidebar
