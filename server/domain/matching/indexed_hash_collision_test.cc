// The indexed engine under hash collisions: values, field names and record
// types whose hashes collide for real (found by searching, so the tests
// follow the hash functions if they change) must still be told apart, with
// the baseline's results. Each test first checks, on the engine's internal
// structures, that the collision it built reaches the path it is about.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/domain/matching/field_dictionary.h"
#include "server/domain/matching/index_hashing.h"
#include "server/domain/matching/index_segment.h"
#include "server/domain/matching/indexed_sop_matcher.h"
#include "server/domain/matching/linear_sop_matcher.h"
#include "server/domain/matching/rule_program.h"
#include "server/domain/matching/segment_builder.h"
#include "server/domain/matching/test_sops.h"

namespace sopsidebar::indexed_internal {
namespace {

using test::Context;
using test::Published;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

// Two distinct strings "<prefix><n>" whose `hash32` agree (a birthday
// search: about 80,000 tries for 32 bits).
std::pair<std::string, std::string> FindCollision(
    const std::string& prefix, const std::function<uint32_t(const std::string&)>& hash32) {
  absl::flat_hash_map<uint32_t, std::string> seen;
  for (int i = 0; i < 4000000; ++i) {
    std::string s = absl::StrCat(prefix, i);
    auto [it, inserted] = seen.try_emplace(hash32(s), s);
    if (!inserted) return {it->second, s};
  }
  ADD_FAILURE() << "no collision found";
  return {};
}

std::string Sop(const std::string& conditions, const std::string& type = "Lead") {
  return absl::StrCat("targeting_rules { record_types: \"", type, "\" ", conditions, " }");
}

std::string Equals(const std::string& field, const std::string& value) {
  return absl::StrCat("conditions { field: \"", field, "\" equals { string_value: \"", value,
                      "\" } }");
}

v1::CrmContext Lead(const std::string& fields, const std::string& type = "Lead") {
  return Context(absl::StrCat("org: \"orgs/default\" record_type: \"", type, "\" ", fields));
}

std::string Field(const std::string& name, const std::string& value) {
  return absl::StrCat("fields { key: \"", name, "\" value { string_value: \"", value, "\" } } ");
}

std::string NumberField(const std::string& name, double value) {
  return absl::StrCat("fields { key: \"", name, "\" value { number_value: ", value, " } } ");
}

// The ids both engines match for `context`, after checking they agree.
std::vector<std::string> Matches(const std::vector<PublishedSopPtr>& sops,
                                 const v1::CrmContext& context) {
  std::vector<std::string> ids[2];
  int engine = 0;
  for (SopMatcherFactory build : {&LinearSopMatcher::Build, &IndexedSopMatcher::Build}) {
    std::unique_ptr<const SopMatcher> matcher = build(sops);
    for (const SopMatchResult& r : matcher->Match(MatchQuery{"default", &context, 10, kAllRoles})) {
      ids[engine].push_back(r.sop->name.sop);
    }
    ++engine;
  }
  EXPECT_EQ(ids[0], ids[1]) << "linear and indexed disagree";
  return ids[1];
}

// A segment of `sops` built as a matcher builds it.
std::shared_ptr<const Segment> SegmentOf(const std::vector<PublishedSopPtr>& sops,
                                         FieldDictionary* dict) {
  for (const PublishedSopPtr& sop : sops) {
    for (const v1::TargetingRule& rule : sop->body.targeting_rules()) {
      for (const v1::Condition& c : rule.conditions()) dict->Intern(c.field());
    }
  }
  return BuildSegment(sops, *dict);
}

// Two equality values whose posting keys share their fingerprint: the
// posting of one also yields the other's rule, which the confirmation on
// the protobuf condition rejects.
TEST(IndexedHashCollisionTest, ValuesSharingAPostingMatchOnlyTheirOwnRules) {
  // The salt of field f's postings in the Lead partition, which depends on
  // the partition and field ids only, not on the values.
  FieldDictionary probe_dict;
  const std::shared_ptr<const Segment> probe =
      SegmentOf({Published("probe", Sop(Equals("f", "x")))}, &probe_dict);
  ASSERT_EQ(probe->equality_fields.size(), 1u);
  const uint32_t salt = probe->equality_fields[0].salt;
  auto posting_key = [salt](const std::string& v) {
    return PostingKey(salt, StringHash(v, /*fold=*/false));
  };
  const auto [a, b] = FindCollision(
      "v", [&](const std::string& v) { return static_cast<uint32_t>(posting_key(v) >> 32); });
  ASSERT_NE(a, b);

  const std::vector<PublishedSopPtr> sops = {Published("a", Sop(Equals("f", a))),
                                             Published("b", Sop(Equals("f", b)))};
  FieldDictionary dict;
  const std::shared_ptr<const Segment> segment = SegmentOf(sops, &dict);
  ASSERT_EQ(segment->equality_fields.size(), 1u);
  ASSERT_EQ(segment->equality_fields[0].salt, salt);
  auto [begin, end] = segment->postings.Find(posting_key(a));
  ASSERT_EQ(end - begin, 2) << "the two rules share one posting list";

  EXPECT_THAT(Matches(sops, Lead(Field("f", a))), ElementsAre("a"));
  EXPECT_THAT(Matches(sops, Lead(Field("f", b))), ElementsAre("b"));
  EXPECT_THAT(Matches(sops, Lead(Field("f", "neither"))), IsEmpty());
}

// Equality conditions that are not a rule's access condition keep 32 bits
// of each value's hash in the program: a value sharing them is only a
// "confirm", settled on the protobuf condition, for any_of and none_of.
TEST(IndexedHashCollisionTest, ValuesSharingAProgramHashAreSettledOnTheCondition) {
  const auto [a, b] = FindCollision(
      "w", [](const std::string& v) { return Hash32(StringHash(v, /*fold=*/false)); });
  ASSERT_NE(a, b);
  // A range is a better access condition than an equality on a field with
  // one value, so f's condition stays in the program.
  const std::string in_range = "conditions { field: \"n\" range { min: 0 } } ";
  const std::vector<PublishedSopPtr> sops = {
      Published("any_of_a", Sop(in_range + Equals("f", a))),
      Published("none_of_a",
                Sop(in_range + "conditions { field: \"f\" none_of { values { string_value: \"" + a +
                    "\" } } }")),
  };
  FieldDictionary dict;
  const std::shared_ptr<const Segment> segment = SegmentOf(sops, &dict);
  ASSERT_TRUE(segment->equality_fields.empty()) << "f must not be the access condition";
  for (uint32_t rule : segment->members) {
    const uint32_t* operands;
    const uint32_t* second = NextCondition(segment->code.data() + rule + kRuleHeaderWords);
    const ConditionHeader c = DecodeCondition(second, &operands);
    ASSERT_TRUE(c.op == Op::kAnyOf || c.op == Op::kNoneOf);
    ASSERT_EQ(c.n, 1);
    ASSERT_EQ(operands[0], Hash32(StringHash(b, /*fold=*/false))) << "b hits a's hash";
  }

  EXPECT_THAT(Matches(sops, Lead(NumberField("n", 1) + Field("f", a))), ElementsAre("any_of_a"));
  EXPECT_THAT(Matches(sops, Lead(NumberField("n", 1) + Field("f", b))), ElementsAre("none_of_a"));
}

// Two field names sopd's dictionary hashes alike (same length, first and
// last eight bytes): a record's value of one must not satisfy the other's
// conditions.
TEST(IndexedHashCollisionTest, FieldNamesSharingADictionaryHashStayDistinct) {
  const std::string x = "custom__1__fields";
  const std::string y = "custom__2__fields";
  ASSERT_EQ(FieldNameHasher::Hash(x), FieldNameHasher::Hash(y));
  const std::vector<PublishedSopPtr> sops = {Published("on_x", Sop(Equals(x, "1"))),
                                             Published("on_y", Sop(Equals(y, "2")))};
  EXPECT_THAT(Matches(sops, Lead(Field(x, "1"))), ElementsAre("on_x"));
  EXPECT_THAT(Matches(sops, Lead(Field(y, "1"))), IsEmpty());
  EXPECT_THAT(Matches(sops, Lead(Field(x, "2"))), IsEmpty());
  EXPECT_THAT(Matches(sops, Lead(Field(y, "2"))), ElementsAre("on_y"));
  EXPECT_THAT(Matches(sops, Lead(Field(x, "1") + Field(y, "2"))),
              UnorderedElementsAre("on_x", "on_y"));
}

// Two record types of one org whose partitions share a fingerprint in the
// segment's partition table: a lookup finds both and keeps its own.
TEST(IndexedHashCollisionTest, RecordTypesSharingAPartitionHashStayDistinct) {
  const uint64_t org_hash = StringHash("default", /*fold=*/false);
  const auto [s, t] = FindCollision("T", [org_hash](const std::string& type) {
    return static_cast<uint32_t>(PartitionHash(org_hash, &type) >> 32);
  });
  ASSERT_NE(s, t);
  const std::vector<PublishedSopPtr> sops = {Published("on_s", Sop(Equals("f", "1"), s)),
                                             Published("on_t", Sop(Equals("f", "1"), t))};
  FieldDictionary dict;
  const std::shared_ptr<const Segment> segment = SegmentOf(sops, &dict);
  auto [begin, end] = segment->partition_table.Find(PartitionHash(org_hash, &s));
  ASSERT_EQ(end - begin, 2) << "both partitions share one fingerprint";

  EXPECT_THAT(Matches(sops, Lead(Field("f", "1"), s)), ElementsAre("on_s"));
  EXPECT_THAT(Matches(sops, Lead(Field("f", "1"), t)), ElementsAre("on_t"));
}

}  // namespace
}  // namespace sopsidebar::indexed_internal
