#include "host/network/cni_plugin_exec.h"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

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

std::string join(const std::vector<std::string>& parts, char separator) {
  std::string out;
  for (const auto& part : parts)
    out += (out.empty() ? "" : std::string(1, separator)) + part;
  return out;
}

// The spec's error object, else the raw text.
std::string pluginMessage(const std::string& stdout_text, const std::string& stderr_text) {
  auto error = nlohmann::json::parse(stdout_text, nullptr, false);
  if (error.is_object() && error.contains("msg")) {
    std::string message = error.value("msg", "");
    if (error.contains("details") && error["details"].is_string())
      message += " (" + error["details"].get<std::string>() + ")";
    if (error.contains("code")) message += " [CNI error " + error["code"].dump() + "]";
    return message;
  }
  std::string text = stderr_text.empty() ? stdout_text : stderr_text;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  return text.empty() ? "no output" : text.substr(0, 1000);
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

Result<std::string> findCniPlugin(const std::string& type, const std::vector<std::string>& dirs) {
  for (const auto& dir : dirs) {
    std::string path = dir + "/" + type;
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return Error("CNI plugin '" + type + "' not found in " + join(dirs, ':'), ENOENT);
}

Result<std::string> runCniPlugin(const PluginCall& call) {
  const std::string what = "CNI " + call.command + " " + call.type + " for " + call.container_id;
  auto binary = findCniPlugin(call.type, call.plugin_dirs);
  if (!binary) return std::move(binary).error().context(what);
  auto in = memoryFile("cni-stdin", call.stdin_config);
  auto out = memoryFile("cni-stdout", "");
  auto err = memoryFile("cni-stderr", "");
  if (!in) return std::move(in).error().context(what);
  if (!out) return std::move(out).error().context(what);
  if (!err) return std::move(err).error().context(what);

  std::vector<std::string> env = {
      "CNI_COMMAND=" + call.command, "CNI_CONTAINERID=" + call.container_id,
      "CNI_NETNS=" + call.netns_path, "CNI_IFNAME=" + call.ifname,
      "CNI_PATH=" + join(call.plugin_dirs, ':'),
      // Plugins run iptables, ip and the like from PATH.
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  std::vector<char*> envp;
  for (auto& entry : env)
    envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::string program = *binary;
  char* argv[] = {program.data(), nullptr};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in->get(), 0);
  posix_spawn_file_actions_adddup2(&actions, out->get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err->get(), 2);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Error::fromErrno(what + ": spawn " + program, rc);

  auto exit_code = waitWithTimeout(pid, call.timeout);
  if (!exit_code) return std::move(exit_code).error().context(what);
  std::string stdout_text = readWhole(out->get());
  if (*exit_code != 0)
    return Error(what + ": exit " + std::to_string(*exit_code) + ": " +
                     pluginMessage(stdout_text, readWhole(err->get())),
                 EIO);
  return stdout_text;
}

}  // namespace wick::network
