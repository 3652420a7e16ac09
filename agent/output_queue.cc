#include "agent/output_queue.h"

#include <sys/uio.h>

#include <cerrno>

namespace wick::agent {

void OutputQueue::append(std::string_view bytes) {
  if (bytes.empty()) return;
  // Small pieces join the last owned part: one iovec for a whole head.
  if (!parts_.empty() && !parts_.back().shared) {
    parts_.back().owned.append(bytes);
    return;
  }
  parts_.push_back(Part{std::string(bytes), nullptr});
}

void OutputQueue::append(std::shared_ptr<const std::string> bytes) {
  if (!bytes || bytes->empty()) return;
  parts_.push_back(Part{std::string(), std::move(bytes)});
}

bool OutputQueue::writeTo(int fd) {
  while (!parts_.empty()) {
    iovec vectors[8];
    int count = 0;
    for (size_t i = 0; i < parts_.size() && count < 8; ++i, ++count) {
      std::string_view bytes = parts_[i].bytes();
      if (i == 0) bytes.remove_prefix(offset_);
      vectors[count] = {const_cast<char*>(bytes.data()), bytes.size()};
    }
    ssize_t n = ::writev(fd, vectors, count);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    auto written = static_cast<size_t>(n);
    while (written > 0) {
      const size_t left = parts_.front().bytes().size() - offset_;
      if (written < left) {
        offset_ += written;
        break;
      }
      written -= left;
      parts_.pop_front();
      offset_ = 0;
    }
    if (static_cast<size_t>(n) == 0) return true;
  }
  return true;
}

}  // namespace wick::agent
