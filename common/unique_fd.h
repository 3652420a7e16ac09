// The one owner of a file descriptor: closes it on destruction, move-only.
#pragma once

#include <string>
#include <string_view>

#include "common/error.h"

namespace wick {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Small file helpers with errors that name the path.
Result<UniqueFd> openFile(const std::string& path, int flags, int mode = 0);
Result<std::string> readFile(const std::string& path);
Status writeFile(const std::string& path, std::string_view content);
// Write the whole buffer to an open fd (retrying on EINTR and short writes).
Status writeAll(int fd, std::string_view content);

}  // namespace wick
