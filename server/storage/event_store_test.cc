// Behaviour every EventStore must have, run against both implementations,
// and what only the RocksDB store promises (durability, one batch per write,
// databases from before its events column family).
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "server/common/clock.h"
#include "server/domain/store/in_memory_event_store.h"
#include "server/storage/rocksdb_store.h"

namespace sopsidebar {
namespace {

using internal::v1::AggregateDimensions;
using internal::v1::EventAggregate;
using internal::v1::StoredEvent;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;
using ::testing::UnorderedElementsAreArray;

constexpr absl::Duration kRetention = absl::Hours(1);

std::string TempDir(absl::string_view name) {
  std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                              absl::StrCat(name, "-", ::getpid(), "-", rand());
  std::filesystem::remove_all(dir);
  return dir.string();
}

StoredEvent MakeEvent(absl::string_view id, absl::Time time) {
  StoredEvent event;
  event.mutable_event()->set_event_id(std::string(id));
  event.mutable_event()->set_type(v1::Event::PANEL_SHOWN);
  *event.mutable_event()->mutable_event_time() = ToProtoTimestamp(time);
  event.set_rep("rep@example.com");
  return event;
}

AggregateDelta MakeDelta(DayNumber day, absl::string_view sop, absl::string_view counter,
                         int64_t count, std::vector<int64_t> delays = {}) {
  AggregateDelta delta;
  delta.day = day;
  delta.dimensions.set_sop(std::string(sop));
  delta.dimensions.set_rep("rep@example.com");
  (*delta.delta.mutable_counts())[std::string(counter)] = count;
  for (int64_t delay : delays) delta.delta.add_first_contact_delays_ms(delay);
  return delta;
}

// The aggregates of `org` in [first, last], by (day, sop), in the order
// ForEachAggregate gave the days.
struct Aggregates {
  absl::Status status;
  std::vector<DayNumber> days;
  std::map<std::pair<DayNumber, std::string>, EventAggregate> by_day_and_sop;
  std::map<std::pair<DayNumber, std::string>, AggregateDimensions> dimensions;

  // The aggregate of (day, sop); empty when there is none.
  EventAggregate At(DayNumber day, absl::string_view sop) const {
    auto it = by_day_and_sop.find({day, std::string(sop)});
    return it == by_day_and_sop.end() ? EventAggregate() : it->second;
  }
};
Aggregates ReadAggregates(const EventStore& store, absl::string_view org, DayNumber first,
                          DayNumber last) {
  Aggregates out;
  out.status = store.ForEachAggregate(
      org, first, last,
      [&](DayNumber day, const AggregateDimensions& dimensions, const EventAggregate& aggregate) {
        out.days.push_back(day);
        out.by_day_and_sop[{day, dimensions.sop()}] = aggregate;
        out.dimensions[{day, dimensions.sop()}] = dimensions;
        return absl::OkStatus();
      });
  return out;
}

// The ids of the events of `org` ForEachEvent gives for [since, until).
std::vector<std::string> EventIds(const EventStore& store, absl::string_view org, absl::Time since,
                                  absl::Time until) {
  std::vector<std::string> ids;
  absl::Status status = store.ForEachEvent(org, since, until, [&](const StoredEvent& event) {
    ids.push_back(event.event().event_id());
    return absl::OkStatus();
  });
  EXPECT_TRUE(status.ok()) << status;
  return ids;
}

std::vector<bool> SeenOrDie(const EventStore& store, absl::string_view org,
                            std::vector<std::string> keys) {
  absl::StatusOr<std::vector<bool>> seen = store.Seen(org, keys);
  EXPECT_TRUE(seen.ok()) << seen.status();
  return seen.value_or(std::vector<bool>());
}

// How each implementation is opened, and how its retention is made to act
// now (RocksDB drops at compaction, the in-memory store at a write).
struct Implementation {
  std::string name;
  std::function<std::unique_ptr<EventStore>(const Clock& clock)> open;
  std::function<absl::Status(EventStore& store)> expire;
};

void PrintTo(const Implementation& implementation, std::ostream* out) {
  *out << implementation.name;
}

class EventStoreContractTest : public ::testing::TestWithParam<Implementation> {
 protected:
  void SetUp() override { store_ = GetParam().open(clock_); }
  absl::Time Now() const { return clock_.Now(); }

