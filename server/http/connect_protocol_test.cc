#include "server/http/connect_protocol.h"

#include "absl/strings/escaping.h"
#include "common/errors.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "gtest/gtest.h"
#include "sopsidebar/v1/context_service.pb.h"

namespace sopsidebar::connect {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(HttpConnectProtocolTest, CodesMapToTheSpecsNamesAndHttpStatuses) {
  struct Case {
    absl::StatusCode code;
    const char* name;
    int http;
  };
  for (const Case& c : std::vector<Case>{
           {absl::StatusCode::kCancelled, "canceled", 499},
           {absl::StatusCode::kUnknown, "unknown", 500},
           {absl::StatusCode::kInvalidArgument, "invalid_argument", 400},
           {absl::StatusCode::kDeadlineExceeded, "deadline_exceeded", 504},
           {absl::StatusCode::kNotFound, "not_found", 404},
           {absl::StatusCode::kAlreadyExists, "already_exists", 409},
           {absl::StatusCode::kPermissionDenied, "permission_denied", 403},
           {absl::StatusCode::kResourceExhausted, "resource_exhausted", 429},
           {absl::StatusCode::kFailedPrecondition, "failed_precondition", 400},
           {absl::StatusCode::kAborted, "aborted", 409},
           {absl::StatusCode::kOutOfRange, "out_of_range", 400},
           {absl::StatusCode::kUnimplemented, "unimplemented", 501},
           {absl::StatusCode::kInternal, "internal", 500},
           {absl::StatusCode::kUnavailable, "unavailable", 503},
           {absl::StatusCode::kDataLoss, "data_loss", 500},
           {absl::StatusCode::kUnauthenticated, "unauthenticated", 401},
       }) {
    EXPECT_EQ(CodeName(c.code), c.name);
    EXPECT_EQ(HttpStatusOf(c.code), c.http) << c.name;
  }
}

TEST(HttpConnectProtocolTest, ErrorJsonCarriesCodeMessageAndUnpaddedBase64Details) {
  absl::Status status = error::InvalidField("max_results", "must be \"small\"");
  std::string json = ErrorJson(status);
  EXPECT_THAT(
      json, HasSubstr(R"({"code":"invalid_argument","message":"max_results: must be \"small\"")"));
  EXPECT_THAT(json, HasSubstr(R"("type":"google.rpc.BadRequest","value":")"));
  EXPECT_THAT(json, Not(HasSubstr("type.googleapis.com")));
  // The BadRequest decodes back to the violation.
  size_t start = json.find(R"("type":"google.rpc.BadRequest","value":")");
  start = json.find(R"("value":")", start) + 9;
  std::string value = json.substr(start, json.find('"', start) - start);
  EXPECT_EQ(value.find('='), std::string::npos);
  while (value.size() % 4 != 0) value.push_back('=');
  std::string bytes;
  ASSERT_TRUE(absl::Base64Unescape(value, &bytes));
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(bad_request.ParseFromString(bytes));
  ASSERT_EQ(bad_request.field_violations_size(), 1);
  EXPECT_EQ(bad_request.field_violations(0).field(), "max_results");
}

TEST(HttpConnectProtocolTest, EndStreamJsonIsEmptyForOkAndWrapsErrors) {
  EXPECT_EQ(EndStreamJson(absl::OkStatus()), "{}");
  EXPECT_THAT(EndStreamJson(absl::NotFoundError("gone")),
              HasSubstr(R"({"error":{"code":"not_found","message":"gone")"));
}

TEST(HttpConnectProtocolTest, EnvelopeIsFlagsBigEndianLengthThenPayload) {
  std::string payload(300, 'x');
  std::string envelope = Envelope(kEndStreamFlag, payload);
  ASSERT_EQ(envelope.size(), 305u);
  EXPECT_EQ(envelope.substr(0, 5), std::string("\x02\x00\x00\x01\x2c", 5));
  EXPECT_EQ(*SingleEnvelopePayload(Envelope(0, "abc")), "abc");
  EXPECT_EQ(*SingleEnvelopePayload(Envelope(0, "")), "");
}

TEST(HttpConnectProtocolTest, MalformedEnvelopesAreInvalidArgument) {
  std::string too_long = Envelope(0, "abc");
  too_long[4] = 4;
  std::string trailing = Envelope(0, "abc") + "x";
  for (const std::string& body : {std::string("\0\0\0", 3), Envelope(kCompressedFlag, "abc"),
                                  Envelope(kEndStreamFlag, "{}"), too_long, trailing}) {
    EXPECT_EQ(SingleEnvelopePayload(body).status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(HttpConnectProtocolTest, ContentTypesAreTheFourConnectOnes) {
  EXPECT_FALSE(ParseContentType("application/json")->streaming);
  EXPECT_EQ(ParseContentType("Application/JSON; charset=utf-8")->codec, Codec::kJson);
  EXPECT_EQ(ParseContentType("application/proto")->codec, Codec::kProto);
  EXPECT_TRUE(ParseContentType("application/connect+json")->streaming);
  EXPECT_EQ(ParseContentType("application/connect+proto")->codec, Codec::kProto);
  EXPECT_FALSE(ParseContentType("text/plain").has_value());
  EXPECT_FALSE(ParseContentType("application/grpc").has_value());
  EXPECT_FALSE(ParseContentType("").has_value());
}

TEST(HttpConnectProtocolTest, TimeoutIsOneToTenDigitsOfMilliseconds) {
  EXPECT_FALSE(ParseTimeout("")->has_value());
  EXPECT_EQ(**ParseTimeout("1500"), absl::Milliseconds(1500));
  EXPECT_EQ(**ParseTimeout("9999999999"), absl::Milliseconds(9999999999));
  for (const char* bad : {"-1", "1.5", "12345678901", "soon", " 1"}) {
    EXPECT_EQ(ParseTimeout(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(HttpConnectProtocolTest, ProtocolVersionMayBeAbsentOrOne) {
  EXPECT_TRUE(CheckProtocolVersion("").ok());
  EXPECT_TRUE(CheckProtocolVersion("1").ok());
  EXPECT_EQ(CheckProtocolVersion("2").code(), absl::StatusCode::kInvalidArgument);
}

TEST(HttpConnectProtocolTest, JsonParsingRejectsUnknownFieldsNamingThem) {
  v1::LookupSopsRequest request;
  EXPECT_TRUE(ParseMessage(Codec::kJson, R"({"maxResults":3})", &request).ok());
  EXPECT_EQ(request.max_results(), 3);
  absl::Status unknown = ParseMessage(Codec::kJson, R"({"colour":"red"})", &request);
  EXPECT_EQ(unknown.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.message(), HasSubstr("sopsidebar.v1.LookupSopsRequest"));
  EXPECT_THAT(unknown.message(), HasSubstr("colour"));
  EXPECT_EQ(ParseMessage(Codec::kJson, "{", &request).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ParseMessage(Codec::kJson, "", &request).ok());
}

TEST(HttpConnectProtocolTest, BinaryParsingIsTheGrpcTransportsNamingTheMessage) {
  v1::LookupSopsRequest request;
  request.set_max_results(4);
  v1::LookupSopsRequest parsed;
  EXPECT_TRUE(ParseMessage(Codec::kProto, request.SerializeAsString(), &parsed).ok());
  EXPECT_EQ(parsed.max_results(), 4);
  absl::Status garbage = ParseMessage(Codec::kProto, absl::string_view("\x0a\xff\xff", 3), &parsed);
  EXPECT_EQ(garbage.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(garbage.message(), HasSubstr("not a valid sopsidebar.v1.LookupSopsRequest"));
}

TEST(HttpConnectProtocolTest, EncodeTurnsWireBytesIntoJsonForTheJsonCodec) {
  v1::LookupSopsResponse response;
  response.add_matches()->set_cadence_day(2);
  EXPECT_EQ(*EncodeMessage(Codec::kJson, v1::LookupSopsResponse::default_instance(),
                           response.SerializeAsString()),
            R"({"matches":[{"cadenceDay":2}]})");
  EXPECT_EQ(*EncodeMessage(Codec::kProto, v1::LookupSopsResponse::default_instance(), "raw"),
            "raw");
  EXPECT_EQ(EncodeMessage(Codec::kJson, v1::LookupSopsResponse::default_instance(), "\xff")
                .status()
                .code(),
            absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace sopsidebar::connect
