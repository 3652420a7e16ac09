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
  // The CFS period CPU quota is counted over (100 ms, the kernel's default).
  uint64_t cpu_period_us = 100'000;
  uint64_t swap_mb = 0;    // none, as on Lambda
  uint64_t io_weight = 0;  // the kernel's default
};

// What a sandbox of `memory_mb` gets under `policy`, after init (no boost).
inline sandbox::Resources sandboxResources(uint64_t memory_mb, const ResourcePolicy& policy) {
  sandbox::Resources resources;
  resources.memory_mb = memory_mb;
  resources.mb_per_vcpu = policy.mb_per_vcpu;
  resources.pids_max = policy.pids_max;
  resources.cpu_period_us = policy.cpu_period_us;
  resources.swap_mb = policy.swap_mb;
  resources.io_weight = policy.io_weight;
  return resources;
}

}  // namespace wick::invoke
