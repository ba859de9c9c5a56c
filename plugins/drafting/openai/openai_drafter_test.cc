#include "plugins/drafting/openai/openai_drafter.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/errors.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "plugins/drafting/builtin/builtin_drafter.h"
#include "plugins/drafting/openai/fake_chat_server.h"

namespace sopsidebar {
namespace {

using ::testing::HasSubstr;

constexpr absl::string_view kBrief = "inbound MQL, 5-touch cadence over 5 days, call/email";

// A valid SOP as a model would write it (the built-in drafter's draft of
// kBrief, in the proto JSON mapping), and the SOP itself.
struct Expected {
  v1::Sop sop;
  std::string json;
};

Expected ValidAnswer() {
  Expected expected;
  expected.sop = *BuiltinDrafter().Draft(kBrief);
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  EXPECT_TRUE(
      google::protobuf::util::MessageToJsonString(expected.sop, &expected.json, options).ok());
  return expected;
}

// The request body the fake server received, as JSON.
google::protobuf::Struct BodyOf(const FakeChatServer::Received& received) {
  google::protobuf::Struct body;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(received.body, &body).ok())
      << received.body;
  return body;
}

const google::protobuf::ListValue& MessagesOf(const google::protobuf::Struct& body) {
  return body.fields().at("messages").list_value();
}

std::string ContentOf(const google::protobuf::Value& message) {
  return message.struct_value().fields().at("content").string_value();
}

std::string RoleOf(const google::protobuf::Value& message) {
  return message.struct_value().fields().at("role").string_value();
}

class OpenAiDrafterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<FakeChatServer>> server = FakeChatServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  std::unique_ptr<OpenAiDrafter> Drafter(OpenAiDrafterOptions options = {}) {
    if (options.base_url.empty()) options.base_url = server_->base_url();
    if (options.model.empty()) options.model = "llama3.1:8b";
    if (options.timeout == absl::Seconds(120)) options.timeout = absl::Seconds(10);
    absl::StatusOr<std::unique_ptr<OpenAiDrafter>> drafter = OpenAiDrafter::Create(options);
    EXPECT_TRUE(drafter.ok()) << drafter.status();
    return drafter.ok() ? *std::move(drafter) : nullptr;
  }

  std::unique_ptr<FakeChatServer> server_;
};

TEST_F(OpenAiDrafterTest, ValidAnswerIsTheDraft) {
  const Expected expected = ValidAnswer();
  server_->EnqueueAnswer(expected.json);

  const absl::StatusOr<v1::Sop> sop = Drafter()->Draft(kBrief);
  ASSERT_TRUE(sop.ok()) << sop.status();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*sop, expected.sop));

  ASSERT_EQ(server_->received().size(), 1u);
  const FakeChatServer::Received request = server_->received()[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/v1/chat/completions");
  EXPECT_EQ(request.headers.at("content-type"), "application/json");
  EXPECT_EQ(request.headers.count("authorization"), 0u);
  const google::protobuf::Struct body = BodyOf(request);
  EXPECT_EQ(body.fields().at("model").string_value(), "llama3.1:8b");
  EXPECT_EQ(body.fields().at("response_format").struct_value().fields().at("type").string_value(),
            "json_object");
  const google::protobuf::ListValue& messages = MessagesOf(body);
  ASSERT_EQ(messages.values_size(), 2);
  EXPECT_EQ(RoleOf(messages.values(0)), "system");
  EXPECT_THAT(ContentOf(messages.values(0)), HasSubstr("  cadence: list of CadenceTouch"));
  EXPECT_EQ(RoleOf(messages.values(1)), "user");
  EXPECT_THAT(ContentOf(messages.values(1)), HasSubstr(kBrief));
}

TEST_F(OpenAiDrafterTest, ApiKeyIsSentAsABearerToken) {
  server_->EnqueueAnswer(ValidAnswer().json);
  OpenAiDrafterOptions options;
  options.api_key = "sk-local-123";
  ASSERT_TRUE(Drafter(options)->Draft(kBrief).ok());
  ASSERT_EQ(server_->received().size(), 1u);
  EXPECT_EQ(server_->received()[0].headers.at("authorization"), "Bearer sk-local-123");
}

TEST_F(OpenAiDrafterTest, BaseUrlEndingInV1IsNotGivenASecondOne) {
  server_->EnqueueAnswer(ValidAnswer().json);
  OpenAiDrafterOptions options;
  options.base_url = server_->base_url() + "/v1/";
  ASSERT_TRUE(Drafter(options)->Draft(kBrief).ok());
  EXPECT_EQ(server_->received()[0].target, "/v1/chat/completions");
}

