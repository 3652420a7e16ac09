// The agent's round trip: host Invoke -> runtime gets `next` -> posts the
// response -> host receives Result, with the static C test runtime, against a
// bare socketpair ping-pong between two processes measured in the same run.
// Usage: bench_agent WICK_AGENT TEST_RUNTIME [RUNS]
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "agent/protocol/agent.pb.h"
#include "agent/protocol/framing.h"
#include "common/unique_fd.h"

using Clock = std::chrono::steady_clock;

namespace {

void summarize(const char* name, std::vector<double> us) {
  std::sort(us.begin(), us.end());
  auto at = [&](double q) { return us[static_cast<size_t>(q * (us.size() - 1))]; };
  std::printf("%-42s n=%-6zu median %7.1f us  p90 %7.1f  p99 %7.1f\n", name, us.size(), at(0.5),
              at(0.9), at(0.99));
}

bool readFrame(int fd, wick::agent::FrameReader& reader, std::string& frame) {
  for (;;) {
    if (auto next = reader.next()) {
      frame = std::move(*next);
      return true;
    }
    char buffer[65536];
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) return false;
    reader.feed(std::string_view(buffer, static_cast<size_t>(n)));
  }
}

// The next non-log message from the agent.
wick::agent::AgentMessage nextMessage(int fd, wick::agent::FrameReader& reader) {
  for (;;) {
    std::string frame;
    if (!readFrame(fd, reader, frame)) {
      std::fprintf(stderr, "agent went away\n");
      std::exit(1);
    }
    wick::agent::AgentMessage message;
    message.ParseFromString(frame);
    if (!message.has_log()) return message;
  }
}

long rssKb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  long value = 0;
  while (status >> key)
    if (key == "VmRSS:") return (status >> value), value;
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_agent WICK_AGENT TEST_RUNTIME [RUNS]\n");
    return 2;
  }
  const int runs = argc > 3 ? std::atoi(argv[3]) : 10000;
  const std::string payload = "{\"echo\":\"" + std::string(1024 - 12, 'x') + "\"}";

  // Baseline: 1 KB each way over a socketpair between two processes.
  std::vector<double> baseline;
  {
    int fds[2];
    ::socketpair(AF_UNIX, SOCK_STREAM, 0, fds);
    pid_t echo = ::fork();
    if (echo == 0) {
      ::close(fds[0]);
      char buffer[4096];
      for (;;) {
        size_t got = 0;
        while (got < payload.size()) {
          ssize_t n = ::read(fds[1], buffer + got, payload.size() - got);
          if (n <= 0) ::_exit(0);
          got += static_cast<size_t>(n);
        }
        (void)!::write(fds[1], buffer, got);
      }
    }
    ::close(fds[1]);
    char buffer[4096];
    for (int i = 0; i < runs; ++i) {
      auto start = Clock::now();
      (void)!::write(fds[0], payload.data(), payload.size());
      size_t got = 0;
      while (got < payload.size())
        got += static_cast<size_t>(::read(fds[0], buffer + got, payload.size() - got));
      baseline.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    }
    ::close(fds[0]);
    ::waitpid(echo, nullptr, 0);
  }

  // The agent with the C runtime.
  int fds[2];
  ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 3);
  char* agent_argv[] = {const_cast<char*>("wick-agent"), nullptr};
  char* envp[] = {nullptr};
  pid_t agent;
  if (posix_spawn(&agent, argv[1], &actions, nullptr, agent_argv, envp) != 0) return 1;
  ::close(fds[1]);
  wick::UniqueFd host(fds[0]);
  wick::agent::FrameReader reader;
  auto send = [&](const wick::agent::HostMessage& message) {
    std::string frame;
    wick::agent::appendFrame(frame, message.SerializeAsString());
    (void)wick::writeAll(host.get(), frame);
  };
  wick::agent::HostMessage start;
  start.mutable_start()->add_argv(argv[2]);
  start.mutable_start()->set_cwd("/");
  start.mutable_start()->set_listen_address("127.0.0.1:0");
  send(start);
  if (auto ready = nextMessage(host.get(), reader); !ready.has_ready()) {
    std::fprintf(stderr, "the runtime did not start: %s\n", ready.init_error().payload().c_str());
    return 1;
  }
  long idle_rss = rssKb(agent);

  std::vector<double> round_trips;
  for (int i = 0; i < runs + 100; ++i) {
    wick::agent::HostMessage invoke;
    invoke.mutable_invoke()->set_request_id("r" + std::to_string(i));
    invoke.mutable_invoke()->set_payload(payload);
    invoke.mutable_invoke()->set_deadline_ms(1);
    auto begin = Clock::now();
    send(invoke);
    auto result = nextMessage(host.get(), reader);
    if (!result.has_result() || result.result().payload() != payload) {
      std::fprintf(stderr, "bad result at %d\n", i);
      return 1;
    }
    if (i >= 100)
      round_trips.push_back(
          std::chrono::duration<double, std::micro>(Clock::now() - begin).count());
  }
  long busy_rss = rssKb(agent);
  host.reset();
  ::waitpid(agent, nullptr, 0);

  std::printf("1 KB each way, %d runs after 100 warm-up\n", runs);
  summarize("baseline: socketpair ping-pong (2 procs)", baseline);
  summarize("agent: Invoke -> next -> response -> Result", round_trips);
  std::printf("agent RSS: %ld KB idle after init, %ld KB after the runs\n", idle_rss, busy_rss);
  return 0;
}
