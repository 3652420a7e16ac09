// CVE-2017-5226 as an attacker sees it: `wick run` started from a real
// terminal (a pty that is the caller's controlling terminal), and the command
// inside tries to type into it. Nothing it pushes may reach the terminal's
// input queue, where the caller's shell would read it as typed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <string>

namespace {

struct Terminal {
  int master = -1;
  int slave = -1;
  ~Terminal() {
    if (master >= 0) ::close(master);
    if (slave >= 0) ::close(slave);
  }
};

// Runs `wick run ... sandbox_probe tty` as the session leader of `terminal`,
// with the terminal as its controlling tty and stdio; returns what it printed.
std::string runOnTerminal(const Terminal& terminal) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setsid();
    if (::ioctl(terminal.slave, TIOCSCTTY, 0) != 0) ::_exit(120);
    for (int fd = 0; fd < 3; ++fd)
      ::dup2(terminal.slave, fd);
    ::execl(WICK_BIN, "wick", "run", "--cgroup-parent", "wick-test-cli", "--bind",
            WICK_BIN_DIR ":/probe", "--", "/probe/sandbox_probe", "tty", nullptr);
    ::_exit(121);
  }
  std::string output;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  bool exited = false;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd readable{terminal.master, POLLIN, 0};
    if (::poll(&readable, 1, 50) > 0) {
      char buffer[1024];
      ssize_t n = ::read(terminal.master, buffer, sizeof buffer);
      if (n > 0) output.append(buffer, static_cast<size_t>(n));
      continue;
    }
    if (exited) break;  // exited and drained
    exited = ::waitpid(pid, &status, WNOHANG) == pid;
  }
  if (!exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    ADD_FAILURE() << "wick run did not finish; output so far: " << output;
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << ": " << output;
  return output;
}

// Whatever is waiting in the terminal's input queue (the caller's shell would
// read it next).
std::string pendingInput(const Terminal& terminal) {
  ::fcntl(terminal.slave, F_SETFL, ::fcntl(terminal.slave, F_GETFL) | O_NONBLOCK);
  std::string input;
  char buffer[256];
  ssize_t n;
  while ((n = ::read(terminal.slave, buffer, sizeof buffer)) > 0)
    input.append(buffer, static_cast<size_t>(n));
  return input;
}

TEST(WickRunTerminal, CommandCannotTypeIntoTheCallersTerminal) {
  Terminal terminal;
  ASSERT_EQ(::openpty(&terminal.master, &terminal.slave, nullptr, nullptr, nullptr), 0);
  // Raw: an injected byte is readable at once, with no line to complete.
  termios mode{};
  ASSERT_EQ(::tcgetattr(terminal.slave, &mode), 0);
  ::cfmakeraw(&mode);
  ASSERT_EQ(::tcsetattr(terminal.slave, TCSANOW, &mode), 0);

  std::string output = runOnTerminal(terminal);
  EXPECT_EQ(pendingInput(terminal), "") << "the sandbox typed into its caller's terminal";
  // No controlling terminal inside (a new session), and TIOCSTI refused.
  EXPECT_NE(output.find("open_dev_tty: ENXIO\n"), std::string::npos) << output;
  EXPECT_NE(output.find("tiocsti_stdin: EIO\n"), std::string::npos) << output;
  EXPECT_NE(output.find("tiocsti_high_bits: EIO\n"), std::string::npos) << output;
}

}  // namespace
