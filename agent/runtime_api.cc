// The Runtime API 2018-06-01 (contract section 1, the state machine of 1.7)
// and the routing of the Extensions API, over keep-alive HTTP/1.1
// connections served by the agent's loop.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <optional>
#include <string_view>

#include "agent/agent.h"

namespace wick::agent {

namespace {

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
// Standard base64 (padding optional); nullopt for anything else. For the
// streaming error trailer Lambda-Runtime-Function-Error-Body.
std::optional<std::string> decodeBase64(std::string_view text) {
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  while (!text.empty() && text.back() == '=')
    text.remove_suffix(1);
  for (char c : text) {
    int value;
    if (c >= 'A' && c <= 'Z')
      value = c - 'A';
    else if (c >= 'a' && c <= 'z')
      value = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      value = c - '0' + 52;
    else if (c == '+')
      value = 62;
    else if (c == '/')
      value = 63;
    else
      return std::nullopt;
    bits = (bits << 6) | static_cast<uint32_t>(value);
    if (++count == 4) {
      out += static_cast<char>((bits >> 16) & 0xff);
      out += static_cast<char>((bits >> 8) & 0xff);
      out += static_cast<char>(bits & 0xff);
      bits = 0;
      count = 0;
    }
  }
  if (count == 1) return std::nullopt;
  if (count == 2) out += static_cast<char>((bits >> 4) & 0xff);
  if (count == 3) {
    out += static_cast<char>((bits >> 10) & 0xff);
    out += static_cast<char>((bits >> 2) & 0xff);
  }
  return out;
}

// Unparsed bytes read from one connection at a time (the parser moves them into
// the request, bounded on its own).
constexpr size_t kMaxInputBytes = 1u << 20;
constexpr size_t kReadBatchBytes = 192u << 10;
// What a lingering close drops before it closes anyway: a refused request's
// body (6 MB and a bit) with room to spare.
constexpr size_t kMaxLingerBytes = 16u << 20;

}  // namespace

void Agent::acceptConnections() {
  for (;;) {
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto connection = std::make_unique<Connection>();
    connection->fd.reset(fd);
    connection->watched = EPOLLIN | EPOLLRDHUP;
    connection->parser.setStreamChooser(
        [this](const HttpRequest& request) { return streamLimit(request); });
    connections_[fd] = std::move(connection);
    epoll_event event{};
    event.events = EPOLLIN | EPOLLRDHUP;
    event.data.u64 = static_cast<uint64_t>(fd);
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event);
  }
}

void Agent::closeConnection(int fd) {
  extensions_.connectionClosed(fd);
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  connections_.erase(fd);
}

