// Streamed responses (contract 1.6): a runtime's response body posted with
// Lambda-Runtime-Function-Response-Mode: streaming, for an invocation the host
// asked to stream, goes to the host as ResponseChunk frames as it is parsed.
// Nothing is gathered: while more than kStreamWindowBytes wait for the host
// (or the bandwidth shape says so) the runtime's connection is not read, so
// its writes block and the host's pace is the runtime's.
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>

#include "agent/agent.h"

namespace wick::agent {

namespace {

int64_t monotonicMs() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1'000'000;
}

}  // namespace

size_t Agent::streamLimit(const HttpRequest& request) const {
  if (!current_ || !current_->delivered || !current_->invoke.stream_response()) return 0;
  if (request.method != "POST" ||
      request.header("lambda-runtime-function-response-mode") != "streaming")
    return 0;
  if (request.target !=
      "/2018-06-01/runtime/invocation/" + current_->invoke.request_id() + "/response")
    return 0;
  return kMaxStreamedResponseBytes;
}

void Agent::forwardStream(Connection& connection) {
  std::string data = connection.parser.takeBody();
  // The invocation ended under it (it cannot, while the host waits): drop.
  if (!current_) return;
  const bool first = !current_->streaming;
  if (data.empty() && !first) return;
  AgentMessage message;
  ResponseChunk* chunk = message.mutable_response_chunk();
  chunk->set_request_id(current_->invoke.request_id());
  if (first) {
    current_->streaming = true;
    current_->stream_started_ms = monotonicMs();
    const std::string type = connection.parser.request().header("content-type");
    chunk->set_content_type(type.empty() ? "application/octet-stream" : type);
  }
  current_->streamed_bytes += data.size();
  chunk->set_data(std::move(data));
  host_.send(message);
  if (streamMustWait()) setPaused(connection, true);
}

bool Agent::streamMustWait() {
  if (host_.queued() > kStreamWindowBytes) return true;  // resumed once the host reads
  if (stream_bytes_per_second_ == 0 || !current_ || !current_->streaming) return false;
  // Lambda's shape: the burst at full speed, then the rate.
  const int64_t elapsed_ms = monotonicMs() - current_->stream_started_ms;
  const uint64_t allowed =
      stream_burst_bytes_ + stream_bytes_per_second_ * static_cast<uint64_t>(elapsed_ms) / 1000;
  if (current_->streamed_bytes <= allowed) return false;
  const uint64_t wait_ms =
      (current_->streamed_bytes - allowed) * 1000 / stream_bytes_per_second_ + 1;
  if (!shape_timer_) {
    shape_timer_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    if (!shape_timer_) return false;  // unshaped rather than stuck
    watch(shape_timer_.get(), EPOLLIN, kShapeTimerTag);
  }
  itimerspec when{};
  when.it_value.tv_sec = static_cast<time_t>(wait_ms / 1000);
  when.it_value.tv_nsec = static_cast<long>(wait_ms % 1000) * 1'000'000;
  ::timerfd_settime(shape_timer_.get(), 0, &when, nullptr);
  return true;
}

void Agent::setPaused(Connection& connection, bool paused) {
  connection.paused = paused;
  watchOutput(connection);
}

void Agent::resumeStreams() {
  std::vector<int> paused;
  for (const auto& [fd, connection] : connections_)
    if (connection->paused) paused.push_back(fd);
  for (int fd : paused) {
    auto it = connections_.find(fd);  // serving one may close another
    if (it == connections_.end() || streamMustWait()) continue;
    setPaused(*it->second, false);
    // What it had read is parsed on, then the socket is read again.
    handleConnection(fd, EPOLLIN);
  }
}

}  // namespace wick::agent
