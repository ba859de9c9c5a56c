// A fixed set of threads running queued tasks, with a bounded queue: work
// that may block (storage reads and fsyncs) runs here instead of on a
// server's event threads, and a full queue refuses new work at once instead
// of letting memory or latency grow without bound.
#ifndef SOPSIDEBAR_SERVER_COMMON_WORK_QUEUE_H_
#define SOPSIDEBAR_SERVER_COMMON_WORK_QUEUE_H_

#include <cstddef>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace sopsidebar {

// Thread-safe. Tasks run in the order they were queued, each on one of the
// threads; the destructor runs every task already queued, then joins.
class WorkQueue {
 public:
  struct Options {
    // Named in logs and errors ("reads", "writes").
    std::string name;
    // Threads running tasks; at least 1.
    int threads = 4;
    // Tasks waiting for a thread; TrySchedule refuses more.
    size_t capacity = 1024;
  };

  explicit WorkQueue(Options options);
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Queues `task`, or returns false (and drops it) when `capacity` tasks
  // are already waiting or the queue is shutting down.
  bool TrySchedule(absl::AnyInvocable<void() &&> task);

  const Options& options() const { return options_; }
  // Tasks waiting for a thread now.
  size_t queued() const;

 private:
  void Run();
  bool HasTaskOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  mutable absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void() &&>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_COMMON_WORK_QUEUE_H_