TEST_F(OpenAiDrafterTest, OutputOnlyFieldsFromTheModelAreDropped) {
  const Expected expected = ValidAnswer();
  std::string answer = expected.json;
  answer.insert(1, R"("name": "orgs/other/sops/x", "state": "PUBLISHED", "etag": "e7", )"
                   R"("published_revision_id": "r1", )");
  server_->EnqueueAnswer(answer);
  const absl::StatusOr<v1::Sop> sop = Drafter()->Draft(kBrief);
  ASSERT_TRUE(sop.ok()) << sop.status();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*sop, expected.sop));
  EXPECT_EQ(sop->state(), v1::Sop::STATE_UNSPECIFIED);
}

TEST_F(OpenAiDrafterTest, FencedJsonAnswerIsAccepted) {
  server_->EnqueueAnswer(absl::StrCat("```json\n", ValidAnswer().json, "\n```"));
  EXPECT_TRUE(Drafter()->Draft(kBrief).ok());
}

TEST_F(OpenAiDrafterTest, InvalidJsonThenValidRetriesOnceWithTheProblem) {
  const Expected expected = ValidAnswer();
  const std::string broken = expected.json.substr(0, expected.json.size() / 2);
  server_->EnqueueAnswer(broken);
  server_->EnqueueAnswer(expected.json);

  const absl::StatusOr<v1::Sop> sop = Drafter()->Draft(kBrief);
  ASSERT_TRUE(sop.ok()) << sop.status();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*sop, expected.sop));

  ASSERT_EQ(server_->received().size(), 2u);
  const google::protobuf::Struct retry = BodyOf(server_->received()[1]);
  const google::protobuf::ListValue& messages = MessagesOf(retry);
  ASSERT_EQ(messages.values_size(), 4);
  EXPECT_EQ(RoleOf(messages.values(2)), "assistant");
  EXPECT_EQ(ContentOf(messages.values(2)), broken);
  EXPECT_EQ(RoleOf(messages.values(3)), "user");
  EXPECT_THAT(ContentOf(messages.values(3)), HasSubstr("is not valid JSON"));
}

TEST_F(OpenAiDrafterTest, InvalidSopThenValidSendsTheViolationsBack) {
  server_->EnqueueAnswer(R"({"purpose": "p", "steps": [{"ordinal": 1}]})");
  server_->EnqueueAnswer(ValidAnswer().json);

  ASSERT_TRUE(Drafter()->Draft(kBrief).ok());
  ASSERT_EQ(server_->received().size(), 2u);
  const std::string correction = ContentOf(MessagesOf(BodyOf(server_->received()[1])).values(3));
  EXPECT_THAT(correction, HasSubstr("- title: is required\n"));
  EXPECT_THAT(correction, HasSubstr("- owner: is required\n"));
  EXPECT_THAT(correction, HasSubstr("- steps[0].title: is required"));
}

TEST_F(OpenAiDrafterTest, InvalidTwiceIsAnErrorListingTheViolations) {
  server_->EnqueueAnswer(R"({"title": "T"})");
  server_->EnqueueAnswer(R"({"title": "T", "steps": [{"ordinal": 1, "title": "S"}],
                             "cadence": [{"day": 1, "channel": "CALL"}]})");
  server_->EnqueueAnswer(ValidAnswer().json);  // never asked for

  const absl::StatusOr<v1::Sop> sop = Drafter()->Draft(kBrief);
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(error::ReasonOf(sop.status()), "MODEL_ANSWER_INVALID");
  EXPECT_EQ(sop.status().message(),
            "drafting model \"llama3.1:8b\" gave no valid SOP in 2 attempts; the last answer: "
            "owner: is required; cadence[0].action: is required");
  EXPECT_EQ(server_->received().size(), 2u);
}

TEST_F(OpenAiDrafterTest, ProseTwiceIsAnError) {
  server_->EnqueueAnswer("I would start by calling the lead within five minutes.");
  server_->EnqueueAnswer("Sorry, here is a better plan: call, then email.");
  const absl::StatusOr<v1::Sop> sop = Drafter()->Draft(kBrief);
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(sop.status().message(),
              HasSubstr("the last answer: is not a JSON object: \"Sorry, here"));
}

TEST_F(OpenAiDrafterTest, HttpServerErrorNamesTheStatusAndIsNotRetried) {
  server_->Enqueue({500, R"({"error": {"message": "model failed to load"}})", false});
  server_->EnqueueAnswer(ValidAnswer().json);
  const absl::StatusOr<v1::Sop> sop = Drafter()->Draft(kBrief);
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(error::ReasonOf(sop.status()), "MODEL_HTTP_ERROR");
  EXPECT_THAT(
      sop.status().message(),
      HasSubstr(absl::StrCat("drafting model at ", server_->base_url(), " answered HTTP 500: ")));
  EXPECT_THAT(sop.status().message(), HasSubstr("model failed to load"));
  EXPECT_EQ(server_->received().size(), 1u);
}

