#include "server/common/work_queue.h"

#include <atomic>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

TEST(WorkQueueTest, RunsEveryScheduledTask) {
  std::atomic<int> ran{0};
  {
    WorkQueue queue({"test", 3, 100});
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(queue.TrySchedule([&ran] { ran.fetch_add(1); }));
    }
  }  // the destructor drains the queue
  EXPECT_EQ(ran.load(), 100);
}

TEST(WorkQueueTest, RefusesWorkBeyondCapacityWhileThreadsAreBusy) {
  absl::Notification release;
  absl::Notification started;
  WorkQueue queue({"test", 1, 2});
  ASSERT_TRUE(queue.TrySchedule([&] {
    started.Notify();
    release.WaitForNotification();
  }));
  started.WaitForNotification();
  // The one thread is busy: two tasks may wait, the third is refused.
  EXPECT_TRUE(queue.TrySchedule([] {}));
  EXPECT_TRUE(queue.TrySchedule([] {}));
  EXPECT_FALSE(queue.TrySchedule([] {}));
  EXPECT_EQ(queue.queued(), 2u);
  release.Notify();
}

TEST(WorkQueueTest, RunsTasksInQueueOrderOnOneThread) {
  std::vector<int> order;
  {
    WorkQueue queue({"test", 1, 10});
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(queue.TrySchedule([&order, i] { order.push_back(i); }));
    }
  }
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

}  // namespace
}  // namespace sopsidebar
