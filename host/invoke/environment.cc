#include "host/invoke/environment.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <ctime>

#include "common/ids.h"
#include "host/invoke/payload_json.h"
#include "host/invoke/runtime_environment.h"

namespace wick::invoke {

namespace asio = boost::asio;

namespace {

double millisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

// Kills the sandbox when a deadline passes. Holds its own pidfd, so it can
// outlive the wait it guards without touching a closed fd.
class Watchdog : public std::enable_shared_from_this<Watchdog> {
 public:
  Watchdog(asio::any_io_executor executor, int pidfd)
      : timer_(executor), pidfd_(::fcntl(pidfd, F_DUPFD_CLOEXEC, 3)) {}
  void arm(std::chrono::milliseconds timeout) {
    timer_.expires_after(timeout);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || !self->armed_.exchange(false)) return;
      self->fired_ = true;
      ::syscall(SYS_pidfd_send_signal, self->pidfd_.get(), SIGKILL, nullptr, 0);
    });
  }
  // Returns whether it fired.
  bool disarm() {
    armed_ = false;
    timer_.cancel();
    return fired_;
  }

 private:
  asio::steady_timer timer_;
  UniqueFd pidfd_;
  std::atomic<bool> armed_{true};
  std::atomic<bool> fired_{false};
};

std::string exitDescription(const RuntimeExit& exit) {
  if (!exit.signaled) return "exit status " + std::to_string(exit.code);
  const char* name = exit.signal == SIGKILL   ? "killed"
                     : exit.signal == SIGSEGV ? "segmentation fault"
                     : exit.signal == SIGABRT ? "aborted"
                     : exit.signal == SIGTERM ? "terminated"
                                              : nullptr;
  return std::string("signal: ") + (name ? name : std::to_string(exit.signal));
}

// "3.00": how Lambda writes a timeout in its messages.
std::string secondsText(std::chrono::milliseconds duration) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", static_cast<double>(duration.count()) / 1000.0);
  return text;
}

// The agent's own init errors read "Error: ..."; Lambda's name the request
// they failed: "RequestId: <id> Error: ...". A runtime's /init/error body
// stays as the runtime wrote it.
std::string withRequestId(const std::string& payload, const std::string& request_id) {
  if (jsonNesting(payload) > kMaxDomNesting) return payload;  // dump() would recurse as deep
  nlohmann::json body = nlohmann::json::parse(payload, nullptr, false);
  if (!body.is_object() || !body.value("errorMessage", nlohmann::json()).is_string())
    return payload;
  const std::string message = body["errorMessage"].get<std::string>();
  if (!message.starts_with("Error: ")) return payload;
  body["errorMessage"] = "RequestId: " + request_id + " " + message;
  return body.dump();
}

// The role's credentials in place of the placeholder ones (none for an unmapped role).
void replaceCredentials(std::vector<std::string>& env, const EnvPairs& credentials) {
  std::erase_if(env, [](const std::string& entry) {
    return entry.starts_with("AWS_ACCESS_KEY_ID=") || entry.starts_with("AWS_SECRET_ACCESS_KEY=") ||
           entry.starts_with("AWS_SESSION_TOKEN=");
  });
  for (const auto& [key, value] : credentials)
    env.push_back(key + "=" + value);
}

std::string platformError(const std::string& type, const std::string& message) {
  nlohmann::json body = {{"errorType", type}, {"errorMessage", message}};
  return body.dump();
}

}  // namespace

// The deadline of one wait (init, or an event): armed for as long as the
// guard lives, so every way out of initialize() and invoke() disarms it.
class DeadlineGuard {
 public:
  DeadlineGuard(asio::any_io_executor executor, int pidfd, std::chrono::milliseconds timeout)
      : watchdog_(std::make_shared<Watchdog>(std::move(executor), pidfd)) {
    watchdog_->arm(timeout);
  }
  DeadlineGuard(const DeadlineGuard&) = delete;
  DeadlineGuard& operator=(const DeadlineGuard&) = delete;
  ~DeadlineGuard() { watchdog_->disarm(); }
  // Disarms now: whether the deadline had passed (and the sandbox was killed).
  bool expired() { return watchdog_->disarm(); }

 private:
  std::shared_ptr<Watchdog> watchdog_;
};

