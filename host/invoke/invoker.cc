#include "host/invoke/invoker.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <random>

#include "common/encoding.h"
#include "common/ids.h"
#include "host/api/aws_try.h"
#include "host/invoke/environment_extras.h"
#include "host/invoke/invoke_steps.h"
#include "host/workers.h"

namespace wick::invoke {

namespace asio = boost::asio;
using api::AwsError;

namespace {

// X-Ray's format: Root=1-<epoch seconds hex>-<96 bits>;Parent=<64 bits>;Sampled=0
std::string newTraceId() {
  char epoch[16];
  std::snprintf(epoch, sizeof epoch, "%08llx",
                static_cast<unsigned long long>(epochMillis() / 1000));
  return std::string("Root=1-") + epoch + "-" + randomHex(12) + ";Parent=" + randomHex(8) +
         ";Sampled=0";
}

// Uniform in [0, 1): a weighted alias's draw.
double randomUnit() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
}

std::vector<std::unique_ptr<Environment>> only(std::unique_ptr<Environment> environment) {
  std::vector<std::unique_ptr<Environment>> one;
  one.push_back(std::move(environment));
  return one;
}

// wick_environments{function_name, executed_version, state="warm"|"frozen"}:
// idle environments (busy ones are lambda_concurrent_executions).
std::vector<prometheus::MetricFamily> poolFamilies(const std::vector<EnvironmentPool::Idle>& idle) {
  prometheus::MetricFamily family{"wick_environments",
                                  "Idle execution environments, warm (thawed) or frozen",
                                  prometheus::MetricType::Gauge,
                                  {}};
  for (const auto& counts : idle)
    for (auto [state, count] : {std::pair{"warm", counts.warm}, {"frozen", counts.frozen}}) {
      prometheus::ClientMetric metric;
      metric.label = {{"function_name", counts.function},
                      {"executed_version", counts.version},
                      {"state", state}};
      metric.gauge.value = static_cast<double>(count);
      family.metric.push_back(std::move(metric));
    }
  return {family};
}

http::Response errorResponse(const AwsError& error, const std::string& request_id) {
  api::logFailure(error, "invoke", request_id);
  return api::toResponse(error, request_id);
}

}  // namespace

Invoker::Invoker(functions::FunctionService& functions, const EnvironmentPlanner& planner,
                 const sandbox::Launcher& launcher, int agent_fd, ChannelFactory channels,
                 asio::thread_pool& workers, InvokerSettings settings)
    : functions_(functions),
      planner_(planner),
      launcher_(launcher),
      agent_fd_(agent_fd),
      channels_(std::move(channels)),
      workers_(workers),
      settings_(std::move(settings)),
      limiter_(functions.settings().account_concurrency),
      admission_(settings_.budget) {}

template <typename Work>
asio::awaitable<std::invoke_result_t<Work>> Invoker::onWorkers(Work work) {
  return wick::onWorkers(workers_, std::move(work));
}

asio::awaitable<void> Invoker::destroyOnWorkers(
    std::vector<std::unique_ptr<Environment>> environments) {
  if (environments.empty()) co_return;
  co_await onWorkers([this, &environments] {
    for (auto& environment : environments) {
      live_.remove(*environment);
      if (auto destroyed = environment->destroy(); !destroyed)
        spdlog::warn("destroy environment of {}: {}", environment->functionName(),
                     destroyed.error().message());
      environment.reset();
    }
    return 0;
  });
}

asio::awaitable<http::Response> Invoker::invoke(const http::Request& request,
                                                const std::string& function_name,
                                                const std::string& request_id) {
  auto finished = co_await run(request, function_name, request_id, nullptr);
  if (auto* error = std::get_if<AwsError>(&finished)) co_return errorResponse(*error, request_id);
  Finished& done = std::get<Finished>(finished);
  co_return respond(*done.record, std::move(done.outcome), request_id, done.tail, done.log_tail);
}

asio::awaitable<std::variant<StreamedInvoke, AwsError>> Invoker::invokeStreaming(
    const http::Request& request, const std::string& function_name, const std::string& request_id,
    const StreamReceiver& receiver) {
  auto finished = co_await run(request, function_name, request_id, &receiver);
  if (auto* error = std::get_if<AwsError>(&finished)) {
    api::logFailure(*error, "invoke (streaming)", request_id);
    co_return *error;
  }
  Finished& done = std::get<Finished>(finished);
  co_return StreamedInvoke{done.record->version, std::move(done.outcome), std::move(done.log_tail)};
}

