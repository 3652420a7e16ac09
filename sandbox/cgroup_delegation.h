// wickd in a cgroup delegated to it (systemd's Delegate=yes): the sandboxes go
// below the daemon's own cgroup, in the subtree systemd handed over, never
// beside what systemd manages.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "common/error.h"
#include "sandbox/cgroup.h"

namespace wick::sandbox {

// The cgroup a process is in, relative to the hierarchy's root ("" for the
// root), read from the text of /proc/<pid>/cgroup. v2: the "0::" line. v1
// (and hybrid): the path of the controllers a sandbox slice uses, which must
// all agree (they do under systemd).
Result<std::string> cgroupPathIn(const CgroupHierarchy& hierarchy, std::string_view proc_cgroup);

// Makes the cgroup that `pid` is in ready to hold sandboxes and returns the
// parent for them, <own>/<sandboxes> (relative to the hierarchy's root). On v2
// the process first moves to <own>/daemon: a cgroup that gives controllers to
// its children may hold no process itself (the "no internal processes" rule),
// and systemd expects a delegated unit to arrange its subtree so. v1 has no
// such rule; nothing moves.
Result<std::string> placeSandboxesUnderOwnCgroup(const CgroupHierarchy& hierarchy, pid_t pid,
                                                 std::string_view proc_cgroup,
                                                 const std::string& sandboxes);

}  // namespace wick::sandbox