Result<std::unique_ptr<Environment>> Environment::create(const sandbox::Launcher& launcher,
                                                         int agent_fd, const EnvironmentPlan& plan,
                                                         asio::any_io_executor executor,
                                                         const ChannelFactory& channels,
                                                         EnvironmentExtras extras) {
  auto& network = extras.network;
  const auto started = std::chrono::steady_clock::now();
  const std::string id = randomHex(16);
  const std::string stream_name = logs::logStreamName(plan.version, id);
  auto log = logs::LogStream::open(plan.logs_root, plan.function_name, stream_name);
  if (!log) return std::move(log).error().context("create environment");

  int sockets[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0)
    return Error::fromErrno("create environment: socketpair");
  UniqueFd host_end(sockets[0]);
  UniqueFd agent_end(sockets[1]);

  SandboxInputs inputs;
  inputs.root_layers = plan.root_layers;
  inputs.code_tree = plan.code_tree;
  inputs.binds = plan.binds;
  inputs.resources = plan.resources;
  inputs.agent_fd = agent_fd;
  inputs.agent_socket = agent_end.get();
  inputs.log_fd = STDERR_FILENO;
  sandbox::SandboxSpec spec = sandboxSpec(plan.config, inputs, id);
  spec.resources.min_vcpus = plan.init_vcpus;
  if (network) {
    spec.netns_fd = network->lease->netnsFd();
    spec.binds.push_back({network->resolv_conf_path, "/etc/resolv.conf", false});
  }
  auto box = launcher.create(spec);
  if (!box) return std::move(box).error().context("create environment for " + plan.function_name);
  agent_end.reset();

  std::unique_ptr<Environment> environment(
      new Environment(plan, std::move(*box), std::move(*log), stream_name));
  environment->network_ = std::move(network);
  environment->credentials_ = std::move(extras.credentials);
  environment->created_ = started;
  environment->boosted_ = plan.init_vcpus > 0;
  logs::LogStream* stream = &environment->log_;
  environment->channel_ = channels(executor, std::move(host_end),
                                   [stream](const LogLine& line) { stream->append(line.text); });
  return environment;
}

Environment::~Environment() {
  (void)destroy();
}

asio::awaitable<AgentEvent> Environment::nextEvent() {
  co_return co_await channel_->next();
}

asio::awaitable<std::optional<RuntimeExit>> Environment::lastRuntimeExit() {
  // The channel is closed on the agent's side: its last frames are read to
  // the end, which comes at once.
  for (;;) {
    AgentEvent event = co_await nextEvent();
    if (auto* exit = std::get_if<RuntimeExit>(&event)) co_return *exit;
    if (std::holds_alternative<ChannelClosed>(event)) co_return std::nullopt;
  }
}

std::optional<InvokeOutcome> Environment::outcomeOf(AgentEvent& event, const Wait& wait) {
  const bool init = wait.phase == Wait::Phase::kInit;
  const std::string& request_id = wait.request_id;
  auto exitedOutcome = [&](InvokeOutcome::Kind kind, const std::string& how) {
    InvokeOutcome outcome;
    outcome.kind = kind;
    outcome.error_type = "Runtime.ExitError";
    outcome.payload =
        platformError("Runtime.ExitError",
                      "RequestId: " + request_id + " Error: Runtime exited with error: " + how);
    return outcome;
  };
  InvokeOutcome outcome;
  if (std::holds_alternative<RuntimeReady>(event)) {
    if (!init) return std::nullopt;
    outcome.kind = InvokeOutcome::Kind::kSuccess;
    outcome.init_duration_ms = millisSince(created_);
    pending_init_duration_ms_ = outcome.init_duration_ms;
    return outcome;
  }
  if (auto* result = std::get_if<InvocationResult>(&event)) {
    if (init || result->request_id != request_id) return std::nullopt;
    outcome.kind = result->function_error ? InvokeOutcome::Kind::kFunctionError
                                          : InvokeOutcome::Kind::kSuccess;
    outcome.payload = std::move(result->payload);
    outcome.error_type = std::move(result->error_type);
    outcome.streamed = result->streamed;
    return outcome;
  }
  // Everything else ends the environment.
  reusable_ = false;
  if (auto* failure = std::get_if<InitFailure>(&event)) {
    outcome.kind = InvokeOutcome::Kind::kInitFailed;
    outcome.error_type = failure->error_type;
    outcome.payload = init ? withRequestId(failure->payload, request_id) : failure->payload;
    return outcome;
  }
  if (auto* exit = std::get_if<RuntimeExit>(&event)) {
    outcome =
        exitedOutcome(init ? InvokeOutcome::Kind::kInitFailed : InvokeOutcome::Kind::kRuntimeExited,
                      exitDescription(*exit));
    outcome.undelivered = !init && exit->between_invocations;
    return outcome;
  }
  if (auto* closed = std::get_if<ChannelClosed>(&event)) {
    const std::string seconds = secondsText(wait.timeout);
    if (wait.deadline.expired()) {
      outcome.kind = InvokeOutcome::Kind::kTimeout;
      outcome.error_type = "Sandbox.Timedout";
      if (init) {
        outcome.payload = platformError(
            "Sandbox.Timedout", std::string("Init timed out after ") + seconds + " seconds");
      } else {
        outcome.payload = platformError(
            "Sandbox.Timedout",
            "RequestId: " + request_id + " Error: Task timed out after " + seconds + " seconds");
        log_.append(utcNowMillis("Z") + " " + request_id + " Task timed out after " + seconds +
                    " seconds");
      }
      return outcome;
    }
    if (init) {
      outcome.kind = InvokeOutcome::Kind::kPlatformError;
      outcome.payload = platformError(
          "Runtime.Unknown", "the execution environment ended during init: " + closed->reason);
      return outcome;
    }
    // The agent died with its runtime (e.g. the OOM killer chose it).
    return exitedOutcome(InvokeOutcome::Kind::kRuntimeExited, "signal: killed");
  }
  return std::nullopt;  // not for this wait
}