  FakeClock clock_;
  std::unique_ptr<EventStore> store_;
};

TEST(AddAggregateTest, SumsCountsByNameAndAppendsDelays) {
  EventAggregate into;
  (*into.mutable_counts())["shown"] = 2;
  (*into.mutable_counts())["code/D-Budget"] = 1;
  into.add_first_contact_delays_ms(100);
  EventAggregate delta;
  (*delta.mutable_counts())["shown"] = 3;
  (*delta.mutable_counts())["first_contact"] = 1;
  delta.add_first_contact_delays_ms(50);
  delta.add_first_contact_delays_ms(700);
  AddAggregate(delta, &into);
  EXPECT_THAT(into.counts(), UnorderedElementsAre(Pair("shown", 5), Pair("code/D-Budget", 1),
                                                  Pair("first_contact", 1)));
  EXPECT_THAT(into.first_contact_delays_ms(), ElementsAre(100, 50, 700));
}

TEST_P(EventStoreContractTest, AWriteIsSeenByItsEventIdsAndMarksInItsOrgOnly) {
  EventWrite write;
  write.org = "acme";
  write.events = {MakeEvent("ev-1", Now()), MakeEvent("ev-2", Now())};
  write.marks = {"first/record-1/sop-a"};
  write.marks_time = Now();
  write.deltas = {MakeDelta(20454, "sop-a", "shown", 2)};
  ASSERT_TRUE(store_->Write(write).ok());

  EXPECT_THAT(SeenOrDie(*store_, "acme", {"ev-1", "nope", "first/record-1/sop-a", "ev-2"}),
              ElementsAre(true, false, true, true));
  EXPECT_THAT(SeenOrDie(*store_, "other", {"ev-1", "first/record-1/sop-a"}),
              ElementsAre(false, false));
  EXPECT_THAT(SeenOrDie(*store_, "acme", {}), IsEmpty());
  EXPECT_THAT(EventIds(*store_, "acme", Now(), Now() + absl::Seconds(1)),
              ElementsAre("ev-1", "ev-2"));
  Aggregates aggregates = ReadAggregates(*store_, "acme", 20454, 20454);
  ASSERT_TRUE(aggregates.status.ok()) << aggregates.status;
  EXPECT_THAT(aggregates.At(20454, "sop-a").counts(), UnorderedElementsAre(Pair("shown", 2)));
}

TEST_P(EventStoreContractTest, MarksWithSlashesOrEscapesAreKeptApart) {
  EventWrite write;
  write.org = "acme";
  write.marks = {"a/b"};
  write.marks_time = Now();
  ASSERT_TRUE(store_->Write(write).ok());
  EXPECT_THAT(SeenOrDie(*store_, "acme", {"a/b", "a%2Fb", "a", "a/"}),
              ElementsAre(true, false, false, false));
}

TEST_P(EventStoreContractTest, AnInvalidWriteWritesNothing) {
  EventWrite write;
  write.org = "acme";
  write.events = {MakeEvent("ev-1", Now()), MakeEvent("", Now())};
  write.marks = {"mark"};
  write.marks_time = Now();
  write.deltas = {MakeDelta(20454, "sop-a", "shown", 1)};
  absl::Status status = store_->Write(write);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(SeenOrDie(*store_, "acme", {"ev-1", "mark"}), ElementsAre(false, false));
  EXPECT_THAT(EventIds(*store_, "acme", absl::UnixEpoch(), absl::InfiniteFuture()), IsEmpty());
  EXPECT_THAT(ReadAggregates(*store_, "acme", 0, kLastDayNumber).days, IsEmpty());
}

TEST_P(EventStoreContractTest, WritesWithABadOrgTimeOrDayAreInvalid) {
  EventWrite bad_org;
  bad_org.org = "Not/An/Org";
  EXPECT_EQ(store_->Write(bad_org).code(), absl::StatusCode::kInvalidArgument);
  EventWrite old_event;
  old_event.org = "acme";
  old_event.events = {MakeEvent("ev-1", absl::UnixEpoch() - absl::Seconds(1))};
  EXPECT_EQ(store_->Write(old_event).code(), absl::StatusCode::kInvalidArgument);
  EventWrite old_marks;
  old_marks.org = "acme";
  old_marks.marks = {"mark"};
  old_marks.marks_time = absl::UnixEpoch() - absl::Seconds(1);
  EXPECT_EQ(store_->Write(old_marks).code(), absl::StatusCode::kInvalidArgument);
  EventWrite bad_day;
  bad_day.org = "acme";
  bad_day.deltas = {MakeDelta(-1, "sop-a", "shown", 1)};
  EXPECT_EQ(store_->Write(bad_day).code(), absl::StatusCode::kInvalidArgument);
  bad_day.deltas = {MakeDelta(kLastDayNumber + 1, "sop-a", "shown", 1)};
  EXPECT_EQ(store_->Write(bad_day).code(), absl::StatusCode::kInvalidArgument);
}

TEST_P(EventStoreContractTest, ConcurrentWritersToOneAggregateLoseNoDelta) {
  constexpr int kThreads = 4;
  constexpr int kWritesPerThread = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWritesPerThread; ++i) {
        EventWrite write;
        write.org = "acme";
        write.deltas = {MakeDelta(20454, "sop-a", "shown", 1, {t * kWritesPerThread + i})};
        (*write.deltas[0].delta.mutable_counts())[absl::StrCat("thread/", t)] = 2;
        absl::Status status = store_->Write(write);
        ASSERT_TRUE(status.ok()) << status;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  Aggregates aggregates = ReadAggregates(*store_, "acme", 20454, 20454);
  ASSERT_TRUE(aggregates.status.ok()) << aggregates.status;
  ASSERT_THAT(aggregates.days, ElementsAre(20454));
  const EventAggregate sum = aggregates.At(20454, "sop-a");
  EXPECT_THAT(sum.counts(), UnorderedElementsAre(Pair("shown", kThreads * kWritesPerThread),
                                                 Pair("thread/0", 2 * kWritesPerThread),
                                                 Pair("thread/1", 2 * kWritesPerThread),
                                                 Pair("thread/2", 2 * kWritesPerThread),
                                                 Pair("thread/3", 2 * kWritesPerThread)));
  std::vector<int64_t> every_delay;
  for (int i = 0; i < kThreads * kWritesPerThread; ++i) every_delay.push_back(i);
  EXPECT_THAT(sum.first_contact_delays_ms(), UnorderedElementsAreArray(every_delay));
}

TEST_P(EventStoreContractTest, ForEachAggregateGivesOnlyTheOrgAndDaysAskedDayByDay) {
  for (const char* org : {"acme", "acme-2", "acm"}) {
    EventWrite write;
    write.org = org;
    for (DayNumber day : {20451, 20452, 20453, 20454}) {
      write.deltas.push_back(MakeDelta(day, "sop-a", "shown", day - 20450));
      write.deltas.push_back(MakeDelta(day, "sop-b", "shown", 10));
    }
    ASSERT_TRUE(store_->Write(write).ok());
  }
  Aggregates aggregates = ReadAggregates(*store_, "acme", 20452, 20453);
  ASSERT_TRUE(aggregates.status.ok()) << aggregates.status;
  EXPECT_THAT(aggregates.days, ElementsAre(20452, 20452, 20453, 20453));
  ASSERT_EQ(aggregates.by_day_and_sop.size(), 4u);
  EXPECT_EQ(aggregates.At(20452, "sop-a").counts().at("shown"), 2);
  EXPECT_EQ(aggregates.At(20453, "sop-a").counts().at("shown"), 3);
  EXPECT_EQ(aggregates.At(20453, "sop-b").counts().at("shown"), 10);
  EXPECT_EQ(aggregates.dimensions.at({20453, "sop-b"}).rep(), "rep@example.com");
  EXPECT_THAT(ReadAggregates(*store_, "acme", 20455, kLastDayNumber).days, IsEmpty());
  EXPECT_THAT(ReadAggregates(*store_, "acme", 20454, 20453).days, IsEmpty());
  EXPECT_THAT(ReadAggregates(*store_, "acme", -5, kLastDayNumber).days, SizeIs(8));
}

TEST_P(EventStoreContractTest, ForEachEventGivesTheOrgsEventsInTimeOrderFromSinceUntilUntil) {
  const absl::Time t = Now();
  EventWrite write;
  write.org = "acme";
  write.events = {
      MakeEvent("at-3", t + absl::Seconds(3)),   MakeEvent("at-1", t + absl::Seconds(1)),
      MakeEvent("at-5", t + absl::Seconds(5)),   MakeEvent("b-at-2", t + absl::Seconds(2)),
      MakeEvent("a-at-2", t + absl::Seconds(2)), MakeEvent("at-0", t)};
  ASSERT_TRUE(store_->Write(write).ok());
  EventWrite other;
  other.org = "acme-2";
  other.events = {MakeEvent("other", t + absl::Seconds(2))};
  ASSERT_TRUE(store_->Write(other).ok());

  EXPECT_THAT(EventIds(*store_, "acme", t + absl::Seconds(1), t + absl::Seconds(5)),
              ElementsAre("at-1", "a-at-2", "b-at-2", "at-3"));
  EXPECT_THAT(EventIds(*store_, "acme", absl::InfinitePast(), absl::InfiniteFuture()),
              ElementsAre("at-0", "at-1", "a-at-2", "b-at-2", "at-3", "at-5"));
  EXPECT_THAT(EventIds(*store_, "acme", t + absl::Seconds(5), t + absl::Seconds(5)), IsEmpty());
  EXPECT_THAT(EventIds(*store_, "acme", t + absl::Seconds(6), t), IsEmpty());
}

TEST_P(EventStoreContractTest, ForEachStopsAtAndReturnsTheFirstError) {
  EventWrite write;
  write.org = "acme";
  write.events = {MakeEvent("ev-1", Now()), MakeEvent("ev-2", Now() + absl::Seconds(1))};
  write.deltas = {MakeDelta(20454, "sop-a", "shown", 1), MakeDelta(20455, "sop-a", "shown", 1)};
  ASSERT_TRUE(store_->Write(write).ok());
  int calls = 0;
  absl::Status status =
      store_->ForEachEvent("acme", absl::UnixEpoch(), absl::InfiniteFuture(), [&](const auto&) {
        ++calls;
        return absl::CancelledError("enough");
      });
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(calls, 1);
  calls = 0;
  status =
      store_->ForEachAggregate("acme", 0, kLastDayNumber, [&](DayNumber, const auto&, const auto&) {
        ++calls;
        return absl::CancelledError("enough");
      });
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(calls, 1);
}

TEST_P(EventStoreContractTest, RetentionDropsOldEventsIdsAndMarksAndKeepsAggregates) {
  const absl::Time t = Now();
  EventWrite old_write;
  old_write.org = "acme";
  old_write.events = {MakeEvent("old", t - absl::Minutes(50))};
  old_write.marks = {"old-mark"};
  old_write.marks_time = t - absl::Minutes(50);
  old_write.deltas = {MakeDelta(20454, "sop-a", "shown", 1, {10})};
  ASSERT_TRUE(store_->Write(old_write).ok());
  EventWrite new_write;
  new_write.org = "acme";
  new_write.events = {MakeEvent("new", t - absl::Minutes(5))};
  new_write.marks = {"new-mark"};
  new_write.marks_time = t - absl::Minutes(5);
  new_write.deltas = {MakeDelta(20454, "sop-a", "shown", 1, {20})};
  ASSERT_TRUE(store_->Write(new_write).ok());
  const std::vector<std::string> keys = {"old", "old-mark", "new", "new-mark"};
  ASSERT_THAT(SeenOrDie(*store_, "acme", keys), ElementsAre(true, true, true, true));

  // The cutoff moves to t - 30m: "old" is 20 minutes past the retention.
  clock_.Advance(absl::Minutes(30));
  ASSERT_TRUE(GetParam().expire(*store_).ok());

  EXPECT_THAT(SeenOrDie(*store_, "acme", keys), ElementsAre(false, false, true, true));
  EXPECT_THAT(EventIds(*store_, "acme", absl::UnixEpoch(), absl::InfiniteFuture()),
              ElementsAre("new"));
  Aggregates aggregates = ReadAggregates(*store_, "acme", 20454, 20454);
  ASSERT_TRUE(aggregates.status.ok()) << aggregates.status;
  const EventAggregate kept = aggregates.At(20454, "sop-a");
  EXPECT_THAT(kept.counts(), UnorderedElementsAre(Pair("shown", 2)));
  EXPECT_THAT(kept.first_contact_delays_ms(), UnorderedElementsAre(10, 20));

  // A delta written after the expiry adds to what it kept.
  ASSERT_TRUE(store_->Write(new_write).ok());
  EXPECT_THAT(ReadAggregates(*store_, "acme", 20454, 20454).At(20454, "sop-a").counts(),
              UnorderedElementsAre(Pair("shown", 3)));
}

TEST_P(EventStoreContractTest, AnEventIdRewrittenLaterOutlivesItsFirstEvent) {
  const absl::Time t = Now();
  EventWrite first;
  first.org = "acme";
  first.events = {MakeEvent("ev-1", t - absl::Minutes(50))};
  ASSERT_TRUE(store_->Write(first).ok());
  EventWrite retry;
  retry.org = "acme";
  retry.events = {MakeEvent("ev-1", t - absl::Minutes(5))};
  ASSERT_TRUE(store_->Write(retry).ok());
  clock_.Advance(absl::Minutes(30));
  ASSERT_TRUE(GetParam().expire(*store_).ok());
  EXPECT_THAT(SeenOrDie(*store_, "acme", {"ev-1"}), ElementsAre(true));
  EXPECT_THAT(EventIds(*store_, "acme", absl::UnixEpoch(), absl::InfiniteFuture()),
              ElementsAre("ev-1"));
}

INSTANTIATE_TEST_SUITE_P(
    Stores, EventStoreContractTest,
    ::testing::Values(Implementation{"InMemory",
                                     [](const Clock& clock) -> std::unique_ptr<EventStore> {
                                       InMemoryEventStore::Options options;
                                       options.retention = kRetention;
                                       options.now = [&clock] { return clock.Now(); };
                                       return std::make_unique<InMemoryEventStore>(
                                           std::move(options));
                                     },
                                     [](EventStore& store) {
                                       static_cast<InMemoryEventStore&>(store).PruneForTesting();
                                       return absl::OkStatus();
                                     }},
                      Implementation{
                          "RocksDb",
                          [](const Clock& clock) -> std::unique_ptr<EventStore> {
                            RocksDbStore::Options options;
                            options.event_retention = kRetention;
                            options.now = [&clock] { return clock.Now(); };
                            auto store = RocksDbStore::Open(TempDir("events"), std::move(options));
                            EXPECT_TRUE(store.ok()) << store.status();
                            return std::move(store).value();
                          },
                          [](EventStore& store) {
                            return static_cast<RocksDbStore&>(store).CompactEventsForTesting();
                          }}),
    [](const ::testing::TestParamInfo<Implementation>& info) { return info.param.name; });

TEST(RocksDbEventStoreTest, EventsIdsMarksAndAggregatesSurviveReopen) {
  const std::string dir = TempDir("events-reopen");
  const absl::Time t = absl::Now();
  {
    auto store = RocksDbStore::Open(dir);
    ASSERT_TRUE(store.ok()) << store.status();
    EventWrite write;
    write.org = "acme";
    write.events = {MakeEvent("ev-1", t)};
    write.marks = {"mark"};
    write.marks_time = t;
    write.deltas = {MakeDelta(20454, "sop-a", "shown", 3)};
    ASSERT_TRUE((*store)->Write(write).ok());
    write.events.clear();
    write.marks.clear();
    ASSERT_TRUE((*store)->Write(write).ok());
  }
  auto store = RocksDbStore::Open(dir);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_THAT(SeenOrDie(**store, "acme", {"ev-1", "mark"}), ElementsAre(true, true));
  EXPECT_THAT(EventIds(**store, "acme", absl::UnixEpoch(), absl::InfiniteFuture()),
              ElementsAre("ev-1"));
  Aggregates aggregates = ReadAggregates(**store, "acme", 20454, 20454);
  ASSERT_TRUE(aggregates.status.ok()) << aggregates.status;
  EXPECT_THAT(aggregates.At(20454, "sop-a").counts(), UnorderedElementsAre(Pair("shown", 6)));
}

TEST(RocksDbEventStoreTest, ADatabaseFromBeforeTheEventsFamilyOpensAndGainsIt) {
  const std::string dir = TempDir("events-upgrade");
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    v1::Sop head;
    head.set_name("orgs/acme/sops/a");
    head.set_title("Kept");
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "h/acme/a", head.SerializeAsString()).ok());
    ASSERT_TRUE(db->Close().ok());
  }
  for (int open = 0; open < 2; ++open) {
    auto store = RocksDbStore::Open(dir);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ((*store)->GetHead({"acme", "a"})->title(), "Kept");
    EventWrite write;
    write.org = "acme";
    write.deltas = {MakeDelta(20454, "sop-a", "shown", 1)};
    ASSERT_TRUE((*store)->Write(write).ok());
    Aggregates aggregates = ReadAggregates(**store, "acme", 20454, 20454);
    ASSERT_TRUE(aggregates.status.ok()) << aggregates.status;
    EXPECT_THAT(aggregates.At(20454, "sop-a").counts(),
                UnorderedElementsAre(Pair("shown", open + 1)));
  }
  std::vector<std::string> families;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &families).ok());
  EXPECT_THAT(families, UnorderedElementsAre("default", "events"));
}

