#include "common/unique_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace wick {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Result<UniqueFd> openFile(const std::string& path, int flags, int mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return Error::fromErrno("open " + path);
  return UniqueFd(fd);
}

Result<std::string> readFile(const std::string& path) {
  auto fd = openFile(path, O_RDONLY);
  if (!fd) return std::move(fd).error();
  std::string content;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd->get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::fromErrno("read " + path);
    }
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
  }
  return content;
}

Status writeAll(int fd, std::string_view content) {
  while (!content.empty()) {
    ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::fromErrno("write");
    }
    content.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Status writeFile(const std::string& path, std::string_view content) {
  auto fd = openFile(path, O_WRONLY);
  if (!fd) return std::move(fd).error();
  // cgroup and proc files take one write(2) per value: a short or split write
  // would be parsed as two values, so write once and report the errno.
  ssize_t n = ::write(fd->get(), content.data(), content.size());
  if (n < 0) return Error::fromErrno("write '" + std::string(content) + "' to " + path);
  if (static_cast<size_t>(n) != content.size()) return Error("short write to " + path, EIO);
  return {};
}

}  // namespace wick
