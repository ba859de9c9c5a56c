#include "server/api/api_metrics.h"

#include <cstdint>
#include <utility>

#include "server/api/api_method.h"

namespace sopsidebar {

absl::string_view TransportName(Transport transport) {
  return transport == Transport::kGrpc ? "grpc" : "connect";
}

const std::vector<double>& ApiMetrics::DurationBuckets() {
  // Lookups take tens of microseconds, synced writes milliseconds.
  static const auto* const kBuckets =
      new std::vector<double>{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                              0.025,   0.05,   0.1,     0.25,   0.5,   1,      2.5,   10};
  return *kBuckets;
}

ApiMetrics::ApiMetrics(MetricsRegistry* registry, const std::vector<std::string>& services)
    : requests_(registry->AddCounter(
          "sopd_rpc_requests_total",
          "API calls answered, by method, status code and transport (grpc or connect).",
          {"method", "code", "transport"})),
      duration_(registry->AddHistogram(
          "sopd_rpc_duration_seconds",
          "Time from a call's arrival to its answer (a stream: to its opening), by method.",
          {"method", "transport"}, DurationBuckets())),
      lookups_(registry
                   ->AddCounter("sopd_lookups_total",
                                "LookupSops calls answered (near-miss and as_of ones too).")
                   ->Get({})),
      matches_(registry
                   ->AddCounter("sopd_lookup_matches_total",
                                "SOPs the answered lookups matched, summed.")
                   ->Get({})),
      unmatched_(
          registry
              ->AddCounter("sopd_lookups_unmatched_total", "Answered lookups that matched no SOP.")
              ->Get({})) {
  const google::protobuf::DescriptorPool* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const std::string& name : services) {
    const google::protobuf::ServiceDescriptor* service = pool->FindServiceByName(name);
    if (service == nullptr) continue;
    for (int i = 0; i < service->method_count(); ++i) {
      AddRow(service->method(i), MethodPath(*service->method(i)));
    }
  }
  AddRow(nullptr, "unknown");
}

void ApiMetrics::AddRow(const google::protobuf::MethodDescriptor* method, std::string path) {
  auto row = std::make_unique<Row>();
  row->path = std::move(path);
  rows_[method] = std::move(row);
}

void ApiMetrics::CallEnded(Transport transport, const google::protobuf::MethodDescriptor* method,
                           absl::StatusCode code, absl::Duration latency) {
  auto it = rows_.find(method);
  if (it == rows_.end()) it = rows_.find(nullptr);
  Row& row = *it->second;
  const int t = static_cast<int>(transport);
  int c = static_cast<int>(code);
  if (c < 0 || c >= kCodes) c = static_cast<int>(absl::StatusCode::kUnknown);
  std::atomic<Counter*>& counter_slot = row.requests[t][c];
  Counter* counter = counter_slot.load(std::memory_order_acquire);
  if (counter == nullptr) {
    // Two threads may both get here: Get returns the same cell to both.
    counter = requests_->Get({row.path, absl::StatusCodeToString(static_cast<absl::StatusCode>(c)),
                              std::string(TransportName(transport))});
    counter_slot.store(counter, std::memory_order_release);
  }
  counter->Increment();
  std::atomic<Histogram*>& histogram_slot = row.duration[t];
  Histogram* histogram = histogram_slot.load(std::memory_order_acquire);
  if (histogram == nullptr) {
    histogram = duration_->Get({row.path, std::string(TransportName(transport))});
    histogram_slot.store(histogram, std::memory_order_release);
  }
  histogram->Observe(absl::ToDoubleSeconds(latency));
}

void ApiMetrics::LookupAnswered(int matches) {
  lookups_->Increment();
  if (matches == 0) {
    unmatched_->Increment();
  } else {
    matches_->Increment(matches);
  }
}

}  // namespace sopsidebar
