#include "agent/agent.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
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

constexpr uint64_t kHostTag = 1ull << 40;
constexpr uint64_t kListenerTag = 2ull << 40;
constexpr uint64_t kSignalTag = 3ull << 40;
constexpr uint64_t kTimerTag = 4ull << 40;
constexpr uint64_t kStdoutTag = 5ull << 40;
constexpr uint64_t kStderrTag = 6ull << 40;
constexpr uint64_t kTagMask = 0xffull << 40;

const char* reasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 202:
      return "Accepted";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Request Entity Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
  }
  return "Unknown";
}

std::string errorBody(const std::string& type, const std::string& message) {
  std::string escaped;
  for (char c : message) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += c;
  }
  return "{\"errorMessage\":\"" + escaped + "\",\"errorType\":\"" + type + "\"}";
}

void setNonBlocking(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

}  // namespace

Agent::Agent(int host_fd) : host_(host_fd) {
  // The function runs as the same uid: it must not read our memory or
  // environment, nor ptrace us (seccomp denies ptrace too).
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  // The host socket never reaches the runtime.
  ::fcntl(host_fd, F_SETFD, FD_CLOEXEC);
  setNonBlocking(host_fd);
  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  watch(host_fd, EPOLLIN);

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) == 0) {
    signal_pipe_.reset(pipe_fds[0]);
    g_signal_write_fd = pipe_fds[1];
  }
  // PID 1 gets only the signals it has handlers for: install real ones.
  struct sigaction action {};
  action.sa_handler = onSignal;
  action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT})
    ::sigaction(sig, &action, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kSignalTag;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, signal_pipe_.get(), &event);
}

void Agent::watch(int fd, uint32_t events) {
  epoll_event event{};
  event.events = events;
  event.data.u64 = fd == host_.get() ? kHostTag : static_cast<uint64_t>(fd);
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &event) != 0)
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event);
}

int Agent::run() {
  epoll_event events[64];
  for (;;) {
    if (host_gone_) {
      // Nobody to answer to: stop the runtime and leave (PID 1's exit ends the sandbox).
      if (runtime_pid_ > 0 && !runtime_exited_) ::kill(runtime_pid_, SIGKILL);
      return 0;
    }
    if (runtime_exited_ && host_out_.empty()) return 0;
    int n = ::epoll_wait(epoll_.get(), events, 64, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    for (int i = 0; i < n; ++i) {
      const uint64_t data = events[i].data.u64;
      const uint64_t tag = data & kTagMask;
      if (tag == kHostTag) {
        if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) handleHost();
        if (events[i].events & EPOLLOUT) flushHost();
      } else if (tag == kListenerTag) {
        acceptConnections();
      } else if (tag == kSignalTag) {
        handleSignals();
      } else if (tag == kTimerTag) {
        uint64_t expirations;
        (void)!::read(kill_timer_.get(), &expirations, sizeof expirations);
        if (runtime_pid_ > 0 && !runtime_exited_)
          ::kill(-runtime_pid_, SIGKILL), ::kill(runtime_pid_, SIGKILL);
      } else if (tag == kStdoutTag && stdout_) {
        handleOutput(*stdout_);
      } else if (tag == kStderrTag && stderr_) {
        handleOutput(*stderr_);
      } else {
        handleConnection(static_cast<int>(data), events[i].events);
      }
    }
  }
}

// ---------------------------------------------------------------- host

void Agent::handleHost() {
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(host_.get(), buffer, sizeof buffer);
    if (n > 0) {
      host_reader_.feed(std::string_view(buffer, static_cast<size_t>(n)));
      continue;
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) host_gone_ = true;
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  while (auto frame = host_reader_.next()) {
    HostMessage message;
    if (!message.ParseFromString(*frame)) {
      host_gone_ = true;  // the host never sends garbage: treat as gone
      return;
    }
    handleHostMessage(message);
  }
  if (host_reader_.oversized()) host_gone_ = true;
}

