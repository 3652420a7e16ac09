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

}  // namespace

Result<ChildPlan> ChildPlan::build(const Inputs& inputs) {
  const SandboxSpec& spec = *inputs.spec;
  ChildPlan plan;
  if (spec.argv.empty()) return Error("spec: argv is empty", EINVAL);
  if (!normalPath(spec.cwd))
    return Error("spec: cwd '" + spec.cwd + "' is not an absolute path", EINVAL);

  // Mount points the root must offer, and whether each is a directory.
  struct MountPoint {
    std::string path;
    bool directory;
  };
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

  const std::string stage = inputs.stage_dir;
  const std::string root = stage + "/root";
  const std::string scaffold = stage + "/scaffold";
  plan.new_root = plan.keep(root);
  auto add = [&plan](FsOp op) { plan.ops.push_back(std::move(op)); };
  auto mount = [&](const std::string& source, const std::string& target, const char* fstype,
                   unsigned long flags, const std::string& data, std::string what,
                   bool optional = false) {
    add({.kind = FsOp::Kind::kMount,
         .source = source.empty() ? nullptr : plan.keep(source),
         .target = plan.keep(target),
         .fstype = fstype,
         .flags = flags,
         .data = data.empty() ? nullptr : plan.keep(data),
         .optional = optional,
         .description = std::move(what)});
  };
  // A read-only-to-be bind of a host path, as a detached tree opened now.
  auto attachTree = [&](const std::string& source, const std::string& target,
                        std::string what) -> Status {
    UniqueFd tree(static_cast<int>(
        ::syscall(SYS_open_tree, AT_FDCWD, source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)));
    if (!tree) return Error::fromErrno("open_tree " + source);
    add({.kind = FsOp::Kind::kMoveMount,
         .target = plan.keep(target),
         .fd = tree.get(),
         .description = std::move(what)});
    plan.trees_.push_back(std::move(tree));
    return {};
  };
  auto mkdir = [&](const std::string& path, mode_t mode) {
    add({.kind = FsOp::Kind::kMkdir,
         .target = plan.keep(path),
         .mode = mode,
         .description = "mkdir " + path});
  };
  // Create the mount points (and their parents) under `base`, a tmpfs we own.
  auto createMountPoints = [&](const std::string& base) {
    std::set<std::string> made;
    for (const auto& point : mount_points) {
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
             .target = plan.keep(base + "/" + relative),
             .mode = S_IFREG | 0644,
             .description = "create file " + base + "/" + relative});
    }
  };

  // 1. The staging tmpfs (private to the child's mount namespace).
  mount("tmpfs", stage, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755",
        "mount staging tmpfs on " + stage);
  mkdir(root, 0755);

  // 2. The root: one layer bound, several stacked, none an empty tmpfs. A
  // scaffold of empty mount points goes on top when the layers lack them.
  const bool single_layer_has_points =
      spec.layers.size() == 1 &&
      std::all_of(mount_points.begin(), mount_points.end(), [&](const MountPoint& point) {
        return hasMountPoint(spec.layers[0], stripSlash(point.path), point.directory);
      });
  if (spec.layers.empty()) {
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755",
          "mount root tmpfs on " + root);
    createMountPoints(root);
  } else if (single_layer_has_points) {
    WICK_TRY(attachTree(spec.layers[0], root, "bind layer " + spec.layers[0] + " on " + root),
             "spec");
  } else {
    mkdir(scaffold, 0755);
    createMountPoints(scaffold);
    // Each layer is bound at a short name in the staging tmpfs and the overlay
    // is given names relative to it: mountinfo shows the lowerdir string as
    // given, and the host's paths (the state directory) stay out of it. The
    // binds go with the old root at pivot_root; the overlay keeps its layers.
    mkdir(stage + "/l", 0700);
    std::string lower = "scaffold";
    for (size_t i = spec.layers.size(); i-- > 0;) {
      const std::string name = "l/" + std::to_string(i);
      mkdir(stage + "/" + name, 0755);
      WICK_TRY(attachTree(spec.layers[i], stage + "/" + name,
                          "bind layer " + spec.layers[i] + " on " + stage + "/" + name),
               "spec");
      lower += ":" + name;
    }
    add({.kind = FsOp::Kind::kChdir, .target = plan.keep(stage), .description = "chdir " + stage});
    if (lower.size() > 4000)
      return Error("spec: " + std::to_string(spec.layers.size()) +
                       " layers make an overlay lowerdir string of " +
                       std::to_string(lower.size()) + " bytes (the kernel takes one page)",
                   E2BIG);
    mount("overlay", root, "overlay", MS_NOSUID | MS_NODEV, "lowerdir=" + lower,
          "mount overlay of " + std::to_string(spec.layers.size()) + " layers on " + root);
  }
  // Never mount onto a path that leads through a symlink of the layers. (With
  // no layers every mount point is a directory we made in our own tmpfs.)
  auto guard = [&](const std::string& target) {
    if (spec.layers.empty()) return;
    add({.kind = FsOp::Kind::kRejectSymlinks,
         .source = plan.keep(root),
         .target = plan.keep(target),
         .description = "mount point " + target});
  };

  // 3. Binds, then /tmp, /dev and /proc.
  for (const auto& bind : spec.binds) {
    const std::string target = root + bind.destination;
    guard(target);
    WICK_TRY(attachTree(bind.source, target, "bind " + bind.source + " on " + target), "spec");
    unsigned long flags = MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV;
    if (!bind.writable) flags |= MS_RDONLY;
    mount("", target, nullptr, flags, "", "remount bind " + target);
  }
  guard(root + "/tmp");
  mount("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
        "size=" + std::to_string(spec.tmp_size_bytes) + ",mode=1777", "mount tmpfs on /tmp");

  const std::string dev = root + "/dev";
  guard(dev);
  mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,nr_inodes=64,mode=0755",
        "mount tmpfs on /dev");
  for (const auto& device : kDevices) {
    const std::string node = dev + "/" + device.name;
    if (!inputs.user_namespace) {
      add({.kind = FsOp::Kind::kMknod,
           .target = plan.keep(node),
           .mode = S_IFCHR | 0666,
           .dev = makedev(device.major, device.minor),
           .description = std::string("mknod /dev/") + device.name});
      continue;
    }
    // mknod is refused in a user namespace: the host's node, bound.
    add({.kind = FsOp::Kind::kMknod,
         .target = plan.keep(node),
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
         .target = plan.keep(dev + "/" + name),
         .description = std::string("symlink /dev/") + name});
  mkdir(dev + "/shm", 01777);
  mount("tmpfs", dev + "/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
        "size=" + std::to_string(spec.shm_size_bytes) + ",mode=1777", "mount tmpfs on /dev/shm");
  mount("", dev, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC, "",
        "remount /dev read-only");

  const std::string proc = root + "/proc";
  guard(proc);
  mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "", "mount /proc");
  for (const char* file : kMaskedProcFiles)
    mount(dev + "/null", proc + "/" + file, nullptr, MS_BIND, "", std::string("mask /proc/") + file,
          true);
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

  // 4. The root itself read-only.
  mount("", root, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "",
        "remount root read-only");

  // The process.
  plan.hostname = plan.keep(spec.hostname);
  plan.netns_fd = spec.netns_fd;
  plan.loopback_up = spec.isolate_network && spec.netns_fd < 0;
  for (const auto& arg : spec.argv)
    plan.argv.push_back(plan.keep(arg));
  plan.argv.push_back(nullptr);
  for (const auto& entry : spec.env) {
    plan.envp.push_back(plan.keep(entry));
    if (entry.starts_with("PATH=")) plan.path_env = plan.envp.back() + 5;
  }
  plan.envp.push_back(nullptr);
  if (plan.path_env == nullptr) plan.path_env = "/usr/local/bin:/usr/bin:/bin";
  plan.cwd = plan.keep(spec.cwd);
  plan.exec_fd = spec.exec_fd;

  plan.fd_sources = {spec.stdin_fd, spec.stdout_fd, spec.stderr_fd};
  plan.fd_targets = {0, 1, 2};
  for (const auto& passed : spec.passed_fds) {
    if (passed.sandbox_fd < 3 || passed.sandbox_fd > 1000)
      return Error(
          "spec: passed fd number " + std::to_string(passed.sandbox_fd) + " is outside 3..1000",
          EINVAL);
    if (std::count(plan.fd_targets.begin(), plan.fd_targets.end(), passed.sandbox_fd))
      return Error("spec: fd " + std::to_string(passed.sandbox_fd) + " is passed twice", EINVAL);
    plan.fd_sources.push_back(passed.host_fd);
    plan.fd_targets.push_back(passed.sandbox_fd);
    plan.highest_target_fd = std::max(plan.highest_target_fd, passed.sandbox_fd);
  }
  plan.rlimits = spec.rlimits;
  plan.uid = spec.uid;
  plan.gid = spec.gid;
  plan.empty_caps.reset(cap_init());
  if (plan.empty_caps == nullptr) return Error::fromErrno("cap_init");
  plan.seccomp_program = spec.seccomp ? inputs.seccomp_program : nullptr;
  return plan;
}

}  // namespace wick::sandbox
