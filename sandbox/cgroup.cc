// Discovery of the cgroup layout and what v1 and v2 slices share.
#include "sandbox/cgroup.h"

#include <dirent.h>
#include <libcgroup.h>
#include <linux/magic.h>
#include <sys/statfs.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <optional>
#include <set>

#include "sandbox/cgroup_v1.h"
#include "sandbox/cgroup_v2.h"

namespace wick::sandbox {

const char* toString(CgroupVersion version) {
  return version == CgroupVersion::kV1 ? "v1" : "v2";
}

CpuQuota cpuQuotaFor(const Resources& resources, int host_cpus) {
  const uint64_t period = std::clamp<uint64_t>(resources.cpu_period_us, 1'000, 1'000'000);
  const uint64_t per_vcpu = std::max<uint64_t>(resources.mb_per_vcpu, 1);
  uint64_t quota = (period * resources.memory_mb + per_vcpu / 2) / per_vcpu;
  // The kernel refuses quotas under 1 ms.
  const uint64_t floor = std::max<uint64_t>(
      1'000, static_cast<uint64_t>(std::ceil(std::max(resources.cpu_floor, resources.min_vcpus) *
                                             static_cast<double>(period))));
  const uint64_t ceiling = period * static_cast<uint64_t>(std::max(host_cpus, 1));
  quota = std::clamp(quota, std::min(floor, ceiling), ceiling);
  return {quota, period};
}

const std::vector<std::string>& CgroupHierarchy::v1Controllers() {
  static const std::vector<std::string> controllers = {"memory", "cpu", "cpuacct", "pids",
                                                       "freezer"};
  return controllers;
}

CgroupHierarchy CgroupHierarchy::v2At(std::string root, bool create_missing_files) {
  CgroupHierarchy hierarchy;
  hierarchy.version_ = CgroupVersion::kV2;
  hierarchy.v2_root_ = std::move(root);
  hierarchy.create_missing_files_ = create_missing_files;
  return hierarchy;
}

CgroupHierarchy CgroupHierarchy::v1At(std::map<std::string, std::string> controller_mounts) {
  CgroupHierarchy hierarchy;
  hierarchy.version_ = CgroupVersion::kV1;
  hierarchy.v1_mounts_ = std::move(controller_mounts);
  return hierarchy;
}

std::vector<std::string> CgroupHierarchy::v1Hierarchies() const {
  std::set<std::string> unique;
  for (const auto& [controller, mount] : v1_mounts_)
    unique.insert(mount);
  return {unique.begin(), unique.end()};
}

namespace {

// libcgroup finds where each v1 controller is mounted (it parses the mount
// table, including co-mounts like cpu,cpuacct). It is not used beyond
// discovery: it cannot target a test hierarchy, knows nothing of
// CLONE_INTO_CGROUP, cgroup.kill, memory.peak or waiting for a freeze, and its
// create path re-reads every controller file, which costs on the cold-start path.
Result<std::map<std::string, std::string>> discoverV1Mounts() {
  static std::once_flag once;
  static int init_result = 0;
  std::call_once(once, [] { init_result = cgroup_init(); });
  if (init_result != 0)
    return Error(std::string("libcgroup cgroup_init: ") + cgroup_strerror(init_result));
  std::map<std::string, std::string> mounts;
  for (const auto& controller : CgroupHierarchy::v1Controllers()) {
    char* mount_point = nullptr;
    int rc = cgroup_get_subsys_mount_point(controller.c_str(), &mount_point);
    if (rc != 0 || mount_point == nullptr)
      return Error("cgroup v1 controller '" + controller +
                   "' is not mounted (libcgroup: " + cgroup_strerror(rc) + ")");
    mounts[controller] = mount_point;
    free(mount_point);
  }
  return mounts;
}

}  // namespace

// The usual layout (<root>/<controller>, each a cgroup v1 mount) is checked
// first with one statfs per controller; libcgroup, which parses the whole mount
// table (~0.5 ms), finds any other layout.
std::optional<std::map<std::string, std::string>> usualV1Mounts(const std::string& root) {
  std::map<std::string, std::string> mounts;
  for (const auto& controller : CgroupHierarchy::v1Controllers()) {
    const std::string path = root + "/" + controller;
    struct statfs fs {};
    if (::statfs(path.c_str(), &fs) != 0 || fs.f_type != CGROUP_SUPER_MAGIC) return std::nullopt;
    mounts[controller] = path;
  }
  return mounts;
}

Result<CgroupHierarchy> CgroupHierarchy::discover(const std::string& root) {
  struct statfs fs {};
  if (::statfs(root.c_str(), &fs) != 0) return Error::fromErrno("statfs " + root);
  if (fs.f_type == CGROUP2_SUPER_MAGIC) return v2At(root);
  if (auto usual = usualV1Mounts(root)) return v1At(std::move(*usual));
  auto mounts = discoverV1Mounts();
  if (!mounts) return std::move(mounts).error().context("discover cgroup v1 hierarchies");
  return v1At(std::move(*mounts));
}

Result<std::unique_ptr<CgroupSlice>> CgroupSlice::create(
    std::shared_ptr<const CgroupHierarchy> hierarchy, const std::string& parent,
    const std::string& name, const Resources& resources, int host_cpus) {
  if (hierarchy->version() == CgroupVersion::kV2)
    return CgroupV2Slice::create(std::move(hierarchy), parent, name, resources, host_cpus);
  return CgroupV1Slice::create(std::move(hierarchy), parent, name, resources, host_cpus);
}

std::unique_ptr<CgroupSlice> CgroupSlice::adopt(std::shared_ptr<const CgroupHierarchy> hierarchy,
                                                const std::string& parent,
                                                const std::string& name) {
  if (hierarchy->version() == CgroupVersion::kV2)
    return std::make_unique<CgroupV2Slice>(std::move(hierarchy), parent, name);
  return std::make_unique<CgroupV1Slice>(std::move(hierarchy), parent, name);
}

Result<std::vector<std::string>> CgroupSlice::list(const CgroupHierarchy& hierarchy,
                                                   const std::string& parent,
                                                   const std::string& prefix) {
  std::set<std::string> names;
  std::vector<std::string> roots;
  if (hierarchy.version() == CgroupVersion::kV2)
    roots.push_back(hierarchy.v2Root());
  else
    roots = hierarchy.v1Hierarchies();
  for (const auto& root : roots) {
    const std::string dir = root + "/" + parent;
    DIR* stream = ::opendir(dir.c_str());
    if (stream == nullptr) {
      if (errno == ENOENT) continue;
      return Error::fromErrno("opendir " + dir);
    }
    while (dirent* entry = ::readdir(stream)) {
      std::string entry_name = entry->d_name;
      if (entry->d_type == DT_DIR && entry_name.starts_with(prefix)) names.insert(entry_name);
    }
    ::closedir(stream);
  }
  return std::vector<std::string>(names.begin(), names.end());
}

}  // namespace wick::sandbox
