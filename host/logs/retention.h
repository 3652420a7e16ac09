// How long log streams are kept, and how much disk they may take: a retention
// in days per log group (PutRetentionPolicy; the daemon's default, 30 days,
// where none is set), and a cap on the bytes of all groups together. The sweep
// removes streams whose last record is older than their group's retention,
// then the oldest streams while the total is over the cap, never one written
// in the last `live_window` (a live environment's).
#pragma once

// clang-format off
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "common/error.h"

namespace wick::logs {

// The values CloudWatch Logs accepts for retentionInDays.
bool validRetentionDays(int64_t days);
const std::string& retentionDaysList();  // "[1, 3, 5, ...]" for error messages

struct RetentionSettings {
  int default_days = 30;
  uint64_t max_bytes = 4ull << 30;
  std::chrono::milliseconds live_window = std::chrono::minutes(15);
};

struct SweepReport {
  uint64_t streams_removed = 0;
  uint64_t bytes_removed = 0;
  uint64_t bytes_kept = 0;
};

class LogRetention {
 public:
  LogRetention(std::string root, RetentionSettings settings)
      : root_(std::move(root)), settings_(settings) {}

  // The group's own policy, if one was put.
  Result<std::optional<int>> policy(const std::string& function) const;
  int effectiveDays(const std::string& function) const;
  Status putPolicy(const std::string& function, int days);
  Status deletePolicy(const std::string& function);

  Result<SweepReport> sweep(int64_t now_ms) const;

  const RetentionSettings& settings() const { return settings_; }

 private:
  std::string policyPath(const std::string& function) const;

  std::string root_;
  RetentionSettings settings_;
};

// Sweeps at start and then every `interval`, on the worker pool.
boost::asio::awaitable<void> sweepPeriodically(const LogRetention& retention,
                                               boost::asio::thread_pool& workers,
                                               std::chrono::seconds interval);

}  // namespace wick::logs
