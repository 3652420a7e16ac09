// cgroup v2 (the unified hierarchy). The child is born in the slice with
// clone3(CLONE_INTO_CGROUP), so no process ever runs outside its limits.
#include "sandbox/cgroup_v2.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "sandbox/cgroup_files.h"

namespace wick::sandbox {

namespace {

constexpr const char* kControllers[] = {"cpu", "memory", "pids"};

// Each ancestor of the slice must delegate the controllers to its children
// ("+cpu +memory +pids" in cgroup.subtree_control), from the root down.
Status delegateControllers(const CgroupHierarchy& hierarchy, const std::string& parent) {
  std::string dir = hierarchy.v2Root();
  std::string relative = parent;
  for (;;) {
    const std::string control = dir + "/cgroup.subtree_control";
    auto enabled = hierarchy.createMissingFiles() && ::access(control.c_str(), F_OK) != 0
                       ? Result<std::string>(std::string())
                       : readFile(control);
    if (!enabled) return std::move(enabled).error();
    std::string wanted;
    for (const char* controller : kControllers) {
      if (enabled->find(controller) == std::string::npos) {
        if (!wanted.empty()) wanted += ' ';
        wanted += std::string("+") + controller;
      }
    }
    if (!wanted.empty())
      WICK_TRY(cgroupfs::write(control, wanted, hierarchy.createMissingFiles()),
               "delegate controllers");
    if (relative.empty()) return {};
    size_t slash = relative.find('/');
    const std::string component = relative.substr(0, slash);
    relative = slash == std::string::npos ? "" : relative.substr(slash + 1);
    if (component.empty()) continue;
    dir += "/" + component;
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Error::fromErrno("mkdir " + dir);
  }
}

// io is optional (not every kernel has it): delegated down to the parent of
// the slices only when a weight is asked for and the root offers it.
Status delegateIo(const CgroupHierarchy& hierarchy, const std::string& parent) {
  std::string dir = hierarchy.v2Root();
  std::string relative = parent;
  for (;;) {
    auto available = readFile(dir + "/cgroup.controllers");
    if (!available) return std::move(available).error();
    if (available->find("io") == std::string::npos)
      return Error("no io controller in " + dir, ENOTSUP);
    auto enabled = readFile(dir + "/cgroup.subtree_control");
    if (!enabled) return std::move(enabled).error();
    if (enabled->find("io") == std::string::npos)
      WICK_TRY(cgroupfs::write(dir + "/cgroup.subtree_control", "+io"), "delegate io");
    if (relative.empty()) return {};
    size_t slash = relative.find('/');
    const std::string component = relative.substr(0, slash);
    relative = slash == std::string::npos ? "" : relative.substr(slash + 1);
    if (!component.empty()) dir += "/" + component;
  }
}

}  // namespace

CgroupV2Slice::~CgroupV2Slice() {
  (void)remove();
}

std::string CgroupV2Slice::path(const std::string& file) const {
  std::string result = hierarchy_->v2Root() + "/" + parent_ + "/" + name_;
  if (!file.empty()) result += "/" + file;
  return result;
}

Status CgroupV2Slice::write(const std::string& file, std::string_view value) const {
  return cgroupfs::write(path(file), value, hierarchy_->createMissingFiles());
}

Result<std::unique_ptr<CgroupSlice>> CgroupV2Slice::create(
    std::shared_ptr<const CgroupHierarchy> hierarchy, const std::string& parent,
    const std::string& name, const Resources& resources, int host_cpus) {
  WICK_TRY(delegateControllers(*hierarchy, parent), "prepare cgroup parent " + parent);
  auto slice = std::make_unique<CgroupV2Slice>(hierarchy, parent, name);
  if (::mkdir(slice->path().c_str(), 0755) != 0)
    return Error::fromErrno("create cgroup slice " + slice->path());
  WICK_TRY(slice->setResources(resources, host_cpus), "set limits of cgroup slice " + name);
  return std::unique_ptr<CgroupSlice>(std::move(slice));
}

Status CgroupV2Slice::setResources(const Resources& resources, int host_cpus) {
  WICK_TRY(write("memory.max", std::to_string(resources.memory_mb << 20)), "memory limit");
  // memory.swap.max only exists where swap accounting is on; elsewhere there is
  // no swap to forbid.
  if (hierarchy_->createMissingFiles() || ::access(path("memory.swap.max").c_str(), F_OK) == 0)
    WICK_TRY(write("memory.swap.max", std::to_string(resources.swap_mb << 20)), "swap limit");
  // io.weight exists once the parent delegates the io controller; where the
  // kernel has none there is no weight to set.
  if (resources.io_weight > 0) {
    if (!hierarchy_->createMissingFiles() && ::access(path("io.weight").c_str(), F_OK) != 0)
      (void)delegateIo(*hierarchy_, parent_);
    if (hierarchy_->createMissingFiles() || ::access(path("io.weight").c_str(), F_OK) == 0)
      WICK_TRY(write("io.weight", "default " + std::to_string(std::clamp<uint64_t>(
                                                   resources.io_weight, 1, 10'000))),
               "io weight");
  }
  const CpuQuota cpu = cpuQuotaFor(resources, host_cpus);
  WICK_TRY(write("cpu.max", std::to_string(cpu.quota_us) + " " + std::to_string(cpu.period_us)),
           "cpu limit");
  WICK_TRY(write("pids.max", std::to_string(resources.pids_max)), "pids limit");
  return {};
}

Status CgroupV2Slice::freeze() {
  WICK_TRY(write("cgroup.freeze", "1"), "freeze");
  for (int attempt = 0; attempt < 2000; ++attempt) {
    auto frozen = cgroupfs::readKeyed(path("cgroup.events"), "frozen");
    if (frozen && *frozen == 1) return {};
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return Error("freeze " + name_ + ": not frozen after 200 ms", EBUSY);
}

Status CgroupV2Slice::thaw() {
  WICK_TRY(write("cgroup.freeze", "0"), "thaw");
  return {};
}

std::vector<int> CgroupV2Slice::pids() const {
  return cgroupfs::readPids(path("cgroup.procs"));
}

Status CgroupV2Slice::killAll() {
  // cgroup.kill (Linux 5.14) kills the whole subtree atomically, frozen or not.
  if (::access(path("cgroup.kill").c_str(), F_OK) == 0) {
    WICK_TRY(write("cgroup.kill", "1"), "kill all in " + name_);
  } else {
    for (int pid : pids())
      ::kill(pid, SIGKILL);
    (void)thaw();
  }
  for (int attempt = 0; attempt < 2000 && !pids().empty(); ++attempt)
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  if (!pids().empty()) return Error("kill all in " + name_ + ": processes remain", EBUSY);
  return {};
}

Result<CgroupStats> CgroupV2Slice::stats() const {
  CgroupStats stats;
  auto current = cgroupfs::readUint(path("memory.current"));
  if (!current) return std::move(current).error();
  stats.memory_current_bytes = *current;
  // memory.peak appeared in Linux 5.19.
  auto peak = cgroupfs::readUint(path("memory.peak"));
  stats.memory_peak_bytes = peak ? *peak : *current;
  auto cpu = cgroupfs::readKeyed(path("cpu.stat"), "usage_usec");
  if (!cpu) return std::move(cpu).error();
  stats.cpu_usage_ns = *cpu * 1000;
  auto oom = cgroupfs::readKeyed(path("memory.events"), "oom_kill");
  stats.oom_kills = oom ? *oom : 0;
  auto pids_current = cgroupfs::readUint(path("pids.current"));
  stats.pids_current = pids_current ? *pids_current : 0;
  return stats;
}

Result<CgroupInspection> CgroupV2Slice::inspect() const {
  CgroupInspection inspection;
  auto stats = this->stats();
  if (!stats) return std::move(stats).error();
  inspection.stats = *stats;
  auto memory_max = cgroupfs::readLimit(path("memory.max"));
  if (!memory_max) return std::move(memory_max).error();
  inspection.memory_max_bytes = *memory_max;
  if (auto swap = cgroupfs::readLimit(path("memory.swap.max"))) inspection.swap_max_bytes = *swap;
  auto cpu_max = readFile(path("cpu.max"));  // "QUOTA PERIOD", QUOTA "max" for none
  if (!cpu_max) return std::move(cpu_max).error();
  unsigned long long quota = 0, period = 0;
  if (std::sscanf(cpu_max->c_str(), "%llu %llu", &quota, &period) == 2) {
    inspection.cpu_quota_us = quota;
    inspection.cpu_period_us = period;
  } else if (std::sscanf(cpu_max->c_str(), "max %llu", &period) == 1) {
    inspection.cpu_period_us = period;
  } else {
    return Error("unreadable " + path("cpu.max") + ": '" + *cpu_max + "'", EINVAL);
  }
  if (auto pids = cgroupfs::readLimit(path("pids.max"))) inspection.pids_max = *pids;
  if (auto io = cgroupfs::readKeyed(path("io.weight"), "default")) inspection.io_weight = *io;
  const std::string cpu_stat = path("cpu.stat");
  if (auto periods = cgroupfs::readKeyed(cpu_stat, "nr_periods")) inspection.cpu_periods = *periods;
  if (auto throttled = cgroupfs::readKeyed(cpu_stat, "nr_throttled"))
    inspection.cpu_throttled_periods = *throttled;
  if (auto usec = cgroupfs::readKeyed(cpu_stat, "throttled_usec"))
    inspection.cpu_throttled_ns = *usec * 1000;
  return inspection;
}

Status CgroupV2Slice::remove() {
  if (removed_) return {};
  WICK_TRY(cgroupfs::removeDir(path()), "remove cgroup slice");
  removed_ = true;
  return {};
}

Result<UniqueFd> CgroupV2Slice::openDirFd() const {
  return openFile(path(), O_RDONLY | O_DIRECTORY);
}

Result<std::vector<UniqueFd>> CgroupV2Slice::openProcsFds() const {
  return std::vector<UniqueFd>();  // born in the slice: nothing to join
}

}  // namespace wick::sandbox