void Agent::handleHostMessage(const HostMessage& message) {
  if (message.has_start() && !started_) {
    start(message.start());
  } else if (message.has_invoke()) {
    current_ = Invocation{message.invoke(), false};
    log_bytes_ = 0;
    log_truncated_ = false;
    for (auto& [fd, connection] : connections_)
      if (connection->waiting_for_event) {
        connection->waiting_for_event = false;
        deliver(*connection, *current_);
        break;
      }
  } else if (message.has_shutdown()) {
    stopRuntime(message.shutdown().grace_ms());
  }
}

void Agent::send(const AgentMessage& message) {
  if (host_gone_) return;
  appendFrame(host_out_, message.SerializeAsString());
  flushHost();
}

void Agent::flushHost() {
  while (!host_out_.empty()) {
    ssize_t n = ::write(host_.get(), host_out_.data(), host_out_.size());
    if (n > 0) {
      host_out_.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    host_gone_ = true;
    return;
  }
  // The runtime never waits for a slow host: we buffer and ask to be told
  // when the socket drains.
  watch(host_.get(), host_out_.empty() ? EPOLLIN : EPOLLIN | EPOLLOUT);
}

// ---------------------------------------------------------------- start

void Agent::start(const Start& start) {
  started_ = true;
  if (start.log_bytes_per_invocation() > 0) log_budget_ = start.log_bytes_per_invocation();
  std::string address = start.listen_address().empty() ? "127.0.0.1:9001" : start.listen_address();
  const size_t colon = address.rfind(':');
  sockaddr_in listen_addr{};
  listen_addr.sin_family = AF_INET;
  listen_addr.sin_port = htons(static_cast<uint16_t>(std::atoi(address.substr(colon + 1).c_str())));
  ::inet_pton(AF_INET, address.substr(0, colon).c_str(), &listen_addr.sin_addr);
  listener_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  int one = 1;
  ::setsockopt(listener_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&listen_addr), sizeof listen_addr) != 0 ||
      ::listen(listener_.get(), 64) != 0) {
    AgentMessage message;
    message.mutable_init_error()->set_error_type("Runtime.Unknown");
    message.mutable_init_error()->set_payload(
        errorBody("Runtime.Unknown",
                  "wick-agent: cannot listen on " + address + ": " + std::strerror(errno)));
    send(message);
    return;
  }
  socklen_t length = sizeof listen_addr;
  ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&listen_addr), &length);
  const std::string bound =
      address.substr(0, colon) + ":" + std::to_string(ntohs(listen_addr.sin_port));
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kListenerTag;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, listener_.get(), &event);

  std::vector<std::string> argv(start.argv().begin(), start.argv().end());
  if (argv.empty()) {
    std::string bootstrap = findBootstrap();
    if (bootstrap.empty()) {
      AgentMessage message;
      message.mutable_init_error()->set_error_type("Runtime.InvalidEntrypoint");
      message.mutable_init_error()->set_payload(errorBody(
          "Runtime.InvalidEntrypoint",
          "Error: Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]"));
      send(message);
      return;
    }
    argv.push_back(bootstrap);
  }
  std::vector<std::string> env;
  for (const auto& entry : start.env())
    if (entry.rfind("AWS_LAMBDA_RUNTIME_API=", 0) != 0) env.push_back(entry);
  env.push_back("AWS_LAMBDA_RUNTIME_API=" + bound);

  SpawnFailure failure;
  RuntimeProcess process =
      spawnRuntime(argv, start.cwd().empty() ? "/var/task" : start.cwd(), env, failure);
  if (process.pid < 0) {
    AgentMessage message;
    message.mutable_init_error()->set_error_type(failure.error_type);
    message.mutable_init_error()->set_payload(errorBody(failure.error_type, failure.message));
    send(message);
    return;
  }
  runtime_pid_ = process.pid;
  setNonBlocking(process.stdout_pipe.get());
  setNonBlocking(process.stderr_pipe.get());
  stdout_ = OutputStream{std::move(process.stdout_pipe), "", 1};
  stderr_ = OutputStream{std::move(process.stderr_pipe), "", 2};
  event.events = EPOLLIN;
  event.data.u64 = kStdoutTag;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, stdout_->fd.get(), &event);
  event.data.u64 = kStderrTag;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, stderr_->fd.get(), &event);
}

// ---------------------------------------------------------------- Runtime API

