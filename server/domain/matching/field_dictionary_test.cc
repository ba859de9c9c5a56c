#include "server/domain/matching/field_dictionary.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sopsidebar::indexed_internal {
namespace {

using ::testing::ElementsAre;
using ::testing::Optional;

// Every name hashes alike: each lookup has to walk the probe sequence and
// tell names apart by comparing them.
struct CollidingHasher {
  static uint64_t Hash(absl::string_view) { return 0x2a2a2a2a2a2a2a2aULL; }
};

TEST(FieldDictionaryTest, InternGivesDenseIdsInFirstInternOrder) {
  FieldDictionary dict;
  EXPECT_EQ(dict.Intern("lead_status"), 0u);
  EXPECT_EQ(dict.Intern("lead_score"), 1u);
  EXPECT_EQ(dict.Intern("lead_status"), 0u);
  EXPECT_EQ(dict.Intern("title"), 2u);
  EXPECT_THAT(dict.names(), ElementsAre("lead_status", "lead_score", "title"));
}

TEST(FieldDictionaryTest, FindKnowsOnlyInternedNames) {
  FieldDictionary dict;
  EXPECT_EQ(dict.Find("lead_status"), std::nullopt);
  dict.Intern("lead_status");
  EXPECT_THAT(dict.Find("lead_status"), Optional(0u));
  EXPECT_EQ(dict.Find("lead_statu"), std::nullopt);
  EXPECT_EQ(dict.Find("Lead_status"), std::nullopt);
  EXPECT_EQ(dict.Find(""), std::nullopt);
}

TEST(FieldDictionaryTest, IdsSurviveGrowth) {
  FieldDictionary dict;
  for (uint32_t i = 0; i < 1000; ++i) ASSERT_EQ(dict.Intern(absl::StrCat("field_", i)), i);
  for (uint32_t i = 0; i < 1000; ++i) {
    EXPECT_THAT(dict.Find(absl::StrCat("field_", i)), Optional(i));
  }
  EXPECT_EQ(dict.Find("field_1000"), std::nullopt);
}

TEST(FieldDictionaryTest, CopiesExtendWithoutChangingTheOriginal) {
  FieldDictionary dict;
  dict.Intern("a");
  FieldDictionary copy = dict;
  EXPECT_EQ(copy.Intern("b"), 1u);
  EXPECT_THAT(copy.Find("a"), Optional(0u));
  EXPECT_EQ(dict.Find("b"), std::nullopt);
  EXPECT_EQ(dict.names().size(), 1u);
}

TEST(FieldDictionaryTest, NamesWhoseHashesCollideKeepTheirOwnIds) {
  BasicFieldDictionary<CollidingHasher> dict;
  std::vector<std::string> names;
  // Enough to grow the table several times while every name collides.
  for (int i = 0; i < 100; ++i) names.push_back(absl::StrCat("field_", i));
  for (uint32_t i = 0; i < names.size(); ++i) ASSERT_EQ(dict.Intern(names[i]), i);
  for (uint32_t i = 0; i < names.size(); ++i) EXPECT_THAT(dict.Find(names[i]), Optional(i));
  EXPECT_EQ(dict.Find("field_100"), std::nullopt);
  EXPECT_EQ(dict.Find(""), std::nullopt);
}

// sopd's hasher reads only a name's length and first and last eight bytes,
// so these two collide for real; the dictionary still tells them apart.
TEST(FieldDictionaryTest, ProductionHasherCollisionsStillFindEachName) {
  const std::string a = "custom__1__fields";
  const std::string b = "custom__2__fields";
  ASSERT_EQ(FieldNameHasher::Hash(a), FieldNameHasher::Hash(b));
  FieldDictionary dict;
  EXPECT_EQ(dict.Intern(a), 0u);
  EXPECT_EQ(dict.Intern(b), 1u);
  EXPECT_THAT(dict.Find(a), Optional(0u));
  EXPECT_THAT(dict.Find(b), Optional(1u));
  EXPECT_EQ(dict.Find("custom__3__fields"), std::nullopt);
}

}  // namespace
}  // namespace sopsidebar::indexed_internal
