// The cloned child: PID 1 of its new namespaces, still root, still on the
// host's filesystem. It walks the plan the parent prepared and execs, touching
// only system calls (no allocation, no glibc set*id broadcast). Order follows
// the OCI runtimes (../shared/reference/isolation.md): a new session, join the
// cgroup (and a network namespace made ahead of time, if given), build and
// pivot into the root, name the host, bring up lo, place the fds, limits, drop
// capabilities and identity, no_new_privs, seccomp last, exec.
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sandbox/child_plan.h"

namespace wick::sandbox {

namespace {

uint64_t nowNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

class Child {
 public:
  Child(const ChildPlan& plan, int sync_fd) : plan_(plan), sync_fd_(sync_fd) {
    report_.start_ns = nowNs();
  }

  [[noreturn]] void run() {
    if (plan_.userns_ready_fd >= 0) becomeNamespaceRoot();
    mark(ChildStep::kUserNamespace);
    // A session of its own, with no controlling terminal: a sandbox must not
    // reach the terminal it was started from (CVE-2017-5226: TIOCSTI typed
    // commands into the caller's shell; the seccomp profile refuses it too).
    if (::setsid() < 0) fail(ChildStep::kSession);
    mark(ChildStep::kSession);
    joinCgroup();
    mark(ChildStep::kJoinCgroup);
    if (plan_.netns_fd >= 0 && ::setns(plan_.netns_fd, CLONE_NEWNET) != 0)
      fail(ChildStep::kJoinNetwork);
    mark(ChildStep::kJoinNetwork);
    ::umask(0);
    buildRoot();
    mark(ChildStep::kMounts);
    pivotRoot();
    mark(ChildStep::kPivotRoot);
    if (::sethostname(plan_.hostname, std::strlen(plan_.hostname)) != 0) fail(ChildStep::kHostname);
    mark(ChildStep::kHostname);
    if (plan_.loopback_up) bringUpLoopback();
    mark(ChildStep::kLoopback);
    placeFds();
    mark(ChildStep::kFds);
    for (const auto& limit : plan_.rlimits) {
      rlimit value{limit.soft, limit.hard};
      if (::setrlimit(limit.resource, &value) != 0) fail(ChildStep::kRlimits);
    }
    mark(ChildStep::kRlimits);
    dropIdentityAndCapabilities();
    if (::chdir(plan_.cwd) != 0) fail(ChildStep::kCwd);
    // runc CVE-2024-21626: make sure the cwd is inside the new root.
    char cwd[4096];
    if (::syscall(SYS_getcwd, cwd, sizeof cwd) < 0 || cwd[0] != '/') fail(ChildStep::kCwd, ENOENT);
    mark(ChildStep::kCwd);
    resetSignals();
    ::umask(022);
    report_.kind = ChildReport::kTimings;
    (void)!::write(sync_fd_, &report_, sizeof report_);
    loadSeccomp();
    exec();
  }

 private:
  void mark(ChildStep step) { report_.step_end_ns[static_cast<size_t>(step)] = nowNs(); }

  [[noreturn]] void fail(ChildStep step, int err = errno, int op_index = -1) {
    report_.kind = ChildReport::kFailure;
    report_.step = step;
    report_.err = err;
    report_.op_index = op_index;
    (void)!::write(sync_fd_, &report_, sizeof report_);
    ::_exit(127);
  }

  // The parent writes our uid and gid maps, then a byte; until then we are
  // nobody here. Root of the namespace (the slot's first host id) builds the
  // sandbox; its capabilities reach only what this namespace owns.
  void becomeNamespaceRoot() {
    char ready = 0;
    if (plan_.userns_ready_write_fd >= 0) ::close(plan_.userns_ready_write_fd);
    if (::read(plan_.userns_ready_fd, &ready, 1) != 1) fail(ChildStep::kUserNamespace, ECHILD);
    ::close(plan_.userns_ready_fd);
    if (::syscall(SYS_setresgid, 0, 0, 0) != 0) fail(ChildStep::kUserNamespace);
    if (::syscall(SYS_setresuid, 0, 0, 0) != 0) fail(ChildStep::kUserNamespace);
  }

  void joinCgroup() {
    for (int fd : plan_.cgroup_procs_fds)
      if (::write(fd, "0", 1) != 1) fail(ChildStep::kJoinCgroup);
    // v1 joins after birth: the cgroup namespace is made now that we are in
    // the slice, so the sandbox sees its slice as "/". (v2: CLONE_NEWCGROUP.)
    if (!plan_.cgroup_procs_fds.empty() && ::unshare(CLONE_NEWCGROUP) != 0)
      fail(ChildStep::kJoinCgroup);
  }

