// The API's metrics: every call counted by method, code and transport and
// timed by method (sopd_rpc_*), and what lookups answered (sopd_lookups_*).
// Labels hold method paths and status codes only, never tenant data; a path
// no method has is counted as method="unknown", so that callers cannot mint
// label values.
#ifndef SOPSIDEBAR_SERVER_API_API_METRICS_H_
#define SOPSIDEBAR_SERVER_API_API_METRICS_H_

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "server/common/metrics.h"

namespace sopsidebar {

// The transport a call came over: the `transport` label.
enum class Transport { kGrpc, kConnect };
absl::string_view TransportName(Transport transport);

// Thread-safe. Per call: a hash lookup by descriptor pointer in a map fixed
// at construction, and relaxed atomics; a cell is made (under the family's
// mutex) only the first time its method, code and transport meet.
class ApiMetrics {
 public:
  // Registers sopd_rpc_requests_total, sopd_rpc_duration_seconds,
  // sopd_lookups_total, sopd_lookup_matches_total and
  // sopd_lookups_unmatched_total in `registry`, which must outlive this, and
  // a row for every method of `services` (full names, "sopsidebar.v1.SopService").
  ApiMetrics(MetricsRegistry* registry, const std::vector<std::string>& services);

  // A call of `method` (null: a path no method has) ended with `code` after
  // `latency`. Streams count once, when they open or fail to.
  void CallEnded(Transport transport, const google::protobuf::MethodDescriptor* method,
                 absl::StatusCode code, absl::Duration latency);

  // A lookup answered with `matches` matches: counts it, its matches, and
  // whether it matched nothing.
  void LookupAnswered(int matches);

  // The latency buckets, in seconds.
  static const std::vector<double>& DurationBuckets();

 private:
  static constexpr int kCodes = 17;  // absl::StatusCode 0..16
  static constexpr int kTransports = 2;
  struct Row {
    std::string path;
    std::array<std::array<std::atomic<Counter*>, kCodes>, kTransports> requests{};
    std::array<std::atomic<Histogram*>, kTransports> duration{};
  };
  void AddRow(const google::protobuf::MethodDescriptor* method, std::string path);

  MetricFamily<Counter>* const requests_;
  MetricFamily<Histogram>* const duration_;
  Counter* const lookups_;
  Counter* const matches_;
  Counter* const unmatched_;
  // Fixed at construction; the null key is "unknown".
  absl::flat_hash_map<const google::protobuf::MethodDescriptor*, std::unique_ptr<Row>> rows_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_API_API_METRICS_H_
