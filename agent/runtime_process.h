// Starting the function's runtime as a child of the agent.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/unique_fd.h"

namespace wick::agent {

struct RuntimeProcess {
  pid_t pid = -1;
  UniqueFd stdout_pipe;  // read ends
  UniqueFd stderr_pipe;
};

struct SpawnFailure {
  std::string error_type;  // Runtime.InvalidEntrypoint / Runtime.InvalidWorkingDir
  std::string message;
};

// For custom runtimes (empty argv): /var/task/bootstrap, else /opt/bootstrap.
// Returns the path or "" when neither is an executable file.
std::string findBootstrap();

// Forks and execs argv in cwd with exactly env. stdout and stderr go to pipes;
// stdin is /dev/null; no other fd of the agent is inherited. On failure to
// exec, `failure` says why in Lambda's words and pid is -1.
RuntimeProcess spawnRuntime(const std::vector<std::string>& argv, const std::string& cwd,
                            const std::vector<std::string>& env, SpawnFailure& failure);

}  // namespace wick::agent
