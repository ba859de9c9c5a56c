#include "common/ids.h"

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/synchronization/mutex.h"

namespace sopsidebar {

std::string RandomId(absl::string_view prefix, int length) {
  static constexpr absl::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  static absl::Mutex mu(absl::kConstInit);
  static absl::BitGen* gen ABSL_GUARDED_BY(mu) = new absl::BitGen();
  std::string id(prefix);
  absl::MutexLock lock(&mu);
  for (int i = 0; i < length; ++i) {
    id.push_back(kAlphabet[absl::Uniform<size_t>(*gen, 0, kAlphabet.size())]);
  }
  return id;
}

}  // namespace sopsidebar