void Agent::handleConnection(int fd, uint32_t events) {
  auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  Connection& connection = *it->second;
  bool peer_gone = false;
  // A paused stream is read again once the host catches up (resumeStreams).
  if (!connection.paused && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
    peer_gone = !readInput(connection);
  if (connection.lingering) {
    // Our answer is out and our side shut: drop what still comes (a refused
    // body) so that closing never resets the answer away, until the client
    // closes or sends more than a refused request could.
    connection.lingered += connection.in.size();
    connection.in.clear();
    if (peer_gone || connection.lingered > kMaxLingerBytes) closeConnection(fd);
    return;
  }
  // A runtime that keeps sending behind a parked long poll is hostile.
  if (connection.parked && connection.in.size() >= kMaxInputBytes) return closeConnection(fd);
  serveInput(connection);
  if (!flushOutput(connection, peer_gone)) return;
  // A 6 MiB request or event leaves no 6 MiB buffer behind (the sandbox's
  // memory is the function's).
  if (connection.in.empty() && connection.in.capacity() > (256u << 10))
    std::string().swap(connection.in);
  watchOutput(connection);
}

bool Agent::readInput(Connection& connection) {
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(connection.fd.get(), buffer, sizeof buffer);
    if (n > 0) {
      connection.in.append(buffer, static_cast<size_t>(n));
      // Level-triggered: the rest waits for the next turn of the loop.
      // A batch at a time: the parser moves it into the request, so `in`
      // stays small (a 6 MB body does not pass through a 6 MB buffer here).
      if (static_cast<size_t>(n) < sizeof buffer || connection.in.size() >= kReadBatchBytes)
        return true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && errno == EAGAIN;
  }
}

void Agent::serveInput(Connection& connection) {
  // Requests are served one at a time, in order (pipelining): a parked long
  // poll holds the rest until it is answered.
  while (!connection.parked && !connection.paused && !connection.close_after_write &&
         !connection.in.empty()) {
    if (connection.discard_left > 0) {
      const size_t drop = std::min(connection.discard_left, connection.in.size());
      connection.in.erase(0, drop);
      connection.discard_left -= drop;
      if (connection.discard_left > 0) break;
      continue;
    }
    auto status = connection.parser.parse(connection.in);
    if (connection.parser.streaming() && status != HttpRequestParser::Status::kError)
      forwardStream(connection);
    if (status == HttpRequestParser::Status::kNeedMore) {
      // RFC 9110 10.1.1: the client waits for this before it sends the body.
      if (connection.parser.awaitingBody() && connection.parser.request().expect_continue &&
          !connection.continue_sent) {
        connection.out.append("HTTP/1.1 100 Continue\r\n\r\n");
        connection.continue_sent = true;
      }
      break;
    }
    connection.continue_sent = false;
    if (status == HttpRequestParser::Status::kError) {
      refuse(connection, connection.parser.errorStatus());
      continue;
    }
    HttpRequest request = std::move(connection.parser.request());
    connection.parser.reset();
    serve(connection, request);
  }
}

bool Agent::flushOutput(Connection& connection, bool peer_gone) {
  const int fd = connection.fd.get();
  if (!connection.out.empty() && !connection.out.writeTo(fd)) peer_gone = true;
  // A parked long poll whose client went away is forgotten; one that asked
  // for Connection: close is answered first, then closed.
  if (peer_gone) {
    closeConnection(fd);
    return false;
  }
  if (!connection.out.empty() || !connection.close_after_write || connection.parked) return true;
  // Half-close and linger (RFC 9112 9.6): closing with unread input would
  // reset the connection and the client could lose the answer.
  ::shutdown(fd, SHUT_WR);
  connection.lingering = true;
  connection.in.clear();
  return true;
}

void Agent::watchOutput(Connection& connection) {
  const uint32_t mask = (connection.paused ? 0u : static_cast<uint32_t>(EPOLLIN | EPOLLRDHUP)) |
                        (connection.out.empty() ? 0u : static_cast<uint32_t>(EPOLLOUT));
  if (mask == connection.watched) return;
  connection.watched = mask;
  epoll_event event{};
  event.events = mask;
  event.data.u64 = static_cast<uint64_t>(connection.fd.get());
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, connection.fd.get(), &event);
}

void Agent::queueHead(Connection& connection, int status, size_t body_size,
                      const std::string& extra_headers, const std::string& content_type) {
  connection.parked = false;
  connection.runtime_next = false;
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + reasonPhrase(status) + "\r\n";
  head += "Content-Type: " + content_type + "\r\n";
  head += "Content-Length: " + std::to_string(body_size) + "\r\n";
  head += extra_headers;
  if (connection.close_after_write)
    head += "Connection: close\r\n";
  else if (connection.http10_keep_alive)
    head += "Connection: keep-alive\r\n";
  head += "\r\n";
  connection.out.append(head);
}

void Agent::respond(Connection& connection, int status, const std::string& body,
                    const std::string& extra_headers, const std::string& content_type) {
  queueHead(connection, status, body.size(), extra_headers, content_type);
  connection.out.append(body);
  // Write now if we can; the loop finishes the rest.
  (void)connection.out.writeTo(connection.fd.get());
  watchOutput(connection);
}

void Agent::respond(Connection& connection, int status, std::shared_ptr<const std::string> body,
                    const std::string& extra_headers, const std::string& content_type) {
  queueHead(connection, status, body ? body->size() : 0, extra_headers, content_type);
  connection.out.append(std::move(body));
  (void)connection.out.writeTo(connection.fd.get());
  watchOutput(connection);
}

