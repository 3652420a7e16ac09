// The sandbox library's front door: a Launcher (made once per process) turns a
// SandboxSpec into a live Sandbox. Every kernel object a Sandbox holds (its
// pidfd, its cgroup slice; its mounts live and die in its own mount namespace)
// is released by its destructor.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"
#include "sandbox/cgroup.h"
#include "sandbox/host_ids.h"
#include "sandbox/spec.h"

namespace wick::sandbox {

// How the sandbox's first process ended.
struct ExitStatus {
  bool signaled = false;
  int code = 0;    // exit code when !signaled
  int signal = 0;  // terminating signal when signaled
  // The shell's convention: the code, or 128 + signal.
  int shellCode() const { return signaled ? 128 + signal : code; }
};

// Wall time of each step of create, in the order they ran.
struct CreateTimings {
  struct Step {
    const char* name;
    uint64_t ns;
  };
  std::vector<Step> steps;
  uint64_t total_ns = 0;
};

class Sandbox {
 public:
  Sandbox(Sandbox&&) noexcept = default;
  Sandbox& operator=(Sandbox&&) noexcept;
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;
  ~Sandbox();

  const std::string& id() const { return id_; }
  pid_t pid() const { return pid_; }          // host pid of the sandbox's PID 1
  int pidfd() const { return pidfd_.get(); }  // pollable: readable once it exits
  const CreateTimings& timings() const { return timings_; }
  // The host uid (and gid) its user runs as: its own with own_host_identity.
  uid_t hostUid() const { return host_uid_; }

  // Wait for PID 1 to exit. With a timeout, returns nullopt when it passed.
  Result<std::optional<ExitStatus>> wait(
      std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  // Signal every process of the sandbox (the whole slice for SIGKILL).
  Status kill(int signal = 9);
  Status freeze();
  Status thaw();
  Result<CgroupStats> stats() const;
  // Limits and throttling as the kernel holds them (slower than stats()).
  Result<CgroupInspection> inspect() const;
  // Change limits of the live sandbox (memory, CPU, pids).
  Status updateResources(const Resources& resources);
  // Kill everything, reap PID 1, remove the cgroup slice. Safe to call twice.
  Status destroy();

 private:
  friend class Launcher;
  Sandbox() = default;

  std::string id_;
  pid_t pid_ = -1;
  UniqueFd pidfd_;
  std::unique_ptr<CgroupSlice> slice_;
  std::optional<ExitStatus> exit_;
  CreateTimings timings_;
  bool frozen_ = false;
  int host_cpus_ = 1;
  uid_t host_uid_ = 0;
  HostIdRange::Lease host_ids_;  // given back once every process is gone
};

struct LauncherOptions {
  std::string cgroup_root = "/sys/fs/cgroup";
  std::string cgroup_parent = "wick";     // slices are <parent>/wick-<id>
  std::string runtime_dir = "/run/wick";  // host directory for staging mounts
  // A seccomp profile file (sandbox/seccomp/profile.proto, text); empty: the
  // embedded default (sandbox/seccomp/default.textproto).
  std::string seccomp_profile = {};
  // Host ids for sandboxes with own_host_identity: `host_id_slots` sandboxes
  // at once, slot k owning ids host_id_first+2k and +2k+1. 0 slots: none.
  uint32_t host_id_first = 0;
  uint32_t host_id_slots = 0;
  // Every sandbox gets its own identity, whatever its spec says (the daemon's
  // choice when it is given a range).
  bool every_sandbox_own_identity = false;
};

class Launcher {
 public:
  // Discovers the cgroup layout (v1, hybrid or v2), compiles the seccomp
  // profile once (a bad profile is an error here, not at create), prepares the
  // runtime directory.
  static Result<Launcher> open(const LauncherOptions& options = {});

  Result<Sandbox> create(const SandboxSpec& spec) const;

  // Remove what a crashed earlier run left: every wick-* slice under the parent
  // (its processes killed first). Returns how many slices were reclaimed.
  Result<int> reclaimLeftovers() const;

  // Remove the cgroup parent directory if no sandbox is left under it (for
  // one-shot users like `wick run` and tests; a daemon keeps its parent).
  void removeParentIfEmpty() const;

  CgroupVersion cgroupVersion() const { return hierarchy_->version(); }
  // Sandboxes holding host ids now (own_host_identity).
  uint32_t hostIdSlotsInUse() const { return host_ids_ ? host_ids_->slotsInUse() : 0; }
  const LauncherOptions& options() const { return options_; }

 private:
  Launcher() = default;
  Result<HostIdRange::Lease> takeHostIds(const SandboxSpec& spec) const;
  LauncherOptions options_;
  std::shared_ptr<const CgroupHierarchy> hierarchy_;
  std::shared_ptr<const std::vector<uint8_t>> seccomp_program_;  // raw BPF
  std::shared_ptr<HostIdRange> host_ids_;                        // null: none configured
  int host_cpus_ = 1;
};

}  // namespace wick::sandbox
