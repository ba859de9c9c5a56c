#include "server/common/metrics.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace sopsidebar {
namespace {

void AddTo(std::atomic<double>& target, double delta) {
  double current = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(current, current + delta, std::memory_order_relaxed)) {
  }
}

bool ValidName(absl::string_view name) {
  if (name.empty() || absl::ascii_isdigit(name[0])) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != ':') return false;
  }
  return true;
}

// HELP text escapes backslash and newline; label values also the quote.
std::string Escape(absl::string_view text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

void AppendHeader(std::string* out, absl::string_view name, absl::string_view help,
                  absl::string_view type) {
  absl::StrAppend(out, "# HELP ", name, " ", Escape(help, false), "\n# TYPE ", name, " ", type,
                  "\n");
}

// {a="x",b="y"} (with `extra`, an already formatted pair, last), or nothing.
std::string Labels(const std::vector<std::string>& names, const LabelValues& values,
                   absl::string_view extra = "") {
  if (names.empty() && extra.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ",";
    absl::StrAppend(&out, names[i], "=\"", Escape(values[i], true), "\"");
  }
  if (!extra.empty()) absl::StrAppend(&out, names.empty() ? "" : ",", extra);
  out += "}";
  return out;
}

void AppendSample(std::string* out, absl::string_view name, absl::string_view labels,
                  double value) {
  absl::StrAppend(out, name, labels, " ", FormatMetricValue(value), "\n");
}

}  // namespace

void Gauge::Add(double delta) { AddTo(value_, delta); }

Histogram::Histogram(const std::vector<double>* bounds)
    : bounds_(*bounds), buckets_(new std::atomic<uint64_t>[bounds->size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double value) {
  // A dozen bounds: a linear scan beats a binary search.
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  AddTo(sum_, value);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot snapshot;
  snapshot.cumulative.reserve(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    snapshot.count += buckets_[i].load(std::memory_order_relaxed);
    snapshot.cumulative.push_back(snapshot.count);
  }
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

void MetricWriter::Gauge(absl::string_view name, absl::string_view help, double value) {
  AppendHeader(out_, name, help, "gauge");
  AppendSample(out_, name, "", value);
}

void MetricWriter::Counter(absl::string_view name, absl::string_view help, double value) {
  AppendHeader(out_, name, help, "counter");
  AppendSample(out_, name, "", value);
}

void MetricWriter::Gauges(absl::string_view name, absl::string_view help,
                          const std::vector<std::string>& label_names,
                          const std::vector<Sample>& samples) {
  AppendHeader(out_, name, help, "gauge");
  for (const Sample& sample : samples) {
    if (sample.values.size() != label_names.size()) std::abort();
    AppendSample(out_, name, Labels(label_names, sample.values), sample.value);
  }
}

MetricsRegistry::Entry* MetricsRegistry::Add(std::string name, std::string help, Type type) {
  if (!ValidName(name)) std::abort();
  for (const auto& entry : entries_) {
    if (entry->name == name) std::abort();
  }
  auto entry = std::make_unique<Entry>();
  entry->name = std::move(name);
  entry->help = std::move(help);
  entry->type = type;
  entries_.push_back(std::move(entry));
  return entries_.back().get();
}

MetricFamily<Counter>* MetricsRegistry::AddCounter(std::string name, std::string help,
                                                   std::vector<std::string> label_names) {
  absl::MutexLock lock(&mu_);
  Entry* entry = Add(std::move(name), std::move(help), Type::kCounter);
  entry->counters.reset(new MetricFamily<Counter>(std::move(label_names),
                                                  [] { return std::make_unique<Counter>(); }));
  return entry->counters.get();
}

MetricFamily<Gauge>* MetricsRegistry::AddGauge(std::string name, std::string help,
                                               std::vector<std::string> label_names) {
  absl::MutexLock lock(&mu_);
  Entry* entry = Add(std::move(name), std::move(help), Type::kGauge);
  entry->gauges.reset(
      new MetricFamily<Gauge>(std::move(label_names), [] { return std::make_unique<Gauge>(); }));
  return entry->gauges.get();
}

MetricFamily<Histogram>* MetricsRegistry::AddHistogram(std::string name, std::string help,
                                                       std::vector<std::string> label_names,
                                                       std::vector<double> bounds) {
  for (size_t i = 1; i < bounds.size(); ++i) {
    if (!(bounds[i - 1] < bounds[i])) std::abort();
  }
  absl::MutexLock lock(&mu_);
  Entry* entry = Add(std::move(name), std::move(help), Type::kHistogram);
  entry->bounds = std::move(bounds);
  const std::vector<double>* kept = &entry->bounds;
  entry->histograms.reset(new MetricFamily<Histogram>(
      std::move(label_names), [kept] { return std::make_unique<Histogram>(kept); }));
  return entry->histograms.get();
}

void MetricsRegistry::AddCollector(Collector collect) {
  absl::MutexLock lock(&mu_);
  collectors_.push_back(std::move(collect));
}

std::string MetricsRegistry::Render() const {
  std::string out;
  absl::MutexLock lock(&mu_);
  for (const auto& entry : entries_) {
    const std::string& name = entry->name;
    switch (entry->type) {
      case Type::kCounter: {
        AppendHeader(&out, name, entry->help, "counter");
        const MetricFamily<Counter>& family = *entry->counters;
        absl::MutexLock cells(&family.mu_);
        for (const auto& [values, cell] : family.cells_) {
          AppendSample(&out, name, Labels(family.label_names_, values),
                       static_cast<double>(cell->value()));
        }
        break;
      }
      case Type::kGauge: {
        AppendHeader(&out, name, entry->help, "gauge");
        const MetricFamily<Gauge>& family = *entry->gauges;
        absl::MutexLock cells(&family.mu_);
        for (const auto& [values, cell] : family.cells_) {
          AppendSample(&out, name, Labels(family.label_names_, values), cell->value());
        }
        break;
      }
      case Type::kHistogram: {
        AppendHeader(&out, name, entry->help, "histogram");
        const MetricFamily<Histogram>& family = *entry->histograms;
        absl::MutexLock cells(&family.mu_);
        for (const auto& [values, cell] : family.cells_) {
          const Histogram::Snapshot snapshot = cell->Read();
          for (size_t i = 0; i <= entry->bounds.size(); ++i) {
            const std::string le = absl::StrCat(
                "le=\"", i < entry->bounds.size() ? FormatMetricValue(entry->bounds[i]) : "+Inf",
                "\"");
            AppendSample(&out, absl::StrCat(name, "_bucket"),
                         Labels(family.label_names_, values, le),
                         static_cast<double>(snapshot.cumulative[i]));
          }
          const std::string labels = Labels(family.label_names_, values);
          AppendSample(&out, absl::StrCat(name, "_sum"), labels, snapshot.sum);
          AppendSample(&out, absl::StrCat(name, "_count"), labels,
                       static_cast<double>(snapshot.count));
        }
        break;
      }
    }
  }
  MetricWriter writer(&out);
  for (const Collector& collect : collectors_) collect(writer);
  return out;
}

std::string MetricName(absl::string_view prefix, absl::string_view name) {
  std::string out(prefix);
  for (char c : name) out += absl::ascii_isalnum(c) || c == '_' ? c : '_';
  return out;
}

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::trunc(value) && std::fabs(value) < 1e15) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  char buffer[32];
  for (int precision = 15; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

}  // namespace sopsidebar
