#include "host/network/conntrack.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

namespace wick::network {

namespace {

Status runConntrack(const char* direction, const std::string& address) {
  std::string program = "/usr/sbin/conntrack";
  std::vector<std::string> args = {program, "-D", direction, address};
  std::vector<char*> argv;
  for (auto& arg : args)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  char* envp[] = {nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Error::fromErrno("spawn " + program, rc);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return Error::fromErrno("wait for conntrack");
  // conntrack exits 1 when no entry matched: not an error here.
  if (!WIFEXITED(status) || WEXITSTATUS(status) > 1)
    return Error("conntrack -D " + std::string(direction) + " " + address + " failed", EIO);
  return {};
}

}  // namespace

Status flushConntrack(const std::string& address) {
  WICK_TRY(runConntrack("-s", address), "flush conntrack of " + address);
  WICK_TRY(runConntrack("-d", address), "flush conntrack of " + address);
  return {};
}

}  // namespace wick::network
