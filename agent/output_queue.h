// The bytes a Runtime API connection still owes its client: small heads are
// copied in, a payload is queued by reference (shared with the invocation
// that may serve it again), and everything goes out with writev(2). Nothing
// is erased from the front of a big buffer, so a 6 MB event written in many
// partial writes costs no memmove.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

namespace wick::agent {

class OutputQueue {
 public:
  // Copies `bytes` (heads, small bodies).
  void append(std::string_view bytes);
  // Queues `bytes` without copying them.
  void append(std::shared_ptr<const std::string> bytes);
  bool empty() const { return parts_.empty(); }
  // Writes what the socket takes now; false on an error other than EAGAIN/EINTR.
  bool writeTo(int fd);

 private:
  struct Part {
    std::string owned;
    std::shared_ptr<const std::string> shared;
    std::string_view bytes() const { return shared ? std::string_view(*shared) : owned; }
  };
  std::deque<Part> parts_;
  size_t offset_ = 0;  // bytes of parts_.front() already written
};

}  // namespace wick::agent
