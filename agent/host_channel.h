// The agent's end of the host socket: length-prefixed protobuf frames
// (protocol/framing.h) both ways. Outgoing frames are buffered so the runtime
// never waits for a slow host; log frames are dropped (and counted) while too
// many bytes wait, results never are.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/protocol/agent.pb.h"
#include "agent/protocol/framing.h"
#include "common/unique_fd.h"

namespace wick::agent {

class HostChannel {
 public:
  static constexpr size_t kMaxBufferedLogBytes = 8u << 20;

  // Takes `fd`, makes it close-on-exec (the runtime never inherits it) and non-blocking.
  explicit HostChannel(int fd);

  int fd() const { return fd_.get(); }
  // The host closed the socket, sent garbage, or a write failed.
  bool gone() const { return gone_; }
  // Bytes wait for the socket to drain (watch it for EPOLLOUT).
  bool pending() const { return !out_.empty(); }
  // Bytes waiting for the socket.
  size_t queued() const { return out_.size() - out_offset_; }
  uint64_t droppedLogs() const { return dropped_logs_; }

  // Reads what has arrived; whole messages are appended to `messages`.
  void read(std::vector<HostMessage>& messages);
  void send(const AgentMessage& message);
  // Writes what the socket takes now.
  void flush();
  // Waits up to `timeout_ms` for everything to be written (before exiting).
  void drain(int timeout_ms);

 private:
  static constexpr size_t kReadBytes = 64u << 10;
  void append(const AgentMessage& message);

  UniqueFd fd_;
  FrameReader reader_;
  std::string out_;
  size_t out_offset_ = 0;
  bool gone_ = false;
  uint64_t dropped_logs_ = 0;
  uint64_t unreported_drops_ = 0;
};

}  // namespace wick::agent
