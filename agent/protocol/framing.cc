#include "agent/protocol/framing.h"

namespace wick::agent {

void appendFrame(std::string& out, std::string_view message) {
  const auto size = static_cast<uint32_t>(message.size());
  const char header[4] = {static_cast<char>(size & 0xff), static_cast<char>((size >> 8) & 0xff),
                          static_cast<char>((size >> 16) & 0xff),
                          static_cast<char>((size >> 24) & 0xff)};
  out.append(header, 4);
  out.append(message);
}

std::optional<std::string> FrameReader::next() {
  if (oversized_ || buffer_.size() - offset_ < 4) return std::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(buffer_.data() + offset_);
  const uint32_t size = p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
  if (size > kMaxFrameBytes) {
    oversized_ = true;
    return std::nullopt;
  }
  if (buffer_.size() - offset_ - 4 < size) return std::nullopt;
  std::string frame = buffer_.substr(offset_ + 4, size);
  offset_ += 4 + size;
  // Drop consumed bytes once they dominate the buffer; let a drained buffer
  // that held a big frame go.
  if (offset_ == buffer_.size()) {
    if (buffer_.capacity() > (1u << 20)) std::string().swap(buffer_);
    buffer_.clear();
    offset_ = 0;
  } else if (offset_ > 65536 && offset_ * 2 > buffer_.size()) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  return frame;
}

}  // namespace wick::agent
