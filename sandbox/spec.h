// What a sandbox is made of. Knows nothing of Lambda: a SandboxSpec in, a live
// Sandbox out (see sandbox.h).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace wick::sandbox {

struct BindMount {
  std::string source;       // host path (file or directory)
  std::string destination;  // absolute path inside the sandbox
  bool writable = false;    // read-only unless asked
};

// Lambda's ratio: 1769 MB of memory buys one vCPU. The one place it is written.
inline constexpr uint64_t kMbPerVcpu = 1769;
inline constexpr uint64_t kPidsMax = 1024;

// cgroup limits. CPU follows memory: quota = period * memory_mb / mb_per_vcpu,
// clamped to [cpu_floor, host cores].
struct Resources {
  uint64_t memory_mb = 128;
  uint64_t mb_per_vcpu = kMbPerVcpu;
  uint64_t cpu_period_us = 100'000;
  double cpu_floor = 0.02;  // fraction of one CPU, never less
  double min_vcpus = 0;     // a floor in CPUs over the memory's share (an init boost)
  uint64_t pids_max = kPidsMax;
  // Swap the sandbox may use beyond memory_mb (0: none, Lambda's behaviour).
  uint64_t swap_mb = 0;
  // Proportional I/O weight, 1..10000 (v2 io.weight; 0: the kernel's default,
  // nothing written). Applied where the io controller can be delegated.
  uint64_t io_weight = 0;
};

struct Rlimit {
  int resource;  // RLIMIT_*
  uint64_t soft;
  uint64_t hard;
};

// A host fd handed to the sandboxed process at a fixed fd number.
struct PassedFd {
  int host_fd;
  int sandbox_fd;  // >= 3
};

struct SandboxSpec {
  // Used in the cgroup directory name (wick-<id>); unique among live sandboxes.
  // Empty: one is generated.
  std::string id;

  // Read-only root layers, bottom first. One layer is bind-mounted; several are
  // stacked with overlayfs (later layers win). None: an empty read-only root
  // that only the binds fill.
  std::vector<std::string> layers;
  std::vector<BindMount> binds;

  uint64_t tmp_size_bytes = 512ull << 20;  // tmpfs /tmp, exact size
  uint64_t shm_size_bytes = 64ull << 20;   // tmpfs /dev/shm
  std::string hostname = "wick";
  bool isolate_network = true;  // own net namespace with only loopback, up
  // If >= 0, join this network namespace (setns) instead of making one: a
  // namespace networked ahead of time (see net_namespace.h). The caller keeps
  // it open until create() returns.
  int netns_fd = -1;

  // The process. env is exact: nothing is inherited from the caller.
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::string cwd = "/";
  uid_t uid = 993;  // the ids Lambda runs functions as
  gid_t gid = 990;
  std::vector<Rlimit> rlimits = {{7 /*RLIMIT_NOFILE*/, 1024, 1024},
                                 {6 /*RLIMIT_NPROC*/, 1024, 1024}};
  // A user namespace of its own, mapping its root and `uid`/`gid` to two host
  // ids of its own from the launcher's range (LauncherOptions::host_ids_*):
  // nothing per-user on the host is shared with another sandbox.
  bool own_host_identity = false;
  bool seccomp = true;  // the launcher's seccomp profile (default-deny; seccomp_profile.h)

  // If >= 0, exec this fd (execveat AT_EMPTY_PATH) instead of argv[0]'s path:
  // a binary opened on the host before pivot_root (e.g. the sealed agent).
  int exec_fd = -1;

  // stdio of the process (host fds; -1 means /dev/null inside the sandbox).
  int stdin_fd = 0;
  int stdout_fd = 1;
  int stderr_fd = 2;
  // Every other fd is closed before exec, except these.
  std::vector<PassedFd> passed_fds;

  Resources resources;
};

}  // namespace wick::sandbox
