// Reading and writing cgroup interface files, shared by the v1 and v2 slices.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace wick::sandbox::cgroupfs {

// mkdir each missing component of `root/relative` (root itself must exist).
Status makeDirs(const std::string& root, const std::string& relative);
// Write one value to a cgroup file. With create_missing, a missing file is created
// (only for test hierarchies laid out in a plain directory).
Status write(const std::string& path, std::string_view value, bool create_missing = false);
Result<uint64_t> readUint(const std::string& path);
// A limit file: a number, or "max" (and v1's -1) for none, read as 0.
Result<uint64_t> readLimit(const std::string& path);
// The value of "key N" in a flat-keyed file (memory.events, cpu.stat, memory.oom_control).
Result<uint64_t> readKeyed(const std::string& path, std::string_view key);
std::vector<int> readPids(const std::string& procs_path);
// rmdir, retrying while the kernel still holds exiting tasks (EBUSY). ENOENT is success.
Status removeDir(const std::string& path);

}  // namespace wick::sandbox::cgroupfs
