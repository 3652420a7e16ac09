// Synchronous Invoke: route to the function, check the payload, take a
// concurrency permit (or throttle), take a warm environment (or start one),
// run the event, write START/END/REPORT, answer as Lambda does.
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
#include "host/invoke/environment_planner.h"
#include "host/invoke/environment_pool.h"

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
  size_t inFlight() const { return in_flight_; }
  // Housekeeping has seen stop() and put back what it held: every idle
  // environment is in the pool, for destroyIdle().
  bool housekeepingStopped() const { return housekeeping_stopped_; }

 private:
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
  ConcurrencyLimiter limiter_;
  EnvironmentPool pool_;
  std::atomic<size_t> in_flight_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> housekeeping_stopped_{false};
};

}  // namespace wick::invoke
