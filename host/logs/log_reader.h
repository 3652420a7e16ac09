// Reading a function's log streams back (for `wick logs`).
#pragma once

#include <string>
#include <vector>

#include "common/error.h"

namespace wick::logs {

struct StreamInfo {
  std::string name;
  uint64_t size = 0;
  int64_t modified_ns = 0;
};

// Streams of a function, oldest first.
Result<std::vector<StreamInfo>> listStreams(const std::string& root, const std::string& function);
// Up to `max_bytes` of a stream from `offset`. The stream name is checked
// against Lambda's form, so no path leaves the function's log group.
Result<std::string> readStream(const std::string& root, const std::string& function,
                               const std::string& stream, uint64_t offset, uint64_t max_bytes);

}  // namespace wick::logs
