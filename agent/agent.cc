// The agent's loop, the host channel, init (extensions, then the runtime) and
// the PID 1 duties. The HTTP side (Runtime and Extensions APIs) is in
// runtime_api.cc.
#include "agent/agent.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "agent/runtime_process.h"

namespace wick::agent {

namespace {

int g_signal_write_fd = -1;

void onSignal(int signal) {
  const int saved = errno;
  const char byte = static_cast<char>(signal);
  (void)!::write(g_signal_write_fd, &byte, 1);
  errno = saved;
}

// epoll data: a connection's fd, or one of these tags.
constexpr uint64_t kHostTag = 1ull << 40;
constexpr uint64_t kListenerTag = 2ull << 40;
constexpr uint64_t kSignalTag = 3ull << 40;
constexpr uint64_t kTimerTag = 4ull << 40;
constexpr uint64_t kLogTag = 5ull << 40;  // | the log pipe's index
constexpr uint64_t kTagMask = 0xffull << 40;

std::string envValue(const std::vector<std::string>& env, const std::string& key) {
  for (const auto& entry : env)
    if (entry.size() > key.size() && entry.compare(0, key.size(), key) == 0 &&
        entry[key.size()] == '=')
      return entry.substr(key.size() + 1);
  return "";
}

// Extensions get the function's environment minus what only the runtime gets
// (contract 2.1; like RAPID, every _-prefixed key too).
bool runtimeOnly(const std::string& entry) {
  static const char* const kRuntimeOnly[] = {
      "AWS_EXECUTION_ENV",        "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
      "AWS_XRAY_CONTEXT_MISSING", "AWS_XRAY_DAEMON_ADDRESS",   "LAMBDA_RUNTIME_DIR",
      "LAMBDA_TASK_ROOT"};
  if (!entry.empty() && entry[0] == '_') return true;
  const std::string key = entry.substr(0, entry.find('='));
  return std::any_of(std::begin(kRuntimeOnly), std::end(kRuntimeOnly),
                     [&](const char* name) { return key == name; });
}

int64_t nowEpochMs() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1'000'000;
}

}  // namespace

Agent::Agent(int host_fd)
    : host_(host_fd), logs_([this](const AgentMessage& message) { host_.send(message); }) {}

wick::Result<std::unique_ptr<Agent>> Agent::create(int host_fd) {
  std::unique_ptr<Agent> agent(new Agent(host_fd));
  WICK_TRY(agent->init(), "start wick-agent");
  return agent;
}

Status Agent::init() {
  // The function runs as the same uid: it must not read our memory or
  // environment, nor ptrace us (seccomp denies ptrace too).
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  // Orphans of the runtime come to us even where we are not PID 1 (tests).
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) return Error::fromErrno("epoll_create1");
  watch(host_.fd(), EPOLLIN, kHostTag);

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0)
    return Error::fromErrno("pipe2 (signal pipe)");
  signal_pipe_.reset(pipe_fds[0]);
  g_signal_write_fd = pipe_fds[1];
  // PID 1 gets only the signals it has handlers for: install real ones.
  struct sigaction action {};
  action.sa_handler = onSignal;
  action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT})
    ::sigaction(sig, &action, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  watch(signal_pipe_.get(), EPOLLIN, kSignalTag);

  WICK_TRY(logs_.open(), "open the log pipes");
  for (size_t pipe = 0; pipe < LogCapture::kPipes; ++pipe)
    watch(logs_.readFd(pipe), EPOLLIN, kLogTag | pipe);
  return {};
}

void Agent::watch(int fd, uint32_t events, uint64_t tag) {
  epoll_event event{};
  event.events = events;
  event.data.u64 = tag;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &event) != 0)
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event);
}

bool Agent::finished() const {
  const bool runtime_done = lifecycle_.is(RuntimeState::kExited) ||
                            (lifecycle_.is(RuntimeState::kStopping) && runtime_pid_ <= 0);
  return runtime_done && extension_children_.empty() && !host_.pending();
}

