#include "host/metrics/network_metrics.h"

namespace wick::metrics {

namespace {

using Stats = network::NetworkPoolStats;

struct Figure {
  const char* name;
  const char* help;
  prometheus::MetricType type;
  double (*value)(const Stats&);
};

constexpr Figure kFigures[] = {
    {"wick_network_pool_ready", "Namespaces attached and ready to be taken",
     prometheus::MetricType::Gauge, [](const Stats& s) { return static_cast<double>(s.ready); }},
    {"wick_network_namespaces_attached_total", "Namespaces made and attached (CNI ADD)",
     prometheus::MetricType::Counter,
     [](const Stats& s) { return static_cast<double>(s.attached); }},
    {"wick_network_attach_failures_total", "CNI ADDs that failed", prometheus::MetricType::Counter,
     [](const Stats& s) { return static_cast<double>(s.attach_failures); }},
    {"wick_network_attach_seconds_total", "Time spent attaching namespaces",
     prometheus::MetricType::Counter, [](const Stats& s) { return s.attach_ms_total / 1000.0; }},
    {"wick_network_pool_takes_total", "Namespaces taken by new execution environments",
     prometheus::MetricType::Counter, [](const Stats& s) { return static_cast<double>(s.taken); }},
    {"wick_network_pool_waits_total",
     "Takes that found the pool empty and waited for a namespace (cold starts held up)",
     prometheus::MetricType::Counter, [](const Stats& s) { return static_cast<double>(s.waited); }},
    {"wick_network_pool_wait_seconds_total", "Time those takes waited",
     prometheus::MetricType::Counter, [](const Stats& s) { return s.wait_ms_total / 1000.0; }},
};

}  // namespace

std::vector<prometheus::MetricFamily> networkPoolFamilies(
    const std::map<std::string, network::NetworkPoolStats>& pools) {
  std::vector<prometheus::MetricFamily> families;
  for (const Figure& figure : kFigures) {
    prometheus::MetricFamily family{figure.name, figure.help, figure.type, {}};
    for (const auto& [network, stats] : pools) {
      prometheus::ClientMetric metric;
      metric.label = {{"network", network}};
      if (figure.type == prometheus::MetricType::Gauge)
        metric.gauge.value = figure.value(stats);
      else
        metric.counter.value = figure.value(stats);
      family.metric.push_back(std::move(metric));
    }
    families.push_back(std::move(family));
  }
  return families;
}

}  // namespace wick::metrics