asio::awaitable<std::variant<Invoker::Finished, AwsError>> Invoker::run(
    const http::Request& request, const std::string& function_name, const std::string& request_id,
    const StreamReceiver* receiver) {
  struct InFlight {
    std::atomic<size_t>& count;
    explicit InFlight(std::atomic<size_t>& c) : count(c) { ++count; }
    ~InFlight() { --count; }
  } in_flight(in_flight_);

  auto event = parseInvokeEvent(request);
  if (auto* error = std::get_if<AwsError>(&event)) co_return *error;
  auto target = co_await resolve(function_name, request.queryValue("Qualifier"));
  if (auto* error = std::get_if<AwsError>(&target)) co_return *error;
  const Target& to = std::get<Target>(target);
  auto permit =
      limiter_.acquire(to.record->name, to.record->reserved_concurrency, to.reserved_total);
  if (auto* throttle = std::get_if<ConcurrencyLimiter::Throttle>(&permit)) {
    if (metrics_) metrics_->throttled(to.record->name, to.record->version);
    co_return api::tooManyRequests(throttle->reason);
  }
  if (receiver && receiver->admitted) receiver->admitted(to.record->version);
  const bool tail = std::get<Event>(event).tail;
  auto ran = co_await runWithRetry(to, std::move(std::get<Event>(event)), request_id,
                                   receiver ? &receiver->chunk : nullptr);
  if (auto* error = std::get_if<AwsError>(&ran)) co_return *error;
  Ran& done = std::get<Ran>(ran);
  if (auto* series = done.environment->metricSeries())
    metrics::Metrics::invoked(
        *series, {done.outcome.kind != InvokeOutcome::Kind::kSuccess, done.outcome.duration_ms});
  std::string log_tail = report(*to.record, done, request_id, tail);
  co_await putBack(std::move(done.environment), done.outcome);
  co_return Finished{to.record, std::move(done.outcome), tail, std::move(log_tail)};
}

// The function, from memory when we can, from the registry (on a worker) when
// we must; a weighted alias sends a share of its invokes to its second version.
asio::awaitable<std::variant<Invoker::Target, AwsError>> Invoker::resolve(
    const std::string& function_name, const std::string& qualifier) {
  std::optional<functions::FunctionService::Cached> cached =
      functions_.cached(function_name, qualifier);
  if (!cached) {
    AWS_CO_TRY(resolved,
               co_await onWorkers([&] { return functions_.resolve(function_name, qualifier); }));
    cached = std::move(resolved);
  }
  co_return Target{pickVersion(*cached, randomUnit()), cached->invoked_arn, cached->reserved_total};
}

// The event in a warm environment, or a new one; a warm environment whose
// runtime died while idle never saw the event: it runs in a new one (once).
asio::awaitable<std::variant<Invoker::Ran, AwsError>> Invoker::runWithRetry(
    const Target& target, Event event, const std::string& request_id, const ChunkSink* sink) {
  const registry::FunctionRecord& record = *target.record;
  const std::string key = environmentKey(record);
  const int64_t timeout_s = record.config.timeout_s;
  Ran ran;
  for (bool may_be_warm : {true, false}) {
    AWS_CO_TRY(acquired, co_await acquire(record, key, may_be_warm, request_id));
    auto& [acquired_environment, init, warm] = acquired;
    ran.environment = std::move(acquired_environment);
    live_.began(*ran.environment);

    logs::LogStream& log = ran.environment->log();
    // A new environment's tail starts with its init output (an import error's
    // trace), as Lambda's LogResult does.
    if (warm) log.beginInvocation();
    log.append(logs::startLine(request_id, record.version));
    ran.outcome = init;
    if (init.kind == InvokeOutcome::Kind::kSuccess) {
      // A warm environment may have to hand the event on: keep a copy then.
      InvokeCommand command{request_id,
                            warm ? event.payload : std::move(event.payload),
                            epochMillis() + timeout_s * 1000LL,
                            target.invoked_arn,
                            newTraceId(),
                            event.client_context,
                            "",
                            sink != nullptr};
      metrics::GaugeUp running(ran.environment->metricSeries()
                                   ? &ran.environment->metricSeries()->concurrent_executions
                                   : nullptr);
      ran.outcome = co_await ran.environment->invoke(std::move(command),
                                                     std::chrono::seconds(timeout_s), sink);
    }
    if (!(warm && ran.outcome.undelivered)) break;
    spdlog::debug("invoke {}: the warm environment's runtime had exited; starting a new one",
                  record.name);
    log.append("[wick] the execution environment had ended; the event runs in a new one");
    co_await destroyOnWorkers(only(std::move(ran.environment)));
  }
  co_return ran;
}

