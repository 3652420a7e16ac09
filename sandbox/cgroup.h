// cgroup slices on v1 (and hybrid) and v2 hierarchies, behind one interface.
// Which one a host has is discovered at start-up (CgroupHierarchy::discover),
// never assumed.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"
#include "sandbox/spec.h"

namespace wick::sandbox {

enum class CgroupVersion { kV1, kV2 };
const char* toString(CgroupVersion version);

struct CgroupStats {
  uint64_t memory_current_bytes = 0;
  uint64_t memory_peak_bytes = 0;
  uint64_t cpu_usage_ns = 0;
  uint64_t oom_kills = 0;
  uint64_t pids_current = 0;
};

// What a slice's interface files say now: its limits as the kernel holds them
// and how often CFS throttled it (for operators; not on the invoke path).
struct CgroupInspection {
  CgroupStats stats;
  uint64_t memory_max_bytes = 0;  // 0: no limit
  uint64_t swap_max_bytes = 0;    // beyond memory; 0: none (or no swap accounting)
  uint64_t cpu_quota_us = 0;      // 0: no limit
  uint64_t cpu_period_us = 0;
  uint64_t pids_max = 0;     // 0: no limit
  uint64_t io_weight = 0;    // 0: not available in this slice
  uint64_t cpu_periods = 0;  // CFS periods with runnable tasks
  uint64_t cpu_throttled_periods = 0;
  uint64_t cpu_throttled_ns = 0;
};

// CPU bandwidth from memory: quota = period * memory_mb / mb_per_vcpu, never
// below the floor (nor the kernel's 1 ms minimum), never above the host's cores.
struct CpuQuota {
  uint64_t quota_us;
  uint64_t period_us;
};
CpuQuota cpuQuotaFor(const Resources& resources, int host_cpus);

// Where the controllers are mounted.
class CgroupHierarchy {
 public:
  // The controllers a sandbox slice uses.
  static const std::vector<std::string>& v1Controllers();

  // Looks at `root` (normally /sys/fs/cgroup): a cgroup2 filesystem there means
  // v2; otherwise v1 controllers are found through libcgroup (hybrid hosts keep
  // a cgroup2 mount beside them that holds no controller we need).
  static Result<CgroupHierarchy> discover(const std::string& root = "/sys/fs/cgroup");

  // A v2 hierarchy rooted at a plain directory. With `create_missing_files` the
  // interface files are created on first write, so tests can check the exact
  // files and values against a temporary directory laid out like cgroup2.
  static CgroupHierarchy v2At(std::string root, bool create_missing_files = false);
  static CgroupHierarchy v1At(std::map<std::string, std::string> controller_mounts);

  CgroupVersion version() const { return version_; }
  const std::string& v2Root() const { return v2_root_; }
  // v1: controller -> mount point (controllers co-mounted share one path).
  const std::map<std::string, std::string>& v1Mounts() const { return v1_mounts_; }
  // v1: each distinct mount point once.
  std::vector<std::string> v1Hierarchies() const;
  bool createMissingFiles() const { return create_missing_files_; }

 private:
  CgroupVersion version_ = CgroupVersion::kV2;
  std::string v2_root_;
  std::map<std::string, std::string> v1_mounts_;
  bool create_missing_files_ = false;
};

// One sandbox's cgroup: owns its directory (one per hierarchy on v1) and
// removes it on destruction.
class CgroupSlice {
 public:
  virtual ~CgroupSlice() = default;

  // Creates <parent>/<name> with the limits set, before any process joins.
  static Result<std::unique_ptr<CgroupSlice>> create(
      std::shared_ptr<const CgroupHierarchy> hierarchy, const std::string& parent,
      const std::string& name, const Resources& resources, int host_cpus);
  // Takes ownership of an existing slice (leftover reclaim).
  static std::unique_ptr<CgroupSlice> adopt(std::shared_ptr<const CgroupHierarchy> hierarchy,
                                            const std::string& parent, const std::string& name);
  // Names of the wick-* slices that exist under parent.
  static Result<std::vector<std::string>> list(const CgroupHierarchy& hierarchy,
                                               const std::string& parent,
                                               const std::string& prefix);

  virtual Status setResources(const Resources& resources, int host_cpus) = 0;
  virtual Status freeze() = 0;
  virtual Status thaw() = 0;
  // SIGKILL every process in the slice, until it is empty.
  virtual Status killAll() = 0;
  virtual Result<CgroupStats> stats() const = 0;
  virtual Result<CgroupInspection> inspect() const = 0;
  virtual std::vector<int> pids() const = 0;
  // Remove the directories (waits briefly for dying processes). Idempotent.
  virtual Status remove() = 0;

  // How a new process joins at birth. v2: a directory fd for
  // clone3(CLONE_INTO_CGROUP). v1: cgroup.procs fds the child writes "0" to.
  virtual Result<UniqueFd> openDirFd() const = 0;
  virtual Result<std::vector<UniqueFd>> openProcsFds() const = 0;

  const std::string& name() const { return name_; }

 protected:
  CgroupSlice(std::shared_ptr<const CgroupHierarchy> hierarchy, std::string parent,
              std::string name)
      : hierarchy_(std::move(hierarchy)), parent_(std::move(parent)), name_(std::move(name)) {}
  std::shared_ptr<const CgroupHierarchy> hierarchy_;
  std::string parent_;
  std::string name_;
};

}  // namespace wick::sandbox
