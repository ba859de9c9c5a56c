#include "server/domain/authoring/authoring.h"

#include <atomic>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/sopfile/sop_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "plugins/drafting/builtin/builtin_drafter.h"
#include "server/domain/matching/linear_sop_matcher.h"
#include "server/domain/store/in_memory_sop_store.h"

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

Caller MakeCaller(RoleSet roles) {
  Caller caller;
  caller.org = "default";
  caller.user_id = "ops@example.com";
  caller.roles = roles;
  return caller;
}

// The model port as DraftSop sees it: answers `answer` and counts its calls.
// (The model drafter itself is tested against a fake chat server, in
// plugins/drafting/openai and tests/integration/authoring_integration_test.)
class CountingDrafter final : public Drafter {
 public:
  explicit CountingDrafter(absl::StatusOr<v1::Sop> answer) : answer_(std::move(answer)) {}
  absl::StatusOr<v1::Sop> Draft(absl::string_view) const override {
    ++calls_;
    return answer_;
  }
  int calls() const { return calls_; }

 private:
  absl::StatusOr<v1::Sop> answer_;
  mutable std::atomic<int> calls_{0};
};

class AuthoringTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto registry = SopRegistry::Create(&store_, &clock_, LinearSopMatcher::Build);
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = std::move(registry).value();
    authoring_ = std::make_unique<Authoring>(registry_.get(), &builtin_, &model_);
  }

  v1::Sop CreateExample(const std::string& id) {
    const std::string path = absl::StrCat(SOP_EXAMPLES_DIR, "/mql-acceptance-handoff.yaml");
    absl::StatusOr<v1::Sop> sop = ParseSopFile(path, ReadFile(path));
    EXPECT_TRUE(sop.ok()) << sop.status();
    v1::CreateSopRequest create;
    create.set_parent("orgs/default");
    create.set_sop_id(id);
    *create.mutable_sop() = *sop;
    absl::StatusOr<v1::Sop> created = registry_->CreateSop(ops_, create);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.value_or(v1::Sop());
  }

  int SopCount() {
    v1::ListSopsRequest list;
    list.set_parent("orgs/default");
    auto listed = registry_->ListSops(admin_, list);
    EXPECT_TRUE(listed.ok()) << listed.status();
    return listed.ok() ? listed->sops_size() : -1;
  }

  v1::DraftSopRequest DraftRequest(absl::string_view drafter = "") {
    v1::DraftSopRequest request;
    request.set_parent("orgs/default");
    request.set_brief(std::string(kBrief));
    request.set_drafter(std::string(drafter));
    return request;
  }

  InMemorySopStore store_;
  FakeClock clock_;
  std::unique_ptr<SopRegistry> registry_;
  BuiltinDrafter builtin_;
  CountingDrafter model_{
      BuiltinDrafter().Draft("outbound leads, 3-touch cadence over 3 days, call/email")};
  std::unique_ptr<Authoring> authoring_;
  Caller ops_ = MakeCaller(RoleBit(v1::SALES_OPS));
  Caller admin_ = MakeCaller(RoleBit(v1::ADMIN));
  Caller sdr_ = MakeCaller(RoleBit(v1::SDR));
};

TEST_F(AuthoringTest, DiagramOfDraftAndPublishedRevisionIsTheLibrarysGolden) {
  CreateExample("mql");
  v1::GetSopDiagramRequest request;
  request.set_name("orgs/default/sops/mql");
  absl::StatusOr<v1::SopDiagram> draft = authoring_->GetSopDiagram(ops_, request);
  ASSERT_TRUE(draft.ok()) << draft.status();
  EXPECT_EQ(draft->source(),
            ReadFile(absl::StrCat(SOP_DIAGRAM_TESTDATA, "/mql-handoff-flowchart.mmd")));
  EXPECT_EQ(draft->sop(), "orgs/default/sops/mql");
  EXPECT_EQ(draft->revision_id(), "1");
  EXPECT_EQ(draft->kind(), v1::FLOWCHART);
  EXPECT_EQ(draft->format(), v1::MERMAID);

  v1::PublishSopRequest publish;
  publish.set_name("orgs/default/sops/mql");
  publish.set_emergency(true);
  publish.set_reason("test");
  ASSERT_TRUE(registry_->PublishSop(admin_, publish).ok());
  // A later draft does not change the published revision's diagram.
  v1::UpdateSopRequest update;
  update.mutable_sop()->set_name("orgs/default/sops/mql");
  update.mutable_sop()->set_title("Changed");
  update.mutable_update_mask()->add_paths("title");
  ASSERT_TRUE(registry_->UpdateSop(ops_, update).ok());

  request.set_revision("published");
  request.set_kind(v1::SWIMLANE);
  request.set_format(v1::DOT);
  absl::StatusOr<v1::SopDiagram> published = authoring_->GetSopDiagram(ops_, request);
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(published->source(),
            ReadFile(absl::StrCat(SOP_DIAGRAM_TESTDATA, "/mql-handoff-swimlane.dot")));
  EXPECT_EQ(published->kind(), v1::SWIMLANE);
  EXPECT_EQ(published->format(), v1::DOT);

  request.set_revision("1");
  request.set_kind(v1::SWIMLANE);
  request.set_format(v1::MERMAID);
  absl::StatusOr<v1::SopDiagram> first = authoring_->GetSopDiagram(ops_, request);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->revision_id(), "1");
  EXPECT_EQ(first->source(),
            ReadFile(absl::StrCat(SOP_DIAGRAM_TESTDATA, "/mql-handoff-swimlane.mmd")));
}

