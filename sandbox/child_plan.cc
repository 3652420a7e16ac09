// Turns a SandboxSpec into the child's plan: the mount operations that build
// the root under the staging directory, and the process's arrays.
#include "sandbox/child_plan.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "common/unique_fd.h"

namespace wick::sandbox {

const char* toString(ChildStep step) {
  switch (step) {
    case ChildStep::kUserNamespace:
      return "user namespace";
    case ChildStep::kSession:
      return "session";
    case ChildStep::kJoinCgroup:
      return "join cgroup";
    case ChildStep::kJoinNetwork:
      return "join network";
    case ChildStep::kMounts:
      return "mounts";
    case ChildStep::kPivotRoot:
      return "pivot_root";
    case ChildStep::kHostname:
      return "hostname";
    case ChildStep::kLoopback:
      return "loopback";
    case ChildStep::kFds:
      return "fds";
    case ChildStep::kRlimits:
      return "rlimits";
    case ChildStep::kCapabilities:
      return "capabilities";
    case ChildStep::kIdentity:
      return "uid/gid";
    case ChildStep::kCwd:
      return "cwd";
    case ChildStep::kSeccomp:
      return "seccomp";
    case ChildStep::kExec:
      return "exec";
    case ChildStep::kCount:
      break;
  }
  return "?";
}

const char* ChildPlan::keep(std::string text) {
  strings_.push_back(std::move(text));
  return strings_.back().c_str();
}

namespace {

// Paths from /proc that OCI runtimes hide (masked) or make read-only: Docker's
// and runc's defaults (what Kubernetes' Default procMount applies), with
// /proc/interrupts (per-CPU interrupt counts: a side channel on other tenants'
// activity). Paths this kernel lacks are skipped. There is no /sys at all, so
// its masks (/sys/firmware, /sys/devices/virtual/powercap) have nothing to hide.
constexpr const char* kMaskedProcFiles[] = {"interrupts",    "kcore",        "keys",
                                            "latency_stats", "sched_debug",  "timer_list",
                                            "timer_stats",   "sysrq-trigger"};
constexpr const char* kMaskedProcDirs[] = {"acpi", "asound", "scsi"};
constexpr const char* kReadOnlyProcPaths[] = {"sys", "irq", "bus", "fs"};

struct DeviceNode {
  const char* name;
  unsigned major, minor;
};
constexpr DeviceNode kDevices[] = {{"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
                                   {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};

// Does `relative` exist inside `layer` as the right kind of node, with no
// symlink on the way? (A symlink there would be followed on the host when we
// mount onto it: resolve it inside the root, never outside.)
bool hasMountPoint(const std::string& layer, const std::string& relative, bool directory) {
  UniqueFd root(::open(layer.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return false;
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC | O_NOFOLLOW;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  std::string path = relative.empty() ? "." : relative;
  UniqueFd node(
      static_cast<int>(::syscall(SYS_openat2, root.get(), path.c_str(), &how, sizeof how)));
  if (!node) return false;
  struct stat st {};
  if (::fstat(node.get(), &st) != 0) return false;
  return directory ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode);
}

std::string stripSlash(const std::string& absolute) {
  size_t start = absolute.find_first_not_of('/');
  return start == std::string::npos ? std::string() : absolute.substr(start);
}

bool normalPath(const std::string& path) {
  if (path.empty() || path[0] != '/') return false;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string_view part(path.data() + start, end - start);
    if (part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

// A mount point the root must offer, and whether it is a directory.
struct MountPoint {
  std::string path;
  bool directory;
};

// The spec's checks: argv, cwd, binds and layers; the mount points the root
// needs (/tmp, /proc, /dev and each bind's destination).
Result<std::vector<MountPoint>> checkSpec(const SandboxSpec& spec) {
  if (spec.argv.empty()) return Error("spec: argv is empty", EINVAL);
  if (!normalPath(spec.cwd))
    return Error("spec: cwd '" + spec.cwd + "' is not an absolute path", EINVAL);
  std::vector<MountPoint> mount_points = {{"/tmp", true}, {"/proc", true}, {"/dev", true}};
  for (const auto& bind : spec.binds) {
    if (!normalPath(bind.destination) || bind.destination == "/")
      return Error("spec: bind destination '" + bind.destination + "' is not an absolute path",
                   EINVAL);
    struct stat st {};
    if (::stat(bind.source.c_str(), &st) != 0)
      return Error::fromErrno("spec: bind source " + bind.source);
    mount_points.push_back({bind.destination, S_ISDIR(st.st_mode)});
  }
  for (const auto& layer : spec.layers) {
    struct stat st {};
    if (::stat(layer.c_str(), &st) != 0) return Error::fromErrno("spec: layer " + layer);
    if (!S_ISDIR(st.st_mode)) return Error("spec: layer " + layer + " is not a directory", ENOTDIR);
    if (layer.find_first_of(":,\\") != std::string::npos)
      return Error("spec: layer path " + layer + " contains ':', ',' or '\\'", EINVAL);
  }
  return mount_points;
}

}  // namespace

// The plan's mount operations, a step per part of the root, in the order the
// child applies them: staging tmpfs, root, binds, /tmp, /dev, /proc, the
// root read-only.
class RootBuilder {
 public:
  RootBuilder(ChildPlan& plan, const ChildPlan::Inputs& inputs,
              std::vector<MountPoint> mount_points)
      : plan_(plan),
        spec_(*inputs.spec),
        user_namespace_(inputs.user_namespace),
        mount_points_(std::move(mount_points)),
        stage_(inputs.stage_dir),
        root_(stage_ + "/root") {
    plan_.new_root = plan_.keep(root_);
  }

  // 1. The staging tmpfs (private to the child's mount namespace).
  void staging() {
    mount("tmpfs", stage_, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755",
          "mount staging tmpfs on " + stage_);
    mkdir(root_, 0755);
  }

  // 2. The root: one layer bound, several stacked, none an empty tmpfs. A
  // scaffold of empty mount points goes on top when the layers lack them.
  Status root() {
    const bool single_layer_has_points =
        spec_.layers.size() == 1 &&
        std::all_of(mount_points_.begin(), mount_points_.end(), [&](const MountPoint& point) {
          return hasMountPoint(spec_.layers[0], stripSlash(point.path), point.directory);
        });
    if (spec_.layers.empty()) {
      mount("tmpfs", root_, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755",
            "mount root tmpfs on " + root_);
      createMountPoints(root_);
      return {};
    }
    if (!single_layer_has_points) return overlayRoot();
    WICK_TRY(attachTree(spec_.layers[0], root_, "bind layer " + spec_.layers[0] + " on " + root_),
             "spec");
    return {};
  }

  // 3. The binds, each read-only unless writable.
  Status binds() {
    for (const auto& bind : spec_.binds) {
      const std::string target = root_ + bind.destination;
      guard(target);
      WICK_TRY(attachTree(bind.source, target, "bind " + bind.source + " on " + target), "spec");
      unsigned long flags = MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV;
      if (!bind.writable) flags |= MS_RDONLY;
      mount("", target, nullptr, flags, "", "remount bind " + target);
    }
    return {};
  }

  void tmp() {
    guard(root_ + "/tmp");
    mount("tmpfs", root_ + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
          "size=" + std::to_string(spec_.tmp_size_bytes) + ",mode=1777", "mount tmpfs on /tmp");
  }

  // A tmpfs of the usual nodes (made, or the host's bound in a user
  // namespace), the fd links, /dev/shm; then read-only.
  void dev() {
    const std::string dev = root_ + "/dev";
    guard(dev);
    mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,nr_inodes=64,mode=0755",
          "mount tmpfs on /dev");
    for (const auto& device : kDevices) {
      const std::string node = dev + "/" + device.name;
      if (!user_namespace_) {
        add({.kind = FsOp::Kind::kMknod,
             .target = plan_.keep(node),
             .mode = S_IFCHR | 0666,
             .dev = makedev(device.major, device.minor),
             .description = std::string("mknod /dev/") + device.name});
        continue;
      }
      // mknod is refused in a user namespace: the host's node, bound.
      add({.kind = FsOp::Kind::kMknod,
           .target = plan_.keep(node),
           .mode = S_IFREG | 0644,
           .description = "create file " + node});
      mount(std::string("/dev/") + device.name, node, nullptr, MS_BIND, "",
            std::string("bind /dev/") + device.name);
    }
    const std::pair<const char*, const char*> links[] = {{"/proc/self/fd", "fd"},
                                                         {"/proc/self/fd/0", "stdin"},
                                                         {"/proc/self/fd/1", "stdout"},
                                                         {"/proc/self/fd/2", "stderr"}};
    for (const auto& [to, name] : links)
      add({.kind = FsOp::Kind::kSymlink,
           .source = to,
           .target = plan_.keep(dev + "/" + name),
           .description = std::string("symlink /dev/") + name});
    mkdir(dev + "/shm", 01777);
    mount("tmpfs", dev + "/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
          "size=" + std::to_string(spec_.shm_size_bytes) + ",mode=1777", "mount tmpfs on /dev/shm");
    mount("", dev, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC, "",
          "remount /dev read-only");
  }

  // /proc, with OCI's masked and read-only paths.
  void proc() {
    const std::string dev = root_ + "/dev";
    const std::string proc = root_ + "/proc";
    guard(proc);
    mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "", "mount /proc");
    for (const char* file : kMaskedProcFiles)
      mount(dev + "/null", proc + "/" + file, nullptr, MS_BIND, "",
            std::string("mask /proc/") + file, true);
    for (const char* dir : kMaskedProcDirs)
      mount("tmpfs", proc + "/" + dir, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
            "size=0", std::string("mask /proc/") + dir, true);
    for (const char* path : kReadOnlyProcPaths) {
      mount(proc + "/" + path, proc + "/" + path, nullptr, MS_BIND | MS_REC, "",
            std::string("bind /proc/") + path, true);
      mount("", proc + "/" + path, nullptr,
            MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "",
            std::string("make /proc/") + path + " read-only", true);
    }
  }

  // 4. The root itself read-only.
  void rootReadOnly() {
    mount("", root_, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "",
          "remount root read-only");
  }

 private:
  // Several layers (or one without the mount points) under a scaffold. Each
  // layer is bound at a short name in the staging tmpfs and the overlay is
  // given names relative to it: mountinfo shows the lowerdir string as given,
  // and the host's paths (the state directory) stay out of it. The binds go
  // with the old root at pivot_root; the overlay keeps its layers.
  Status overlayRoot() {
    const std::string scaffold = stage_ + "/scaffold";
    mkdir(scaffold, 0755);
    createMountPoints(scaffold);
    mkdir(stage_ + "/l", 0700);
    std::string lower = "scaffold";
    for (size_t i = spec_.layers.size(); i-- > 0;) {
      const std::string name = "l/" + std::to_string(i);
      mkdir(stage_ + "/" + name, 0755);
      WICK_TRY(attachTree(spec_.layers[i], stage_ + "/" + name,
                          "bind layer " + spec_.layers[i] + " on " + stage_ + "/" + name),
               "spec");
      lower += ":" + name;
    }
    add({.kind = FsOp::Kind::kChdir,
         .target = plan_.keep(stage_),
         .description = "chdir " + stage_});
    if (lower.size() > 4000)
      return Error("spec: " + std::to_string(spec_.layers.size()) +
                       " layers make an overlay lowerdir string of " +
                       std::to_string(lower.size()) + " bytes (the kernel takes one page)",
                   E2BIG);
    mount("overlay", root_, "overlay", MS_NOSUID | MS_NODEV, "lowerdir=" + lower,
          "mount overlay of " + std::to_string(spec_.layers.size()) + " layers on " + root_);
    return {};
  }

  void add(FsOp op) { plan_.ops.push_back(std::move(op)); }

  void mount(const std::string& source, const std::string& target, const char* fstype,
             unsigned long flags, const std::string& data, std::string what,
             bool optional = false) {
    add({.kind = FsOp::Kind::kMount,
         .source = source.empty() ? nullptr : plan_.keep(source),
         .target = plan_.keep(target),
         .fstype = fstype,
         .flags = flags,
         .data = data.empty() ? nullptr : plan_.keep(data),
         .optional = optional,
         .description = std::move(what)});
  }

  // A read-only-to-be bind of a host path, as a detached tree opened now.
  Status attachTree(const std::string& source, const std::string& target, std::string what) {
    UniqueFd tree(static_cast<int>(
        ::syscall(SYS_open_tree, AT_FDCWD, source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)));
    if (!tree) return Error::fromErrno("open_tree " + source);
    add({.kind = FsOp::Kind::kMoveMount,
         .target = plan_.keep(target),
         .fd = tree.get(),
         .description = std::move(what)});
    plan_.trees_.push_back(std::move(tree));
    return {};
  }

  void mkdir(const std::string& path, mode_t mode) {
    add({.kind = FsOp::Kind::kMkdir,
         .target = plan_.keep(path),
         .mode = mode,
         .description = "mkdir " + path});
  }

  // Creates the mount points (and their parents) under `base`, a tmpfs we own.
  void createMountPoints(const std::string& base) {
    std::set<std::string> made;
    for (const auto& point : mount_points_) {
      std::string relative = stripSlash(point.path);
      size_t slash = 0;
      while ((slash = relative.find('/', slash + 1)) != std::string::npos) {
        std::string parent = relative.substr(0, slash);
        if (made.insert(parent).second) mkdir(base + "/" + parent, 0755);
      }
      if (!made.insert(relative).second) continue;
      if (point.directory)
        mkdir(base + "/" + relative, 0755);
      else
        add({.kind = FsOp::Kind::kMknod,
             .target = plan_.keep(base + "/" + relative),
             .mode = S_IFREG | 0644,
             .description = "create file " + base + "/" + relative});
    }
  }

  // Never mount onto a path that leads through a symlink of the layers. (With
  // no layers every mount point is a directory we made in our own tmpfs.)
  void guard(const std::string& target) {
    if (spec_.layers.empty()) return;
    add({.kind = FsOp::Kind::kRejectSymlinks,
         .source = plan_.keep(root_),
         .target = plan_.keep(target),
         .description = "mount point " + target});
  }

  ChildPlan& plan_;
  const SandboxSpec& spec_;
  const bool user_namespace_;
  const std::vector<MountPoint> mount_points_;
  const std::string stage_;
  const std::string root_;
};

Result<ChildPlan> ChildPlan::build(const Inputs& inputs) {
  const SandboxSpec& spec = *inputs.spec;
  auto mount_points = checkSpec(spec);
  if (!mount_points) return std::move(mount_points).error();
  ChildPlan plan;
  RootBuilder root(plan, inputs, std::move(*mount_points));
  root.staging();
  if (auto made = root.root(); !made) return std::move(made).error();
  if (auto bound = root.binds(); !bound) return std::move(bound).error();
  root.tmp();
  root.dev();
  root.proc();
  root.rootReadOnly();
  plan.planProcess(spec);
  if (auto passed = plan.planFds(spec); !passed) return std::move(passed).error();
  plan.rlimits = spec.rlimits;
  plan.uid = spec.uid;
  plan.gid = spec.gid;
  plan.empty_caps.reset(cap_init());
  if (plan.empty_caps == nullptr) return Error::fromErrno("cap_init");
  plan.seccomp_program = spec.seccomp ? inputs.seccomp_program : nullptr;
  return plan;
}

// argv, env (and the PATH that finds argv[0]), cwd, the namespace's hostname
// and network.
void ChildPlan::planProcess(const SandboxSpec& spec) {
  hostname = keep(spec.hostname);
  netns_fd = spec.netns_fd;
  loopback_up = spec.isolate_network && spec.netns_fd < 0;
  for (const auto& arg : spec.argv)
    argv.push_back(keep(arg));
  argv.push_back(nullptr);
  for (const auto& entry : spec.env) {
    envp.push_back(keep(entry));
    if (entry.starts_with("PATH=")) path_env = envp.back() + 5;
  }
  envp.push_back(nullptr);
  if (path_env == nullptr) path_env = "/usr/local/bin:/usr/bin:/bin";
  cwd = keep(spec.cwd);
  exec_fd = spec.exec_fd;
}

// stdio, then the passed fds at the numbers the sandbox sees them by.
Status ChildPlan::planFds(const SandboxSpec& spec) {
  fd_sources = {spec.stdin_fd, spec.stdout_fd, spec.stderr_fd};
  fd_targets = {0, 1, 2};
  for (const auto& passed : spec.passed_fds) {
    if (passed.sandbox_fd < 3 || passed.sandbox_fd > 1000)
      return Error(
          "spec: passed fd number " + std::to_string(passed.sandbox_fd) + " is outside 3..1000",
          EINVAL);
    if (std::count(fd_targets.begin(), fd_targets.end(), passed.sandbox_fd))
      return Error("spec: fd " + std::to_string(passed.sandbox_fd) + " is passed twice", EINVAL);
    fd_sources.push_back(passed.host_fd);
    fd_targets.push_back(passed.sandbox_fd);
    highest_target_fd = std::max(highest_target_fd, passed.sandbox_fd);
  }
  return {};
}

}  // namespace wick::sandbox