// END and REPORT in the environment's log stream; the tail, base64, if asked.
std::string Invoker::report(const registry::FunctionRecord& record, Ran& ran,
                            const std::string& request_id, bool tail) {
  logs::LogStream& log = ran.environment->log();
  log.append(logs::endLine(request_id));
  logs::Report report{request_id,
                      ran.outcome.duration_ms,
                      record.config.memory_mb,
                      static_cast<int64_t>(ran.environment->maxMemoryUsedMb()),
                      ran.environment->takeInitDuration(),
                      ""};
  if (ran.outcome.kind == InvokeOutcome::Kind::kTimeout) report.status = "timeout";
  if (ran.outcome.kind == InvokeOutcome::Kind::kRuntimeExited ||
      ran.outcome.kind == InvokeOutcome::Kind::kInitFailed)
    report.status = "error";
  log.append(logs::reportLine(report));
  return tail ? base64Encode(log.invocationTail()) : std::string();
}

// Back to the pool; a failed environment is never reused.
asio::awaitable<void> Invoker::putBack(std::unique_ptr<Environment> environment,
                                       const InvokeOutcome& outcome) {
  const bool failed = outcome.kind != InvokeOutcome::Kind::kSuccess &&
                      outcome.kind != InvokeOutcome::Kind::kFunctionError;
  if (failed || !environment->reusable() || stopping_)
    co_await destroyOnWorkers(only(std::move(environment)));
  else {
    live_.setState(*environment, LiveEnvironments::State::kWarm);
    pool_.putIdle(std::move(environment));
  }
}

http::Response Invoker::respond(const registry::FunctionRecord& record, InvokeOutcome outcome,
                                const std::string& request_id, bool tail,
                                const std::string& log_tail) {
  http::Response response{http::beast_http::status::ok, 11};
  response.set("x-amzn-RequestId", request_id);
  response.set("X-Amz-Executed-Version", record.version);
  response.set(http::beast_http::field::content_type, "application/json");
  if (outcome.kind != InvokeOutcome::Kind::kSuccess)
    response.set("X-Amz-Function-Error", "Unhandled");
  if (tail) response.set("X-Amz-Log-Result", log_tail);
  response.body() = std::move(outcome.payload);
  return response;
}

// An idle environment for `key`; when the only one is out being frozen, it
// is waited for (a freeze takes about a millisecond) rather than making
// another: sequential invokes keep one environment, as on Lambda.
asio::awaitable<std::unique_ptr<Environment>> Invoker::takeWarm(const std::string& function,
                                                                const std::string& key) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto give_up = std::chrono::steady_clock::now() + kFreezeWait;
  for (;;) {
    if (auto environment = pool_.takeIdle(function, key)) co_return environment;
    if (!pool_.freezing(function, key) || std::chrono::steady_clock::now() > give_up)
      co_return nullptr;
    timer.expires_after(std::chrono::microseconds(500));
    co_await timer.async_wait(asio::use_awaitable);
  }
}

