#include "host/metrics/metrics.h"

#include <prometheus/collectable.h>
#include <prometheus/text_serializer.h>

#include <mutex>

namespace wick::metrics {

namespace {

using prometheus::Histogram;
using prometheus::Labels;

// Lambda's Duration: 1 ms to 15 minutes.
const Histogram::BucketBoundaries kDurationMs{1,      2,      5,      10,      25,     50,
                                              100,    250,    500,    1'000,   2'500,  5'000,
                                              10'000, 30'000, 60'000, 300'000, 900'000};
const Histogram::BucketBoundaries kInitMs{10,    25,    50,    100,    250,   500,
                                          1'000, 2'500, 5'000, 10'000, 30'000};
const Histogram::BucketBoundaries kCreateSeconds{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                 0.1,   0.25,   0.5,   1,    2.5};
// AsyncEventAge: up to the 6-hour maximum event age.
const Histogram::BucketBoundaries kAgeMs{10,      100,       1'000,     10'000,    60'000,
                                         300'000, 1'800'000, 3'600'000, 7'200'000, 21'600'000};

Labels version(const std::string& function, const std::string& executed_version) {
  return {{"function_name", function}, {"executed_version", executed_version}};
}

template <typename Builder>
auto& family(Builder builder, prometheus::Registry& registry, const char* name, const char* help) {
  return builder.Name(name).Help(help).Register(registry);
}

}  // namespace

// Families of the scrape-time sources, after the registry's.
class Metrics::ScrapeSources : public prometheus::Collectable {
 public:
  explicit ScrapeSources(std::shared_ptr<prometheus::Registry> registry)
      : registry_(std::move(registry)) {}
  void add(ScrapeSource source) {
    std::lock_guard lock(mutex_);
    sources_.push_back(std::move(source));
  }
  std::vector<prometheus::MetricFamily> Collect() const override {
    auto families = registry_->Collect();
    std::lock_guard lock(mutex_);
    for (const auto& source : sources_)
      for (auto& family : source())
        families.push_back(std::move(family));
    return families;
  }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  mutable std::mutex mutex_;
  std::vector<ScrapeSource> sources_;
};

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      sources_(std::make_shared<ScrapeSources>(registry_)),
      invocations_(family(prometheus::BuildCounter(), *registry_, "lambda_invocations_total",
                          "Invocations: times function code ran, successful or not")),
      errors_(family(prometheus::BuildCounter(), *registry_, "lambda_errors_total",
                     "Errors: invocations that ended in a function error (an error "
                     "returned, a timeout, a crash, a failed init)")),
      throttles_(family(prometheus::BuildCounter(), *registry_, "lambda_throttles_total",
                        "Throttles: invoke requests refused for lack of concurrency")),
      duration_ms_(family(prometheus::BuildHistogram(), *registry_, "lambda_duration_milliseconds",
                          "Duration: time the function code spent on an event, in ms")),
      init_duration_ms_(family(prometheus::BuildHistogram(), *registry_,
                               "lambda_init_duration_milliseconds",
                               "InitDuration: time of a new environment's init phase, in ms")),
      concurrent_executions_(family(prometheus::BuildGauge(), *registry_,
                                    "lambda_concurrent_executions",
                                    "ConcurrentExecutions: events being processed now")),
      cold_starts_(family(prometheus::BuildCounter(), *registry_, "wick_cold_starts_total",
                          "New execution environments, by cause")),
      sandbox_create_seconds_(family(prometheus::BuildHistogram(), *registry_,
                                     "wick_sandbox_create_seconds",
                                     "Time to create a sandbox (namespaces, mounts, cgroup)")),
      async_received_(family(prometheus::BuildCounter(), *registry_,
                             "lambda_async_events_received_total",
                             "AsyncEventsReceived: events accepted into the queue")),
      async_age_ms_(family(prometheus::BuildHistogram(), *registry_,
                           "lambda_async_event_age_milliseconds",
                           "AsyncEventAge: time from acceptance to an attempt, in ms")),
      async_dropped_(family(prometheus::BuildCounter(), *registry_,
                            "lambda_async_events_dropped_total",
                            "AsyncEventsDropped: events dropped without running to success")),
      destination_failures_(family(prometheus::BuildCounter(), *registry_,
                                   "lambda_destination_delivery_failures_total",
                                   "DestinationDeliveryFailures: records whose delivery to an "
                                   "SQS, SNS or EventBridge destination was given up")),
      dead_letter_errors_(family(prometheus::BuildCounter(), *registry_,
                                 "lambda_dead_letter_errors_total",
                                 "DeadLetterErrors: dead letters whose delivery was given up")) {
  both_ = sources_;
}

Metrics::~Metrics() = default;

FunctionSeries& Metrics::series(const std::string& function, const std::string& executed) {
  // The families hold the series; this only names them together.
  const Labels labels = version(function, executed);
  std::lock_guard lock(series_mutex_);
  auto& slot = series_[labels];
  if (!slot)
    slot.reset(new FunctionSeries{
        invocations_.Add(labels), errors_.Add(labels), duration_ms_.Add(labels, kDurationMs),
        init_duration_ms_.Add(labels, kInitMs), concurrent_executions_.Add(labels)});
  return *slot;
}

void Metrics::invoked(FunctionSeries& series, const InvocationResult& result) {
  series.invocations.Increment();
  if (result.error) series.errors.Increment();
  series.duration_ms.Observe(result.duration_ms);
}

void Metrics::throttled(const std::string& function, const std::string& executed) {
  throttles_.Add(version(function, executed)).Increment();
}

void Metrics::coldStart(const std::string& function, const std::string& executed,
                        const std::string& cause, double create_seconds) {
  Labels labels = version(function, executed);
  sandbox_create_seconds_.Add(labels, kCreateSeconds).Observe(create_seconds);
  labels.emplace("cause", cause);
  cold_starts_.Add(labels).Increment();
}

void Metrics::asyncEventReceived(const std::string& function) {
  async_received_.Add({{"function_name", function}}).Increment();
}

void Metrics::asyncEventAttempted(const std::string& function, double age_ms) {
  async_age_ms_.Add({{"function_name", function}}, kAgeMs).Observe(age_ms);
}

void Metrics::asyncEventDropped(const std::string& function, const std::string& reason) {
  async_dropped_.Add({{"function_name", function}, {"reason", reason}}).Increment();
}

void Metrics::deliveryFailed(const std::string& function, bool dead_letter) {
  (dead_letter ? dead_letter_errors_ : destination_failures_)
      .Add({{"function_name", function}})
      .Increment();
}

void Metrics::addScrapeSource(ScrapeSource source) {
  sources_->add(std::move(source));
}

std::shared_ptr<prometheus::Collectable> Metrics::collectable() const {
  return both_;
}

std::string Metrics::text() const {
  return prometheus::TextSerializer().Serialize(sources_->Collect());
}

}  // namespace wick::metrics
