#include "sandbox/cgroup_delegation.h"

#include <sys/stat.h>

#include <optional>
#include <vector>

#include "sandbox/cgroup_files.h"

namespace wick::sandbox {

namespace {

// "hierarchy-ID:controller-list:cgroup-path", one line each (cgroups(7)).
struct ProcCgroupLine {
  std::string_view id;
  std::string_view controllers;
  std::string_view path;
};

std::vector<ProcCgroupLine> parseLines(std::string_view text) {
  std::vector<ProcCgroupLine> lines;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    const size_t first = line.find(':');
    const size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    lines.push_back({line.substr(0, first), line.substr(first + 1, second - first - 1),
                     line.substr(second + 1)});
  }
  return lines;
}

bool listsController(std::string_view controllers, std::string_view wanted) {
  while (!controllers.empty()) {
    const size_t comma = controllers.find(',');
    if (controllers.substr(0, comma) == wanted) return true;
    controllers =
        comma == std::string_view::npos ? std::string_view() : controllers.substr(comma + 1);
  }
  return false;
}

std::string relative(std::string_view path) {
  while (!path.empty() && path.front() == '/')
    path.remove_prefix(1);
  while (!path.empty() && path.back() == '/')
    path.remove_suffix(1);
  return std::string(path);
}

}  // namespace

Result<std::string> cgroupPathIn(const CgroupHierarchy& hierarchy, std::string_view proc_cgroup) {
  const auto lines = parseLines(proc_cgroup);
  if (hierarchy.version() == CgroupVersion::kV2) {
    for (const auto& line : lines)
      if (line.id == "0" && line.controllers.empty()) return relative(line.path);
    return Error("no cgroup v2 entry (0::) in /proc/<pid>/cgroup", EINVAL);
  }
  std::optional<std::string> found;
  for (const auto& controller : CgroupHierarchy::v1Controllers()) {
    std::optional<std::string> path;
    for (const auto& line : lines)
      if (listsController(line.controllers, controller)) path = relative(line.path);
    if (!path)
      return Error("no cgroup v1 entry for " + controller + " in /proc/<pid>/cgroup", EINVAL);
    if (found && *found != *path)
      return Error("the cgroup v1 controllers are in different cgroups (/" + *found + " and /" +
                       *path + " for " + controller + "): not one delegated cgroup",
                   EINVAL);
    found = std::move(path);
  }
  return *found;
}

Result<std::string> placeSandboxesUnderOwnCgroup(const CgroupHierarchy& hierarchy, pid_t pid,
                                                 std::string_view proc_cgroup,
                                                 const std::string& sandboxes) {
  auto own = cgroupPathIn(hierarchy, proc_cgroup);
  if (!own) return std::move(own).error().context("find the daemon's own cgroup");
  const std::string prefix = own->empty() ? "" : *own + "/";
  // The root cgroup is exempt from the rule, and a process in it stays.
  if (hierarchy.version() == CgroupVersion::kV2 && !own->empty()) {
    const std::string leaf = prefix + "daemon";
    WICK_TRY(cgroupfs::makeDirs(hierarchy.v2Root(), leaf), "create cgroup " + leaf);
    WICK_TRY(cgroupfs::write(hierarchy.v2Root() + "/" + leaf + "/cgroup.procs", std::to_string(pid),
                             hierarchy.createMissingFiles()),
             "move the daemon into cgroup " + leaf);
  }
  return prefix + relative(sandboxes);
}

}  // namespace wick::sandbox
