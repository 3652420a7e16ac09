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
#include "host/invoke/admission.h"
#include "host/invoke/concurrency.h"
#include "host/invoke/environment.h"
#include "host/invoke/environment_planner.h"
#include "host/invoke/environment_pool.h"
#include "host/invoke/invoke_steps.h"
#include "host/invoke/live_environments.h"
#include "host/invoke/role_credentials.h"
#include "host/metrics/metrics.h"
#include "host/network/networks.h"

namespace wick::invoke {

// What a streaming invoke (InvokeWithResponseStream) hands its caller as it
// goes: the version that runs once it is admitted (before any chunk), then the
// response's chunks as they come.
struct StreamReceiver {
  std::function<void(const std::string& executed_version)> admitted;
  ChunkSink chunk;
};
// How a streaming invoke ended, once its chunks are out.
struct StreamedInvoke {
  std::string executed_version;
  InvokeOutcome outcome;  // payload: the response when it was not streamed, or the error body
  std::string log_tail;   // base64, when X-Amz-Log-Type: Tail
};

struct InvokerSettings {
  std::chrono::milliseconds init_timeout{10'000};
  std::chrono::milliseconds freeze_after{50};  // idle this long: frozen
  std::chrono::milliseconds keep_alive{600'000};
  HostBudget budget;  // what all sandboxes together may be given (admission.h)
  // The operator's keep-alive per function version (none: keep_alive).
  // Called on the I/O threads: must be thread-safe and must not block.
  std::function<std::chrono::milliseconds(const std::string& function, const std::string& version)>
      keep_alive_for;
};

class Invoker {
 public:
  Invoker(functions::FunctionService& functions, const EnvironmentPlanner& planner,
          const sandbox::Launcher& launcher, int agent_fd, ChannelFactory channels,
          boost::asio::thread_pool& workers, InvokerSettings settings);

  boost::asio::awaitable<http::Response> invoke(const http::Request& request,
                                                const std::string& function_name,
                                                const std::string& request_id);
  // The same with the response passed on as it comes (a runtime that streams
  // it: up to 200 MB); failures before the function runs are the AwsError.
  boost::asio::awaitable<std::variant<StreamedInvoke, api::AwsError>> invokeStreaming(
      const http::Request& request, const std::string& function_name, const std::string& request_id,
      const StreamReceiver& receiver);
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
  // Every live environment, for the operator (invoker_operator.cc).
  LiveEnvironments& live() { return live_; }
  // Retires the environment of this sandbox (blocking: call on a worker): an
  // idle one is destroyed; a busy one is killed, and its invoke ends as
  // Lambda's does when an environment dies. The state it was in; an error if
  // no environment has this sandbox.
  Result<LiveEnvironments::State> retire(const std::string& sandbox_id);
  Admission& admission() { return admission_; }
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
  struct Finished {
    std::shared_ptr<const registry::FunctionRecord> record;
    InvokeOutcome outcome;
    bool tail = false;
    std::string log_tail;
  };
  // Every step but the response; `receiver`: the invocation streams.
  boost::asio::awaitable<std::variant<Finished, api::AwsError>> run(
      const http::Request& request, const std::string& function_name, const std::string& request_id,
      const StreamReceiver* receiver);
  boost::asio::awaitable<std::variant<Target, api::AwsError>> resolve(
      const std::string& function_name, const std::string& qualifier);
  boost::asio::awaitable<std::variant<Ran, api::AwsError>> runWithRetry(
      const Target& target, Event event, const std::string& request_id, const ChunkSink* sink);
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
  boost::asio::awaitable<std::unique_ptr<Environment>> takeWarm(const std::string& function,
                                                                const std::string& key);
  // How long an invoke waits for its environment to come back from freezing.
  static constexpr std::chrono::milliseconds kFreezeWait{200};
  boost::asio::awaitable<std::variant<Acquired, api::AwsError>> acquire(
      const registry::FunctionRecord& record, const std::string& key, bool may_be_warm,
      const std::string& request_id);
  // A share of the host budget for a new environment, reclaiming idle ones
  // (least recently used first) to make room; a 429 when even that is not
  // enough (invoker_operator.cc).
  boost::asio::awaitable<std::variant<Admission::Ticket, api::AwsError>> admit(
      const registry::FunctionRecord& record, const EnvironmentPlan& plan);
  // A sandbox that could not be made: a 429 when the host lacked a resource
  // (EAGAIN, ENOMEM, ENOSPC, ...), else a 500.
  api::AwsError creationFailure(const registry::FunctionRecord& record, const Error& error);
  static bool isResourceShortage(const Error& error);
  // The least recently used idle environment, to free what a failed creation
  // lacked (logged); null if none is idle.
  std::unique_ptr<Environment> reclaimForShortage(const registry::FunctionRecord& record,
                                                  const Error& error);
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
  Admission admission_;  // outlives the environments that hold its tickets
  EnvironmentPool pool_;
  LiveEnvironments live_;
  std::atomic<size_t> in_flight_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> housekeeping_stopped_{false};
};

}  // namespace wick::invoke