void Agent::acceptConnections() {
  for (;;) {
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto connection = std::make_unique<Connection>();
    connection->fd.reset(fd);
    connections_[fd] = std::move(connection);
    watch(fd, EPOLLIN | EPOLLRDHUP);
  }
}

void Agent::closeConnection(int fd) {
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  connections_.erase(fd);
}

void Agent::handleConnection(int fd, uint32_t events) {
  auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  Connection& connection = *it->second;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    char buffer[65536];
    bool closed = false;
    for (;;) {
      ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n > 0) {
        connection.in.append(buffer, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      closed = n == 0 || errno != EAGAIN;
      break;
    }
    while (!connection.waiting_for_event && !connection.close_after_write) {
      if (connection.discard_left > 0) {
        const size_t drop = std::min(connection.discard_left, connection.in.size());
        connection.in.erase(0, drop);
        connection.discard_left -= drop;
        if (connection.discard_left > 0) break;
      }
      auto status = connection.parser.parse(connection.in);
      if (status == HttpRequestParser::Status::kNeedMore) break;
      if (status == HttpRequestParser::Status::kError) {
        refuse(connection, connection.parser.errorStatus());
        break;
      }
      HttpRequest request = std::move(connection.parser.request());
      connection.parser.reset();
      serve(connection, request);
    }
    if (closed && connection.out.empty()) {
      closeConnection(fd);
      return;
    }
  }
  if (!connection.out.empty()) {
    ssize_t n = ::write(fd, connection.out.data(), connection.out.size());
    if (n > 0) connection.out.erase(0, static_cast<size_t>(n));
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      closeConnection(fd);
      return;
    }
  }
  if (connection.out.empty() && connection.close_after_write) {
    closeConnection(fd);
    return;
  }
  watch(fd, connection.out.empty() ? EPOLLIN | EPOLLRDHUP : EPOLLIN | EPOLLOUT | EPOLLRDHUP);
}

void Agent::respond(Connection& connection, int status, const std::string& body,
                    const std::string& extra_headers, const std::string& content_type) {
  std::string& out = connection.out;
  out += "HTTP/1.1 " + std::to_string(status) + " " + reasonPhrase(status) + "\r\n";
  out += "Content-Type: " + content_type + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += extra_headers;
  if (connection.close_after_write) out += "Connection: close\r\n";
  out += "\r\n";
  out += body;
  // Write now if we can; the loop finishes the rest.
  ssize_t n = ::write(connection.fd.get(), out.data(), out.size());
  if (n > 0) out.erase(0, static_cast<size_t>(n));
  watch(connection.fd.get(), out.empty() ? EPOLLIN | EPOLLRDHUP : EPOLLIN | EPOLLOUT | EPOLLRDHUP);
}

void Agent::refuse(Connection& connection, int status) {
  const std::string length = connection.parser.request().header("content-length");
  if (status == 413 && !length.empty()) {
    // The length is known: drop the body and keep the connection.
    connection.discard_left = std::strtoull(length.c_str(), nullptr, 10);
  } else {
    connection.close_after_write = true;
  }
  if (status == 413) {
    const std::string body = errorBody("RequestEntityTooLarge",
                                       "Exceeded maximum allowed payload size (6291556 bytes).");
    // A response too large fails the invocation (the caller sees Function.ResponseSizeTooLarge).
    const std::string& target = connection.parser.request().target;
    if (current_ && connection.parser.headersDone() &&
        target.find("/invocation/" + current_->invoke.request_id()) != std::string::npos) {
      finishInvocation(
          true,
          errorBody("Function.ResponseSizeTooLarge",
                    "Response payload size (" +
                        (length.empty() ? std::string("more than 6291556") : length) +
                        " bytes) exceeded maximum allowed payload size (6291556 bytes)."),
          "Function.ResponseSizeTooLarge", "application/json");
    }
    respond(connection, 413, body);
    connection.parser.reset();
    return;
  }
  respond(connection, status,
          errorBody(status == 431 ? "RequestHeaderFieldsTooLarge" : "InvalidRequest",
                    std::string("malformed request: ") + reasonPhrase(status)));
}

