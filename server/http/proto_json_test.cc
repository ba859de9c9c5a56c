#include "server/http/proto_json.h"

#include <cmath>
#include <limits>
#include <string>

#include "common/sopfile/sop_file.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "sopsidebar/v1/admin_service.pb.h"
#include "sopsidebar/v1/context_service.pb.h"
#include "sopsidebar/v1/sop_service.pb.h"

namespace sopsidebar {
namespace {

template <typename M>
M Text(const std::string& text) {
  M message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

std::string Json(const google::protobuf::Message& message) {
  std::string json;
  absl::Status written = AppendMessageJson(message, &json);
  EXPECT_TRUE(written.ok()) << written;
  return json;
}

// What protobuf's own converter writes for `message`, read back: the JSON
// must mean the same, and read back into the same message.
void ExpectSameAsProtobuf(const google::protobuf::Message& message) {
  const std::string ours = Json(message);
  std::string theirs;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(message, &theirs).ok());
  std::unique_ptr<google::protobuf::Message> from_ours(message.New());
  std::unique_ptr<google::protobuf::Message> from_theirs(message.New());
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(ours, from_ours.get()).ok()) << ours;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(theirs, from_theirs.get()).ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*from_ours, message))
      << "ours:   " << ours << "\ntheirs: " << theirs;
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*from_ours, *from_theirs));
}

TEST(ProtoJsonTest, EverySeedSopReadsBackAsItselfAndAsProtobufWritesIt) {
  absl::StatusOr<std::vector<SopFile>> files = LoadSopFiles(SOP_EXAMPLES_DIR);
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_GE(files->size(), 6u);
  for (const SopFile& file : *files) ExpectSameAsProtobuf(file.sop);
}

TEST(ProtoJsonTest, LookupResponseWithValuesTimesAndEnumsReadsBack) {
  const auto response = Text<v1::LookupSopsResponse>(R"pb(
    matches {
      sop: "orgs/default/sops/mql"
      revision_id: "3"
      explanation {
        rule_index: 1
        priority: 100
        specificity: 2
        matched_record_type: "Lead"
        matched_conditions {
          condition {
            field: "lead_score"
            range { min: 75 }
          }
          actual { number_value: 82.5 }
        }
        matched_conditions { actual { string_value: "MQL – New Handoff \"quoted\"\n" } }
        matched_conditions { actual { bool_value: true } }
        matched_conditions { actual { null_value: NULL_VALUE } }
        matched_conditions {
          actual {
            list_value {
              values { number_value: 1e300 }
              values { string_value: "x" }
            }
          }
        }
      }
      current_step_index: -1
      current_step_due_time { seconds: 1795000000 nanos: 123000000 }
      cadence_day: 2
      sop_body {
        title: "T"
        steps {
          ordinal: 1
          time_limit { duration { seconds: 300 nanos: 500000000 } }
        }
      }
    }
    near_misses {
      sop: "orgs/default/sops/b"
      failed_condition_index: -1
      actual { string_value: "lead" }
    }
  )pb");
  ExpectSameAsProtobuf(response);
  const std::string json = Json(response);
  EXPECT_NE(json.find(R"("currentStepDueTime":"2026-11-18T11:06:40.123Z")"), std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("timeLimit":{"duration":"300.500s"})"), std::string::npos) << json;
  EXPECT_NE(json.find(R"([1e+300,"x"])"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("actual":null)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("actual":82.5)"), std::string::npos) << json;
  EXPECT_EQ(json.find("ruleDescription"), std::string::npos) << "defaults are left out";
}

TEST(ProtoJsonTest, TokensEnumsInt64sAndFieldMasksReadBack) {
  ExpectSameAsProtobuf(Text<v1::Token>(R"pb(
    name: "orgs/default/tokens/t1"
    user_id: "rep@example.com"
    roles: SDR
    roles: AE
    create_time { seconds: 1 }
    expire_time { seconds: 253402300799 nanos: 999999999 }
  )pb"));
  ExpectSameAsProtobuf(Text<v1::UpdateSopRequest>(R"pb(
    sop { name: "orgs/default/sops/a" }
    update_mask { paths: "title" paths: "targeting_rules" }
  )pb"));
  ExpectSameAsProtobuf(Text<v1::PingResponse>(R"pb(payload: "\000\001\377bytes")pb"));
  const std::string mask = Json(
      Text<v1::UpdateSopRequest>(R"pb(update_mask { paths: "title" paths: "targeting_rules" })pb"));
  EXPECT_EQ(mask, R"({"updateMask":"title,targetingRules"})");
  v1::Token unknown_role;
  unknown_role.add_roles(static_cast<v1::Role>(77));
  EXPECT_EQ(Json(unknown_role), R"({"roles":[77]})");
}

TEST(ProtoJsonTest, ContextFieldsMapReadsBack) {
  ExpectSameAsProtobuf(Text<v1::WatchSopsRequest>(R"pb(
    context {
      record_type: "Lead"
      fields {
        key: "lead_score"
        value { number_value: 82 }
      }
      fields {
        key: "tags"
        value { list_value { values { string_value: "a" } } }
      }
      fields {
        key: "address"
        value {
          struct_value {
            fields {
              key: "city"
              value { string_value: "Oslo" }
            }
          }
        }
      }
    }
  )pb"));
  EXPECT_EQ(Json(v1::LookupSopsResponse()), "{}");
}

TEST(ProtoJsonTest, WhatJsonCannotHoldIsAnErrorAndWritesNothing) {
  v1::LookupSopsResponse response;
  response.add_matches()
      ->mutable_explanation()
      ->add_matched_conditions()
      ->mutable_actual()
      ->set_number_value(std::numeric_limits<double>::quiet_NaN());
  std::string out = "kept";
  EXPECT_EQ(AppendMessageJson(response, &out).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out, "kept");
  v1::Token token;
  token.mutable_create_time()->set_seconds(std::numeric_limits<int64_t>::max());
  EXPECT_EQ(AppendMessageJson(token, &out).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out, "kept");
}

}  // namespace
}  // namespace sopsidebar
