#include "server/service/grpc_status.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

TEST(GrpcStatusTest, OkStaysOk) { EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok()); }

TEST(GrpcStatusTest, EveryCodeMapsToTheSameGrpcCode) {
  const std::pair<absl::StatusCode, grpc::StatusCode> pairs[] = {
      {absl::StatusCode::kCancelled, grpc::StatusCode::CANCELLED},
      {absl::StatusCode::kUnknown, grpc::StatusCode::UNKNOWN},
      {absl::StatusCode::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT},
      {absl::StatusCode::kDeadlineExceeded, grpc::StatusCode::DEADLINE_EXCEEDED},
      {absl::StatusCode::kNotFound, grpc::StatusCode::NOT_FOUND},
      {absl::StatusCode::kAlreadyExists, grpc::StatusCode::ALREADY_EXISTS},
      {absl::StatusCode::kPermissionDenied, grpc::StatusCode::PERMISSION_DENIED},
      {absl::StatusCode::kResourceExhausted, grpc::StatusCode::RESOURCE_EXHAUSTED},
      {absl::StatusCode::kFailedPrecondition, grpc::StatusCode::FAILED_PRECONDITION},
      {absl::StatusCode::kAborted, grpc::StatusCode::ABORTED},
      {absl::StatusCode::kOutOfRange, grpc::StatusCode::OUT_OF_RANGE},
      {absl::StatusCode::kUnimplemented, grpc::StatusCode::UNIMPLEMENTED},
      {absl::StatusCode::kInternal, grpc::StatusCode::INTERNAL},
      {absl::StatusCode::kUnavailable, grpc::StatusCode::UNAVAILABLE},
      {absl::StatusCode::kDataLoss, grpc::StatusCode::DATA_LOSS},
      {absl::StatusCode::kUnauthenticated, grpc::StatusCode::UNAUTHENTICATED},
  };
  for (const auto& [absl_code, grpc_code] : pairs) {
    grpc::Status s = ToGrpcStatus(absl::Status(absl_code, "m"));
    EXPECT_EQ(s.error_code(), grpc_code) << absl::StatusCodeToString(absl_code);
    EXPECT_EQ(s.error_message(), "m");
  }
}

