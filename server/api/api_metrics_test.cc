#include "server/api/api_metrics.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ApiMetricsTest, CountsCallsByMethodCodeAndTransportAndTimesThem) {
  MetricsRegistry registry;
  ApiMetrics metrics(&registry, {"sopsidebar.v1.ContextService"});
  const auto* lookup = google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
      "sopsidebar.v1.ContextService.LookupSops");
  ASSERT_NE(lookup, nullptr);
  metrics.CallEnded(Transport::kGrpc, lookup, absl::StatusCode::kOk, absl::Microseconds(80));
  metrics.CallEnded(Transport::kGrpc, lookup, absl::StatusCode::kOk, absl::Milliseconds(3));
  metrics.CallEnded(Transport::kConnect, lookup, absl::StatusCode::kUnauthenticated,
                    absl::Microseconds(20));
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("sopd_rpc_requests_total{method=\"/sopsidebar.v1.ContextService/"
                              "LookupSops\",code=\"OK\",transport=\"grpc\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("sopd_rpc_requests_total{method=\"/sopsidebar.v1.ContextService/"
                              "LookupSops\",code=\"UNAUTHENTICATED\",transport=\"connect\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("sopd_rpc_duration_seconds_bucket{method=\"/sopsidebar.v1."
                              "ContextService/LookupSops\",transport=\"grpc\",le=\"0.0001\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("sopd_rpc_duration_seconds_count{method=\"/sopsidebar.v1."
                              "ContextService/LookupSops\",transport=\"grpc\"} 2\n"));
  // Cells appear once used: no row of zeros for every method.
  EXPECT_THAT(text, Not(HasSubstr("WatchSops")));
}

TEST(ApiMetricsTest, APathNoMethodHasIsCountedAsUnknown) {
  MetricsRegistry registry;
  ApiMetrics metrics(&registry, {"sopsidebar.v1.ContextService"});
  metrics.CallEnded(Transport::kConnect, nullptr, absl::StatusCode::kUnimplemented,
                    absl::Microseconds(5));
  EXPECT_THAT(registry.Render(),
              HasSubstr("sopd_rpc_requests_total{method=\"unknown\",code=\"UNIMPLEMENTED\","
                        "transport=\"connect\"} 1\n"));
}

TEST(ApiMetricsTest, CountsLookupsTheirMatchesAndTheUnmatched) {
  MetricsRegistry registry;
  ApiMetrics metrics(&registry, {});
  metrics.LookupAnswered(2);
  metrics.LookupAnswered(0);
  metrics.LookupAnswered(3);
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("sopd_lookups_total 3\n"));
  EXPECT_THAT(text, HasSubstr("sopd_lookup_matches_total 5\n"));
  EXPECT_THAT(text, HasSubstr("sopd_lookups_unmatched_total 1\n"));
}

}  // namespace
}  // namespace sopsidebar
