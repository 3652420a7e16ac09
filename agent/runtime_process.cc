#include "agent/runtime_process.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace wick::agent {

namespace {

bool executableFile(const char* path) {
  struct stat st {};
  return ::stat(path, &st) == 0 && S_ISREG(st.st_mode) && ::access(path, X_OK) == 0;
}

// "exec format error", as Go (and so Lambda's messages) spells errno text.
std::string goErrorText(int err) {
  std::string text = std::strerror(err);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

std::string searchPath(const std::string& program, const std::vector<std::string>& env) {
  if (program.find('/') != std::string::npos) return program;
  std::string path = "/usr/local/bin:/usr/bin:/bin";
  for (const auto& entry : env)
    if (entry.rfind("PATH=", 0) == 0) path = entry.substr(5);
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string candidate = path.substr(start, end - start) + "/" + program;
    if (executableFile(candidate.c_str())) return candidate;
    start = end + 1;
  }
  return program;
}

}  // namespace

std::string findBootstrap() {
  for (const char* candidate : {"/var/task/bootstrap", "/opt/bootstrap"})
    if (executableFile(candidate)) return candidate;
  return "";
}

std::vector<std::string> listExecutables(const std::string& dir) {
  std::vector<std::string> files;
  DIR* handle = ::opendir(dir.c_str());
  if (!handle) return files;
  while (const dirent* entry = ::readdir(handle)) {
    const std::string path = dir + "/" + entry->d_name;
    if (entry->d_name[0] != '.' && executableFile(path.c_str())) files.push_back(path);
  }
  ::closedir(handle);
  std::sort(files.begin(), files.end());
  return files;
}

pid_t spawnProcess(const std::vector<std::string>& argv, const std::string& cwd,
                   const std::vector<std::string>& env, int out_fd, int err_fd,
                   SpawnFailure& failure) {
  int status[2];
  if (argv.empty()) {
    failure = {"Runtime.InvalidEntrypoint", "Error: no command to run"};
    return -1;
  }
  if (::pipe2(status, O_CLOEXEC) != 0) {
    failure = {"Runtime.Unknown", std::string("pipe: ") + std::strerror(errno)};
    return -1;
  }
  const std::string program = searchPath(argv[0], env);
  std::vector<char*> args, envp;
  for (const auto& arg : argv)
    args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  for (const auto& entry : env)
    envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid == 0) {
    // The child starts with default signal handling and an empty mask.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig)
      ::sigaction(sig, &dfl, nullptr);
    ::setsid();
    int null = ::open("/dev/null", O_RDONLY);
    if (null < 0) null = ::open("/", O_RDONLY | O_DIRECTORY);  // a root without /dev: EBADF reads
    ::dup2(null, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    // Only 0, 1, 2 and the status pipe (close-on-exec) survive until exec.
    if (status[1] > 3) ::close_range(3, static_cast<unsigned>(status[1]) - 1, 0);
    ::close_range(static_cast<unsigned>(status[1]) + 1, ~0U, 0);
    int stage = 0;
    if (::chdir(cwd.c_str()) != 0) {
      stage = 1;
    } else {
      ::execve(program.c_str(), args.data(), envp.data());
      stage = 2;
    }
    int report[2] = {stage, errno};
    (void)!::write(status[1], report, sizeof report);
    ::_exit(127);
  }
  ::close(status[1]);
  UniqueFd status_read(status[0]);
  if (pid < 0) {
    failure = {"Runtime.Unknown", std::string("fork: ") + std::strerror(errno)};
    return -1;
  }
  int report[2] = {0, 0};
  ssize_t n;
  do {
    n = ::read(status_read.get(), report, sizeof report);
  } while (n < 0 && errno == EINTR);
  if (n == sizeof report) {
    // The child exits 127; the agent's SIGCHLD handling reaps it.
    if (report[0] == 1)
      failure = {"Runtime.InvalidWorkingDir",
                 "Error: chdir " + cwd + ": " + goErrorText(report[1])};
    else
      failure = {"Runtime.InvalidEntrypoint",
                 "Error: fork/exec " + program + ": " + goErrorText(report[1])};
    return -1;
  }
  return pid;
}

}  // namespace wick::agent
