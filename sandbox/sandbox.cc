#include "sandbox/sandbox.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <thread>

#include "sandbox/cgroup_files.h"
#include "sandbox/child_plan.h"
#include "sandbox/seccomp_profile.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace wick::sandbox {

namespace {

constexpr const char* kSlicePrefix = "wick-";

uint64_t nowNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

std::string randomId() {
  uint8_t bytes[6];
  if (::getrandom(bytes, sizeof bytes, 0) != sizeof bytes) {
    uint64_t fallback = nowNs() ^ static_cast<uint64_t>(::getpid());
    std::memcpy(bytes, &fallback, sizeof bytes);
  }
  char text[sizeof bytes * 2 + 1];
  for (size_t i = 0; i < sizeof bytes; ++i)
    std::snprintf(text + 2 * i, 3, "%02x", bytes[i]);
  return text;
}

bool validId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return false;
  return id != "." && id != "..";
}

int hostCpus() {
  cpu_set_t set;
  if (::sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
  long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? static_cast<int>(online) : 1;
}

Status makeDirs(const std::string& path, mode_t mode) {
  for (size_t slash = 1; slash != std::string::npos;) {
    slash = path.find('/', slash + 1);
    const std::string prefix = path.substr(0, slash);
    if (::mkdir(prefix.c_str(), mode) != 0 && errno != EEXIST)
      return Error::fromErrno("mkdir " + prefix);
  }
  return {};
}

ExitStatus toExitStatus(const siginfo_t& info) {
  ExitStatus status;
  if (info.si_code == CLD_EXITED) {
    status.code = info.si_status;
  } else {
    status.signaled = true;
    status.signal = info.si_status;
  }
  return status;
}

Status writeFile(const std::string& path, const std::string& text) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return Error::fromErrno("open " + path);
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    return Error::fromErrno("write " + path + " '" + text + "'");
  return {};
}

// The namespace's root and the spec's uid/gid, each onto a host id of the slot.
Status writeIdMaps(pid_t pid, const SandboxSpec& spec, const HostIdRange::Lease& ids) {
  const std::string proc = "/proc/" + std::to_string(pid);
  auto map = [&ids](uint32_t inside) {
    return "0 " + std::to_string(ids.rootId()) + " 1\n" + std::to_string(inside) + " " +
           std::to_string(ids.userId()) + " 1\n";
  };
  WICK_TRY(writeFile(proc + "/uid_map", map(spec.uid)), "user namespace");
  WICK_TRY(writeFile(proc + "/gid_map", map(spec.gid)), "user namespace");
  return {};
}

// A child in a user namespace of its own cannot setns(2) into a network
// namespace of the host's user namespace: that needs CAP_SYS_ADMIN there. So a
// short-lived joiner, still root of the host, enters the network namespace and
// clones the sandbox from inside it as its own sibling (CLONE_PARENT): the
// sandbox inherits the network namespace, holds no capability over it, and is
// our child like any other. The joiner reports the sandbox's pid and leaves.
Result<pid_t> cloneInNetwork(clone_args args, int netns_fd, const ChildPlan& plan, int sync_fd) {
  struct JoinerReport {
    bool joined = false;  // false: setns failed
    long result = 0;      // the sandbox's pid, or -errno
  };
  int report_pipe[2];
  if (::pipe2(report_pipe, O_CLOEXEC) != 0) return Error::fromErrno("network joiner: pipe");
  UniqueFd report_read(report_pipe[0]);
  UniqueFd report_write(report_pipe[1]);
  clone_args joiner{};
  joiner.exit_signal = SIGCHLD;
  const long joiner_pid = ::syscall(SYS_clone3, &joiner, sizeof joiner);
  if (joiner_pid < 0) return Error::fromErrno("network joiner: clone3");
  if (joiner_pid == 0) {
    JoinerReport report;
    report.joined = ::setns(netns_fd, CLONE_NEWNET) == 0;
    if (!report.joined) {
      report.result = -errno;
    } else {
      // clone3 takes no exit signal with CLONE_PARENT (the parent's applies),
      // and a pidfd made here would be the joiner's: the caller opens its own.
      args.flags = (args.flags | CLONE_PARENT) & ~static_cast<uint64_t>(CLONE_PIDFD);
      args.pidfd = 0;
      args.exit_signal = 0;
      report.result = ::syscall(SYS_clone3, &args, sizeof args);
      if (report.result == 0) runChild(plan, sync_fd);
      if (report.result < 0) report.result = -errno;
    }
    (void)!::write(report_write.get(), &report, sizeof report);
    ::_exit(0);
  }
  report_write.reset();
  JoinerReport report;
  ssize_t n;
  while ((n = ::read(report_read.get(), &report, sizeof report)) < 0 && errno == EINTR) {
  }
  int status = 0;
  while (::waitpid(static_cast<pid_t>(joiner_pid), &status, 0) < 0 && errno == EINTR) {
  }
  if (n != static_cast<ssize_t>(sizeof report))
    return Error("network joiner: died before it reported", ECHILD);
  if (report.result < 0)
    return Error::fromErrno(report.joined ? "network joiner: clone3" : "network joiner: setns",
                            static_cast<int>(-report.result));
  return static_cast<pid_t>(report.result);
}

}  // namespace

