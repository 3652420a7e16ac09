// wickd's metrics, in the Prometheus data model (prometheus-cpp): Lambda's
// function metrics with Lambda's meaning (Invocations, Errors, Throttles,
// Duration, InitDuration, ConcurrentExecutions; async events), per function
// and executed version, and the daemon's own (cold starts, sandbox creation).
// The hot path touches only a FunctionSeries that an environment looked up
// once when it was created: counters and histograms, no lookup per invoke.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace wick::metrics {

// The series of one function version (labels function_name, executed_version).
struct FunctionSeries {
  prometheus::Counter& invocations;
  prometheus::Counter& errors;
  prometheus::Histogram& duration_ms;
  prometheus::Histogram& init_duration_ms;
  prometheus::Gauge& concurrent_executions;
};

// How an invocation ended, as Lambda counts it.
struct InvocationResult {
  bool error = false;  // a function error, timeout, crash or init failure
  double duration_ms = 0;
};

// Families computed at scrape time (pool sizes, cgroup stats): each source
// returns whole families, built from what it holds then.
using ScrapeSource = std::function<std::vector<prometheus::MetricFamily>()>;

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Cold path: the series of a version (made on first use).
  FunctionSeries& series(const std::string& function, const std::string& version);
  // Hot path.
  static void invoked(FunctionSeries& series, const InvocationResult& result);
  void throttled(const std::string& function, const std::string& version);
  // A new execution environment: why (no idle one, or the idle one had died)
  // and how long the sandbox took to create.
  void coldStart(const std::string& function, const std::string& version, const std::string& cause,
                 double create_seconds);

  // Asynchronous invokes (Lambda's AsyncEventsReceived, AsyncEventAge,
  // AsyncEventsDropped; the age in ms when an event is first attempted).
  void asyncEventReceived(const std::string& function);
  void asyncEventAttempted(const std::string& function, double age_ms);
  void asyncEventDropped(const std::string& function, const std::string& reason);
  // A record (DestinationDeliveryFailures) or dead letter (DeadLetterErrors)
  // whose delivery was given up.
  void deliveryFailed(const std::string& function, bool dead_letter);

  void addScrapeSource(ScrapeSource source);
  // Everything, for an exposer.
  std::shared_ptr<prometheus::Collectable> collectable() const;
  // The text exposition format, for tests and the CLI.
  std::string text() const;

 private:
  class ScrapeSources;
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<ScrapeSources> sources_;
  std::shared_ptr<prometheus::Collectable> both_;
  prometheus::Family<prometheus::Counter>& invocations_;
  prometheus::Family<prometheus::Counter>& errors_;
  prometheus::Family<prometheus::Counter>& throttles_;
  prometheus::Family<prometheus::Histogram>& duration_ms_;
  prometheus::Family<prometheus::Histogram>& init_duration_ms_;
  prometheus::Family<prometheus::Gauge>& concurrent_executions_;
  prometheus::Family<prometheus::Counter>& cold_starts_;
  prometheus::Family<prometheus::Histogram>& sandbox_create_seconds_;
  prometheus::Family<prometheus::Counter>& async_received_;
  prometheus::Family<prometheus::Histogram>& async_age_ms_;
  prometheus::Family<prometheus::Counter>& async_dropped_;
  prometheus::Family<prometheus::Counter>& destination_failures_;
  prometheus::Family<prometheus::Counter>& dead_letter_errors_;
  std::mutex series_mutex_;
  std::map<prometheus::Labels, std::unique_ptr<FunctionSeries>> series_;
};

// A gauge up for as long as it lives (ConcurrentExecutions around a run).
class GaugeUp {
 public:
  explicit GaugeUp(prometheus::Gauge* gauge) : gauge_(gauge) {
    if (gauge_) gauge_->Increment();
  }
  ~GaugeUp() {
    if (gauge_) gauge_->Decrement();
  }
  GaugeUp(const GaugeUp&) = delete;
  GaugeUp& operator=(const GaugeUp&) = delete;

 private:
  prometheus::Gauge* gauge_;
};

}  // namespace wick::metrics
