// /metrics on the operator's listener (metrics_listen), served by
// prometheus-cpp's Exposer (civetweb, threads of its own): scrapes never
// wait behind the Lambda API's event loop, nor it behind them.
#pragma once

#include <memory>
#include <string>

#include "common/error.h"
#include "host/metrics/metrics.h"

namespace prometheus {
class Exposer;
}

namespace wick::metrics {

class MetricsServer {
 public:
  // Listens on "host:port" (e.g. 127.0.0.1:9102) and serves `metrics`.
  static Result<std::unique_ptr<MetricsServer>> start(const std::string& listen,
                                                      const Metrics& metrics);
  ~MetricsServer();

 private:
  explicit MetricsServer(std::unique_ptr<prometheus::Exposer> exposer);
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace wick::metrics
