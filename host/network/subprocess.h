// Runs a helper program (a CNI plugin, nft, conntrack) to completion: stdin
// from a buffer, stdout and stderr captured. Both go through memfds, so no
// pipe can fill up and deadlock whatever the program writes, in any order.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/error.h"

namespace wick::network {

struct ProgramRun {
  std::vector<std::string> argv = {};  // argv[0] is the path
  std::vector<std::string> env = {};
  std::string stdin_text = {};
  std::chrono::milliseconds timeout{30'000};  // then SIGKILL
};

struct ProgramOutput {
  int exit_code = 0;
  std::string stdout_text;
  std::string stderr_text;
};

// An error only when the program could not be run or was killed; a non-zero
// exit is the caller's to judge.
Result<ProgramOutput> runProgram(const ProgramRun& run);

}  // namespace wick::network
