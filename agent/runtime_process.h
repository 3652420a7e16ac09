// Starting the function's runtime and its extensions as children of the agent.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/unique_fd.h"

namespace wick::agent {

struct SpawnFailure {
  std::string error_type;  // Runtime.InvalidEntrypoint / Runtime.InvalidWorkingDir
  std::string message;
};

// For custom runtimes (empty argv): /var/task/bootstrap, else /opt/bootstrap.
// Returns the path or "" when neither is an executable file.
std::string findBootstrap();

// Executable regular files of `dir`, sorted by name (the external extensions
// of /opt/extensions). A missing directory has none.
std::vector<std::string> listExecutables(const std::string& dir);

// Forks and execs argv in cwd with exactly env, as the leader of a new session
// (so the agent can signal the process and everything it started). stdout and
// stderr are `out_fd` and `err_fd`; stdin is /dev/null; no other fd of the
// agent is inherited. Returns the pid, or -1 with `failure` saying why in
// Lambda's words.
pid_t spawnProcess(const std::vector<std::string>& argv, const std::string& cwd,
                   const std::vector<std::string>& env, int out_fd, int err_fd,
                   SpawnFailure& failure);

}  // namespace wick::agent
