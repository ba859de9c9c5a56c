// sopd's own metrics: counters, gauges and histograms with fixed buckets,
// grouped in labelled families, rendered in the Prometheus text exposition
// format 0.0.4 (what GET /metrics serves).
//
// The hot path touches only cells: a family's Get (a mutex and a map lookup)
// runs once per label set, and the caller keeps the pointer; after that an
// update is one or two relaxed atomic operations. Values read at scrape time
// (sizes, engine statistics, uptime) come from collectors instead.
//
// Never put tenant data (org names, SOP or user ids) into label values: who
// may scrape is not who may read an org (docs/OPERATIONS.md, Monitoring).
#ifndef SOPSIDEBAR_SERVER_COMMON_METRICS_H_
#define SOPSIDEBAR_SERVER_COMMON_METRICS_H_

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace sopsidebar {

// A value that only goes up. Thread-safe, lock-free.
class Counter {
 public:
  void Increment(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down. Thread-safe, lock-free.
class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double delta);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Observations counted into fixed buckets (upper bounds, ascending; +Inf is
// implied), with their sum. Thread-safe, lock-free.
class Histogram {
 public:
  // `bounds` must be ascending and outlive the histogram.
  explicit Histogram(const std::vector<double>* bounds);

  void Observe(double value);

  struct Snapshot {
    // Cumulative counts per bound, then the +Inf bucket (== count).
    std::vector<uint64_t> cumulative;
    double sum = 0;
    uint64_t count = 0;
  };
  // Not atomic across buckets: a scrape racing an Observe may see it in the
  // bucket and not yet in the sum (Prometheus tolerates it).
  Snapshot Read() const;

 private:
  const std::vector<double>& bounds_;
  // Per bucket, not cumulative: one increment per observation.
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<double> sum_{0};
};

// Label values, one per label name of the family, in the same order.
using LabelValues = std::vector<std::string>;

// The cells of one metric name, one per label set. Thread-safe; cells live
// as long as the registry.
template <class Cell>
class MetricFamily {
 public:
  // The cell of `values`, made on first use (a mutex and a map lookup: keep
  // the pointer). The number of values must match the label names; a
  // mismatch is a programming error (abort).
  Cell* Get(const LabelValues& values);

 private:
  friend class MetricsRegistry;
  MetricFamily(std::vector<std::string> label_names, std::function<std::unique_ptr<Cell>()> make)
      : label_names_(std::move(label_names)), make_(std::move(make)) {}

  const std::vector<std::string> label_names_;
  const std::function<std::unique_ptr<Cell>()> make_;
  mutable absl::Mutex mu_;
  // Ordered, so that the exposition is stable.
  std::map<LabelValues, std::unique_ptr<Cell>> cells_ ABSL_GUARDED_BY(mu_);
};

// What a collector writes at scrape time: one metric (name, help, type) per
// call, unlabelled or with its labelled samples.
class MetricWriter {
 public:
  struct Sample {
    LabelValues values;
    double value = 0;
  };
  void Gauge(absl::string_view name, absl::string_view help, double value);
  void Counter(absl::string_view name, absl::string_view help, double value);
  void Gauges(absl::string_view name, absl::string_view help,
              const std::vector<std::string>& label_names, const std::vector<Sample>& samples);

 private:
  friend class MetricsRegistry;
  explicit MetricWriter(std::string* out) : out_(out) {}
  std::string* const out_;
};

// Every metric of a process. Thread-safe: families are registered at
// start-up (names must be unique and valid: a programming error aborts),
// cells are updated from any thread, Render may run concurrently with both.
class MetricsRegistry {
 public:
  using Collector = std::function<void(MetricWriter&)>;

  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  MetricFamily<Counter>* AddCounter(std::string name, std::string help,
                                    std::vector<std::string> label_names = {});
  MetricFamily<Gauge>* AddGauge(std::string name, std::string help,
                                std::vector<std::string> label_names = {});
  // `bounds`: the buckets' upper bounds, ascending (+Inf implied).
  MetricFamily<Histogram>* AddHistogram(std::string name, std::string help,
                                        std::vector<std::string> label_names,
                                        std::vector<double> bounds);
  // Called on every Render, after the families, in the order added. It must
  // be quick and must not call back into the registry.
  void AddCollector(Collector collect);

  // The text exposition format 0.0.4: families in the order registered
  // (their cells sorted by label values), then the collectors' metrics.
  std::string Render() const;

  // The content type of Render's text.
  static constexpr absl::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Entry {
    std::string name;
    std::string help;
    Type type;
    std::vector<double> bounds;
    std::unique_ptr<MetricFamily<Counter>> counters;
    std::unique_ptr<MetricFamily<Gauge>> gauges;
    std::unique_ptr<MetricFamily<Histogram>> histograms;
  };
  Entry* Add(std::string name, std::string help, Type type) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Entry>> entries_ ABSL_GUARDED_BY(mu_);
  std::vector<Collector> collectors_ ABSL_GUARDED_BY(mu_);
};

template <class Cell>
Cell* MetricFamily<Cell>::Get(const LabelValues& values) {
  if (values.size() != label_names_.size()) std::abort();
  absl::MutexLock lock(&mu_);
  std::unique_ptr<Cell>& cell = cells_[values];
  if (cell == nullptr) cell = make_();
  return cell.get();
}

// "sopd_rocksdb_estimate_num_keys" from ("sopd_", "rocksdb.estimate-num-keys"):
// every character a metric name may not hold becomes '_'.
std::string MetricName(absl::string_view prefix, absl::string_view name);

// A sample value as the exposition writes it: integers without a fraction,
// others in the shortest form that reads back the same, "+Inf", "-Inf", "NaN".
std::string FormatMetricValue(double value);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_COMMON_METRICS_H_