TEST(GrpcStatusTest, CatalogueMessagesSurvive) {
  grpc::Status s = ToGrpcStatus(error::InvalidField("sop.title", "is required"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "sop.title: is required");
}

google::rpc::Status DetailsOf(const grpc::Status& s) {
  google::rpc::Status rpc;
  EXPECT_TRUE(rpc.ParseFromString(s.error_details()));
  return rpc;
}

TEST(GrpcStatusTest, InvalidArgumentCarriesEveryViolationInABadRequest) {
  grpc::Status s = ToGrpcStatus(error::InvalidFields({{"sop.title", "is required"},
                                                      {"sop.owner", "is required"},
                                                      {"sop.steps[0].title", "is required"}}));
  const google::rpc::Status rpc = DetailsOf(s);
  EXPECT_EQ(rpc.code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_EQ(rpc.message(), s.error_message());
  google::rpc::BadRequest bad_request;
  int bad_requests = 0;
  for (const auto& detail : rpc.details()) bad_requests += detail.UnpackTo(&bad_request);
  ASSERT_EQ(bad_requests, 1);
  ASSERT_EQ(bad_request.field_violations_size(), 3);
  EXPECT_EQ(bad_request.field_violations(2).field(), "sop.steps[0].title");
  EXPECT_EQ(bad_request.field_violations(2).description(), "is required");
}

TEST(GrpcStatusTest, NotFoundCarriesErrorInfoNamingTheResource) {
  const google::rpc::Status rpc = DetailsOf(ToGrpcStatus(error::SopNotFound("orgs/o/sops/x")));
  ASSERT_EQ(rpc.details_size(), 1);
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(rpc.details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "SOP_NOT_FOUND");
  EXPECT_EQ(info.domain(), "sopsidebar.v1");
  EXPECT_EQ(info.metadata().at("name"), "orgs/o/sops/x");
}

TEST(GrpcStatusTest, FailedPreconditionCarriesAPreconditionFailure) {
  const google::rpc::Status rpc = DetailsOf(ToGrpcStatus(error::SopDeleted("orgs/o/sops/x")));
  google::rpc::PreconditionFailure failure;
  int failures = 0;
  for (const auto& detail : rpc.details()) failures += detail.UnpackTo(&failure);
  ASSERT_EQ(failures, 1);
  ASSERT_EQ(failure.violations_size(), 1);
  EXPECT_EQ(failure.violations(0).type(), "STATE");
  EXPECT_EQ(failure.violations(0).subject(), "orgs/o/sops/x");
}

TEST(GrpcStatusTest, DetailsComeErrorInfoFirstThenByTypeWhateverTheOrderOfPayloads) {
  // BadRequest, then PreconditionFailure, then ErrorInfo onto the status.
  absl::Status status = absl::InvalidArgumentError("bad");
  google::rpc::BadRequest bad_request;
  bad_request.add_field_violations()->set_field("a");
  status.SetPayload(error::kBadRequestType, absl::Cord(bad_request.SerializeAsString()));
  status.SetPayload("type.googleapis.com/google.rpc.PreconditionFailure",
                    absl::Cord(google::rpc::PreconditionFailure().SerializeAsString()));
  google::rpc::ErrorInfo info;
  info.set_reason("R");
  status.SetPayload(error::kErrorInfoType, absl::Cord(info.SerializeAsString()));
  const google::rpc::Status rpc = ToRpcStatus(status);
  ASSERT_EQ(rpc.details_size(), 3);
  EXPECT_EQ(rpc.details(0).type_url(), error::kErrorInfoType);
  EXPECT_EQ(rpc.details(1).type_url(), error::kBadRequestType);
  EXPECT_EQ(rpc.details(2).type_url(), "type.googleapis.com/google.rpc.PreconditionFailure");
}

TEST(GrpcStatusTest, ErrorFromOutsideTheCatalogueGetsErrorInfoNamingItsCode) {
  const google::rpc::Status rpc = DetailsOf(ToGrpcStatus(absl::InternalError("boom")));
  ASSERT_EQ(rpc.details_size(), 1);
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(rpc.details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "INTERNAL");
}

TEST(GrpcStatusTest, ManyViolationsAreCutToFitTheMetadataAndSaySo) {
  std::vector<error::FieldViolation> violations;
  for (int i = 0; i < 1000; ++i) {
    violations.push_back({absl::StrCat("sop.steps[", i, "].title"), "is required"});
  }
  grpc::Status s = ToGrpcStatus(error::InvalidFields(std::move(violations)));
  EXPECT_LE(s.error_details().size(), kMaxGrpcBadRequestBytes + kMaxGrpcMessageBytes + 512);
  google::rpc::BadRequest bad_request;
  const google::rpc::Status rpc = DetailsOf(s);
  for (const auto& detail : rpc.details()) detail.UnpackTo(&bad_request);
  ASSERT_GT(bad_request.field_violations_size(), 10);
  const auto& last = *bad_request.field_violations().rbegin();
  EXPECT_EQ(last.field(), "");
  EXPECT_EQ(last.description(),
            absl::StrCat("… and ", 1001 - bad_request.field_violations_size(), " more violations"));
}

TEST(GrpcStatusTest, OverlongMessageIsCutKeepingItsCode) {
  const std::string message(1000087, 'f');
  grpc::Status s = ToGrpcStatus(absl::InvalidArgumentError(message));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(),
            absl::StrCat(std::string(kMaxGrpcMessageBytes, 'f'), "… (1000087 bytes)"));
}

TEST(GrpcStatusTest, MessageIsCutBetweenCharacters) {
  std::string message(kMaxGrpcMessageBytes - 1, 'a');
  message += "\u00e9\u00e9";  // the first é would straddle the cap
  grpc::Status s = ToGrpcStatus(absl::InternalError(message));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(s.error_message(), absl::StrCat(std::string(kMaxGrpcMessageBytes - 1, 'a'), "… (",
                                            kMaxGrpcMessageBytes + 3, " bytes)"));
}

}  // namespace
}  // namespace sopsidebar
