// cgroup v1 (and the v1 half of hybrid hosts). The limits are written before
// any process joins; the child joins each hierarchy itself by writing "0" to
// the cgroup.procs fds it inherited (v1 has no CLONE_INTO_CGROUP).
#include "sandbox/cgroup_v1.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "sandbox/cgroup_files.h"

namespace wick::sandbox {

CgroupV1Slice::~CgroupV1Slice() {
  (void)remove();
}

std::string CgroupV1Slice::path(const std::string& controller, const std::string& file) const {
  std::string result = hierarchy_->v1Mounts().at(controller) + "/" + parent_ + "/" + name_;
  if (!file.empty()) result += "/" + file;
  return result;
}

Result<std::unique_ptr<CgroupSlice>> CgroupV1Slice::create(
    std::shared_ptr<const CgroupHierarchy> hierarchy, const std::string& parent,
    const std::string& name, const Resources& resources, int host_cpus) {
  auto slice = std::make_unique<CgroupV1Slice>(hierarchy, parent, name);
  for (const auto& root : hierarchy->v1Hierarchies()) {
    WICK_TRY(cgroupfs::makeDirs(root, parent), "create cgroup parent");
    const std::string dir = root + "/" + parent + "/" + name;
    if (::mkdir(dir.c_str(), 0755) != 0) return Error::fromErrno("create cgroup slice " + dir);
  }
  WICK_TRY(slice->setResources(resources, host_cpus), "set limits of cgroup slice " + name);
  return std::unique_ptr<CgroupSlice>(std::move(slice));
}

Status CgroupV1Slice::setResources(const Resources& resources, int host_cpus) {
  const std::string bytes = std::to_string(resources.memory_mb << 20);
  const std::string memsw_bytes = std::to_string((resources.memory_mb + resources.swap_mb) << 20);
  // Lowering memory.limit_in_bytes below memsw fails with EINVAL and raising
  // memsw above the limit is required first when growing: order by direction.
  const std::string memsw = path("memory", "memory.memsw.limit_in_bytes");
  const bool has_memsw = ::access(memsw.c_str(), F_OK) == 0;
  auto current = cgroupfs::readUint(path("memory", "memory.limit_in_bytes"));
  const bool growing = current && *current < (resources.memory_mb << 20);
  if (has_memsw && growing) WICK_TRY(cgroupfs::write(memsw, memsw_bytes), "memory+swap limit");
  WICK_TRY(cgroupfs::write(path("memory", "memory.limit_in_bytes"), bytes), "memory limit");
  if (has_memsw && !growing) WICK_TRY(cgroupfs::write(memsw, memsw_bytes), "memory+swap limit");
  // Without swap accounting, swappiness 0 keeps the slice's pages out of swap.
  (void)cgroupfs::write(path("memory", "memory.swappiness"), resources.swap_mb > 0 ? "60" : "0");

  const CpuQuota cpu = cpuQuotaFor(resources, host_cpus);
  WICK_TRY(cgroupfs::write(path("cpu", "cpu.cfs_period_us"), std::to_string(cpu.period_us)),
           "cpu period");
  WICK_TRY(cgroupfs::write(path("cpu", "cpu.cfs_quota_us"), std::to_string(cpu.quota_us)),
           "cpu quota");
  // v1 has no io weight in the slices (blkio is not one of their controllers):
  // io_weight applies on v2 only.
  WICK_TRY(cgroupfs::write(path("pids", "pids.max"), std::to_string(resources.pids_max)),
           "pids limit");
  return {};
}

Status CgroupV1Slice::freeze() {
  const std::string state = path("freezer", "freezer.state");
  WICK_TRY(cgroupfs::write(state, "FROZEN"), "freeze");
  // FREEZING until every task has stopped; it may need several writes.
  for (int attempt = 0; attempt < 2000; ++attempt) {
    auto content = readFile(state);
    if (!content) return std::move(content).error().context("freeze");
    if (content->starts_with("FROZEN")) return {};
    std::this_thread::sleep_for(std::chrono::microseconds(100));
    if (attempt % 50 == 49) WICK_TRY(cgroupfs::write(state, "FROZEN"), "freeze");
  }
  return Error("freeze " + name_ + ": still FREEZING after 200 ms", EBUSY);
}

Status CgroupV1Slice::thaw() {
  WICK_TRY(cgroupfs::write(path("freezer", "freezer.state"), "THAWED"), "thaw");
  return {};
}

std::vector<int> CgroupV1Slice::pids() const {
  return cgroupfs::readPids(path("pids", "cgroup.procs"));
}

Status CgroupV1Slice::killAll() {
  // Freeze so nothing forks between reading cgroup.procs and the kill; a v1
  // frozen task only dies once thawed.
  const bool frozen = freeze().ok();
  for (int round = 0; round < 100; ++round) {
    auto victims = pids();
    if (victims.empty()) break;
    for (int pid : victims)
      ::kill(pid, SIGKILL);
    if (frozen) (void)thaw();
    std::this_thread::sleep_for(std::chrono::milliseconds(round == 0 ? 0 : 1));
    if (frozen) (void)freeze();
  }
  if (frozen) (void)thaw();
  if (!pids().empty()) return Error("kill all in " + name_ + ": processes remain", EBUSY);
  return {};
}

Result<CgroupStats> CgroupV1Slice::stats() const {
  CgroupStats stats;
  auto current = cgroupfs::readUint(path("memory", "memory.usage_in_bytes"));
  if (!current) return std::move(current).error();
  stats.memory_current_bytes = *current;
  auto peak = cgroupfs::readUint(path("memory", "memory.max_usage_in_bytes"));
  if (!peak) return std::move(peak).error();
  stats.memory_peak_bytes = *peak;
  auto cpu = cgroupfs::readUint(path("cpuacct", "cpuacct.usage"));
  if (!cpu) return std::move(cpu).error();
  stats.cpu_usage_ns = *cpu;
  // "oom_kill N" exists since Linux 4.13.
  auto oom = cgroupfs::readKeyed(path("memory", "memory.oom_control"), "oom_kill");
  stats.oom_kills = oom ? *oom : 0;
  auto pids_current = cgroupfs::readUint(path("pids", "pids.current"));
  stats.pids_current = pids_current ? *pids_current : 0;
  return stats;
}

Result<CgroupInspection> CgroupV1Slice::inspect() const {
  CgroupInspection inspection;
  auto stats = this->stats();
  if (!stats) return std::move(stats).error();
  inspection.stats = *stats;
  auto memory_max = cgroupfs::readUint(path("memory", "memory.limit_in_bytes"));
  if (!memory_max) return std::move(memory_max).error();
  inspection.memory_max_bytes = *memory_max;
  if (auto memsw = cgroupfs::readUint(path("memory", "memory.memsw.limit_in_bytes")))
    inspection.swap_max_bytes = *memsw > *memory_max ? *memsw - *memory_max : 0;
  auto quota = cgroupfs::readLimit(path("cpu", "cpu.cfs_quota_us"));
  if (!quota) return std::move(quota).error();
  inspection.cpu_quota_us = *quota;
  auto period = cgroupfs::readUint(path("cpu", "cpu.cfs_period_us"));
  if (!period) return std::move(period).error();
  inspection.cpu_period_us = *period;
  if (auto pids = cgroupfs::readLimit(path("pids", "pids.max"))) inspection.pids_max = *pids;
  const std::string cpu_stat = path("cpu", "cpu.stat");
  if (auto periods = cgroupfs::readKeyed(cpu_stat, "nr_periods")) inspection.cpu_periods = *periods;
  if (auto throttled = cgroupfs::readKeyed(cpu_stat, "nr_throttled"))
    inspection.cpu_throttled_periods = *throttled;
  if (auto ns = cgroupfs::readKeyed(cpu_stat, "throttled_time")) inspection.cpu_throttled_ns = *ns;
  return inspection;
}

Status CgroupV1Slice::remove() {
  if (removed_) return {};
  Status result;
  for (const auto& root : hierarchy_->v1Hierarchies()) {
    auto removed = cgroupfs::removeDir(root + "/" + parent_ + "/" + name_);
    if (!removed && result.ok()) result = std::move(removed).error();
  }
  if (result.ok()) removed_ = true;
  return result;
}

Result<UniqueFd> CgroupV1Slice::openDirFd() const {
  return Error("cgroup v1 has no CLONE_INTO_CGROUP", ENOTSUP);
}

Result<std::vector<UniqueFd>> CgroupV1Slice::openProcsFds() const {
  std::vector<UniqueFd> fds;
  for (const auto& root : hierarchy_->v1Hierarchies()) {
    auto fd = openFile(root + "/" + parent_ + "/" + name_ + "/cgroup.procs", O_WRONLY);
    if (!fd) return std::move(fd).error();
    fds.push_back(std::move(*fd));
  }
  return fds;
}

}  // namespace wick::sandbox