asio::awaitable<InvokeOutcome> Environment::initialize(std::chrono::milliseconds timeout,
                                                       const std::string& request_id) {
  InvokeOutcome outcome;
  auto executor = co_await asio::this_coro::executor;
  DeadlineGuard deadline(executor, sandbox_.pidfd(), timeout);

  if (plan_.start_failure) {
    reusable_ = false;
    outcome.kind = InvokeOutcome::Kind::kInitFailed;
    outcome.error_type = plan_.start_failure->error_type;
    outcome.payload = withRequestId(plan_.start_failure->payload, request_id);
    co_return outcome;
  }
  StartCommand start;
  start.argv = plan_.argv;
  start.cwd = plan_.cwd;
  start.stream_bytes_per_second = plan_.stream_bytes_per_second;
  start.stream_burst_bytes = plan_.stream_burst_bytes;
  start.env = runtimeEnvironment(
      plan_.config,
      {plan_.function_name, plan_.version, plan_.region, log_stream_name_, plan_.execution_env},
      plan_.base_env);
  if (credentials_) replaceCredentials(start.env, *credentials_);
  // The SDKs send Lambda calls here (function to function through wickd).
  // (A function's own AWS_ENDPOINT_URL_LAMBDA wins.)
  const bool has_endpoint = std::any_of(start.env.begin(), start.env.end(), [](const auto& entry) {
    return entry.starts_with("AWS_ENDPOINT_URL_LAMBDA=");
  });
  if (network_ && !network_->lambda_endpoint.empty() && !has_endpoint)
    start.env.push_back("AWS_ENDPOINT_URL_LAMBDA=" + network_->lambda_endpoint);
  if (auto sent = co_await channel_->start(start); !sent) {
    reusable_ = false;
    outcome.payload = platformError("Runtime.Unknown", sent.error().message());
    co_return outcome;
  }
  const Wait wait{Wait::Phase::kInit, request_id, timeout, deadline};
  for (;;) {
    AgentEvent event = co_await nextEvent();
    if (auto done = outcomeOf(event, wait)) co_return std::move(*done);
  }
}

asio::awaitable<InvokeOutcome> Environment::invoke(InvokeCommand command,
                                                   std::chrono::milliseconds timeout,
                                                   const ChunkSink* sink) {
  InvokeOutcome outcome;
  const auto started = std::chrono::steady_clock::now();
  auto executor = co_await asio::this_coro::executor;
  DeadlineGuard deadline(executor, sandbox_.pidfd(), timeout);
  const std::string request_id = command.request_id;

  if (auto sent = co_await channel_->invoke(command); !sent) {
    reusable_ = false;
    outcome.undelivered = true;
    outcome.payload = platformError("Runtime.Unknown", sent.error().message());
    // The agent is gone (its runtime ended): what it said last says why,
    // and that is what the caller hears, not the broken pipe.
    if (auto exit = co_await lastRuntimeExit()) {
      AgentEvent event = *exit;
      outcome = *outcomeOf(event, {Wait::Phase::kInvoke, request_id, timeout, deadline});
      outcome.undelivered = true;
    }
    co_return outcome;
  }
  const Wait wait{Wait::Phase::kInvoke, request_id, timeout, deadline};
  for (;;) {
    AgentEvent event = co_await nextEvent();
    if (auto* chunk = std::get_if<ResponseChunk>(&event)) {
      if (sink && chunk->request_id == request_id) co_await (*sink)(*chunk);
      continue;
    }
    if (auto done = outcomeOf(event, wait)) {
      outcome = std::move(*done);
      break;
    }
  }
  outcome.duration_ms = millisSince(started);
  co_return outcome;
}

Status Environment::endInitBoost() {
  if (!boosted_) return {};
  SandboxInputs inputs;
  inputs.resources = plan_.resources;
  WICK_TRY(sandbox_.updateResources(sandboxSpec(plan_.config, inputs, "").resources),
           "end the init CPU boost");
  boosted_ = false;
  return {};
}

Status Environment::freeze() {
  WICK_TRY(sandbox_.freeze(), "freeze environment");
  frozen_ = true;
  return {};
}

Status Environment::thaw() {
  if (!frozen_) return {};
  WICK_TRY(sandbox_.thaw(), "thaw environment");
  frozen_ = false;
  return {};
}
Status Environment::destroy() {
  Status destroyed = sandbox_.destroy();
  network_.reset();  // given back to its pool once nothing runs in it
  return destroyed;
}

uint64_t Environment::maxMemoryUsedMb() const {
  auto stats = sandbox_.stats();
  return stats ? (stats->memory_peak_bytes + (1 << 20) - 1) >> 20 : 0;
}

}  // namespace wick::invoke