void Agent::answerParked(std::vector<ParkedAnswer> answers) {
  for (auto& parked : answers) {
    auto it = connections_.find(parked.connection);
    if (it == connections_.end()) continue;
    respond(*it->second, parked.answer.status, parked.answer.body, parked.answer.headers);
    // Requests pipelined behind the long poll are served now; a
    // Connection: close one ends.
    handleConnection(parked.connection, 0);
  }
}

void Agent::refuse(Connection& connection, int status) {
  const HttpRequest& request = connection.parser.request();
  const bool headers_done = connection.parser.headersDone();
  const std::string length = headers_done ? request.header("content-length") : "";
  // The body of a refused request is skipped only when its length is known,
  // the client is sending it (not waiting for a 100 Continue it will never
  // get) and it wants the connection kept; otherwise the answer ends it.
  if (status == 413 && !length.empty() && request.keep_alive && !request.expect_continue) {
    connection.discard_left = std::strtoull(length.c_str(), nullptr, 10);
  } else {
    connection.close_after_write = true;
  }
  if (status == 413) {
    // A response too large fails the invocation (the caller sees Function.ResponseSizeTooLarge).
    const std::string& target = connection.parser.request().target;
    if (connection.parser.streaming() && current_) {
      finishInvocation(true,
                       errorBody("Function.ResponseSizeTooLarge",
                                 "Response payload size exceeded maximum allowed payload size (" +
                                     std::to_string(kMaxStreamedResponseBytes) + " bytes)."),
                       "Function.ResponseSizeTooLarge", "application/json", true);
    } else if (current_ && current_->delivered && connection.parser.headersDone() &&
               target.find("/invocation/" + current_->invoke.request_id() + "/") !=
                   std::string::npos) {
      finishInvocation(
          true,
          errorBody("Function.ResponseSizeTooLarge",
                    "Response payload size (" +
                        (length.empty() ? std::string("more than 6291556") : length) +
                        " bytes) exceeded maximum allowed payload size (6291556 bytes)."),
          "Function.ResponseSizeTooLarge", "application/json");
    }
    respond(connection, 413,
            errorBody("RequestEntityTooLarge",
                      "Exceeded maximum allowed payload size (6291556 bytes)."));
    connection.parser.reset();
    return;
  }
  respond(connection, status,
          errorBody(status == 431 ? "RequestHeaderFieldsTooLarge" : "InvalidRequest",
                    std::string("malformed request: ") + reasonPhrase(status)));
}

void Agent::deliver(Connection& connection, Invocation& invocation) {
  const Invoke& invoke = invocation.invoke;
  // Every header of contract 1.2; the optional ones only when they have a value.
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
  if (!invoke.tenant_id().empty())
    headers += "Lambda-Runtime-Aws-Tenant-Id: " + invoke.tenant_id() + "\r\n";
  invocation.delivered = true;
  respond(connection, 200, invocation.payload, headers,
          invoke.content_type().empty() ? "application/json" : invoke.content_type());
}

void Agent::finishInvocation(bool function_error, std::string payload, std::string error_type,
                             std::string content_type, bool streamed) {
  AgentMessage message;
  Result* result = message.mutable_result();
  result->set_request_id(current_->invoke.request_id());
  result->set_function_error(function_error);
  result->set_payload(std::move(payload));
  result->set_error_type(std::move(error_type));
  result->set_content_type(std::move(content_type));
  result->set_streamed(streamed);
  last_request_id_ = current_->invoke.request_id();
  current_.reset();
  pending_result_ = std::move(message);
  maybeFinishInvocation();
}