int Agent::run() {
  epoll_event events[64];
  bool watching_out = false;
  for (;;) {
    if (host_.gone() || finished()) {
      // Nobody to answer to, or nothing left to do: PID 1's exit ends the sandbox.
      killAndReapAll();
      return 0;
    }
    if (host_.pending() != watching_out) {
      watching_out = host_.pending();
      watch(host_.fd(), watching_out ? EPOLLIN | EPOLLOUT : EPOLLIN, kHostTag);
    }
    int n = ::epoll_wait(epoll_.get(), events, 64, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    for (int i = 0; i < n; ++i) {
      const uint64_t data = events[i].data.u64;
      switch (data & kTagMask) {
        case kHostTag:
          if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) handleHost();
          if (events[i].events & EPOLLOUT) {
            host_.flush();
            resumeStreams();
          }
          break;
        case kShapeTimerTag: {
          uint64_t expirations;
          (void)!::read(shape_timer_.get(), &expirations, sizeof expirations);
          resumeStreams();
          break;
        }
        case kListenerTag:
          acceptConnections();
          break;
        case kSignalTag:
          handleSignals();
          break;
        case kTimerTag: {
          uint64_t expirations;
          (void)!::read(kill_timer_.get(), &expirations, sizeof expirations);
          killChildren(SIGKILL);
          break;
        }
        case kLogTag:
          logs_.readable(static_cast<size_t>(data & ~kTagMask));
          break;
        default:
          handleConnection(static_cast<int>(data), events[i].events);
      }
    }
  }
}

// ---------------------------------------------------------------- host

void Agent::handleHost() {
  std::vector<HostMessage> messages;
  host_.read(messages);
  for (auto& message : messages)
    handleHostMessage(message);
}

void Agent::handleHostMessage(HostMessage& message) {
  if (message.has_start() && lifecycle_.is(RuntimeState::kAwaitingStart)) {
    start(message.start());
  } else if (message.has_invoke()) {
    if (current_ || pending_result_) {
      logs_.agentLine("[wick-agent] Invoke " + message.invoke().request_id() +
                      " refused: an invocation is in flight");
      return;
    }
    Invoke& arrived = *message.mutable_invoke();
    auto payload = std::make_shared<const std::string>(std::move(*arrived.mutable_payload()));
    current_ = Invocation{std::move(arrived), std::move(payload), false};  // moved, not copied
    const Invoke& invoke = current_->invoke;
    logs_.beginInvocation(invoke.request_id());
    answerParked(extensions_.invoke(invoke.request_id(), invoke.deadline_ms(),
                                    invoke.invoked_function_arn(), invoke.trace_id()));
    for (auto& [fd, connection] : connections_)
      if (connection->runtime_next) {
        deliver(*connection, *current_);
        // Pipelined requests behind it are served; a Connection: close one ends.
        handleConnection(fd, 0);
        break;
      }
  } else if (message.has_shutdown()) {
    stop(message.shutdown().grace_ms(),
         message.shutdown().reason().empty() ? "spindown" : message.shutdown().reason());
  }
}

// ---------------------------------------------------------------- start

void Agent::initError(const std::string& type, const std::string& message) {
  lifecycle_.moveTo(RuntimeState::kInitFailed);
  AgentMessage error;
  error.mutable_init_error()->set_error_type(type);
  error.mutable_init_error()->set_payload(errorBody(type, message));
  host_.send(error);
}

bool Agent::listen(const std::string& address) {
  const size_t colon = address.rfind(':');
  sockaddr_in listen_addr{};
  listen_addr.sin_family = AF_INET;
  const std::string host = address.substr(0, colon);
  const int port = colon == std::string::npos ? -1 : std::atoi(address.c_str() + colon + 1);
  if (port < 0 || port > 65535 || ::inet_pton(AF_INET, host.c_str(), &listen_addr.sin_addr) != 1) {
    errno = EINVAL;
    return false;
  }
  listen_addr.sin_port = htons(static_cast<uint16_t>(port));
  listener_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  int one = 1;
  ::setsockopt(listener_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (!listener_ ||
      ::bind(listener_.get(), reinterpret_cast<sockaddr*>(&listen_addr), sizeof listen_addr) != 0 ||
      ::listen(listener_.get(), 64) != 0)
    return false;
  socklen_t length = sizeof listen_addr;
  ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&listen_addr), &length);
  api_address_ = host + ":" + std::to_string(ntohs(listen_addr.sin_port));
  watch(listener_.get(), EPOLLIN, kListenerTag);
  return true;
}

