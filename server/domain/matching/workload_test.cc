#include "server/domain/matching/workload.h"

#include <numeric>

#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "server/domain/matching/linear_sop_matcher.h"

namespace sopsidebar {
namespace {

double MeanMatches(const CrmWorkload& workload, int queries) {
  auto matcher = LinearSopMatcher::Build(workload.sops());
  double total = 0;
  for (const WorkloadQuery& q : workload.Queries(queries, 99)) {
    total += matcher->Match(q.AsMatchQuery(1 << 20)).size();
  }
  return total / queries;
}

TEST(CrmWorkloadTest, SameSeedGivesTheSameSopsAndContexts) {
  CrmWorkloadOptions options;
  options.rules = 300;
  CrmWorkload a(options), b(options);
  ASSERT_EQ(a.sops().size(), b.sops().size());
  for (size_t i = 0; i < a.sops().size(); ++i) {
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(a.sops()[i]->body,
                                                                   b.sops()[i]->body));
  }
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(a.Queries(5, 1)[4].context,
                                                                 b.Queries(5, 1)[4].context));
}

TEST(CrmWorkloadTest, HasTheRequestedNumberOfRules) {
  CrmWorkloadOptions options;
  options.rules = 1000;
  CrmWorkload workload(options);
  int rules = 0;
  for (const auto& sop : workload.sops()) rules += sop->body.targeting_rules_size();
  EXPECT_NEAR(rules, 1000, 4);
}

TEST(CrmWorkloadTest, AboutOneSopMatchesATypicalContext) {
  CrmWorkloadOptions options;
  options.rules = 8000;
  const double mean = MeanMatches(CrmWorkload(options), 200);
  EXPECT_GT(mean, 0.2);
  EXPECT_LT(mean, 5);
}

TEST(CrmWorkloadTest, OnePercentSettingMatchesAboutOnePercentOfTheScope) {
  CrmWorkloadOptions options;
  options.rules = 8000;
  options.match_rate = MatchRate::kOnePercent;
  const double mean = MeanMatches(CrmWorkload(options), 200);
  // Scope: about 3/8 of the rules of one org (40/30/20/10%).
  EXPECT_GT(mean, 5);
  EXPECT_LT(mean, 60);
}

}  // namespace
}  // namespace sopsidebar