TEST(RocksDbEventStoreTest, AnEventWriteIsOneBatchOfEventIdMarkAndMergeKeys) {
  auto store = RocksDbStore::Open(TempDir("events-batch"));
  ASSERT_TRUE(store.ok()) << store.status();
  const uint64_t before = (*store)->LatestSequenceNumberForTesting();
  EventWrite write;
  write.org = "acme";
  write.events = {MakeEvent("ev-1", absl::FromUnixMicros(1767225600'000'000))};
  write.marks = {"first/r-1"};
  write.marks_time = absl::FromUnixMicros(1767225600'000'000);
  write.deltas = {MakeDelta(20454, "sop-a", "shown", 1)};
  ASSERT_TRUE((*store)->Write(write).ok());
  auto batches = (*store)->BatchesSinceForTesting(before);
  ASSERT_TRUE(batches.ok()) << batches.status();
  ASSERT_THAT(*batches, SizeIs(1));
  ASSERT_THAT((*batches)[0], SizeIs(4));
  EXPECT_EQ((*batches)[0][0], "e/acme/00001767225600000000/ev-1");
  EXPECT_EQ((*batches)[0][1], "i/acme/ev-1");
  EXPECT_EQ((*batches)[0][2], "k/acme/first%2Fr-1");
  EXPECT_EQ((*batches)[0][3],
            absl::StrCat("g/acme/00020454/", write.deltas[0].dimensions.SerializeAsString()));
}

}  // namespace
}  // namespace sopsidebar