void Agent::start(const Start& start) {
  lifecycle_.moveTo(RuntimeState::kInitializing);
  logs_.setBudget(start.log_bytes_per_invocation());
  stream_bytes_per_second_ = start.stream_bytes_per_second();
  stream_burst_bytes_ = start.stream_burst_bytes();
  std::vector<std::string> env;
  for (const auto& entry : start.env())
    if (entry.rfind("AWS_LAMBDA_RUNTIME_API=", 0) != 0) env.push_back(entry);
  extensions_ = ExtensionsApi(FunctionIdentity{envValue(env, "AWS_LAMBDA_FUNCTION_NAME"),
                                               envValue(env, "AWS_LAMBDA_FUNCTION_VERSION"),
                                               envValue(env, "_HANDLER")});

  const std::string address =
      start.listen_address().empty() ? "127.0.0.1:9001" : start.listen_address();
  if (!listen(address))
    return initError("Runtime.Unknown",
                     "wick-agent: cannot listen on " + address + ": " + std::strerror(errno));
  env.push_back("AWS_LAMBDA_RUNTIME_API=" + api_address_);

  std::vector<std::string> argv(start.argv().begin(), start.argv().end());
  if (argv.empty()) {
    std::string bootstrap = findBootstrap();
    if (bootstrap.empty())
      return initError(
          "Runtime.InvalidEntrypoint",
          "Error: Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]");
    argv.push_back(bootstrap);
  }
  pending_runtime_ =
      PendingRuntime{std::move(argv), start.cwd().empty() ? "/var/task" : start.cwd(), env};

  std::vector<std::string> extension_env;
  for (const auto& entry : env)
    if (!runtimeOnly(entry)) extension_env.push_back(entry);
  launchExtensions(start.extensions_dir().empty() ? "/opt/extensions" : start.extensions_dir(),
                   extension_env);
  maybeStartRuntime();
}

void Agent::launchExtensions(const std::string& dir, const std::vector<std::string>& env) {
  // All in parallel, before the runtime (contract 2.1).
  for (const auto& path : listExecutables(dir)) {
    const std::string name = path.substr(path.rfind('/') + 1);
    SpawnFailure failure;
    pid_t pid =
        spawnProcess({path}, "/", env, logs_.writeFd(LogCapture::Writer::kExtensions, kStdout),
                     logs_.writeFd(LogCapture::Writer::kExtensions, kStderr), failure);
    if (pid < 0) {
      pending_runtime_.reset();
      return initError("Extension.LaunchError", failure.message);
    }
    extensions_.expectExternal(name);
    extension_children_.push_back({pid, name});
  }
}

void Agent::maybeStartRuntime() {
  if (!pending_runtime_ || !lifecycle_.initializing() || !extensions_.externalsRegistered()) return;
  PendingRuntime runtime = std::move(*pending_runtime_);
  pending_runtime_.reset();
  SpawnFailure failure;
  runtime_pid_ = spawnProcess(runtime.argv, runtime.cwd, runtime.env,
                              logs_.writeFd(LogCapture::Writer::kRuntime, kStdout),
                              logs_.writeFd(LogCapture::Writer::kRuntime, kStderr), failure);
  if (runtime_pid_ < 0) initError(failure.error_type, failure.message);
}

void Agent::maybeReady() {
  if (!lifecycle_.is(RuntimeState::kAwaitingExtensions) || !extensions_.allWaiting()) return;
  lifecycle_.moveTo(RuntimeState::kReady);
  logs_.flush();
  AgentMessage ready;
  ready.mutable_ready()->set_extensions(static_cast<uint32_t>(extensions_.registered()));
  host_.send(ready);
}

