// Length-prefixed frames on a stream socket: 4 bytes little-endian length,
// then the message. Shared by wickd and wick-agent.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wick::agent {

inline constexpr uint32_t kMaxFrameBytes = 16u << 20;

// Appends one frame holding `message` to `out`.
void appendFrame(std::string& out, std::string_view message);

// Accumulates bytes and yields whole frames.
class FrameReader {
 public:
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // The next complete frame, if one has arrived. Sets oversized() and stops
  // yielding when a length exceeds kMaxFrameBytes (the stream is broken).
  std::optional<std::string> next();
  bool oversized() const { return oversized_; }

 private:
  std::string buffer_;
  size_t offset_ = 0;
  bool oversized_ = false;
};

}  // namespace wick::agent