  void buildRoot() {
    // Nothing mounted here may propagate back to the host.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) fail(ChildStep::kMounts);
    for (size_t i = 0; i < plan_.ops.size(); ++i) {
      const FsOp& op = plan_.ops[i];
      int rc = 0;
      switch (op.kind) {
        case FsOp::Kind::kMount:
          rc = ::mount(op.source, op.target, op.fstype, op.flags, op.data);
          break;
        case FsOp::Kind::kMkdir:
          rc = ::mkdir(op.target, op.mode);
          if (rc != 0 && errno == EEXIST) rc = 0;
          break;
        case FsOp::Kind::kMknod:
          rc = ::mknod(op.target, op.mode, op.dev);
          break;
        case FsOp::Kind::kSymlink:
          rc = ::symlink(op.source, op.target);
          break;
        case FsOp::Kind::kMoveMount:
          rc = static_cast<int>(
              ::syscall(SYS_move_mount, op.fd, "", AT_FDCWD, op.target, MOVE_MOUNT_F_EMPTY_PATH));
          break;
        case FsOp::Kind::kChdir:
          rc = ::chdir(op.target);
          break;
        case FsOp::Kind::kRejectSymlinks:
          rc = rejectSymlinks(op.source, op.target);
          break;
      }
      if (rc != 0 && !(op.optional && errno == ENOENT))
        fail(ChildStep::kMounts, errno, static_cast<int>(i));
    }
  }

  // Resolve `target` (absolute, under `root`) inside the root with no symlink
  // allowed on the way; ELOOP if there is one.
  static int rejectSymlinks(const char* root, const char* target) {
    size_t root_len = std::strlen(root);
    int root_fd = ::open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) return -1;
    open_how how{};
    how.flags = O_PATH | O_CLOEXEC | O_NOFOLLOW;
    how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    const char* relative = target + root_len;
    while (*relative == '/')
      ++relative;
    int fd = static_cast<int>(::syscall(SYS_openat2, root_fd, relative, &how, sizeof how));
    int saved = errno;
    ::close(root_fd);
    if (fd < 0) {
      errno = saved;
      return -1;
    }
    ::close(fd);
    return 0;
  }

  void pivotRoot() {
    // pivot_root(".", ".") stacks the old root under the new one; detaching it
    // leaves no path back to the host's tree (and needs no directory for it).
    if (::chdir(plan_.new_root) != 0) fail(ChildStep::kPivotRoot);
    if (::syscall(SYS_pivot_root, ".", ".") != 0) fail(ChildStep::kPivotRoot);
    if (::umount2(".", MNT_DETACH) != 0) fail(ChildStep::kPivotRoot);
    if (::chdir("/") != 0) fail(ChildStep::kPivotRoot);
  }

  void bringUpLoopback() {
    int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) fail(ChildStep::kLoopback);
    ifreq request{};
    std::memcpy(request.ifr_name, "lo", 3);
    if (::ioctl(sock, SIOCGIFFLAGS, &request) != 0) fail(ChildStep::kLoopback);
    request.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (::ioctl(sock, SIOCSIFFLAGS, &request) != 0) fail(ChildStep::kLoopback);
    ::close(sock);
  }

  // stdio and passed fds land on their numbers; the sync pipe and the exec fd
  // move just above them (close-on-exec); everything else is closed.
  void placeFds() {
    const int high = plan_.highest_target_fd;
    const int scratch = high + 3;
    constexpr size_t kMaxFds = 64;
    int moved[kMaxFds];
    const size_t count = plan_.fd_sources.size();
    if (count > kMaxFds) fail(ChildStep::kFds, EMFILE);
    for (size_t i = 0; i < count; ++i) {
      int source = plan_.fd_sources[i];
      if (source < 0) {
        source = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        if (source < 0) fail(ChildStep::kFds);
      }
      moved[i] = ::fcntl(source, F_DUPFD_CLOEXEC, scratch);
      if (moved[i] < 0) fail(ChildStep::kFds);
    }
    int sync = ::fcntl(sync_fd_, F_DUPFD_CLOEXEC, scratch);
    int exec_fd = plan_.exec_fd >= 0 ? ::fcntl(plan_.exec_fd, F_DUPFD_CLOEXEC, scratch) : -1;
    if (sync < 0 || (plan_.exec_fd >= 0 && exec_fd < 0)) fail(ChildStep::kFds);
    for (size_t i = 0; i < count; ++i)
      if (::dup2(moved[i], plan_.fd_targets[i]) < 0) fail(ChildStep::kFds);
    if (::dup3(sync, high + 1, O_CLOEXEC) < 0) fail(ChildStep::kFds);
    sync_fd_ = high + 1;
    exec_fd_ = -1;
    if (exec_fd >= 0) {
      if (::dup3(exec_fd, high + 2, O_CLOEXEC) < 0) fail(ChildStep::kFds);
      exec_fd_ = high + 2;
    }
    // Fill holes below `high` too: only the targets survive.
    for (int fd = 3; fd <= high; ++fd) {
      bool wanted = false;
      for (int target : plan_.fd_targets)
        wanted = wanted || target == fd;
      if (!wanted) ::close(fd);
    }
    if (::syscall(SYS_close_range, exec_fd_ >= 0 ? high + 3 : high + 2, ~0U, 0) != 0)
      fail(ChildStep::kFds);
  }

