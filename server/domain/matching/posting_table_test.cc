#include "server/domain/matching/posting_table.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sopsidebar::indexed_internal {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// A key with fingerprint `fp` (its high 32 bits) and low bits `low`.
uint64_t Key(uint32_t fp, uint32_t low = 0x1234) { return (uint64_t{fp} << 32) | low; }

std::vector<uint32_t> Values(const PostingTable& table, uint64_t key) {
  auto [begin, end] = table.Find(key);
  return std::vector<uint32_t>(begin, end);
}

PostingTable Table(const std::vector<std::pair<uint64_t, uint32_t>>& postings) {
  std::vector<uint64_t> entries;
  for (const auto& [key, value] : postings) entries.push_back(PostingTable::Entry(key, value));
  PostingTable table;
  table.Build(std::move(entries));
  return table;
}

TEST(PostingTableTest, FindReturnsTheValuesFiledUnderAKeyAscending) {
  const PostingTable table =
      Table({{Key(7), 30}, {Key(9), 5}, {Key(7), 10}, {Key(0x80000000u), 1}, {Key(7), 20}});
  EXPECT_THAT(Values(table, Key(7)), ElementsAre(10, 20, 30));
  EXPECT_THAT(Values(table, Key(9)), ElementsAre(5));
  EXPECT_THAT(Values(table, Key(0x80000000u)), ElementsAre(1));
}

TEST(PostingTableTest, AbsentKeysFindNothing) {
  EXPECT_THAT(Values(PostingTable(), Key(7)), IsEmpty());
  EXPECT_THAT(Values(Table({}), Key(7)), IsEmpty());
  const PostingTable table = Table({{Key(100), 1}, {Key(300), 2}, {Key(0xfffffff0u), 3}});
  EXPECT_THAT(Values(table, Key(1)), IsEmpty());            // below every key
  EXPECT_THAT(Values(table, Key(200)), IsEmpty());          // between keys
  EXPECT_THAT(Values(table, Key(0xffffffffu)), IsEmpty());  // above every key
}

// Only 32 bits of a key are kept: keys that share them share one list, so
// a caller gets the other key's values too and must verify what it gets.
TEST(PostingTableTest, KeysSharingAFingerprintShareTheirValues) {
  const uint64_t a = Key(42, 1);
  const uint64_t b = Key(42, 2);
  const PostingTable table = Table({{a, 3}, {b, 1}, {Key(43), 2}});
  EXPECT_THAT(Values(table, a), ElementsAre(1, 3));
  EXPECT_THAT(Values(table, b), ElementsAre(1, 3));
  EXPECT_THAT(Values(table, Key(42, 99)), ElementsAre(1, 3));
  EXPECT_THAT(Values(table, Key(43)), ElementsAre(2));
}

// Fingerprint 0 marks empty slots, so a key whose high bits are 0 is filed
// under fingerprint 1, alongside the keys that really have it.
TEST(PostingTableTest, FingerprintZeroSharesFingerprintOnesValues) {
  const PostingTable table = Table({{Key(0), 7}, {Key(1), 8}});
  EXPECT_THAT(Values(table, Key(0)), ElementsAre(7, 8));
  EXPECT_THAT(Values(table, Key(1)), ElementsAre(7, 8));
}

// The largest fingerprints overflow past the home slots into a tail.
TEST(PostingTableTest, CrowdedHighFingerprintsAreAllFound) {
  std::vector<std::pair<uint64_t, uint32_t>> postings;
  for (uint32_t i = 0; i < 50; ++i) postings.emplace_back(Key(0xffffffffu - i), i);
  const PostingTable table = Table(postings);
  for (uint32_t i = 0; i < 50; ++i) {
    EXPECT_THAT(Values(table, Key(0xffffffffu - i)), ElementsAre(i));
  }
  EXPECT_THAT(Values(table, Key(0xffffffffu - 50)), IsEmpty());
}

TEST(PostingTableTest, EveryPostingOfARandomTableIsFound) {
  std::mt19937_64 rng(5);
  std::vector<uint64_t> keys(1000);
  for (uint64_t& key : keys) key = rng();
  // Values by fingerprint (0 read as 1), each list ascending.
  std::map<uint64_t, std::vector<uint32_t>> want;
  std::vector<std::pair<uint64_t, uint32_t>> postings;
  for (uint32_t i = 0; i < 20000; ++i) {
    const uint64_t key = keys[rng() % keys.size()];
    postings.emplace_back(key, i);
    want[std::max<uint64_t>(key >> 32, 1)].push_back(i);
  }
  const PostingTable table = Table(postings);
  for (uint64_t key : keys) EXPECT_EQ(Values(table, key), want[std::max<uint64_t>(key >> 32, 1)]);
}

}  // namespace
}  // namespace sopsidebar::indexed_internal
