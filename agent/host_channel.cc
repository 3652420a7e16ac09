#include "agent/host_channel.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace wick::agent {

HostChannel::HostChannel(int fd) : fd_(fd) {
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

void HostChannel::read(std::vector<HostMessage>& messages) {
  for (;;) {
    // Straight into the frame buffer: a 6 MB event is read, not copied, here.
    std::string_view room = reader_.prepare(kReadBytes);
    ssize_t n = ::read(fd_.get(), const_cast<char*>(room.data()), room.size());
    if (n > 0) {
      reader_.commit(static_cast<size_t>(n));
      if (static_cast<size_t>(n) < room.size()) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 || errno != EAGAIN) gone_ = true;
    break;
  }
  while (auto frame = reader_.nextView()) {
    HostMessage message;
    if (!message.ParseFromArray(frame->data(), static_cast<int>(frame->size()))) {
      gone_ = true;  // the host never sends garbage: treat it as gone
      return;
    }
    messages.push_back(std::move(message));
  }
  reader_.releaseIfDrained();  // a 6 MB event leaves no 6 MB buffer behind
  if (reader_.oversized()) gone_ = true;
}

void HostChannel::append(const AgentMessage& message) {
  // Serialized in place, behind its length: no intermediate copy of a payload.
  const size_t size = message.ByteSizeLong();
  const size_t at = out_.size();
  out_.resize(at + 4 + size);
  const std::string header = frameHeader(size);
  std::memcpy(out_.data() + at, header.data(), 4);
  message.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out_.data() + at + 4));
}

void HostChannel::send(const AgentMessage& message) {
  if (gone_) return;
  if (message.has_log()) {
    if (out_.size() - out_offset_ > kMaxBufferedLogBytes) {
      ++dropped_logs_;
      ++unreported_drops_;
      return;
    }
    if (unreported_drops_ > 0) {
      // The host learns what it missed once it keeps up again.
      AgentMessage notice;
      notice.mutable_log()->set_request_id(message.log().request_id());
      notice.mutable_log()->set_stream(3);
      notice.mutable_log()->set_line("[wick-agent] " + std::to_string(unreported_drops_) +
                                     " log lines dropped: the host did not keep up");
      unreported_drops_ = 0;
      append(notice);
    }
  }
  append(message);
  flush();
}

void HostChannel::flush() {
  while (out_offset_ < out_.size()) {
    ssize_t n = ::write(fd_.get(), out_.data() + out_offset_, out_.size() - out_offset_);
    if (n > 0) {
      out_offset_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    gone_ = true;
    out_.clear();
    out_offset_ = 0;
    return;
  }
  // Drop what was written once it dominates the buffer (no quadratic erase).
  if (out_offset_ == out_.size()) {
    if (out_.capacity() > (1u << 20)) std::string().swap(out_);  // a 6 MiB result went
    out_.clear();
    out_offset_ = 0;
  } else if (out_offset_ > (1u << 20) && out_offset_ * 2 > out_.size()) {
    out_.erase(0, out_offset_);
    out_offset_ = 0;
  }
}

void HostChannel::drain(int timeout_ms) {
  flush();
  while (pending() && !gone_) {
    pollfd writable{fd_.get(), POLLOUT, 0};
    if (::poll(&writable, 1, timeout_ms) <= 0) return;
    flush();
  }
}

}  // namespace wick::agent