void Agent::deliver(Connection& connection, const Invocation& invocation) {
  const Invoke& invoke = invocation.invoke;
  std::string headers =
      "Lambda-Runtime-Aws-Request-Id: " + invoke.request_id() + "\r\n" +
      "Lambda-Runtime-Deadline-Ms: " + std::to_string(invoke.deadline_ms()) + "\r\n" +
      "Lambda-Runtime-Invoked-Function-Arn: " + invoke.invoked_function_arn() + "\r\n";
  if (!invoke.trace_id().empty())
    headers += "Lambda-Runtime-Trace-Id: " + invoke.trace_id() + "\r\n";
  if (!invoke.client_context().empty())
    headers += "Lambda-Runtime-Client-Context: " + invoke.client_context() + "\r\n";
  if (!invoke.cognito_identity().empty())
    headers += "Lambda-Runtime-Cognito-Identity: " + invoke.cognito_identity() + "\r\n";
  current_->delivered = true;
  respond(connection, 200, invoke.payload(), headers);
}

void Agent::finishInvocation(bool function_error, std::string payload, std::string error_type,
                             std::string content_type) {
  flushPartialLines();
  AgentMessage message;
  Result* result = message.mutable_result();
  result->set_request_id(current_->invoke.request_id());
  result->set_function_error(function_error);
  result->set_payload(std::move(payload));
  result->set_error_type(std::move(error_type));
  result->set_content_type(std::move(content_type));
  last_request_id_ = current_->invoke.request_id();
  current_.reset();
  send(message);
}

void Agent::serve(Connection& connection, HttpRequest& request) {
  if (!request.keep_alive) connection.close_after_write = true;
  const std::string& target = request.target;
  static const std::string kPrefix = "/2018-06-01/runtime/";
  auto invalidState = [&](const char* from, const char* to) {
    respond(connection, 403,
            errorBody("InvalidStateTransition",
                      std::string("State transition from ") + from + " to " + to +
                          " failed for runtime. Error: State transition is not allowed"));
  };

  if (target == kPrefix + "invocation/next") {
    if (request.method != "GET")
      return respond(connection, 405, errorBody("MethodNotAllowed", "use GET"));
    if (init_failed_) return invalidState("InitError", "Ready");
    if (!init_done_) {
      init_done_ = true;
      AgentMessage ready;
      ready.mutable_ready();
      send(ready);
    }
    flushPartialLines();
    // A repeated /next while the event is out re-serves it (as the RIE does).
    if (current_) return deliver(connection, *current_);
    connection.waiting_for_event = true;  // long poll: answered when Invoke arrives
    return;
  }
  if (target == kPrefix + "init/error") {
    if (request.method != "POST")
      return respond(connection, 405, errorBody("MethodNotAllowed", "use POST"));
    if (init_done_ || init_failed_)
      return invalidState(init_failed_ ? "InitError" : "Ready", "InitError");
    init_failed_ = true;
    flushPartialLines();
    AgentMessage message;
    std::string type = request.header("lambda-runtime-function-error-type");
    message.mutable_init_error()->set_error_type(type.empty() ? "Runtime.Unknown" : type);
    message.mutable_init_error()->set_payload(request.body);
    send(message);
    return respond(connection, 202, "{\"status\":\"OK\"}");
  }
  if (target.rfind(kPrefix + "invocation/", 0) == 0) {
    std::string rest = target.substr(kPrefix.size() + 11);
    size_t slash = rest.find('/');
    std::string id = rest.substr(0, slash);
    std::string verb = slash == std::string::npos ? "" : rest.substr(slash + 1);
    if (verb != "response" && verb != "error")
      return respond(connection, 404, errorBody("NotFound", "no such Runtime API path: " + target));
    if (request.method != "POST")
      return respond(connection, 405, errorBody("MethodNotAllowed", "use POST"));
    if (!last_request_id_.empty() && id == last_request_id_ && !current_)
      return invalidState("ResponseSent", verb == "response" ? "ResponseSent" : "ErrorSent");
    if (!current_ || id.empty() || id != current_->invoke.request_id())
      return respond(connection, 400, errorBody("InvalidRequestID", "Invalid request ID"));
    if (!current_->delivered)
      return invalidState("Ready", verb == "response" ? "ResponseSent" : "ErrorSent");
    const std::string content_type = request.header("content-type");
    if (verb == "response")
      finishInvocation(false, std::move(request.body), "",
                       content_type.empty() ? "application/json" : content_type);
    else
      finishInvocation(true, std::move(request.body),
                       request.header("lambda-runtime-function-error-type"), "application/json");
    return respond(connection, 202, "{\"status\":\"OK\"}");
  }
  if (target == "/2018-06-01/ping") return respond(connection, 200, "pong", "", "text/plain");
  respond(connection, 404, errorBody("NotFound", "no such Runtime API path: " + target));
}

