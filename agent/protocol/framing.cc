#include "agent/protocol/framing.h"

#include <algorithm>
#include <cstring>
#include <new>

namespace wick::agent {

namespace {

uint32_t readLength(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return u[0] | (u[1] << 8) | (u[2] << 16) | (static_cast<uint32_t>(u[3]) << 24);
}

}  // namespace

std::string frameHeader(size_t size) {
  const auto length = static_cast<uint32_t>(size);
  return {static_cast<char>(length & 0xff), static_cast<char>((length >> 8) & 0xff),
          static_cast<char>((length >> 16) & 0xff), static_cast<char>((length >> 24) & 0xff)};
}

void appendFrame(std::string& out, std::string_view message) {
  out += frameHeader(message.size());
  out.append(message);
}

size_t FrameReader::currentFrameBytes() const {
  if (end_ - begin_ < 4) return 0;
  return 4 + static_cast<size_t>(readLength(data_.get() + begin_));
}

void FrameReader::feed(std::string_view bytes) {
  std::string_view room = prepare(bytes.size());
  std::memcpy(const_cast<char*>(room.data()), bytes.data(), bytes.size());
  commit(bytes.size());
}

void FrameReader::releaseIfDrained() {
  if (begin_ != end_) return;
  begin_ = end_ = 0;
  if (capacity_ > keep_bytes_) {
    data_.reset();
    capacity_ = 0;
  }
}

std::string_view FrameReader::prepare(size_t min_bytes) {
  releaseIfDrained();
  // The whole of a frame whose length is known goes in one buffer, sized once.
  const size_t frame = std::min<size_t>(currentFrameBytes(), kMaxFrameBytes + 4);
  const size_t needed = std::max(min_bytes, frame > end_ - begin_ ? frame - (end_ - begin_) : 0);
  if (capacity_ - end_ < needed) {
    if (begin_ > 0) {  // what was handed out goes first
      std::memmove(data_.get(), data_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (capacity_ - end_ < needed) {
      const size_t capacity = std::max(end_ + needed, capacity_ * 2);
      char* grown = static_cast<char*>(std::realloc(data_.get(), capacity));
      if (grown == nullptr) throw std::bad_alloc();
      (void)data_.release();
      data_.reset(grown);
      capacity_ = capacity;
    }
  }
  return {data_.get() + end_, capacity_ - end_};
}

std::optional<std::string_view> FrameReader::nextView() {
  if (oversized_ || end_ - begin_ < 4) return std::nullopt;
  const uint32_t size = readLength(data_.get() + begin_);
  if (size > kMaxFrameBytes) {
    oversized_ = true;
    return std::nullopt;
  }
  if (end_ - begin_ - 4 < size) return std::nullopt;
  std::string_view frame(data_.get() + begin_ + 4, size);
  begin_ += 4 + size;
  return frame;
}

}  // namespace wick::agent
