// Function logs as Lambda lays them out: a log group per function
// (/aws/lambda/<name>), a log stream per execution environment
// (YYYY/MM/DD/[<version>]<32 hex>), platform lines START / END / REPORT
// printed exactly as Lambda prints them. Stored as files under the state dir:
// <root>/<function>/<stream name>.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "common/error.h"
#include "common/unique_fd.h"

namespace wick::logs {

std::string logStreamName(const std::string& version, const std::string& environment_id);

struct Report {
  std::string request_id;
  double duration_ms = 0;
  int64_t memory_size_mb = 0;
  int64_t max_memory_used_mb = 0;
  std::optional<double> init_duration_ms;  // cold starts only
  std::string status;                      // e.g. "timeout" (omitted when empty)
};
std::string startLine(const std::string& request_id, const std::string& version);
std::string endLine(const std::string& request_id);
std::string reportLine(const Report& report);

// One environment's stream. Appends lines; keeps the current invocation's
// text so its tail can go back in X-Amz-Log-Result.
class LogStream {
 public:
  static Result<LogStream> open(const std::string& root, const std::string& function,
                                const std::string& stream_name);
  LogStream(LogStream&&) = default;

  void beginInvocation();
  // A line without its newline.
  void append(std::string_view line);
  // The last `bytes` of what was appended since beginInvocation().
  std::string invocationTail(size_t bytes = 4096) const;
  const std::string& path() const { return path_; }

 private:
  LogStream(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  UniqueFd fd_;
  std::string path_;
  std::string invocation_;
};

}  // namespace wick::logs
