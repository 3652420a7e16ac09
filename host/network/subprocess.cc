#include "host/network/subprocess.h"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/unique_fd.h"

namespace wick::network {

namespace {

Result<UniqueFd> memoryFile(const char* name, std::string_view content) {
  UniqueFd fd(::memfd_create(name, MFD_CLOEXEC));
  if (!fd) return Error::fromErrno(std::string("memfd_create ") + name);
  WICK_TRY(writeAll(fd.get(), content), std::string("write ") + name);
  if (::lseek(fd.get(), 0, SEEK_SET) != 0) return Error::fromErrno(std::string("seek ") + name);
  return fd;
}

std::string readWhole(int fd) {
  std::string content;
  ::lseek(fd, 0, SEEK_SET);
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0)
    content.append(buffer, static_cast<size_t>(n));
  return content;
}

// Waits for the child within the timeout (pidfd), killing it after.
Result<int> waitWithTimeout(pid_t pid, std::chrono::milliseconds timeout) {
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (pidfd) {
    pollfd ready{pidfd.get(), POLLIN, 0};
    int rc;
    do {
      rc = ::poll(&ready, 1, static_cast<int>(timeout.count()));
    } while (rc < 0 && errno == EINTR);
    if (rc == 0) ::kill(pid, SIGKILL);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return Error::fromErrno("waitpid");
  if (WIFSIGNALED(status))
    return Error(WTERMSIG(status) == SIGKILL ? "killed (timed out?)" : "killed by a signal",
                 ETIMEDOUT);
  return WEXITSTATUS(status);
}

}  // namespace

Result<ProgramOutput> runProgram(const ProgramRun& run) {
  const std::string what = "run " + run.argv.at(0);
  auto in = memoryFile("stdin", run.stdin_text);
  auto out = memoryFile("stdout", "");
  auto err = memoryFile("stderr", "");
  if (!in) return std::move(in).error().context(what);
  if (!out) return std::move(out).error().context(what);
  if (!err) return std::move(err).error().context(what);
  std::vector<std::string> args = run.argv;
  std::vector<std::string> env = run.env;
  std::vector<char*> argv;
  std::vector<char*> envp;
  for (auto& arg : args)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  for (auto& entry : env)
    envp.push_back(entry.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in->get(), 0);
  posix_spawn_file_actions_adddup2(&actions, out->get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err->get(), 2);
  // Nothing else of ours: asio's sockets are not close-on-exec, and a helper
  // that outlived a crashed wickd would hold its listening port.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Error::fromErrno(what, rc);
  auto exit_code = waitWithTimeout(pid, run.timeout);
  if (!exit_code) return std::move(exit_code).error().context(what);
  return ProgramOutput{*exit_code, readWhole(out->get()), readWhole(err->get())};
}

}  // namespace wick::network