void Agent::maybeFinishInvocation() {
  if (!pending_result_ || !extensions_.allWaiting()) return;
  logs_.endInvocation();
  host_.send(*pending_result_);
  pending_result_.reset();
}

// ---------------------------------------------------------------- processes

void Agent::handleSignals() {
  char signals[64];
  ssize_t n = ::read(signal_pipe_.get(), signals, sizeof signals);
  for (ssize_t i = 0; i < n; ++i) {
    if (signals[i] == SIGCHLD) reap();
    if (signals[i] == SIGTERM || signals[i] == SIGINT) stop(kSigtermGraceMs, "spindown");
  }
}

void Agent::reap() {
  // PID 1 (or the subreaper) adopts every orphan of the sandbox: reap them all.
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    auto extension = std::find_if(extension_children_.begin(), extension_children_.end(),
                                  [&](const Child& child) { return child.pid == pid; });
    if (extension != extension_children_.end()) {
      const std::string name = extension->name;
      extension_children_.erase(extension);
      extensions_.externalExited(name);
      if (lifecycle_.ending()) continue;  // we ended it
      const std::string how = WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                                  : "status " + std::to_string(WEXITSTATUS(status));
      if (lifecycle_.initializing()) {
        pending_runtime_.reset();
        initError("Extension.Crash", "extension " + name + " exited with " + how);
      } else {
        logs_.agentLine("[wick-agent] extension " + name + " exited with " + how);
      }
      continue;
    }
    if (pid != runtime_pid_) continue;
    const bool stopping = lifecycle_.is(RuntimeState::kStopping);
    const bool between_invocations = lifecycle_.wasReady() && (!current_ || !current_->delivered);
    lifecycle_.moveTo(RuntimeState::kExited);
    logs_.flush();
    AgentMessage message;
    RuntimeExited* exited = message.mutable_runtime_exited();
    exited->set_signaled(WIFSIGNALED(status));
    exited->set_code(WIFEXITED(status) ? WEXITSTATUS(status) : 0);
    exited->set_signal(WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    exited->set_between_invocations(between_invocations);
    host_.send(message);
    // Without a runtime the sandbox is over; extensions get the grace only
    // when we are shutting down.
    if (!stopping) killChildren(SIGKILL);
  }
}

void Agent::stop(uint32_t grace_ms, const std::string& reason) {
  if (!lifecycle_.moveTo(RuntimeState::kStopping)) return;
  pending_runtime_.reset();
  if (runtime_pid_ > 0) ::kill(runtime_pid_, SIGTERM);
  answerParked(extensions_.shutdown(reason, nowEpochMs() + grace_ms));
  kill_timer_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  itimerspec when{};
  when.it_value.tv_sec = grace_ms / 1000;
  when.it_value.tv_nsec = static_cast<long>(grace_ms % 1000) * 1'000'000 + 1;
  ::timerfd_settime(kill_timer_.get(), 0, &when, nullptr);
  watch(kill_timer_.get(), EPOLLIN, kTimerTag);
}

void Agent::killChildren(int signal) {
  // Each child leads its own process group: what it started goes too.
  if (runtime_pid_ > 0) {
    ::kill(-runtime_pid_, signal);
    if (!lifecycle_.is(RuntimeState::kExited)) ::kill(runtime_pid_, signal);
  }
  for (const auto& child : extension_children_) {
    ::kill(-child.pid, signal);
    ::kill(child.pid, signal);
  }
}

void Agent::killAndReapAll() {
  killChildren(SIGKILL);
  logs_.flush();
  host_.drain(1000);
  // Reap what is left (a grandchild that left its group may outlive us: as
  // PID 1 our exit takes it; as a subreaper in tests it goes to init).
  for (int i = 0; i < 100; ++i) {
    pid_t pid = ::waitpid(-1, nullptr, WNOHANG);
    if (pid < 0) return;  // ECHILD: none left
    if (pid == 0) ::usleep(2000);
  }
}

}  // namespace wick::agent