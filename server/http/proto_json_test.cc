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

// ParseMessageJson against protobuf's own parser on `json`: the same verdict,
// the same message, the same error.
template <typename M>
void ExpectReadAsProtobufReads(const std::string& json) {
  M ours;
  const absl::Status read = ParseMessageJson(json, &ours);
  M theirs;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto expected = google::protobuf::util::JsonStringToMessage(json, &theirs, options);
  ASSERT_EQ(read.ok(), expected.ok()) << json << "\nours: " << read << "\ntheirs: " << expected;
  if (read.ok()) {
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(ours, theirs))
        << json << "\nours:   " << ours.ShortDebugString()
        << "\ntheirs: " << theirs.ShortDebugString();
  } else {
    EXPECT_EQ(std::string(read.message()), std::string(expected.message())) << json;
    EXPECT_EQ(ours.ByteSizeLong(), 0u) << "a refused request leaves nothing behind";
  }
}

// The requests the panel and curl send, and their near misses.
const char* const kLookups[] = {
    R"({"context":{"recordType":"Lead","recordId":"00Q5e00000ABCdE","fields":{"lead_status":"MQL – New Handoff","lead_score":82,"company_size":120,"title":"VP Sales","status_changed_at":"2026-11-30T09:41:00Z","tags":["a",1,true,null,[]],"none":null}},"maxResults":3,"includeNearMisses":true})",
    R"({ "context" : { "record_type" : "Lead" , "fields" : { } } , "max_results" : 0 })",
    R"({"context":{"recordType":"Lead","fields":{"x":-0.5e-3,"y":1E+2,"z":"a\"b\\c\/d\ne\tf\rg"}}})",
    R"({"context":{"recordType":"Lead","fields":{"x":"\u00e9","y":"caf\u00e9 \ud83d\ude00"}}})",
    R"({"context":{"recordType":"Lead","fields":{"address":{"city":"Oslo"}}}})",
    R"({"maxResults":"3"})",
    R"({"maxResults":3.0})",
    R"({"maxResults":1e1})",
    R"({"maxResults":2147483648})",
    R"({"maxResults":-1})",
    R"({"maxResults":007})",
    R"({"maxResults":+3})",
    R"({"maxResult":3})",
    R"({"context":null})",
    R"({"context":{"recordType":"Lead"},"context":{"recordType":"Contact"}})",
    R"({"context":{"fields":{"a":1,"a":2}}})",
    R"({"context":{"fields":{"a":NaN}}})",
    R"({"includeNearMisses":"true"})",
    R"({"includeNearMisses":1})",
    R"({"context":{"recordType":"\x41"}})",
    R"({"context":{"recordType":"tab	inside"}})",
    R"([])",
    R"({})",
    R"({"context":{}} trailing)",
    R"({"context":{"recordType":"Lead",}})",
};

TEST(ProtoJsonTest, RequestsReadExactlyAsProtobufReadsThem) {
  for (const char* json : kLookups) ExpectReadAsProtobufReads<v1::LookupSopsRequest>(json);
  ExpectReadAsProtobufReads<v1::WatchSopsRequest>(kLookups[0] + std::string());
  ExpectReadAsProtobufReads<v1::GetSopRequest>(
      R"({"name":"orgs/default/sops/a","view":"SOP_VIEW_FULL"})");
  ExpectReadAsProtobufReads<v1::GetSopRequest>(R"({"name":"orgs/default/sops/a","view":1})");
  ExpectReadAsProtobufReads<v1::GetSopRequest>(R"({"name":"orgs/default/sops/a","view":"FULL"})");
  ExpectReadAsProtobufReads<v1::PingRequest>(R"({"payload":"aGk="})");
  ExpectReadAsProtobufReads<v1::UpdateSopRequest>(
      R"({"sop":{"name":"orgs/default/sops/a","title":"T","steps":[{"ordinal":1,"timeLimit":{"duration":"300s"}}]},"updateMask":"title,steps"})");
  ExpectReadAsProtobufReads<v1::CreateTokenRequest>(
      R"({"parent":"orgs/default","token":{"userId":"u","roles":["SDR","AE"],"expireTime":"2027-01-01T00:00:00.5+01:00"},"ttl":"3600s"})");
}

TEST(ProtoJsonTest, EveryOneByteDamageToARequestIsReadAsProtobufReadsIt) {
  const std::string seeds[] = {kLookups[0], kLookups[2]};
  const char kBytes[] = {'"', '{', '}', '[', ']',  ',', ':', '0',    '9',    '-',
                         '.', 'e', 'n', 't', '\\', ' ', 'x', '\xc3', '\xff', '\0'};
  int cases = 0;
  for (const std::string& seed : seeds) {
    for (size_t i = 0; i < seed.size(); ++i) {
      std::string removed = seed;
      removed.erase(i, 1);
      ExpectReadAsProtobufReads<v1::LookupSopsRequest>(removed);
      for (char c : kBytes) {
        std::string replaced = seed;
        replaced[i] = c;
        ExpectReadAsProtobufReads<v1::LookupSopsRequest>(replaced);
        std::string inserted = seed;
        inserted.insert(i, 1, c);
        ExpectReadAsProtobufReads<v1::LookupSopsRequest>(inserted);
        cases += 2;
      }
      ++cases;
      if (::testing::Test::HasFailure()) return;
    }
  }
  EXPECT_GT(cases, 10000);
}

}  // namespace
}  // namespace sopsidebar