Result<HostIdRange::Lease> Launcher::takeHostIds(const SandboxSpec& spec) const {
  if (!host_ids_)
    return Error("spec: own_host_identity without a host id range in the launcher", EINVAL);
  if (spec.uid == 0 || spec.gid == 0)
    return Error("spec: own_host_identity needs a uid and gid other than 0", EINVAL);
  return host_ids_->take();
}

// ---------------------------------------------------------------- Launcher

Result<Launcher> Launcher::open(const LauncherOptions& options) {
  Launcher launcher;
  launcher.options_ = options;
  auto hierarchy = CgroupHierarchy::discover(options.cgroup_root);
  if (!hierarchy) return std::move(hierarchy).error().context("open sandbox launcher");
  launcher.hierarchy_ = std::make_shared<const CgroupHierarchy>(std::move(*hierarchy));
  auto program = loadSeccompProfile(options.seccomp_profile);
  if (!program) return std::move(program).error().context("open sandbox launcher");
  launcher.seccomp_program_ = std::make_shared<const std::vector<uint8_t>>(std::move(*program));
  WICK_TRY(makeDirs(options.runtime_dir + "/stage", 0700), "open sandbox launcher");
  if (options.host_id_slots > 0) {
    // A sandbox's root in its own user namespace is a host id with no rights
    // here: it must be able to reach the staging mount point. (The directory
    // holds nothing on the host's side: every mount on it is in a sandbox's
    // own mount namespace.)
    for (const auto& dir : {options.runtime_dir, options.runtime_dir + "/stage"})
      if (::chmod(dir.c_str(), 0711) != 0)
        return Error::fromErrno("open sandbox launcher: chmod " + dir);
  }
  launcher.host_cpus_ = hostCpus();
  if (options.host_id_slots > 0)
    launcher.host_ids_ =
        std::make_shared<HostIdRange>(options.host_id_first, options.host_id_slots);
  return launcher;
}

Result<int> Launcher::reclaimLeftovers() const {
  auto names = CgroupSlice::list(*hierarchy_, options_.cgroup_parent, kSlicePrefix);
  if (!names) return std::move(names).error().context("reclaim leftover sandboxes");
  int reclaimed = 0;
  for (const auto& name : *names) {
    auto slice = CgroupSlice::adopt(hierarchy_, options_.cgroup_parent, name);
    WICK_TRY(slice->killAll(), "reclaim leftover slice " + name);
    WICK_TRY(slice->remove(), "reclaim leftover slice " + name);
    ++reclaimed;
  }
  return reclaimed;
}

void Launcher::removeParentIfEmpty() const {
  std::vector<std::string> roots = hierarchy_->version() == CgroupVersion::kV2
                                       ? std::vector<std::string>{hierarchy_->v2Root()}
                                       : hierarchy_->v1Hierarchies();
  // rmdir fails (EBUSY/ENOTEMPTY) while any slice remains: that is the check.
  for (const auto& root : roots)
    ::rmdir((root + "/" + options_.cgroup_parent).c_str());
}

