// Length-prefixed frames on a stream socket: 4 bytes little-endian length,
// then the message. Shared by wickd and wick-agent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace wick::agent {

inline constexpr uint32_t kMaxFrameBytes = 16u << 20;

// Appends one frame holding `message` to `out`.
void appendFrame(std::string& out, std::string_view message);
// The 4-byte length prefix of a frame of `size` bytes.
std::string frameHeader(size_t size);

// Accumulates bytes and yields whole frames. Bytes can be read(2) straight
// into it (prepare + commit), and a frame is handed out as a view of its
// buffer: a 6 MB payload is not copied on its way through.
class FrameReader {
 public:
  // `keep_bytes`: buffer capacity kept once drained (more is given back, so a
  // 6 MB frame leaves no 6 MB buffer behind in a small sandbox).
  explicit FrameReader(size_t keep_bytes = 1u << 20) : keep_bytes_(keep_bytes) {}

  void feed(std::string_view bytes);
  // Room for at least `min_bytes` more at the end (more when the frame being
  // read is known to be bigger); write into it, then commit what was written.
  // Views handed out before are invalid after prepare() or feed().
  std::string_view prepare(size_t min_bytes);
  void commit(size_t bytes) { end_ += bytes; }

  // The next complete frame, valid until the next prepare() or feed(). Sets
  // oversized() and stops yielding when a length exceeds kMaxFrameBytes (the
  // stream is broken).
  std::optional<std::string_view> nextView();
  std::optional<std::string> next() {
    auto view = nextView();
    return view ? std::optional<std::string>(std::string(*view)) : std::nullopt;
  }
  bool oversized() const { return oversized_; }
  // Once every frame was handed out and is done with: gives a buffer bigger
  // than keep_bytes back now, not at the next read.
  void releaseIfDrained();

 private:
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  // Bytes the frame at begin_ needs in all (header included), or 0 when its
  // length is not in yet.
  size_t currentFrameBytes() const;

  std::unique_ptr<char, Free> data_;
  size_t capacity_ = 0;
  size_t begin_ = 0;  // first byte not yet handed out
  size_t end_ = 0;    // one past the last byte received
  size_t keep_bytes_;
  bool oversized_ = false;
};

}  // namespace wick::agent
