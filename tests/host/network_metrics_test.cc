// The network pools' figures in the Prometheus text format, as /metrics shows
// them: a take that found the pool empty is counted with its wait.
#include "host/metrics/network_metrics.h"

#include <gtest/gtest.h>

#include "host/metrics/metrics.h"

namespace wick::metrics {
namespace {

TEST(NetworkMetrics, PoolFiguresPerNetworkInTheTextFormat) {
  network::NetworkPoolStats busy;
  busy.attached = 9;
  busy.attach_failures = 1;
  busy.attach_ms_total = 540;
  busy.taken = 7;
  busy.waited = 2;
  busy.wait_ms_total = 125;
  busy.ready = 2;
  network::NetworkPoolStats idle;
  idle.attached = 4;
  idle.ready = 4;
  Metrics metrics;
  metrics.addScrapeSource([&] {
    return networkPoolFamilies({{"default", busy}, {"restricted", idle}});
  });
  const std::string text = metrics.text();
  for (const char* line : {
           "# TYPE wick_network_pool_ready gauge",
           "wick_network_pool_ready{network=\"default\"} 2",
           "wick_network_pool_ready{network=\"restricted\"} 4",
           "# TYPE wick_network_pool_waits_total counter",
           "wick_network_pool_waits_total{network=\"default\"} 2",
           "wick_network_pool_waits_total{network=\"restricted\"} 0",
           "wick_network_pool_wait_seconds_total{network=\"default\"} 0.125",
           "wick_network_pool_takes_total{network=\"default\"} 7",
           "wick_network_namespaces_attached_total{network=\"default\"} 9",
           "wick_network_attach_failures_total{network=\"default\"} 1",
           "wick_network_attach_seconds_total{network=\"default\"} 0.54",
       })
    EXPECT_NE(text.find(std::string(line) + "\n"), std::string::npos) << line << "\n" << text;
}

TEST(NetworkMetrics, NoNetworksNoSeries) {
  for (const auto& family : networkPoolFamilies({}))
    EXPECT_TRUE(family.metric.empty()) << family.name;
}

}  // namespace
}  // namespace wick::metrics
