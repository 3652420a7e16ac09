// Streams of bytes that blobs and layers are read from: a file, a member of a
// tarball read in place, memory. Pulling, so that digests, size limits and
// decompression can be stacked on top of each other.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/unique_fd.h"

namespace wick::images {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Up to `size` bytes into `buffer`; 0 only at the end of the stream.
  virtual Result<size_t> read(void* buffer, size_t size) = 0;
};

class FileSource final : public ByteSource {
 public:
  static Result<FileSource> open(const std::string& path);
  explicit FileSource(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  Result<size_t> read(void* buffer, size_t size) override;
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
  std::string path_;
};

class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(std::string_view bytes) : bytes_(bytes) {}
  Result<size_t> read(void* buffer, size_t size) override;

 private:
  std::string_view bytes_;
};

}  // namespace wick::images