// ---------------------------------------------------------------- output

void Agent::handleOutput(OutputStream& stream) {
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(stream.fd.get(), buffer, sizeof buffer);
    if (n > 0) {
      stream.partial.append(buffer, static_cast<size_t>(n));
      size_t start = 0;
      for (size_t end; (end = stream.partial.find('\n', start)) != std::string::npos;
           start = end + 1)
        emitLine(stream.number, std::string_view(stream.partial).substr(start, end - start));
      stream.partial.erase(0, start);
      // A line longer than 256 KiB is cut rather than buffered forever.
      if (stream.partial.size() > (256u << 10)) {
        emitLine(stream.number, stream.partial);
        stream.partial.clear();
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      if (!stream.partial.empty()) emitLine(stream.number, stream.partial);
      stream.partial.clear();
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, stream.fd.get(), nullptr);
      stream.fd.reset();
    }
    return;
  }
}

void Agent::emitLine(uint32_t stream, std::string_view line) {
  if (log_truncated_) return;
  log_bytes_ += line.size() + 1;
  AgentMessage message;
  Log* log = message.mutable_log();
  if (current_) log->set_request_id(current_->invoke.request_id());
  log->set_stream(stream);
  if (log_bytes_ > log_budget_) {
    // A noisy function cannot flood the host: one notice, then nothing until the next event.
    log_truncated_ = true;
    log->set_stream(3);
    log->set_line("[wick-agent] log output truncated: more than " + std::to_string(log_budget_) +
                  " bytes in this invocation");
  } else {
    log->set_line(std::string(line));
  }
  send(message);
}

void Agent::flushPartialLines() {
  for (auto* stream : {&stdout_, &stderr_}) {
    if (!*stream || !(*stream)->fd) continue;
    handleOutput(**stream);
    if (!(*stream)->partial.empty()) {
      emitLine((*stream)->number, (*stream)->partial);
      (*stream)->partial.clear();
    }
  }
}

// ---------------------------------------------------------------- processes

void Agent::handleSignals() {
  char signals[64];
  ssize_t n = ::read(signal_pipe_.get(), signals, sizeof signals);
  for (ssize_t i = 0; i < n; ++i) {
    if (signals[i] == SIGCHLD) reap();
    if (signals[i] == SIGTERM || signals[i] == SIGINT) stopRuntime(500);
  }
}

void Agent::reap() {
  // PID 1 adopts every orphan of the sandbox: reap them all.
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    if (pid != runtime_pid_) continue;
    runtime_exited_ = true;
    if (stdout_ && stdout_->fd) handleOutput(*stdout_);
    if (stderr_ && stderr_->fd) handleOutput(*stderr_);
    flushPartialLines();
    AgentMessage message;
    RuntimeExited* exited = message.mutable_runtime_exited();
    exited->set_signaled(WIFSIGNALED(status));
    exited->set_code(WIFEXITED(status) ? WEXITSTATUS(status) : 0);
    exited->set_signal(WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    send(message);
  }
}

void Agent::stopRuntime(uint32_t grace_ms) {
  if (runtime_pid_ <= 0 || runtime_exited_) {
    host_gone_ = true;  // nothing to stop: leave
    return;
  }
  ::kill(runtime_pid_, SIGTERM);
  kill_timer_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  itimerspec when{};
  when.it_value.tv_sec = grace_ms / 1000;
  when.it_value.tv_nsec = static_cast<long>(grace_ms % 1000) * 1'000'000 + 1;
  ::timerfd_settime(kill_timer_.get(), 0, &when, nullptr);
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kTimerTag;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, kill_timer_.get(), &event);
}

}  // namespace wick::agent