TEST_F(OpenAiDrafterTest, UnknownModelIsAFailedPrecondition) {
  server_->Enqueue({404, R"({"error": "model 'llama9' not found"})", false});
  const absl::StatusOr<v1::Sop> sop = Drafter()->Draft(kBrief);
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(sop.status().message(), HasSubstr("answered HTTP 404"));
}

TEST_F(OpenAiDrafterTest, SilentServerTimesOutWithinTheDeadline) {
  server_->Enqueue({200, "", /*hang=*/true});
  OpenAiDrafterOptions options;
  options.timeout = absl::Milliseconds(300);
  const absl::Time start = absl::Now();
  const absl::StatusOr<v1::Sop> sop = Drafter(options)->Draft(kBrief);
  const absl::Duration elapsed = absl::Now() - start;
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(error::ReasonOf(sop.status()), "MODEL_TIMEOUT");
  EXPECT_EQ(sop.status().message(), absl::StrCat("drafting model at ", server_->base_url(),
                                                 " gave no answer within 300ms"));
  EXPECT_GE(elapsed, absl::Milliseconds(290));
  EXPECT_LT(elapsed, absl::Seconds(3));
}

TEST_F(OpenAiDrafterTest, OversizedResponseIsRefused) {
  server_->EnqueueAnswer(std::string(4096, 'x'));
  OpenAiDrafterOptions options;
  options.max_response_bytes = 1024;
  const absl::StatusOr<v1::Sop> sop = Drafter(options)->Draft(kBrief);
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(error::ReasonOf(sop.status()), "MODEL_BAD_RESPONSE");
  EXPECT_THAT(sop.status().message(), HasSubstr("larger than the limit of 1024 bytes"));
}

TEST_F(OpenAiDrafterTest, ResponseWithoutContentIsABadResponse) {
  server_->Enqueue({200, R"({"object": "chat.completion", "choices": []})", false});
  const absl::StatusOr<v1::Sop> sop = Drafter()->Draft(kBrief);
  EXPECT_EQ(error::ReasonOf(sop.status()), "MODEL_BAD_RESPONSE");
  EXPECT_THAT(sop.status().message(), HasSubstr("no string at choices[0].message.content"));
}

TEST_F(OpenAiDrafterTest, EmptyBriefSendsNothing) {
  EXPECT_EQ(Drafter()->Draft("").status().message(), "brief: is required");
  EXPECT_TRUE(server_->received().empty());
}

// A loopback port nothing listens on: bound, then released.
int UnusedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

TEST(OpenAiDrafterUnreachableTest, RefusedConnectionIsUnreachable) {
  OpenAiDrafterOptions options;
  options.base_url = absl::StrCat("http://127.0.0.1:", UnusedPort());
  options.model = "m";
  options.timeout = absl::Seconds(5);
  const absl::StatusOr<v1::Sop> sop = (*OpenAiDrafter::Create(options))->Draft(kBrief);
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(error::ReasonOf(sop.status()), "MODEL_UNREACHABLE");
  EXPECT_THAT(sop.status().message(), HasSubstr(absl::StrCat("drafting model at ", options.base_url,
                                                             " unreachable: connect: ")));
}

TEST(OpenAiDrafterOptionsTest, MalformedOptionsNameTheOption) {
  auto message = [](absl::string_view base_url, absl::string_view model,
                    absl::Duration timeout = absl::Seconds(5)) {
    OpenAiDrafterOptions options;
    options.base_url = std::string(base_url);
    options.model = std::string(model);
    options.timeout = timeout;
    const auto drafter = OpenAiDrafter::Create(options);
    EXPECT_EQ(drafter.status().code(), absl::StatusCode::kInvalidArgument) << base_url;
    return std::string(drafter.status().message());
  };
  EXPECT_EQ(message("", "m"), "base_url: is required");
  EXPECT_EQ(message("http://localhost:11434", ""), "model: is required");
  EXPECT_THAT(message("https://api.example.com", "m"),
              HasSubstr("base_url: https is not supported"));
  EXPECT_THAT(message("localhost:11434", "m"), HasSubstr("is not an http:// URL"));
  EXPECT_THAT(message("http://localhost:99999", "m"),
              HasSubstr("port \"99999\" is not a number from 1 to 65535"));
  EXPECT_EQ(message("http://:8080", "m"), "base_url: names no host");
  EXPECT_EQ(message("http://localhost", "m", absl::ZeroDuration()), "timeout: must be positive");
}

}  // namespace
}  // namespace sopsidebar
