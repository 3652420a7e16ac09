// Synchronous Invoke, in steps: parse the event (payload, client context),
// resolve the function and qualifier (alias routing), admit (a concurrency
// permit, or a 429), run with retry (a warm environment, or a new one), report
// (END, REPORT, the log tail), put the environment back, respond.
#pragma once

// clang-format off
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>

#include "host/functions/code_store.h"
#include "host/functions/function_service.h"
#include "host/http/server.h"
#include "host/invoke/concurrency.h"
#include "host/invoke/environment.h"
#include "host/invoke/environment_planner.h"
#include "host/invoke/environment_pool.h"
#include "host/invoke/invoke_steps.h"
#include "host/invoke/role_credentials.h"
#include "host/metrics/metrics.h"
#include "host/network/networks.h"

namespace wick::invoke {

struct InvokerSettings {
  std::chrono::milliseconds init_timeout{10'000};
  std::chrono::milliseconds freeze_after{50};  // idle this long: frozen
  std::chrono::milliseconds keep_alive{600'000};
};

class Invoker {
 public:
  Invoker(functions::FunctionService& functions, const EnvironmentPlanner& planner,
          const sandbox::Launcher& launcher, int agent_fd, ChannelFactory channels,
          boost::asio::thread_pool& workers, InvokerSettings settings);

  boost::asio::awaitable<http::Response> invoke(const http::Request& request,
                                                const std::string& function_name,
                                                const std::string& request_id);
  // Freezes idle environments and destroys expired ones, until stop().
  boost::asio::awaitable<void> housekeeping();
  // Destroys every idle environment (blocking; at shutdown).
  void destroyIdle();
  void stop() { stopping_ = true; }
  // Functions get a network of these (none set: loopback only).
  void setNetworks(network::Networks* networks) { networks_ = networks; }
  // Roles' credentials for their functions (none set: the placeholder keys).
  void setRoleCredentials(RoleCredentials* roles) { roles_ = roles; }
  // Counts invocations, throttles and cold starts there (none set: no metrics);
  // adds the pool's sizes to its scrapes. Set before the first invoke.
  void setMetrics(metrics::Metrics* metrics);
  size_t inFlight() const { return in_flight_; }
  // Housekeeping has seen stop() and put back what it held: every idle
  // environment is in the pool, for destroyIdle().
  bool housekeepingStopped() const { return housekeeping_stopped_; }

 private:
  // The steps of invoke(), in order.
  using Event = InvokeEvent;  // parseInvokeEvent (invoke_steps.h)
  struct Target {
    std::shared_ptr<const registry::FunctionRecord> record;  // the version that runs
    std::string invoked_arn;
    int64_t reserved_total = 0;
  };
  struct Ran {
    std::unique_ptr<Environment> environment;
    InvokeOutcome outcome;
  };
  boost::asio::awaitable<std::variant<Target, api::AwsError>> resolve(
      const std::string& function_name, const std::string& qualifier);
  boost::asio::awaitable<std::variant<Ran, api::AwsError>> runWithRetry(
      const Target& target, Event event, const std::string& request_id);
  static std::string report(const registry::FunctionRecord& record, Ran& ran,
                            const std::string& request_id, bool tail);
  boost::asio::awaitable<void> putBack(std::unique_ptr<Environment> environment,
                                       const InvokeOutcome& outcome);
  static http::Response respond(const registry::FunctionRecord& record, InvokeOutcome outcome,
                                const std::string& request_id, bool tail,
                                const std::string& log_tail);

  // An environment for the record: a warm one (if allowed and idle), else a
  // new one, initialised (init's outcome says whether it failed).
  struct Acquired {
    std::unique_ptr<Environment> environment;
    InvokeOutcome init;
    bool warm = false;
  };
  boost::asio::awaitable<std::variant<Acquired, api::AwsError>> acquire(
      const registry::FunctionRecord& record, const std::string& key, bool may_be_warm,
      const std::string& request_id);
  void countColdStart(Environment& environment, const InvokeOutcome& init, bool after_warm,
                      std::chrono::steady_clock::duration create_time);
  template <typename Work>
  boost::asio::awaitable<std::invoke_result_t<Work>> onWorkers(Work work);
  boost::asio::awaitable<void> destroyOnWorkers(
      std::vector<std::unique_ptr<Environment>> environments);

  functions::FunctionService& functions_;
  const EnvironmentPlanner& planner_;
  const sandbox::Launcher& launcher_;
  int agent_fd_;
  ChannelFactory channels_;
  boost::asio::thread_pool& workers_;
  InvokerSettings settings_;
  network::Networks* networks_ = nullptr;
  RoleCredentials* roles_ = nullptr;
  metrics::Metrics* metrics_ = nullptr;
  ConcurrencyLimiter limiter_;
  EnvironmentPool pool_;
  std::atomic<size_t> in_flight_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> housekeeping_stopped_{false};
};

}  // namespace wick::invoke