TEST_F(AuthoringTest, DiagramOfADraftTheCallerCannotReadIsGetSopsError) {
  CreateExample("mql");
  v1::GetSopDiagramRequest request;
  request.set_name("orgs/default/sops/mql");
  v1::GetSopRequest get;
  get.set_name("orgs/default/sops/mql");
  const absl::Status expected = registry_->GetSop(sdr_, get).status();
  ASSERT_EQ(expected.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(authoring_->GetSopDiagram(sdr_, request).status(), expected);
  request.set_name("orgs/default/sops/missing");
  EXPECT_EQ(authoring_->GetSopDiagram(ops_, request).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(AuthoringTest, PublishedDiagramOfAnUnpublishedSopIsFailedPrecondition) {
  CreateExample("mql");
  v1::GetSopDiagramRequest request;
  request.set_name("orgs/default/sops/mql");
  request.set_revision("published");
  const absl::Status status = authoring_->GetSopDiagram(ops_, request).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("has no published revision"));
}

TEST_F(AuthoringTest, MalformedRevisionIsInvalidArgumentNamingRevision) {
  CreateExample("mql");
  v1::GetSopDiagramRequest request;
  request.set_name("orgs/default/sops/mql");
  request.set_revision("latest");
  const absl::Status status = authoring_->GetSopDiagram(ops_, request).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("revision:"));
}

TEST_F(AuthoringTest, BuiltinDraftIsSavedAsAnUnpublishedDraft) {
  absl::StatusOr<v1::DraftSopResponse> drafted = authoring_->DraftSop(ops_, DraftRequest());
  ASSERT_TRUE(drafted.ok()) << drafted.status();
  EXPECT_EQ(drafted->drafter(), "builtin");
  EXPECT_EQ(drafted->sop().state(), v1::Sop::DRAFT);
  EXPECT_TRUE(drafted->sop().published_revision_id().empty());
  EXPECT_EQ(drafted->sop().revision_id(), "1");
  EXPECT_THAT(drafted->sop().name(), HasSubstr("orgs/default/sops/"));
  EXPECT_EQ(SopCount(), 1);
  EXPECT_EQ(model_.calls(), 0);

  v1::ValidateSopRequest validate;
  validate.set_parent("orgs/default");
  *validate.mutable_sop() = drafted->sop();
  absl::StatusOr<v1::ValidateSopResponse> validated = authoring_->ValidateSop(ops_, validate);
  ASSERT_TRUE(validated.ok()) << validated.status();
  EXPECT_THAT(validated->violations(), IsEmpty());
}

TEST_F(AuthoringTest, RetryWithRequestIdReturnsTheFirstDraftWithoutDraftingAgain) {
  v1::DraftSopRequest request = DraftRequest("model");
  request.set_request_id("draft-1");
  absl::StatusOr<v1::DraftSopResponse> first = authoring_->DraftSop(ops_, request);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->drafter(), "model");
  absl::StatusOr<v1::DraftSopResponse> retry = authoring_->DraftSop(ops_, request);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->sop().name(), first->sop().name());
  EXPECT_EQ(model_.calls(), 1);
  EXPECT_EQ(SopCount(), 1);
}

TEST_F(AuthoringTest, ModelDrafterNotConfiguredIsFailedPreconditionNamingDrafter) {
  Authoring without_model(registry_.get(), &builtin_, nullptr);
  const absl::Status status = without_model.DraftSop(ops_, DraftRequest("model")).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("drafter: \"model\" is not configured"));
  EXPECT_EQ(SopCount(), 0);
}

