// One execution environment: a sandbox with wick-agent as PID 1 and the
// function's runtime under it, the channel to the agent, and its log stream.
// Serves one invocation at a time; between them it is frozen.
#pragma once

// clang-format off
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "host/invoke/agent_channel.h"
#include "host/invoke/runtime_environment.h"
#include "host/logs/log_stream.h"
#include "host/network/networks.h"
#include "sandbox/sandbox.h"

namespace wick::metrics {
struct FunctionSeries;
}

namespace wick::invoke {

using ChannelFactory = std::function<std::unique_ptr<AgentChannel>(
    boost::asio::any_io_executor executor, UniqueFd host_socket, LogSink sink)>;

struct EnvironmentPlan {
  std::string function_name;
  std::string version = "$LATEST";  // the version it runs ($LATEST or N)
  std::string key;                  // code + configuration this environment was made for
  registry::FunctionConfig config;
  std::vector<std::string> root_layers;  // bottom first (see SandboxInputs)
  std::string code_tree;                 // /var/task; none for images
  std::vector<sandbox::BindMount> binds;
  // What the agent starts: empty argv finds /var/task/bootstrap or /opt/bootstrap.
  std::vector<std::string> argv;
  std::string cwd = "/var/task";
  EnvPairs base_env;  // a managed runtime's defaults or an image's ENV
  // Known before anything starts (an image with no entrypoint): init fails
  // with it, as Lambda reports such an image at init.
  std::optional<InitFailure> start_failure;
  std::string execution_env;
  std::string region;
  std::string logs_root;
  ResourcePolicy resources;
  double init_vcpus = 1.0;  // CPU floor during init
  // Lambda's bandwidth shape for streamed responses (0: unshaped).
  uint64_t stream_bytes_per_second = 0;
  uint64_t stream_burst_bytes = 0;
};

// What the platform adds to an environment beyond its plan.
struct EnvironmentExtras {
  std::optional<network::NetworkGrant> network;  // a namespace to join, held until destroy
  // Set when the operator maps roles: the role's AWS_ACCESS_KEY_ID,
  // AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN replace the placeholder ones
  // (empty: an unmapped role, none at all).
  std::optional<EnvPairs> credentials;
};

struct InvokeOutcome {
  enum class Kind {
    kSuccess,
    kFunctionError,
    kTimeout,
    kRuntimeExited,
    kInitFailed,
    kPlatformError
  };
  Kind kind = Kind::kPlatformError;
  std::string payload;
  std::string error_type;
  double duration_ms = 0;
  std::optional<double> init_duration_ms;  // set on the invocation that started the environment
  // The event never reached the runtime (it had exited, or the agent was
  // gone): a warm environment that died idle; the event may run elsewhere.
  bool undelivered = false;
  // The response went to the chunk sink as it came; `payload` holds only an
  // error body (a function error reported in the stream's trailers).
  bool streamed = false;
};

// Receives a streamed response as it comes. The next frame from the agent is
// read once it returns, so a slow sink slows the runtime (the agent stops
// reading it), and nothing piles up in between.
using ChunkSink = std::function<boost::asio::awaitable<void>(ResponseChunk& chunk)>;

// The deadline of one wait (init, or an event): see environment.cc.
class DeadlineGuard;

class Environment {
 public:
  // Blocking (clone, mounts): call on the worker pool.
  static Result<std::unique_ptr<Environment>> create(const sandbox::Launcher& launcher,
                                                     int agent_fd, const EnvironmentPlan& plan,
                                                     boost::asio::any_io_executor executor,
                                                     const ChannelFactory& channels,
                                                     EnvironmentExtras extras = {});
  ~Environment();

  // Starts the runtime and waits for its first `next` (the end of init).
  // `request_id`: the first invocation's, named by platform init errors.
  boost::asio::awaitable<InvokeOutcome> initialize(std::chrono::milliseconds timeout,
                                                   const std::string& request_id);
  // `sink`: the invocation streams (command.stream_response): chunks go there.
  boost::asio::awaitable<InvokeOutcome> invoke(InvokeCommand command,
                                               std::chrono::milliseconds timeout,
                                               const ChunkSink* sink = nullptr);
  // The init duration of a new environment, once (for its first REPORT line).
  std::optional<double> takeInitDuration() {
    return std::exchange(pending_init_duration_ms_, std::nullopt);
  }

  // Blocking cgroup work: call on the worker pool.
  // Init runs with at least one vCPU (interpreters start in tens of ms of CPU,
  // which a 128 MB share would stretch tenfold); then the function's share.
  Status endInitBoost();
  Status freeze();
  Status thaw();
  Status destroy();
  uint64_t maxMemoryUsedMb() const;

  // Its sandbox, for the operator's view (stats, limits, kill).
  sandbox::Sandbox& sandbox() { return sandbox_; }
  const sandbox::Sandbox& sandbox() const { return sandbox_; }
  const std::string& key() const { return plan_.key; }
  const std::string& functionName() const { return plan_.function_name; }
  const std::string& version() const { return plan_.version; }
  bool reusable() const { return reusable_; }
  logs::LogStream& log() { return log_; }
  std::chrono::steady_clock::time_point idleSince() const { return idle_since_; }
  // Keeps the idle time of a frozen environment put back after freezing.
  void markIdle() {
    if (!frozen_) idle_since_ = std::chrono::steady_clock::now();
  }
  bool frozen() const { return frozen_; }
  // Its version's metric series (none: metrics off), looked up once at creation.
  metrics::FunctionSeries* metricSeries() const { return metric_series_; }
  void setMetricSeries(metrics::FunctionSeries* series) { metric_series_ = series; }

 private:
  Environment(EnvironmentPlan plan, sandbox::Sandbox sandbox, logs::LogStream log,
              std::string log_stream_name)
      : plan_(std::move(plan)),
        sandbox_(std::move(sandbox)),
        log_(std::move(log)),
        log_stream_name_(std::move(log_stream_name)) {}
  // One wait for the agent: init, or an invocation.
  struct Wait {
    enum class Phase { kInit, kInvoke } phase;
    const std::string& request_id;
    std::chrono::milliseconds timeout;
    DeadlineGuard& deadline;
  };
  // The one mapping of an agent event to the outcome of a wait; nullopt: the
  // event does not end it (a stale result, Ready during an invocation).
  std::optional<InvokeOutcome> outcomeOf(AgentEvent& event, const Wait& wait);
  boost::asio::awaitable<AgentEvent> nextEvent();
  // After a failed write to a gone agent: the runtime's exit it reported, if any.
  boost::asio::awaitable<std::optional<RuntimeExit>> lastRuntimeExit();

  EnvironmentPlan plan_;
  sandbox::Sandbox sandbox_;
  std::optional<network::NetworkGrant> network_;  // released after the sandbox
  std::optional<EnvPairs> credentials_;
  logs::LogStream log_;
  std::string log_stream_name_;
  std::unique_ptr<AgentChannel> channel_;
  std::chrono::steady_clock::time_point created_;
  std::chrono::steady_clock::time_point idle_since_;
  std::string current_request_;
  bool reusable_ = true;
  bool frozen_ = false;
  bool boosted_ = false;
  std::optional<double> pending_init_duration_ms_;  // reported by the first invocation
  metrics::FunctionSeries* metric_series_ = nullptr;
};

}  // namespace wick::invoke
