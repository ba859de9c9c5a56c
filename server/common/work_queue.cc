#include "server/common/work_queue.h"

#include <algorithm>
#include <utility>

namespace sopsidebar {

WorkQueue::WorkQueue(Options options) : options_(std::move(options)) {
  const int threads = std::max(1, options_.threads);
  threads_.reserve(threads);
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

WorkQueue::~WorkQueue() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& thread : threads_) thread.join();
}

bool WorkQueue::TrySchedule(absl::AnyInvocable<void() &&> task) {
  absl::MutexLock lock(&mu_);
  if (stopping_ || tasks_.size() >= options_.capacity) return false;
  tasks_.push_back(std::move(task));
  return true;
}

size_t WorkQueue::queued() const {
  absl::MutexLock lock(&mu_);
  return tasks_.size();
}

bool WorkQueue::HasTaskOrStopping() const { return stopping_ || !tasks_.empty(); }

void WorkQueue::Run() {
  for (;;) {
    absl::AnyInvocable<void() &&> task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &WorkQueue::HasTaskOrStopping));
      if (tasks_.empty()) return;  // stopping, and nothing left to run
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    std::move(task)();
  }
}

}  // namespace sopsidebar
