// Everything the cloned child needs, prepared by the parent. The child of a
// threaded process may not allocate (another thread may have held malloc's lock
// at clone time) nor call glibc's set*id wrappers (they signal threads that do
// not exist in the child), so the parent turns a SandboxSpec into flat arrays
// of C strings and operations that the child only walks.
#pragma once

#include <sys/capability.h>
#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"
#include "sandbox/spec.h"

namespace wick::sandbox {

// A filesystem operation run by the child before pivot_root.
struct FsOp {
  enum class Kind : uint8_t {
    kMount,
    kMoveMount,  // attach `fd`, a detached copy of a host path, at `target`
    kMkdir,
    kMknod,
    kSymlink,
    kChdir,
    kRejectSymlinks
  };
  Kind kind;
  const char* source = nullptr;  // mount source, symlink target
  const char* target = nullptr;  // absolute host path (under the staging root)
  const char* fstype = nullptr;
  unsigned long flags = 0;
  const char* data = nullptr;
  mode_t mode = 0;
  dev_t dev = 0;
  int fd = -1;
  bool optional = false;    // a missing target (ENOENT) is skipped, not an error
  std::string description;  // for the error message (read by the parent only)
};

// Steps of create, in the order the child runs them. Names appear in errors and
// in the timings.
enum class ChildStep : uint8_t {
  kUserNamespace,
  kSession,
  kJoinCgroup,
  kJoinNetwork,
  kMounts,
  kPivotRoot,
  kHostname,
  kLoopback,
  kFds,
  kRlimits,
  kCapabilities,
  kIdentity,
  kCwd,
  kSeccomp,
  kExec,
  kCount
};
const char* toString(ChildStep step);

// What the child writes to the sync pipe: its step timings just before exec,
// or the step that failed.
struct ChildReport {
  static constexpr uint32_t kTimings = 1;
  static constexpr uint32_t kFailure = 2;
  uint32_t kind = 0;
  ChildStep step = ChildStep::kCount;
  int32_t err = 0;
  int32_t op_index = -1;  // FsOp that failed, if any
  uint64_t start_ns = 0;
  uint64_t step_end_ns[static_cast<size_t>(ChildStep::kCount)] = {};
};

class ChildPlan {
 public:
  struct Inputs {
    const SandboxSpec* spec;
    std::string stage_dir;  // host directory the child mounts its staging tmpfs on
    const std::vector<uint8_t>* seccomp_program;  // may be null
    bool user_namespace = false;                  // its own (own_host_identity)
  };
  static Result<ChildPlan> build(const Inputs& inputs);

  ChildPlan() = default;
  ChildPlan(ChildPlan&&) = default;
  ChildPlan& operator=(ChildPlan&&) = default;

  // Filled by the parent right before clone.
  std::vector<int> cgroup_procs_fds;  // v1: the child writes "0" to each
  // With a user namespace: the child waits for a byte here (its uid and gid
  // maps are written), then becomes the namespace's root.
  int userns_ready_fd = -1;
  // Our copy of the pipe's write end, closed first: if the parent dies before
  // it releases us, the read sees EOF instead of waiting forever.
  int userns_ready_write_fd = -1;

  std::vector<FsOp> ops;
  const char* new_root = nullptr;
  const char* hostname = nullptr;
  bool loopback_up = false;
  int netns_fd = -1;               // setns into it when >= 0
  std::vector<const char*> argv;   // null-terminated
  std::vector<const char*> envp;   // null-terminated
  const char* path_env = nullptr;  // PATH used to find argv[0] when it has no '/'
  const char* cwd = nullptr;
  int exec_fd = -1;
  // stdio then passed fds: child fd numbers and where they come from (-1: /dev/null).
  std::vector<int> fd_sources;
  std::vector<int> fd_targets;
  int highest_target_fd = 2;
  std::vector<Rlimit> rlimits;
  uid_t uid = 0;
  gid_t gid = 0;
  struct CapFree {
    void operator()(void* caps) const { cap_free(caps); }
  };
  std::unique_ptr<std::remove_pointer_t<cap_t>, CapFree> empty_caps;
  const std::vector<uint8_t>* seccomp_program = nullptr;

 private:
  friend class RootBuilder;  // child_plan.cc: the mount steps
  void planProcess(const SandboxSpec& spec);
  Status planFds(const SandboxSpec& spec);
  const char* keep(std::string text);
  std::deque<std::string> strings_;
  // Detached copies of the host paths the root is made of (open_tree), made
  // here with the parent's rights; the child inherits the fds and attaches
  // them, so it needs no right to reach the paths (a sandbox in its own user
  // namespace has none over the daemon's 0700 state directory).
  std::vector<UniqueFd> trees_;
};

// Runs in the cloned child: applies the plan and execs, or reports the failing
// step on sync_fd and exits 127. Never returns.
[[noreturn]] void runChild(const ChildPlan& plan, int sync_fd);

}  // namespace wick::sandbox
