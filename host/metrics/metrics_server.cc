#include "host/metrics/metrics_server.h"

#include <prometheus/exposer.h>

#include <exception>

namespace wick::metrics {

MetricsServer::MetricsServer(std::unique_ptr<prometheus::Exposer> exposer)
    : exposer_(std::move(exposer)) {}

MetricsServer::~MetricsServer() = default;

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& listen,
                                                            const Metrics& metrics) {
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    // One thread: scrapes come seconds apart.
    exposer = std::make_unique<prometheus::Exposer>(listen, 1);
  } catch (const std::exception& e) {
    return Error("serve metrics on " + listen + ": " + e.what());
  }
  exposer->RegisterCollectable(metrics.collectable(), "/metrics");
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(exposer)));
}

}  // namespace wick::metrics
