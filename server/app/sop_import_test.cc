#include "server/app/sop_import.h"

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"
#include "server/domain/matching/linear_sop_matcher.h"
#include "server/domain/store/in_memory_sop_store.h"

namespace sopsidebar {
namespace {

using ::testing::HasSubstr;

class SopImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_ = SopRegistry::Create(&store_, &clock_, LinearSopMatcher::Build).value();
  }
  FakeClock clock_;
  InMemorySopStore store_;
  std::unique_ptr<SopRegistry> registry_;
};

TEST_F(SopImportTest, ExamplesImportAndPublishOnceThenStayUnchanged) {
  auto first = ImportSopFiles(*registry_, SOP_EXAMPLES_DIR);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->created, 6);
  EXPECT_EQ(first->published, 6);
  EXPECT_EQ(registry_->published_count(), 6u);
  const int writes = store_.write_count();

  auto second = ImportSopFiles(*registry_, SOP_EXAMPLES_DIR, ExistingSop::kUpdate);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->unchanged, 6);
  EXPECT_EQ(second->published, 0);
  EXPECT_EQ(store_.write_count(), writes);
}

class SopImportOfEditedSopTest : public SopImportTest {
 protected:
  void SetUp() override {
    SopImportTest::SetUp();
    ASSERT_TRUE(ImportSopFiles(*registry_, SOP_EXAMPLES_DIR).ok());
    caller_.org = "default";
    caller_.user_id = "ops@example.com";
    caller_.roles = RoleBit(v1::SALES_OPS);
    v1::GetSopRequest get;
    get.set_name(kName);
    v1::UpdateSopRequest update;
    *update.mutable_sop() = registry_->GetSop(caller_, get).value();
    update.mutable_sop()->set_title("Edited by hand");
    ASSERT_TRUE(registry_->UpdateSop(caller_, update).ok());
  }
  std::string Title() {
    v1::GetSopRequest get;
    get.set_name(kName);
    return registry_->GetSop(caller_, get).value().title();
  }
  static constexpr char kName[] = "orgs/default/sops/mql-acceptance-handoff";
  Caller caller_;
};

TEST_F(SopImportOfEditedSopTest, ImportKeepsAnEditedSop) {
  const int writes = store_.write_count();
  auto again = ImportSopFiles(*registry_, SOP_EXAMPLES_DIR);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->kept, 6);
  EXPECT_EQ(again->updated, 0);
  EXPECT_EQ(again->published, 0);
  EXPECT_EQ(Title(), "Edited by hand");
  EXPECT_EQ(store_.write_count(), writes);
}

TEST_F(SopImportOfEditedSopTest, ImportWithOverwriteRevertsAnEditedSop) {
  auto again = ImportSopFiles(*registry_, SOP_EXAMPLES_DIR, ExistingSop::kUpdate);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->updated, 1);
  EXPECT_EQ(again->unchanged, 5);
  EXPECT_EQ(again->kept, 0);
  EXPECT_EQ(again->published, 1);
  EXPECT_EQ(Title(), "MQL Acceptance & Handoff");
}

TEST_F(SopImportTest, BadFileStopsTheImportBeforeAnyWrite) {
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / "sop-import-bad";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "a-good.yaml") << "title: Good\nowner: Ops\n"
                                        "targeting_rules:\n  - record_types: [Lead]\n";
  std::ofstream(dir / "b-bad.yaml") << "title: Bad\nowner: Ops\nsteps:\n"
                                       "  - ordinal: 1\n    title: One\n"
                                       "  - ordinal: 1\n    title: Again\n";
  auto result = ImportSopFiles(*registry_, dir.string());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(), HasSubstr("b-bad.yaml"));
  EXPECT_THAT(result.status().message(), HasSubstr("steps[1].ordinal"));
  EXPECT_EQ(store_.write_count(), 0);
}

}  // namespace
}  // namespace sopsidebar
