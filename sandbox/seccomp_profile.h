// Seccomp profiles as data (sandbox/seccomp/profile.proto, protobuf text),
// compiled once with libseccomp into raw BPF. The child loads the program with
// prctl(PR_SET_SECCOMP) itself: libseccomp's seccomp_load allocates, which a
// child cloned from a threaded daemon must not.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace wick::sandbox {

// The default profile (sandbox/seccomp/default.textproto, embedded at build
// time): default-deny, an allow list after Docker's default profile.
std::string_view defaultSeccompProfileText();

// Parses and compiles a profile; `origin` names it in errors (a path). Syscalls
// of a foreign ABI (i386, x32) always kill the process.
Result<std::vector<uint8_t>> compileSeccompProfile(std::string_view text,
                                                   const std::string& origin);

// Reads the profile at `path` (empty: the embedded default) and compiles it.
Result<std::vector<uint8_t>> loadSeccompProfile(const std::string& path);

}  // namespace wick::sandbox
