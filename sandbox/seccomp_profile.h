// The default seccomp profile, compiled once with libseccomp into raw BPF.
// The child loads the program with prctl(PR_SET_SECCOMP) itself: libseccomp's
// seccomp_load allocates, which a child cloned from a threaded daemon must not.
#pragma once

#include <cstdint>
#include <vector>

#include "common/error.h"

namespace wick::sandbox {

// Default ALLOW with an explicit deny list answered with EPERM (clone3: ENOSYS,
// so libc falls back to clone, whose flags can be filtered). Syscalls of a
// foreign ABI (i386, x32) kill the process.
Result<std::vector<uint8_t>> compileDefaultSeccompProfile();

}  // namespace wick::sandbox
