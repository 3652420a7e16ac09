#include "images/byte_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace wick::images {

Result<FileSource> FileSource::open(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::fromErrno("open " + path);
  return FileSource(std::move(fd), path);
}

Result<size_t> FileSource::read(void* buffer, size_t size) {
  for (;;) {
    ssize_t n = ::read(fd_.get(), buffer, size);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return Error::fromErrno("read " + path_);
  }
}

Result<size_t> MemorySource::read(void* buffer, size_t size) {
  size_t n = std::min(size, bytes_.size());
  if (n) std::memcpy(buffer, bytes_.data(), n);
  bytes_.remove_prefix(n);
  return n;
}

}  // namespace wick::images
