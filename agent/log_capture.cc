#include "agent/log_capture.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace wick::agent {

Status LogCapture::open() {
  for (size_t i = 0; i < kPipes; ++i) {
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0) return Error::fromErrno("log capture: pipe");
    pipes_[i].fd.reset(ends[0]);
    write_ends_[i].reset(ends[1]);
    ::fcntl(ends[0], F_SETFL, ::fcntl(ends[0], F_GETFL) | O_NONBLOCK);
  }
  return {};
}

void LogCapture::beginInvocation(const std::string& request_id) {
  request_id_ = request_id;
  used_ = 0;
  truncated_ = false;
}

void LogCapture::endInvocation() {
  flush();
  request_id_.clear();
}

void LogCapture::readable(size_t index) {
  drain(pipes_[index]);
}

void LogCapture::flush() {
  for (Stream& stream : pipes_) {
    if (!stream.written) continue;
    drain(stream);
    if (!stream.partial.empty()) {
      emit(stream.number, stream.partial);
      stream.partial.clear();
    }
  }
}

void LogCapture::drain(Stream& stream) {
  if (!stream.fd) return;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(stream.fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // EAGAIN (the agent holds the write ends: no EOF)
    stream.partial.append(buffer, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t end; (end = stream.partial.find('\n', start)) != std::string::npos; start = end + 1)
      emit(stream.number, std::string_view(stream.partial).substr(start, end - start));
    stream.partial.erase(0, start);
    // A line that never ends is cut rather than buffered forever.
    while (stream.partial.size() > kMaxLineBytes) {
      emit(stream.number, std::string_view(stream.partial).substr(0, kMaxLineBytes));
      stream.partial.erase(0, kMaxLineBytes);
    }
  }
}

void LogCapture::emit(uint32_t stream, std::string_view line) {
  if (truncated_) return;
  used_ += line.size() + 1;
  if (used_ > budget_) {
    // A noisy function cannot flood the host: one notice, then nothing until
    // the next invocation.
    truncated_ = true;
    agentLine("[wick-agent] log output truncated: more than " + std::to_string(budget_) +
              " bytes in this invocation");
    return;
  }
  AgentMessage message;
  Log* log = message.mutable_log();
  log->set_request_id(request_id_);
  log->set_stream(stream);
  log->set_line(std::string(line));
  sink_(message);
}

void LogCapture::agentLine(const std::string& line) {
  AgentMessage message;
  Log* log = message.mutable_log();
  log->set_request_id(request_id_);
  log->set_stream(kAgentStream);
  log->set_line(line);
  sink_(message);
}

}  // namespace wick::agent
