// The operator's per-function overrides of what Lambda does not expose: CPU
// per MB, the CFS period, pids.max, I/O weight, swap, keep-alive. Each is
// optional; a version's own tuning wins over its function's, which wins over
// the daemon config.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/error.h"
#include "host/invoke/resource_policy.h"

namespace wick::ops {

struct Tuning {
  std::optional<uint64_t> mb_per_vcpu;
  std::optional<uint64_t> cpu_period_us;
  std::optional<uint64_t> pids_max;
  std::optional<uint64_t> io_weight;
  std::optional<uint64_t> swap_mb;
  std::optional<uint64_t> keep_alive_s;

  bool empty() const;
  // `over` wins where it sets a value.
  Tuning merged(const Tuning& over) const;
  invoke::ResourcePolicy applied(invoke::ResourcePolicy base) const;

  // {"MbPerVcpu": 1769, "CpuPeriodUs": 10000, ...}: only what is set.
  nlohmann::json toJson() const;
  // Each field a positive integer within its kernel's range; unknown fields
  // refused (a typo must not pass silently). null clears nothing: use reset.
  static Result<Tuning> fromJson(const nlohmann::json& document);
};

// "FUNCTION" or "FUNCTION:QUALIFIER", the qualifier a version number or
// $LATEST (aliases move: tune the version they point to).
struct TuningTarget {
  std::string function;
  std::string qualifier;  // empty: every version
};
Result<TuningTarget> parseTuningTarget(const std::string& function, const std::string& qualifier);

}  // namespace wick::ops