  void dropIdentityAndCapabilities() {
    // The bounding set goes while we still hold CAP_SETPCAP.
    for (int cap = 0; cap <= CAP_LAST_CAP; ++cap)
      if (cap_drop_bound(cap) != 0 && errno != EINVAL) fail(ChildStep::kCapabilities);
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
      fail(ChildStep::kCapabilities);
    mark(ChildStep::kCapabilities);
    // Raw system calls: glibc's wrappers would try to signal the parent's threads.
    if (::syscall(SYS_setgroups, 0, nullptr) != 0) fail(ChildStep::kIdentity);
    if (::syscall(SYS_setresgid, plan_.gid, plan_.gid, plan_.gid) != 0) fail(ChildStep::kIdentity);
    if (::syscall(SYS_setresuid, plan_.uid, plan_.uid, plan_.uid) != 0) fail(ChildStep::kIdentity);
    // Permitted and effective went with the uid; clear inheritable too (all sets empty).
    if (cap_set_proc(plan_.empty_caps.get()) != 0) fail(ChildStep::kCapabilities);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail(ChildStep::kIdentity);
    mark(ChildStep::kIdentity);
  }

  void resetSignals() {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
      if (sig == SIGKILL || sig == SIGSTOP) continue;
      ::sigaction(sig, &dfl, nullptr);
    }
  }

  void loadSeccomp() {
    if (plan_.seccomp_program != nullptr) {
      sock_fprog program{};
      program.len =
          static_cast<unsigned short>(plan_.seccomp_program->size() / sizeof(sock_filter));
      program.filter =
          reinterpret_cast<sock_filter*>(const_cast<uint8_t*>(plan_.seccomp_program->data()));
      if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program, 0, 0) != 0)
        fail(ChildStep::kSeccomp);
    }
    mark(ChildStep::kSeccomp);
  }

  [[noreturn]] void exec() {
    char* const* argv = const_cast<char* const*>(plan_.argv.data());
    char* const* envp = const_cast<char* const*>(plan_.envp.data());
    if (exec_fd_ >= 0) {
      ::syscall(SYS_execveat, exec_fd_, "", argv, envp, AT_EMPTY_PATH);
      fail(ChildStep::kExec);
    }
    const char* program = plan_.argv[0];
    if (std::strchr(program, '/') != nullptr) {
      ::execve(program, argv, envp);
      fail(ChildStep::kExec);
    }
    // Search PATH of the sandbox's environment, like execvp, without allocating.
    int first_error = ENOENT;
    char candidate[4096];
    const char* dir = plan_.path_env;
    size_t program_len = std::strlen(program);
    while (true) {
      const char* end = std::strchr(dir, ':');
      size_t dir_len = end ? static_cast<size_t>(end - dir) : std::strlen(dir);
      if (dir_len + 1 + program_len + 1 <= sizeof candidate) {
        std::memcpy(candidate, dir_len ? dir : ".", dir_len ? dir_len : 1);
        size_t at = dir_len ? dir_len : 1;
        candidate[at++] = '/';
        std::memcpy(candidate + at, program, program_len + 1);
        ::execve(candidate, argv, envp);
        if (errno != ENOENT && errno != ENOTDIR && first_error == ENOENT) first_error = errno;
      }
      if (end == nullptr) break;
      dir = end + 1;
    }
    fail(ChildStep::kExec, first_error);
  }

  const ChildPlan& plan_;
  int sync_fd_;
  int exec_fd_ = -1;
  ChildReport report_;
};

}  // namespace

void runChild(const ChildPlan& plan, int sync_fd) {
  Child(plan, sync_fd).run();
}

}  // namespace wick::sandbox