void Agent::serve(Connection& connection, HttpRequest& request) {
  if (!request.keep_alive) connection.close_after_write = true;
  connection.http10_keep_alive = request.http10 && request.keep_alive;
  const std::string& target = request.target;
  if (ExtensionsApi::owns(target)) return serveExtensions(connection, request);
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
    if (lifecycle_.is(RuntimeState::kInitFailed)) return invalidState("InitError", "Ready");
    if (lifecycle_.moveTo(RuntimeState::kAwaitingExtensions)) extensions_.closeRegistration();
    logs_.flush();
    // A repeated /next while the event is out re-serves it (as the RIE does).
    if (current_) return deliver(connection, *current_);
    connection.parked = true;  // long poll: answered when Invoke arrives
    connection.runtime_next = true;
    return maybeReady();
  }
  if (target == kPrefix + "init/error") {
    if (request.method != "POST")
      return respond(connection, 405, errorBody("MethodNotAllowed", "use POST"));
    // Only before the first next (contract 1.7: Initializing -> InitError).
    if (!lifecycle_.is(RuntimeState::kInitializing))
      return invalidState(lifecycle_.is(RuntimeState::kInitFailed) ? "InitError" : "Ready",
                          "InitError");
    lifecycle_.moveTo(RuntimeState::kInitFailed);
    logs_.flush();
    AgentMessage message;
    std::string type = request.header("lambda-runtime-function-error-type");
    message.mutable_init_error()->set_error_type(type.empty() ? "Runtime.Unknown" : type);
    message.mutable_init_error()->set_payload(request.body);
    host_.send(message);
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
    const std::string mode = request.header("lambda-runtime-function-response-mode");
    if (verb == "response" && !mode.empty() && mode != "streaming") {
      finishInvocation(true,
                       errorBody("Runtime.InvalidResponseModeHeader",
                                 "Invalid Lambda-Runtime-Function-Response-Mode: " + mode),
                       "Runtime.InvalidResponseModeHeader", "application/json");
      return respond(connection, 400,
                     errorBody("InvalidFunctionResponseMode", "Invalid function response mode"));
    }
    // A streamed response (contract 1.6) went to the host as it came when
    // the invocation streams, else it is gathered here (6 MB, like any); an
    // error reported in its trailers fails the invocation with that error.
    const std::string stream_error = request.header("lambda-runtime-function-error-type");
    if (verb == "response" && mode == "streaming" && !stream_error.empty()) {
      auto body = decodeBase64(request.header("lambda-runtime-function-error-body"));
      finishInvocation(true, body && !body->empty() ? *body : errorBody(stream_error, ""),
                       stream_error, "application/json", request.streamed);
    } else if (verb == "response" && request.streamed) {
      finishInvocation(false, "", "",
                       content_type.empty() ? "application/octet-stream" : content_type, true);
    } else if (verb == "response") {
      finishInvocation(false, std::move(request.body), "",
                       content_type.empty() ? "application/json" : content_type);
    } else {
      finishInvocation(true, std::move(request.body),
                       request.header("lambda-runtime-function-error-type"), "application/json");
    }
    return respond(connection, 202, "{\"status\":\"OK\"}");
  }
  if (target == "/2018-06-01/ping") return respond(connection, 200, "pong", "", "text/plain");
  respond(connection, 404, errorBody("NotFound", "no such Runtime API path: " + target));
}

void Agent::serveExtensions(Connection& connection, HttpRequest& request) {
  ApiAnswer answer = extensions_.handle(request, connection.fd.get());
  if (answer.status == 0) {
    connection.parked = true;
  } else {
    respond(connection, answer.status, answer.body, answer.headers);
  }
  for (auto& error : extensions_.takeErrors()) {
    if (error.during_init && lifecycle_.initializing()) {
      lifecycle_.moveTo(RuntimeState::kInitFailed);
      pending_runtime_.reset();
      AgentMessage message;
      message.mutable_init_error()->set_error_type(error.error_type);
      message.mutable_init_error()->set_payload(
          error.body.empty() ? errorBody(error.error_type,
                                         "extension " + error.extension + " failed to initialize")
                             : error.body);
      host_.send(message);
    } else {
      logs_.agentLine("[wick-agent] extension " + error.extension + " reported " +
                      error.error_type);
    }
  }
  maybeStartRuntime();
  maybeReady();
  maybeFinishInvocation();
}

}  // namespace wick::agent
