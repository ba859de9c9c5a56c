// AuthoringService against a real sopd (RocksDB on disk, gRPC on loopback)
// whose model drafter talks to a fake OpenAI-compatible chat server this
// test starts: DraftSop with each kind of model answer and failure, the
// built-in drafter, request_id retries, ValidateSop and GetSopDiagram.
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/sopfile/sop_file.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "plugins/drafting/builtin/builtin_drafter.h"
#include "plugins/drafting/openai/fake_chat_server.h"
#include "sopsidebar/v1/authoring_service.pb.h"
#include "tests/integration/sopd_fixture.h"

namespace sopsidebar {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr absl::string_view kBrief = "inbound MQL, 5-touch cadence over 5 days, call/email";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A valid SOP as a model would write it: the built-in drafter's draft of
// kBrief, in the proto JSON mapping.
std::string ValidAnswer() {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  EXPECT_TRUE(
      google::protobuf::util::MessageToJsonString(*BuiltinDrafter().Draft(kBrief), &json, options)
          .ok());
  return json;
}

class AuthoringIntegrationTest : public test::SopdFixture {
 protected:
  void SetUp() override {
    auto model = FakeChatServer::Start();
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = *std::move(model);
    options_.drafter_model_url = model_->base_url();
    options_.drafter_model = "fake-model";
  }

  // Starts sopd (after a test set its options) and issues the tokens.
  void Start() {
    StartServer();
    ops_ = IssueToken(admin_token_, "ops@example.com", {v1::SALES_OPS});
    sdr_ = IssueToken(admin_token_, "sdr@example.com", {v1::SDR});
  }

  absl::StatusOr<v1::DraftSopResponse> Draft(absl::string_view drafter,
                                             absl::string_view request_id = "") {
    v1::DraftSopRequest request;
    request.set_parent("orgs/default");
    request.set_brief(std::string(kBrief));
    request.set_drafter(std::string(drafter));
    request.set_request_id(std::string(request_id));
    return ClientFor(ops_).DraftSop(request);
  }

  std::vector<v1::Sop> Sops() {
    v1::ListSopsRequest list;
    list.set_parent("orgs/default");
    auto listed = ClientFor(ops_).ListSops(list);
    EXPECT_TRUE(listed.ok()) << listed.status();
    return listed.ok() ? std::vector<v1::Sop>(listed->sops().begin(), listed->sops().end())
                       : std::vector<v1::Sop>{};
  }

