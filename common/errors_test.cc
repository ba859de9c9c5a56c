#include "common/errors.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

TEST(ErrorsTest, InvalidFieldNamesTheFieldFirst) {
  absl::Status s = error::InvalidField("sop.steps[2].ordinal", "duplicate ordinal 2");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "sop.steps[2].ordinal: duplicate ordinal 2");
}

TEST(ErrorsTest, InvalidFieldsCarryEveryViolationAsDataAndListThemInTheMessage) {
  absl::Status s = error::InvalidFields(
      {{"sop.title", "is required"}, {"sop.steps[0].title", "longer than: 2"}});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "sop.title: is required; sop.steps[0].title: longer than: 2");
  const std::vector<error::FieldViolation> expected = {{"sop.title", "is required"},
                                                       {"sop.steps[0].title", "longer than: 2"}};
  EXPECT_EQ(error::FieldViolationsOf(s), expected);
  EXPECT_EQ(error::ReasonOf(s), "INVALID_FIELD");
}

TEST(ErrorsTest, ErrorsWithoutViolationsHaveNone) {
  EXPECT_TRUE(error::FieldViolationsOf(error::SopNotFound("orgs/o/sops/a")).empty());
  EXPECT_TRUE(error::FieldViolationsOf(absl::InvalidArgumentError("sop.title: x")).empty());
}

TEST(ErrorsTest, EveryCatalogueErrorCarriesItsReason) {
  EXPECT_EQ(error::ReasonOf(error::SopNotFound("n")), "SOP_NOT_FOUND");
  EXPECT_EQ(error::ReasonOf(error::EtagMismatch("n")), "ETAG_MISMATCH");
  EXPECT_EQ(error::ReasonOf(error::SopDeleted("n")), "SOP_DELETED");
  EXPECT_EQ(error::ReasonOf(error::InvalidPageToken()), "INVALID_PAGE_TOKEN");
  EXPECT_EQ(error::ReasonOf(error::Unauthenticated()), "UNAUTHENTICATED");
  EXPECT_EQ(error::ReasonOf(error::TooManyWatches("this token", 50)), "TOO_MANY_WATCHES");
  EXPECT_EQ(error::ReasonOf(error::ShuttingDown()), "SHUTTING_DOWN");
  EXPECT_EQ(error::ReasonOf(error::RequestTooLarge(1024)), "REQUEST_TOO_LARGE");
  EXPECT_EQ(error::ReasonOf(error::NoSuchMethod("/a.B/C")), "METHOD_NOT_FOUND");
  EXPECT_EQ(error::ReasonOf(error::GraphvizMissing("dot")), "GRAPHVIZ_MISSING");
  EXPECT_EQ(error::ReasonOf(error::GraphvizFailed("dot", "exit status 1")), "GRAPHVIZ_FAILED");
  EXPECT_TRUE(error::SopDeleted("n").GetPayload(error::kPreconditionFailureType).has_value());
}

