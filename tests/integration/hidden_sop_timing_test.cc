// A caller who may not see an SOP must not learn that it exists, not even
// from how long the answer takes: over loopback gRPC against a real sopd,
// an SDR's GetSop of the AE-only pricing playbook (hidden) and of a name
// that does not exist (missing) must take the same time.
//
// A statistical test on a shared, noisy machine: the two calls alternate
// (in ABBA order, so neither always follows the other) after a warm-up, many
// times, and the medians are compared. The leak this guards against (sopd
// reading and parsing the hidden body before deciding) measured +40 to +90
// us here, also with both cores busy; equal work measures within +-6 us. A
// round over the bound is repeated, up to kRounds times, before the test
// fails, so that one burst of noise from a concurrent build does not fail
// it.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/errors.h"
#include "gtest/gtest.h"
#include "tests/integration/sopd_fixture.h"

namespace sopsidebar {
namespace {

constexpr int kWarmUpPairs = 300;
constexpr int kPairs = 800;
constexpr int kRounds = 3;
// Well between the leak's +40 us and equal work's +-6 us.
constexpr double kMaxMedianGapMicros = 20;

// Same length as the hidden name, so both answers carry equally long names.
constexpr char kHidden[] = "orgs/default/sops/pricing-discount-playbook";
constexpr char kMissing[] = "orgs/default/sops/missing-discount-playbook";

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

class HiddenSopTimingTest : public test::SopdFixture {
 protected:
  void SetUp() override {
    options_.import_dir = SOP_EXAMPLES_DIR;
    StartServer();
  }

  // GetSop's duration in microseconds; expects NOT_FOUND for `name`.
  double TimedGet(client::Client& sdr, const std::string& name) {
    const auto start = std::chrono::steady_clock::now();
    const absl::Status status = sdr.GetSop(name).status();
    const auto end = std::chrono::steady_clock::now();
    EXPECT_EQ(status, error::SopNotFound(name));
    return std::chrono::duration<double, std::micro>(end - start).count();
  }
};

TEST_F(HiddenSopTimingTest, HiddenSopTakesAsLongAsAMissingOne) {
  client::Client sdr = ClientFor(IssueToken(admin_token_, "sam@example.com", {v1::SDR}));
  for (int i = 0; i < kWarmUpPairs; ++i) {
    TimedGet(sdr, kHidden);
    TimedGet(sdr, kMissing);
  }
  std::vector<std::string> rounds;
  bool within_bound = false;
  for (int round = 0; round < kRounds && !within_bound; ++round) {
    std::vector<double> hidden, missing;
    for (int i = 0; i < kPairs; ++i) {
      if (i % 2 == 0) {
        hidden.push_back(TimedGet(sdr, kHidden));
        missing.push_back(TimedGet(sdr, kMissing));
      } else {
        missing.push_back(TimedGet(sdr, kMissing));
        hidden.push_back(TimedGet(sdr, kHidden));
      }
    }
    const double hidden_median = Median(hidden);
    const double missing_median = Median(missing);
    within_bound = std::abs(hidden_median - missing_median) < kMaxMedianGapMicros;
    rounds.push_back(absl::StrFormat("hidden %.1f us, missing %.1f us (gap %+.1f us)",
                                     hidden_median, missing_median,
                                     hidden_median - missing_median));
    std::cout << "GetSop medians over " << kPairs << " pairs: " << rounds.back() << std::endl;
  }
  EXPECT_TRUE(within_bound) << "every round's medians differ by " << kMaxMedianGapMicros
                            << " us or more:\n"
                            << absl::StrJoin(rounds, "\n");
}

}  // namespace
}  // namespace sopsidebar