  std::unique_ptr<FakeChatServer> model_;
  std::string ops_;
  std::string sdr_;
};

TEST_F(AuthoringIntegrationTest, AValidModelAnswerIsSavedAsADraftAfterOneAttempt) {
  Start();
  model_->EnqueueAnswer(ValidAnswer());
  absl::StatusOr<v1::DraftSopResponse> drafted = Draft("model");
  ASSERT_TRUE(drafted.ok()) << drafted.status();
  EXPECT_EQ(drafted->drafter(), "model");
  EXPECT_EQ(drafted->sop().state(), v1::Sop::DRAFT);
  EXPECT_TRUE(drafted->sop().published_revision_id().empty());
  EXPECT_EQ(model_->received().size(), 1);
  const std::vector<v1::Sop> sops = Sops();
  ASSERT_THAT(sops, SizeIs(1));
  EXPECT_EQ(sops[0].name(), drafted->sop().name());
  EXPECT_EQ(sops[0].state(), v1::Sop::DRAFT);
}

TEST_F(AuthoringIntegrationTest, InvalidJsonThenAValidRetryIsSavedAfterTwoAttempts) {
  Start();
  model_->EnqueueAnswer("Sure! Here is your SOP: {title: ...");
  model_->EnqueueAnswer(ValidAnswer());
  absl::StatusOr<v1::DraftSopResponse> drafted = Draft("model");
  ASSERT_TRUE(drafted.ok()) << drafted.status();
  EXPECT_EQ(model_->received().size(), 2);
  // The retry told the model what was wrong.
  EXPECT_THAT(model_->received()[1].body, HasSubstr("That answer is not a valid SOP"));
  EXPECT_THAT(Sops(), SizeIs(1));
}

TEST_F(AuthoringIntegrationTest, InvalidTwiceIsAClearErrorAndNothingIsSaved) {
  Start();
  model_->EnqueueAnswer("not json at all");
  model_->EnqueueAnswer(R"({"title": ""})");
  absl::StatusOr<v1::DraftSopResponse> drafted = Draft("model");
  EXPECT_EQ(drafted.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(drafted.status().message(),
              HasSubstr("drafting model \"fake-model\" gave no valid SOP in 2 attempts"));
  EXPECT_THAT(drafted.status().message(), HasSubstr("title"));
  EXPECT_EQ(model_->received().size(), 2);
  EXPECT_THAT(Sops(), IsEmpty());
}

TEST_F(AuthoringIntegrationTest, AnHttpErrorIsUnavailableAndNothingIsSaved) {
  Start();
  model_->Enqueue({500, "model crashed", false});
  absl::StatusOr<v1::DraftSopResponse> drafted = Draft("model");
  EXPECT_EQ(drafted.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(drafted.status().message(), HasSubstr("answered HTTP 500"));
  EXPECT_THAT(drafted.status().message(), HasSubstr(model_->base_url()));
  EXPECT_THAT(Sops(), IsEmpty());
}

TEST_F(AuthoringIntegrationTest, AHangingModelIsDeadlineExceededAndNothingIsSaved) {
  options_.drafter_timeout = absl::Milliseconds(500);
  Start();
  model_->Enqueue({200, "", /*hang=*/true});
  absl::StatusOr<v1::DraftSopResponse> drafted = Draft("model");
  EXPECT_EQ(drafted.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(drafted.status().message(), HasSubstr("gave no answer within"));
  EXPECT_THAT(Sops(), IsEmpty());
}

TEST_F(AuthoringIntegrationTest, TheBuiltinDraftIsSavedUnpublishedAndPassesValidateSop) {
  Start();
  absl::StatusOr<v1::DraftSopResponse> drafted = Draft("");
  ASSERT_TRUE(drafted.ok()) << drafted.status();
  EXPECT_EQ(drafted->drafter(), "builtin");
  EXPECT_EQ(drafted->sop().state(), v1::Sop::DRAFT);
  EXPECT_TRUE(drafted->sop().published_revision_id().empty());
  EXPECT_THAT(model_->received(), IsEmpty());

  v1::ValidateSopRequest validate;
  validate.set_parent("orgs/default");
  *validate.mutable_sop() = drafted->sop();
  validate.set_include_diagram(true);
  absl::StatusOr<v1::ValidateSopResponse> validated = ClientFor(ops_).ValidateSop(validate);
  ASSERT_TRUE(validated.ok()) << validated.status();
  EXPECT_THAT(validated->violations(), IsEmpty());
  EXPECT_EQ(validated->diagram().kind(), v1::SWIMLANE);
  EXPECT_THAT(validated->diagram().source(), HasSubstr("subgraph lane_"));
}

TEST_F(AuthoringIntegrationTest, ARetryWithTheRequestIdReturnsTheFirstDraftWithoutAskingAgain) {
  Start();
  model_->EnqueueAnswer(ValidAnswer());
  absl::StatusOr<v1::DraftSopResponse> first = Draft("model", "draft-42");
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<v1::DraftSopResponse> retry = Draft("model", "draft-42");
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->sop().name(), first->sop().name());
  EXPECT_EQ(retry->sop().etag(), first->sop().etag());
  EXPECT_EQ(model_->received().size(), 1);
  EXPECT_THAT(Sops(), SizeIs(1));
}

TEST_F(AuthoringIntegrationTest, WithoutAModelTheModelDrafterIsFailedPreconditionNamingDrafter) {
  options_.drafter_model_url.clear();
  options_.drafter_model.clear();
  Start();
  absl::StatusOr<v1::DraftSopResponse> drafted = Draft("model");
  EXPECT_EQ(drafted.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(drafted.status().message(), HasSubstr("drafter: \"model\" is not configured"));
  EXPECT_EQ(Draft("gpt-5").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Sops(), IsEmpty());
}

TEST_F(AuthoringIntegrationTest, ValidateSopGivesEveryViolationAtItsPathLineAndColumn) {
  Start();
  v1::ValidateSopRequest request;
  request.set_parent("orgs/default");
  request.set_yaml(
      "title: \"\"\n"
      "owner: Sales Ops\n"
      "steps:\n"
      "  - ordinal: 1\n"
      "    title: Call\n"
      "    responsible_role: WIZARD\n"
      "  - ordinal: 2\n"
      "    title: \"\"\n");
  absl::StatusOr<v1::ValidateSopResponse> response = ClientFor(ops_).ValidateSop(request);
  ASSERT_TRUE(response.ok()) << response.status();
  std::vector<std::string> found;
  for (const v1::SopViolation& v : response->violations()) {
    found.push_back(absl::StrCat(v.field(), "@", v.line(), ":", v.column()));
    EXPECT_FALSE(v.description().empty()) << v.field();
  }
  // A rejected value is placed at the value, a validation finding at its key.
  EXPECT_THAT(found, ::testing::ElementsAre("title@1:1", "steps[0].responsible_role@6:23",
                                            "steps[1].title@8:5"));

  request.set_yaml("title: T\nowner: [unclosed\n");
  response = ClientFor(ops_).ValidateSop(request);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_THAT(response->violations(), SizeIs(1));
  EXPECT_THAT(response->violations(0).description(), HasSubstr("YAML syntax"));
  EXPECT_GT(response->violations(0).line(), 0);
  EXPECT_GT(response->violations(0).column(), 0);
  // Nothing was saved, and only editors validate.
  EXPECT_THAT(Sops(), IsEmpty());
  EXPECT_EQ(ClientFor(sdr_).ValidateSop(request).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(AuthoringIntegrationTest, DiagramsAreTheGoldensAndReadLikeGetSop) {
  Start();
  const std::string path = absl::StrCat(SOP_EXAMPLES_DIR, "/mql-acceptance-handoff.yaml");
  absl::StatusOr<v1::Sop> sop = ParseSopFile(path, ReadFile(path));
  ASSERT_TRUE(sop.ok()) << sop.status();
  v1::CreateSopRequest create;
  create.set_parent("orgs/default");
  create.set_sop_id("mql");
  *create.mutable_sop() = *sop;
  ASSERT_TRUE(ClientFor(ops_).CreateSop(create).ok());

  v1::GetSopDiagramRequest request;
  request.set_name("orgs/default/sops/mql");
  absl::StatusOr<v1::SopDiagram> draft = ClientFor(ops_).GetSopDiagram(request);
  ASSERT_TRUE(draft.ok()) << draft.status();
  EXPECT_EQ(draft->source(),
            ReadFile(absl::StrCat(SOP_DIAGRAM_TESTDATA, "/mql-handoff-flowchart.mmd")));
  // An SDR may not read the draft: the same answer as GetSop's.
  const absl::Status get_sop = ClientFor(sdr_).GetSop("orgs/default/sops/mql").status();
  const absl::Status diagram = ClientFor(sdr_).GetSopDiagram(request).status();
  EXPECT_EQ(get_sop.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(diagram.code(), get_sop.code());
  EXPECT_EQ(diagram.message(), get_sop.message());

  v1::PublishSopRequest publish;
  publish.set_name("orgs/default/sops/mql");
  publish.set_emergency(true);
  publish.set_reason("integration test");
  ASSERT_TRUE(ClientFor(admin_token_).PublishSop(publish).ok());
  request.set_revision("published");
  request.set_kind(v1::SWIMLANE);
  request.set_format(v1::DOT);
  absl::StatusOr<v1::SopDiagram> published = ClientFor(ops_).GetSopDiagram(request);
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(published->source(),
            ReadFile(absl::StrCat(SOP_DIAGRAM_TESTDATA, "/mql-handoff-swimlane.dot")));
  EXPECT_EQ(published->kind(), v1::SWIMLANE);
  EXPECT_EQ(published->format(), v1::DOT);
  // The SDR reads the published SOP, but its revisions are history.
  request.set_revision("");
  EXPECT_TRUE(ClientFor(sdr_).GetSopDiagram(request).ok());
  request.set_revision("published");
  EXPECT_EQ(ClientFor(sdr_).GetSopDiagram(request).status().code(),
            absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace sopsidebar
