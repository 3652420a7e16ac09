// `wick sandboxes`: every live sandbox (function, state init/busy/warm/frozen, age, invocations,
// memory, CPU, pids, tuning) from its cgroup; `wick sandboxes kill ID` retires
// one; `wick top` refreshes the table on a terminal until q or Ctrl-C.
#include <poll.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "host/cli/commands.h"
#include "host/cli/daemon_client.h"
#include "host/cli/sandboxes_view.h"
#include "host/cli/table.h"

namespace wick::cli {

namespace {

using nlohmann::json;

constexpr const char* kSandboxes = "/wick/v1/sandboxes";

int fail(const char* verb, const std::string& message) {
  std::fprintf(stderr, "wick %s: %s\n", verb, message.c_str());
  return 1;
}

volatile sig_atomic_t interrupted = 0;
void onInterrupt(int) {
  interrupted = 1;
}

// The terminal in non-canonical mode without echo (a key is read as it is
// pressed), restored on every way out.
class RawTerminal {
 public:
  RawTerminal() {
    if (::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &saved_) == 0) {
      termios raw = saved_;
      raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
      raw.c_cc[VMIN] = 0;
      raw.c_cc[VTIME] = 0;
      active_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
  }
  ~RawTerminal() {
    if (active_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;
  bool active() const { return active_; }

 private:
  termios saved_{};
  bool active_ = false;
};

// Waits up to `interval` for q (or Ctrl-C); true if the user asked to quit.
bool waitForQuit(const RawTerminal& terminal, std::chrono::milliseconds interval) {
  const auto until = std::chrono::steady_clock::now() + interval;
  while (!interrupted) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd in{terminal.active() ? STDIN_FILENO : -1, POLLIN, 0};
    if (::poll(&in, 1, static_cast<int>(left.count())) > 0 && (in.revents & POLLIN)) {
      char key = 0;
      if (::read(STDIN_FILENO, &key, 1) == 1 && (key == 'q' || key == 'Q')) return true;
    }
  }
  return true;
}

int list(const std::string& endpoint) {
  auto reply = jsonReply(httpGet(endpoint, kSandboxes));
  if (!reply) return fail("sandboxes", reply.error().message());
  printTable(sandboxRows((*reply)["Sandboxes"]));
  return 0;
}

int kill(const std::string& endpoint, const std::string& id) {
  auto reply = jsonReply(httpDelete(endpoint, std::string(kSandboxes) + "/" + encodeSegment(id)));
  if (!reply) return fail("sandboxes kill", reply.error().message());
  std::printf("retired %s (%s)\n", id.c_str(), (*reply)["State"].get<std::string>().c_str());
  return 0;
}

int top(const std::string& endpoint, double interval_s, int iterations) {
  struct sigaction action {};
  action.sa_handler = onInterrupt;
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  RawTerminal terminal;
  const bool screen = ::isatty(STDOUT_FILENO);
  CpuSamples previous;
  auto previous_time = std::chrono::steady_clock::now();
  bool first = true;
  for (int round = 0; iterations <= 0 || round < iterations; ++round) {
    auto reply = jsonReply(httpGet(endpoint, kSandboxes));
    const auto now = std::chrono::steady_clock::now();
    if (screen) std::fputs("\x1b[H\x1b[2J", stdout);  // home, clear
    const std::time_t wall = std::time(nullptr);
    char clock[16];
    std::strftime(clock, sizeof clock, "%H:%M:%S", std::localtime(&wall));
    if (!reply) {
      std::printf("wick top - %s - %s\n", clock, reply.error().message().c_str());
    } else {
      const json& sandboxes = (*reply)["Sandboxes"];
      size_t busy = 0, memory = 0;
      for (const json& sandbox : sandboxes) {
        busy += sandbox.value("State", "") == "busy" || sandbox.value("State", "") == "init";
        memory += sandbox.value("MemoryCurrentBytes", uint64_t{0});
      }
      std::printf("wick top - %s - %zu sandboxes, %zu busy, %s in use%s\n\n", clock,
                  sandboxes.size(), busy, formatSize(memory).c_str(),
                  terminal.active() ? " - q to quit" : "");
      const double elapsed = std::chrono::duration<double>(now - previous_time).count();
      printTable(sandboxRows(sandboxes, first ? nullptr : &previous, elapsed));
      previous.clear();
      for (const json& sandbox : sandboxes)
        previous[sandbox.value("Id", "")] = sandbox.value("CpuUsedNs", uint64_t{0});
    }
    std::fflush(stdout);
    previous_time = now;
    first = false;
    if (iterations > 0 && round + 1 == iterations) break;
    if (waitForQuit(terminal, std::chrono::milliseconds(static_cast<int64_t>(interval_s * 1000))))
      break;
  }
  return 0;
}

}  // namespace

std::function<int()> addSandboxesCommand(CLI::App& app) {
  auto endpoint = std::make_shared<std::string>(defaultEndpoint());
  auto id = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("sandboxes", "Live sandboxes, from their cgroups");
  cmd->add_option("--endpoint", *endpoint,
                  "wickd's URL (default $WICK_ENDPOINT or http://127.0.0.1:3001)");
  CLI::App* kill_cmd = cmd->add_subcommand(
      "kill", "Retire a sandbox: an idle one is destroyed, a busy one's invoke fails");
  kill_cmd->add_option("id", *id, "Sandbox id (the ID column)")->required();
  kill_cmd->fallthrough();  // --endpoint after the id is the parent's
  return [=] { return kill_cmd->parsed() ? kill(*endpoint, *id) : list(*endpoint); };
}

std::function<int()> addTopCommand(CLI::App& app) {
  auto endpoint = std::make_shared<std::string>(defaultEndpoint());
  auto interval = std::make_shared<double>(2.0);
  auto iterations = std::make_shared<int>(0);
  CLI::App* cmd = app.add_subcommand("top", "Live sandboxes, refreshed until q or Ctrl-C");
  cmd->add_option("--endpoint", *endpoint,
                  "wickd's URL (default $WICK_ENDPOINT or http://127.0.0.1:3001)");
  cmd->add_option("-d,--delay", *interval, "Seconds between refreshes")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("-n,--iterations", *iterations, "Stop after this many refreshes (0: never)")
      ->check(CLI::NonNegativeNumber);
  return [=] { return top(*endpoint, *interval, *iterations); };
}

}  // namespace wick::cli
