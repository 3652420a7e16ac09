#include "host/logs/log_stream.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "common/ids.h"
#include "host/logs/log_records.h"

namespace wick::logs {

std::string logStreamName(const std::string& version, const std::string& environment_id) {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char date[16];
  std::strftime(date, sizeof date, "%Y/%m/%d", &utc);
  return std::string(date) + "/[" + version + "]" + environment_id;
}

std::string startLine(const std::string& request_id, const std::string& version) {
  return "START RequestId: " + request_id + " Version: " + version;
}

std::string endLine(const std::string& request_id) {
  return "END RequestId: " + request_id;
}

std::string reportLine(const Report& report) {
  char buffer[512];
  // Billed Duration is the duration rounded up to the next millisecond.
  const auto billed = static_cast<long long>(std::ceil(report.duration_ms));
  int n = std::snprintf(buffer, sizeof buffer,
                        "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %lld ms\t"
                        "Memory Size: %lld MB\tMax Memory Used: %lld MB\t",
                        report.request_id.c_str(), report.duration_ms, std::max(billed, 1LL),
                        static_cast<long long>(report.memory_size_mb),
                        static_cast<long long>(report.max_memory_used_mb));
  std::string line(buffer, static_cast<size_t>(std::max(n, 0)));
  if (report.init_duration_ms) {
    std::snprintf(buffer, sizeof buffer, "Init Duration: %.2f ms\t", *report.init_duration_ms);
    line += buffer;
  }
  if (!report.status.empty()) line += "Status: " + report.status;
  return line;
}

Result<LogStream> LogStream::open(const std::string& root, const std::string& function,
                                  const std::string& stream_name) {
  const std::string path = root + "/" + function + "/" + stream_name;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec) return Error("create log stream " + path + ": " + ec.message(), ec.value());
  auto fd = openFile(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (!fd) return std::move(fd).error();
  return LogStream(std::move(*fd), path);
}

void LogStream::beginInvocation() {
  invocation_.clear();
}

void LogStream::append(std::string_view line) {
  invocation_ += line;
  invocation_ += '\n';
  // Only the tail is ever asked for: keep a bounded window of it.
  constexpr size_t kKept = 64 << 10;
  if (invocation_.size() > 2 * kKept) invocation_.erase(0, invocation_.size() - kKept);
  // Logs must never take the invoke down: a full disk loses lines, not requests.
  (void)writeAll(fd_.get(), formatRecord(epochMillis(), line));
}

std::string LogStream::invocationTail(size_t bytes) const {
  return invocation_.size() <= bytes ? invocation_ : invocation_.substr(invocation_.size() - bytes);
}

}  // namespace wick::logs