asio::awaitable<std::variant<Invoker::Acquired, AwsError>> Invoker::acquire(
    const registry::FunctionRecord& record, const std::string& key, bool may_be_warm,
    const std::string& request_id) {
  Acquired acquired;
  bool warm_one_failed = false;
  acquired.init.kind = InvokeOutcome::Kind::kSuccess;  // a warm environment is initialised
  if (may_be_warm) acquired.environment = co_await takeWarm(record.name, key);
  if (acquired.environment) {
    auto thawed = co_await onWorkers([&] { return acquired.environment->thaw(); });
    if (thawed) {
      acquired.warm = true;
      co_return acquired;
    }
    spdlog::warn("thaw environment of {}: {}", record.name, thawed.error().message());
    warm_one_failed = true;
    co_await destroyOnWorkers(only(std::move(acquired.environment)));
  }
  // A new one, for this code and configuration: older ones of this version go.
  co_await destroyOnWorkers(pool_.takeRetired(record.name, record.version, key));
  AWS_CO_TRY(plan, co_await onWorkers([&] { return planner_.plan(record); }));
  auto ticket = co_await admit(record, plan);
  if (auto* refused = std::get_if<AwsError>(&ticket)) co_return *refused;
  auto executor = co_await asio::this_coro::executor;
  const auto create_start = std::chrono::steady_clock::now();
  auto create = [&]() -> Result<std::unique_ptr<Environment>> {
    auto network = grantNetwork(networks_, record.config);
    if (!network) return std::move(network).error();
    auto credentials = roleEnvironment(roles_, record.config);
    if (!credentials) return std::move(credentials).error();
    return Environment::create(launcher_, agent_fd_, plan, executor, channels_,
                               {std::move(*network), std::move(*credentials)});
  };
  auto created = co_await onWorkers(create);
  // The host lacked a resource: an idle environment gives its own back, once.
  if (!created && isResourceShortage(created.error()))
    if (std::unique_ptr<Environment> idle = reclaimForShortage(record, created.error())) {
      co_await destroyOnWorkers(only(std::move(idle)));
      created = co_await onWorkers(create);
    }
  if (!created) co_return creationFailure(record, created.error());
  acquired.environment = std::move(*created);
  live_.add(*acquired.environment, static_cast<uint64_t>(record.config.memory_mb),
            std::move(std::get<Admission::Ticket>(ticket)));
  const auto create_time = std::chrono::steady_clock::now() - create_start;
  acquired.init = co_await acquired.environment->initialize(settings_.init_timeout, request_id);
  // Init ran with at least one vCPU; the event runs with the function's share.
  // An operator's tune during init is applied again over the plan's limits.
  if (auto ended = co_await onWorkers([&]() -> Status {
        WICK_TRY(acquired.environment->endInitBoost(), "end init boost");
        return live_.initEnded(*acquired.environment);
      });
      !ended)
    spdlog::warn("end init boost of {}: {}", record.name, ended.error().message());
  countColdStart(*acquired.environment, acquired.init, warm_one_failed || !may_be_warm,
                 create_time);
  co_return acquired;
}

// Cause "replaced": a warm environment that could not serve (its runtime had
// exited, or it would not thaw); "none_idle": no idle one for this version.
void Invoker::countColdStart(Environment& environment, const InvokeOutcome& init, bool after_warm,
                             std::chrono::steady_clock::duration create_time) {
  if (!metrics_) return;
  metrics::FunctionSeries& series =
      metrics_->series(environment.functionName(), environment.version());
  environment.setMetricSeries(&series);
  metrics_->coldStart(environment.functionName(), environment.version(),
                      after_warm ? "replaced" : "none_idle",
                      std::chrono::duration<double>(create_time).count());
  if (init.init_duration_ms) series.init_duration_ms.Observe(*init.init_duration_ms);
}

void Invoker::setMetrics(metrics::Metrics* metrics) {
  metrics_ = metrics;
  if (!metrics_) return;
  metrics_->addScrapeSource([this] { return poolFamilies(pool_.census()); });
}

asio::awaitable<void> Invoker::housekeeping() {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor);
  while (!stopping_) {
    timer.expires_after(std::chrono::milliseconds(25));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_await destroyOnWorkers(pool_.takeExpired([this](const Environment& environment) {
      return settings_.keep_alive_for
                 ? settings_.keep_alive_for(environment.functionName(), environment.version())
                 : settings_.keep_alive;
    }));
    auto to_freeze = pool_.takeUnfrozen(settings_.freeze_after);
    if (to_freeze.empty()) continue;
    co_await onWorkers([this, &to_freeze] {
      for (auto& environment : to_freeze)
        if (auto frozen = environment->freeze(); !frozen)
          spdlog::warn("freeze environment of {}: {}", environment->functionName(),
                       frozen.error().message());
        else
          live_.setState(*environment, LiveEnvironments::State::kFrozen);
      return 0;
    });
    for (auto& environment : to_freeze)
      pool_.putFrozen(std::move(environment));
  }
  housekeeping_stopped_ = true;
}

void Invoker::destroyIdle() {
  for (auto& environment : pool_.takeAll()) {
    live_.remove(*environment);
    (void)environment->destroy();
  }
}

}  // namespace wick::invoke