Result<Sandbox> Launcher::create(const SandboxSpec& spec) const {
  const uint64_t start = nowNs();
  Sandbox sandbox;
  sandbox.id_ = spec.id.empty() ? randomId() : spec.id;
  sandbox.host_cpus_ = host_cpus_;
  const std::string what = "create sandbox " + sandbox.id_;
  if (!validId(sandbox.id_))
    return Error("spec: invalid sandbox id '" + sandbox.id_ + "'", EINVAL).context(what);
  auto step = [&sandbox, last = start](const char* name) mutable {
    uint64_t now = nowNs();
    sandbox.timings_.steps.push_back({name, now - last});
    last = now;
    return now;
  };

  const bool own_identity = spec.own_host_identity || options_.every_sandbox_own_identity;
  // See cloneInNetwork: the network is joined before the user namespace exists.
  const bool join_network_first = own_identity && spec.netns_fd >= 0;
  auto plan = ChildPlan::build(
      {&spec, options_.runtime_dir + "/stage", seccomp_program_.get(), own_identity});
  if (!plan) return std::move(plan).error().context(what);
  if (join_network_first) plan->netns_fd = -1;
  step("plan");

  auto slice = CgroupSlice::create(hierarchy_, options_.cgroup_parent, kSlicePrefix + sandbox.id_,
                                   spec.resources, host_cpus_);
  if (!slice) return std::move(slice).error().context(what + ": cgroup");
  sandbox.slice_ = std::move(*slice);
  auto procs_fds = sandbox.slice_->openProcsFds();
  if (!procs_fds) return std::move(procs_fds).error().context(what + ": cgroup");
  for (const auto& fd : *procs_fds)
    plan->cgroup_procs_fds.push_back(fd.get());

  UniqueFd userns_ready_write;
  UniqueFd userns_ready_read;
  if (own_identity) {
    auto ids = takeHostIds(spec);
    if (!ids) return std::move(ids).error().context(what);
    sandbox.host_ids_ = std::move(*ids);
    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) != 0) return Error::fromErrno(what + ": user namespace pipe");
    userns_ready_read.reset(ready[0]);
    userns_ready_write.reset(ready[1]);
    plan->userns_ready_fd = userns_ready_read.get();
    plan->userns_ready_write_fd = userns_ready_write.get();
  }
  sandbox.host_uid_ = own_identity ? sandbox.host_ids_.userId() : spec.uid;

  clone_args args{};
  args.flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_PIDFD;
  if (own_identity) args.flags |= CLONE_NEWUSER;
  if (spec.isolate_network && spec.netns_fd < 0) args.flags |= CLONE_NEWNET;
  UniqueFd cgroup_dir;
  if (hierarchy_->version() == CgroupVersion::kV2) {
    auto dir = sandbox.slice_->openDirFd();
    if (!dir) return std::move(dir).error().context(what + ": cgroup");
    cgroup_dir = std::move(*dir);
    args.flags |= CLONE_INTO_CGROUP | CLONE_NEWCGROUP;
    args.cgroup = static_cast<uint64_t>(cgroup_dir.get());
  }
  int pidfd = -1;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  step("cgroup");

  int sync[2];
  if (::pipe2(sync, O_CLOEXEC) != 0) return Error::fromErrno(what + ": sync pipe");
  UniqueFd sync_read(sync[0]);
  UniqueFd sync_write(sync[1]);

  if (join_network_first) {
    auto pid = cloneInNetwork(args, spec.netns_fd, *plan, sync_write.get());
    if (!pid) return std::move(pid).error().context(what);
    sandbox.pid_ = *pid;
    // Our child (CLONE_PARENT), unreaped: the pid cannot have been reused.
    pidfd = static_cast<int>(::syscall(SYS_pidfd_open, *pid, 0));
    if (pidfd < 0) {
      int err = errno;
      ::kill(*pid, SIGKILL);
      while (::waitpid(*pid, nullptr, 0) < 0 && errno == EINTR) {
      }
      sandbox.pid_ = 0;
      return Error::fromErrno(what + ": pidfd_open", err);
    }
  } else {
    long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0) return Error::fromErrno(what + ": clone3");
    if (pid == 0) runChild(*plan, sync_write.get());
    sandbox.pid_ = static_cast<pid_t>(pid);
  }
  sandbox.pidfd_.reset(pidfd);
  sync_write.reset();
  if (own_identity) {
    userns_ready_read.reset();
    if (auto mapped = writeIdMaps(sandbox.pid_, spec, sandbox.host_ids_); !mapped) {
      (void)sandbox.destroy();
      return std::move(mapped).error().context(what);
    }
    char ready = 1;
    if (::write(userns_ready_write.get(), &ready, 1) != 1) {
      int err = errno;
      (void)sandbox.destroy();
      return Error::fromErrno(what + ": release the child into its user namespace", err);
    }
    userns_ready_write.reset();
  }
  const uint64_t cloned = step("clone");

  // The child writes its timings just before exec, or the step that failed;
  // exec closes the pipe.
  ChildReport report;
  ChildReport received;
  size_t filled = 0;
  bool failed = false;
  for (;;) {
    ssize_t n = ::read(sync_read.get(), reinterpret_cast<char*>(&received) + filled,
                       sizeof received - filled);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    filled += static_cast<size_t>(n);
    if (filled == sizeof received) {
      report = received;
      failed = failed || report.kind == ChildReport::kFailure;
      filled = 0;
    }
  }
  const uint64_t execed = nowNs();
  if (failed || report.kind != ChildReport::kTimings) {
    (void)sandbox.destroy();
    if (report.kind != ChildReport::kFailure)
      return Error(what + ": the child died before reporting", ECHILD);
    std::string detail = toString(report.step);
    if (report.op_index >= 0 && static_cast<size_t>(report.op_index) < plan->ops.size())
      detail += ": " + plan->ops[static_cast<size_t>(report.op_index)].description;
    else if (report.step == ChildStep::kExec)
      detail += " " + spec.argv[0];
    else if (report.step == ChildStep::kCwd)
      detail += " " + spec.cwd;
    return Error::fromErrno(what + ": " + detail, report.err);
  }
  // Child steps: from the clone to each mark, in order.
  uint64_t last = cloned;
  for (size_t i = 0; i < static_cast<size_t>(ChildStep::kCount); ++i) {
    uint64_t end = report.step_end_ns[i];
    if (end == 0) continue;
    sandbox.timings_.steps.push_back(
        {toString(static_cast<ChildStep>(i)), end > last ? end - last : 0});
    last = std::max(last, end);
  }
  sandbox.timings_.steps.push_back({"exec", execed > last ? execed - last : 0});
  sandbox.timings_.total_ns = execed - start;
  return sandbox;
}