TEST(ErrorsTest, ModelHttpErrorsAreRetryableOnlyWhenTheServerIsBusyOrFailing) {
  const absl::Status failing = error::ModelHttpError("http://127.0.0.1:8080", 503, "loading");
  EXPECT_EQ(failing.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(failing.message(),
            "drafting model at http://127.0.0.1:8080 answered HTTP 503: \"loading\"");
  EXPECT_EQ(error::ModelHttpError("e", 429, "").code(), absl::StatusCode::kUnavailable);
  const absl::Status misconfigured = error::ModelHttpError("e", 404, "model not found");
  EXPECT_EQ(misconfigured.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(error::ReasonOf(misconfigured), "MODEL_HTTP_ERROR");
}

TEST(ErrorsTest, DraftingErrorsNameTheirCause) {
  EXPECT_EQ(error::ModelTimeout("http://m", absl::Seconds(2)).message(),
            "drafting model at http://m gave no answer within 2s");
  EXPECT_EQ(error::ModelTimeout("http://m", absl::Seconds(2)).code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(error::ReasonOf(error::ModelUnreachable("http://m", "connect: refused")),
            "MODEL_UNREACHABLE");
  const absl::Status invalid =
      error::ModelAnswerInvalid("llama3", 2, {"title: is required", "owner: is required"});
  EXPECT_EQ(invalid.message(),
            "drafting model \"llama3\" gave no valid SOP in 2 attempts; the last answer: "
            "title: is required; owner: is required");
  EXPECT_EQ(error::ReasonOf(invalid), "MODEL_ANSWER_INVALID");
  const absl::Status brief = error::BriefNotUnderstood({{"brief", "clause 1 \"x\": unknown"}});
  EXPECT_EQ(brief.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(error::ReasonOf(brief), "BRIEF_NOT_UNDERSTOOD");
  EXPECT_EQ(error::FieldViolationsOf(brief).size(), 1u);
}

TEST(ErrorsTest, LimitsAreNamedInTheMessage) {
  EXPECT_EQ(error::FieldTooLong("sop.title", 200).message(),
            "sop.title: longer than the limit of 200 characters");
  EXPECT_EQ(error::TooManyItems("sop.tags", 50).message(),
            "sop.tags: more than the limit of 50 items");
  const absl::Status watches = error::TooManyWatches("this token", 50);
  EXPECT_EQ(watches.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(watches.message(),
            "too many open watches: this token already holds the limit of 50; close one first");
  const absl::Status body = error::RequestTooLarge(4194304);
  EXPECT_EQ(body.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(body.message(), "request body larger than the limit of 4194304 bytes");
}

TEST(ErrorsTest, UnknownMethodIsUnimplementedQuotingThePath) {
  const absl::Status status = error::NoSuchMethod("/sopsidebar.v1.SopService/Nope");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(status.message(), "no method \"/sopsidebar.v1.SopService/Nope\"");
}

TEST(ErrorsTest, StaleEtagIsAbortedSoCallersRetryTheReadModifyWrite) {
  EXPECT_EQ(error::EtagMismatch("orgs/default/sops/a").code(), absl::StatusCode::kAborted);
}

TEST(ErrorsTest, MissingSopIsNotFoundNamingIt) {
  absl::Status s = error::SopNotFound("orgs/default/sops/a");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "SOP orgs/default/sops/a not found");
}

TEST(ErrorsTest, ShortInputIsQuotedWhole) {
  EXPECT_EQ(error::QuoteInput("colour"), "\"colour\"");
  EXPECT_EQ(error::QuoteInput(""), "\"\"");
}

TEST(ErrorsTest, LongInputIsQuotedAsAPrefixWithItsSize) {
  const std::string input(1 << 20, 'a');
  EXPECT_EQ(error::QuoteInput(input),
            absl::StrCat("\"", std::string(error::kMaxQuotedChars, 'a'), "\"… (1048576 bytes)"));
}

TEST(ErrorsTest, QuotedPrefixCountsCharactersAndCutsBetweenThem) {
  std::string input;
  for (int i = 0; i < 100; ++i) input += "\u00e9";
  std::string expected;
  for (size_t i = 0; i < error::kMaxQuotedChars; ++i) expected += "\u00e9";
  EXPECT_EQ(error::QuoteInput(input), absl::StrCat("\"", expected, "\"… (200 bytes)"));
}

TEST(ErrorsTest, QuotedInputHasControlCharactersEscaped) {
  EXPECT_EQ(error::QuoteInput("a\x1b[2Jb\n\u202e"), "\"a\\x1b[2Jb\\n\\u202e\"");
}

TEST(ErrorsTest, InvalidResourceNameQuotesABoundedValue) {
  absl::Status s = error::InvalidResourceName("name", std::string(100000, 'x'), "orgs/{org}");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), absl::StrCat("name: \"", std::string(error::kMaxQuotedChars, 'x'),
                                      "\"… (100000 bytes) is not a valid name; expected "
                                      "orgs/{org}"));
}

TEST(ErrorsTest, UpperCaseIdSuggestsTheLowerCaseId) {
  absl::Status s = error::UpperCaseId("name", "SOP", "Demo-No-Show");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "name: SOP ids are lower case: \"Demo-No-Show\" should be \"demo-no-show\"");
}

}  // namespace
}  // namespace sopsidebar