TEST_F(AuthoringTest, UnknownDrafterIsInvalidArgumentNamingDrafter) {
  const absl::Status status = authoring_->DraftSop(ops_, DraftRequest("gpt")).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("drafter: unknown drafter \"gpt\""));
}

TEST_F(AuthoringTest, ABriefTheDrafterCannotSatisfyNamesBriefAndSavesNothing) {
  v1::DraftSopRequest request = DraftRequest();
  request.set_brief("inbound MQL, 0-touch cadence over 5 days, call");
  const absl::Status status = authoring_->DraftSop(ops_, request).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("brief"));
  request.set_brief("   ");
  EXPECT_EQ(authoring_->DraftSop(ops_, request).status().message(), "brief: is required");
  EXPECT_EQ(SopCount(), 0);
}

TEST_F(AuthoringTest, AFailingModelSavesNothing) {
  CountingDrafter failing(error::ModelTimeout("http://127.0.0.1:1", absl::Seconds(1)));
  Authoring authoring(registry_.get(), &builtin_, &failing);
  const absl::Status status = authoring.DraftSop(ops_, DraftRequest("model")).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(SopCount(), 0);
}

TEST_F(AuthoringTest, ValidateOnlyDraftsAndSavesNothing) {
  v1::DraftSopRequest request = DraftRequest();
  request.set_validate_only(true);
  absl::StatusOr<v1::DraftSopResponse> drafted = authoring_->DraftSop(ops_, request);
  ASSERT_TRUE(drafted.ok()) << drafted.status();
  EXPECT_FALSE(drafted->sop().title().empty());
  EXPECT_TRUE(drafted->sop().name().empty());
  EXPECT_EQ(SopCount(), 0);
}

TEST_F(AuthoringTest, OnlySopEditorsDraftAndValidate) {
  EXPECT_EQ(authoring_->DraftSop(sdr_, DraftRequest()).status().code(),
            absl::StatusCode::kPermissionDenied);
  v1::ValidateSopRequest validate;
  validate.set_parent("orgs/default");
  validate.set_yaml("title: T\n");
  EXPECT_EQ(authoring_->ValidateSop(sdr_, validate).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(SopCount(), 0);
}

TEST_F(AuthoringTest, ValidateSopListsEveryViolationAtItsPath) {
  v1::ValidateSopRequest request;
  request.set_parent("orgs/default");
  v1::Sop* sop = request.mutable_sop();
  sop->set_owner("O");
  sop->add_steps()->set_ordinal(1);
  sop->add_steps()->set_ordinal(1);
  absl::StatusOr<v1::ValidateSopResponse> response = authoring_->ValidateSop(ops_, request);
  ASSERT_TRUE(response.ok()) << response.status();
  std::vector<std::string> fields;
  for (const v1::SopViolation& v : response->violations()) {
    fields.push_back(v.field());
    EXPECT_FALSE(v.description().empty());
    EXPECT_EQ(v.line(), 0);
  }
  EXPECT_THAT(fields, ::testing::IsSupersetOf({"title", "steps[0].title", "steps[1].title"}));
  EXPECT_GE(fields.size(), 3);
}

TEST_F(AuthoringTest, ValidateSopYamlGivesLineAndColumnAndTheSwimlane) {
  v1::ValidateSopRequest request;
  request.set_parent("orgs/default");
  request.set_include_diagram(true);
  request.set_yaml(
      "title: T\n"
      "owner: O\n"
      "steps:\n"
      "  - ordinal: 1\n"
      "    title: \"\"\n"
      "    responsible_role: SDR\n");
  absl::StatusOr<v1::ValidateSopResponse> response = authoring_->ValidateSop(ops_, request);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_THAT(response->violations(), SizeIs(1));
  EXPECT_EQ(response->violations(0).field(), "steps[0].title");
  EXPECT_EQ(response->violations(0).line(), 5);
  EXPECT_EQ(response->violations(0).column(), 5);
  EXPECT_EQ(response->diagram().kind(), v1::SWIMLANE);
  EXPECT_EQ(response->diagram().format(), v1::MERMAID);
  EXPECT_THAT(response->diagram().source(), HasSubstr("flowchart TD"));

  request.set_yaml("title: T\nowner: a: b\n");
  response = authoring_->ValidateSop(ops_, request);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_THAT(response->violations(), SizeIs(1));
  EXPECT_EQ(response->violations(0).field(), "");
  EXPECT_THAT(response->violations(0).description(), HasSubstr("YAML syntax"));
  EXPECT_EQ(response->violations(0).line(), 2);
  EXPECT_GT(response->violations(0).column(), 0);
  EXPECT_FALSE(response->has_diagram());
}

}  // namespace
}  // namespace sopsidebar
