#include "server/app/sop_import.h"

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"
#include "server/domain/matching/linear_sop_matcher.h"
#include "server/storage/in_memory_sop_store.h"

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

  auto second = ImportSopFiles(*registry_, SOP_EXAMPLES_DIR);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->unchanged, 6);
  EXPECT_EQ(second->published, 0);
  EXPECT_EQ(store_.write_count(), writes);
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