// ---------------------------------------------------------------- Sandbox

Sandbox& Sandbox::operator=(Sandbox&& other) noexcept {
  if (this != &other) {
    (void)destroy();
    id_ = std::move(other.id_);
    pid_ = other.pid_;
    pidfd_ = std::move(other.pidfd_);
    slice_ = std::move(other.slice_);
    exit_ = other.exit_;
    timings_ = std::move(other.timings_);
    frozen_ = other.frozen_;
    host_cpus_ = other.host_cpus_;
    host_uid_ = other.host_uid_;
    host_ids_ = std::move(other.host_ids_);
  }
  return *this;
}

Sandbox::~Sandbox() {
  (void)destroy();
}

Result<std::optional<ExitStatus>> Sandbox::wait(std::optional<std::chrono::milliseconds> timeout) {
  if (exit_) return exit_;
  if (!pidfd_) return Error("wait: sandbox " + id_ + " was destroyed", ESRCH);
  if (timeout) {
    pollfd fd{pidfd_.get(), POLLIN, 0};
    const auto deadline = std::chrono::steady_clock::now() + *timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      int rc = ::poll(&fd, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
      if (rc > 0) break;
      if (rc == 0) return std::optional<ExitStatus>();
      if (errno != EINTR) return Error::fromErrno("wait for sandbox " + id_);
    }
  }
  siginfo_t info{};
  for (;;) {
    if (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.get()), &info, WEXITED) ==
        0)
      break;
    if (errno != EINTR) return Error::fromErrno("waitid sandbox " + id_);
  }
  exit_ = toExitStatus(info);
  return exit_;
}

Status Sandbox::kill(int signal) {
  if (exit_ || !pidfd_) return {};
  if (::syscall(SYS_pidfd_send_signal, pidfd_.get(), signal, nullptr, 0) != 0 && errno != ESRCH)
    return Error::fromErrno("signal sandbox " + id_);
  // A v1-frozen task only handles the signal once thawed.
  if (frozen_) WICK_TRY(thaw(), "signal sandbox " + id_);
  return {};
}

Status Sandbox::freeze() {
  if (!slice_) return Error("freeze: sandbox " + id_ + " was destroyed", ESRCH);
  WICK_TRY(slice_->freeze(), "sandbox " + id_);
  frozen_ = true;
  return {};
}

Status Sandbox::thaw() {
  if (!slice_) return Error("thaw: sandbox " + id_ + " was destroyed", ESRCH);
  WICK_TRY(slice_->thaw(), "sandbox " + id_);
  frozen_ = false;
  return {};
}

Result<CgroupStats> Sandbox::stats() const {
  if (!slice_) return Error("stats: sandbox " + id_ + " was destroyed", ESRCH);
  auto stats = slice_->stats();
  if (!stats) return std::move(stats).error().context("stats of sandbox " + id_);
  return stats;
}

Result<CgroupInspection> Sandbox::inspect() const {
  if (!slice_) return Error("inspect: sandbox " + id_ + " was destroyed", ESRCH);
  auto inspection = slice_->inspect();
  if (!inspection) return std::move(inspection).error().context("inspect sandbox " + id_);
  return inspection;
}

Status Sandbox::updateResources(const Resources& resources) {
  if (!slice_) return Error("update: sandbox " + id_ + " was destroyed", ESRCH);
  WICK_TRY(slice_->setResources(resources, host_cpus_), "update sandbox " + id_);
  return {};
}

Status Sandbox::destroy() {
  Status result;
  if (pidfd_ && !exit_) {
    // SIGKILL to PID 1 of the namespace: the kernel kills every other process
    // in it before PID 1 can be reaped.
    if (auto killed = kill(SIGKILL); !killed) result = std::move(killed).error();
    if (auto waited = wait(); !waited && result.ok()) result = std::move(waited).error();
  }
  pidfd_.reset();
  if (slice_) {
    if (!slice_->pids().empty()) (void)slice_->killAll();
    if (auto removed = slice_->remove(); !removed && result.ok())
      result = std::move(removed).error();
    else
      slice_.reset();
  }
  // No process of it is left (its slice is gone): its host ids may serve
  // another sandbox.
  if (!slice_) host_ids_ = {};
  return result;
}

}  // namespace wick::sandbox
