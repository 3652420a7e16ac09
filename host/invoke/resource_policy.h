// The operator's sizing of every sandbox, beyond the function's own
// MemorySize: one value from the daemon config (wickd_config.proto) through the
// planner and the environment plan to the sandbox spec.
#pragma once

#include <cstdint>

#include "sandbox/spec.h"

namespace wick::invoke {

struct ResourcePolicy {
  // Memory that buys one vCPU (CPU quota = MemorySize / mb_per_vcpu).
  uint64_t mb_per_vcpu = sandbox::kMbPerVcpu;
  uint64_t pids_max = sandbox::kPidsMax;
};

}  // namespace wick::invoke
