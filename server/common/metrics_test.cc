#include "server/common/metrics.h"

#include <limits>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

TEST(MetricsRegistryTest, RendersTheTextExpositionFormatExactly) {
  MetricsRegistry registry;
  MetricFamily<Counter>* requests =
      registry.AddCounter("sopd_rpc_requests_total", "Calls answered.", {"method", "code"});
  requests->Get({"/a.S/M", "OK"})->Increment(3);
  requests->Get({"/a.S/M", "NOT_FOUND"})->Increment();
  registry.AddGauge("sopd_open_streams", "Open streams.")->Get({})->Set(2);
  MetricFamily<Histogram>* latency =
      registry.AddHistogram("sopd_rpc_duration_seconds", "Latency.", {"method"}, {0.001, 0.5});
  Histogram* m = latency->Get({"/a.S/M"});
  m->Observe(0.0009765625);
  m->Observe(0.25);
  m->Observe(2);
  registry.AddCollector([](MetricWriter& out) {
    out.Gauge("sopd_uptime_seconds", "Up.", 1.5);
    out.Gauges("sopd_phase_seconds", "Phases.", {"phase"}, {{{"open_store"}, 0.125}});
  });

  EXPECT_EQ(registry.Render(),
            "# HELP sopd_rpc_requests_total Calls answered.\n"
            "# TYPE sopd_rpc_requests_total counter\n"
            "sopd_rpc_requests_total{method=\"/a.S/M\",code=\"NOT_FOUND\"} 1\n"
            "sopd_rpc_requests_total{method=\"/a.S/M\",code=\"OK\"} 3\n"
            "# HELP sopd_open_streams Open streams.\n"
            "# TYPE sopd_open_streams gauge\n"
            "sopd_open_streams 2\n"
            "# HELP sopd_rpc_duration_seconds Latency.\n"
            "# TYPE sopd_rpc_duration_seconds histogram\n"
            "sopd_rpc_duration_seconds_bucket{method=\"/a.S/M\",le=\"0.001\"} 1\n"
            "sopd_rpc_duration_seconds_bucket{method=\"/a.S/M\",le=\"0.5\"} 2\n"
            "sopd_rpc_duration_seconds_bucket{method=\"/a.S/M\",le=\"+Inf\"} 3\n"
            "sopd_rpc_duration_seconds_sum{method=\"/a.S/M\"} 2.2509765625\n"
            "sopd_rpc_duration_seconds_count{method=\"/a.S/M\"} 3\n"
            "# HELP sopd_uptime_seconds Up.\n"
            "# TYPE sopd_uptime_seconds gauge\n"
            "sopd_uptime_seconds 1.5\n"
            "# HELP sopd_phase_seconds Phases.\n"
            "# TYPE sopd_phase_seconds gauge\n"
            "sopd_phase_seconds{phase=\"open_store\"} 0.125\n");
}

TEST(MetricsRegistryTest, EscapesLabelValuesAndHelpText) {
  MetricsRegistry registry;
  registry.AddCounter("c_total", "a \\ b\nc", {"l"})->Get({"q\"\\\n"})->Increment();
  EXPECT_EQ(registry.Render(),
            "# HELP c_total a \\\\ b\\nc\n"
            "# TYPE c_total counter\n"
            "c_total{l=\"q\\\"\\\\\\n\"} 1\n");
}

TEST(MetricsRegistryTest, GetReturnsTheSameCellForTheSameLabels) {
  MetricsRegistry registry;
  MetricFamily<Counter>* family = registry.AddCounter("c_total", "c", {"a"});
  EXPECT_EQ(family->Get({"x"}), family->Get({"x"}));
  EXPECT_NE(family->Get({"x"}), family->Get({"y"}));
}

TEST(MetricsRegistryTest, ConcurrentUpdatesAreAllCounted) {
  MetricsRegistry registry;
  Counter* counter = registry.AddCounter("c_total", "c")->Get({});
  Gauge* gauge = registry.AddGauge("g", "g")->Get({});
  Histogram* histogram = registry.AddHistogram("h", "h", {}, {1})->Get({});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        counter->Increment();
        gauge->Add(1);
        histogram->Observe(0.5);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(counter->value(), 40000u);
  EXPECT_EQ(gauge->value(), 40000);
  Histogram::Snapshot snapshot = histogram->Read();
  EXPECT_EQ(snapshot.count, 40000u);
  EXPECT_EQ(snapshot.sum, 20000);
  EXPECT_EQ(snapshot.cumulative[0], 40000u);
}

TEST(MetricsRegistryTest, HistogramBoundsAreInclusive) {
  MetricsRegistry registry;
  Histogram* histogram = registry.AddHistogram("h", "h", {}, {1, 2})->Get({});
  histogram->Observe(1);
  histogram->Observe(2);
  histogram->Observe(2.5);
  EXPECT_EQ(histogram->Read().cumulative, (std::vector<uint64_t>{1, 2, 3}));
}

TEST(MetricNameTest, ReplacesWhatANameMayNotHold) {
  EXPECT_EQ(MetricName("sopd_rocksdb_", "rocksdb.estimate-num-keys"),
            "sopd_rocksdb_rocksdb_estimate_num_keys");
  EXPECT_EQ(MetricName("sopd_", "total-sst-files-size"), "sopd_total_sst_files_size");
}

TEST(FormatMetricValueTest, WritesIntegersPlainlyAndFractionsShortest) {
  EXPECT_EQ(FormatMetricValue(3), "3");
  EXPECT_EQ(FormatMetricValue(-2), "-2");
  EXPECT_EQ(FormatMetricValue(0.1), "0.1");
  EXPECT_EQ(FormatMetricValue(2.2505), "2.2505");
  EXPECT_EQ(FormatMetricValue(1e300), "1e+300");
  EXPECT_EQ(FormatMetricValue(std::numeric_limits<double>::infinity()), "+Inf");
}

}  // namespace
}  // namespace sopsidebar
