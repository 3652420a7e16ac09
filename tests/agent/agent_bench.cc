// The agent's round trip, measured: host Invoke frame -> the runtime's pending
// GET /next answered -> the runtime POSTs /response -> host receives Result,
// with the static C test runtime, against a baseline measured in the same run
// (a 1 KB ping-pong over a socketpair between two processes: the floor of any
// host <-> sandbox exchange). Also the agent's RSS, idle after init and after
// the run.
//   agent_bench [--invocations N] [--payload BYTES]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "agent/protocol/agent.pb.h"
#include "agent/protocol/framing.h"
#include "common/unique_fd.h"

namespace {

using Clock = std::chrono::steady_clock;
using wick::agent::AgentMessage;
using wick::agent::HostMessage;

struct Figures {
  double median_us;
  double p99_us;
  double mean_us;
};

Figures summarize(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  double sum = 0;
  for (double sample : samples)
    sum += sample;
  return {samples[samples.size() / 2], samples[samples.size() * 99 / 100],
          sum / static_cast<double>(samples.size())};
}

bool readExactly(int fd, char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::read(fd, data, size);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

Figures socketpairBaseline(int iterations, size_t payload) {
  int fds[2];
  ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds);
  pid_t child = ::fork();
  if (child == 0) {
    ::close(fds[0]);
    std::string buffer(payload, '\0');
    while (readExactly(fds[1], buffer.data(), payload))
      if (!wick::writeAll(fds[1], buffer).ok()) break;
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string message(payload, 'p');
  std::string answer(payload, '\0');
  std::vector<double> samples;
  for (int i = 0; i < iterations + 200; ++i) {
    const auto start = Clock::now();
    if (!wick::writeAll(fds[0], message).ok() || !readExactly(fds[0], answer.data(), payload))
      std::exit(1);
    if (i >= 200)
      samples.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  ::close(fds[0]);
  ::waitpid(child, nullptr, 0);
  return summarize(samples);
}

// The same over TCP on loopback (the Runtime API's transport), TCP_NODELAY.
Figures loopbackBaseline(int iterations, size_t payload) {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::listen(listener, 1);
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  pid_t child = ::fork();
  if (child == 0) {
    int fd = ::accept(listener, nullptr, nullptr);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::string buffer(payload, '\0');
    while (readExactly(fd, buffer.data(), payload))
      if (!wick::writeAll(fd, buffer).ok()) break;
    ::_exit(0);
  }
  ::close(listener);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) std::exit(1);
  std::string message(payload, 'p');
  std::string answer(payload, '\0');
  std::vector<double> samples;
  for (int i = 0; i < iterations + 200; ++i) {
    const auto start = Clock::now();
    if (!wick::writeAll(fd, message).ok() || !readExactly(fd, answer.data(), payload)) std::exit(1);
    if (i >= 200)
      samples.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  ::close(fd);
  ::waitpid(child, nullptr, 0);
  return summarize(samples);
}

class Host {
 public:
  explicit Host(int fd) : fd_(fd) {}
  void send(const HostMessage& message) {
    std::string frame;
    wick::agent::appendFrame(frame, message.SerializeAsString());
    if (!wick::writeAll(fd_, frame).ok()) std::exit(1);
  }
  // The next message that is not a log line.
  AgentMessage next() {
    for (;;) {
      while (auto frame = reader_.next()) {
        AgentMessage message;
        message.ParseFromString(*frame);
        if (!message.has_log()) return message;
      }
      char buffer[65536];
      ssize_t n = ::read(fd_, buffer, sizeof buffer);
      if (n <= 0) {
        std::fprintf(stderr, "agent went away\n");
        std::exit(1);
      }
      reader_.feed(std::string_view(buffer, static_cast<size_t>(n)));
    }
  }

 private:
  int fd_;
  wick::agent::FrameReader reader_;
};

long rssKb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = 10000;
  size_t payload = 1024;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--invocations") == 0) iterations = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--payload") == 0) payload = std::strtoul(argv[i + 1], nullptr, 10);
  }

  const Figures baseline = socketpairBaseline(iterations, payload);
  const Figures loopback = loopbackBaseline(iterations, payload);

  int fds[2];
  ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 3);
  char* agent_argv[] = {const_cast<char*>("wick-agent"), nullptr};
  char* envp[] = {nullptr};
  pid_t agent = 0;
  if (posix_spawn(&agent, WICK_AGENT_PATH, &actions, nullptr, agent_argv, envp) != 0) return 1;
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  Host host(fds[0]);

  HostMessage start;
  start.mutable_start()->add_argv(WICK_TEST_RUNTIME);
  start.mutable_start()->set_cwd("/");
  start.mutable_start()->set_listen_address("127.0.0.1:0");
  start.mutable_start()->set_extensions_dir("/nonexistent");
  const auto init_start = Clock::now();
  host.send(start);
  if (!host.next().has_ready()) return 1;
  const double init_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - init_start).count();
  ::usleep(200'000);
  const long idle_rss = rssKb(agent);

  // {"echo": "..."} of `payload` bytes: the runtime answers with the event.
  const std::string filler(payload > 12 ? payload - 12 : 0, 'x');
  const std::string event = "{\"echo\":\"" + filler + "\"}";
  std::vector<double> samples;
  for (int i = 0; i < iterations + 200; ++i) {
    HostMessage message;
    auto* invoke = message.mutable_invoke();
    invoke->set_request_id("bench-" + std::to_string(i));
    invoke->set_payload(event);
    invoke->set_deadline_ms(4102444800000);
    invoke->set_invoked_function_arn("arn:aws:lambda:us-east-1:000000000000:function:bench");
    const auto begin = Clock::now();
    host.send(message);
    AgentMessage result = host.next();
    const auto end = Clock::now();
    if (!result.has_result() || result.result().payload().size() != event.size()) {
      std::fprintf(stderr, "unexpected answer at %d\n", i);
      return 1;
    }
    if (i >= 200) samples.push_back(std::chrono::duration<double, std::micro>(end - begin).count());
  }
  ::usleep(200'000);
  const long after_rss = rssKb(agent);
  // One 6 MB event echoed back: the buffers it needed must not stay.
  {
    HostMessage message;
    auto* invoke = message.mutable_invoke();
    invoke->set_request_id("bench-big");
    invoke->set_payload("{\"echo\":\"" + std::string(6 * 1024 * 1024 - 12, 'x') + "\"}");
    invoke->set_deadline_ms(4102444800000);
    invoke->set_invoked_function_arn("arn:aws:lambda:us-east-1:000000000000:function:bench");
    host.send(message);
    if (!host.next().has_result()) return 1;
  }
  ::usleep(200'000);
  const long big_rss = rssKb(agent);
  const Figures agent_figures = summarize(samples);

  ::close(fds[0]);  // the agent leaves when the host does
  ::waitpid(agent, nullptr, 0);

  std::printf("payload bytes                      %zu\n", event.size());
  std::printf("invocations                        %d (after 200 warm-up)\n", iterations);
  std::printf("baseline socketpair ping-pong  us  median %.1f  p99 %.1f  mean %.1f\n",
              baseline.median_us, baseline.p99_us, baseline.mean_us);
  std::printf("baseline TCP loopback ping-pong us  median %.1f  p99 %.1f  mean %.1f\n",
              loopback.median_us, loopback.p99_us, loopback.mean_us);
  std::printf("agent round trip               us  median %.1f  p99 %.1f  mean %.1f\n",
              agent_figures.median_us, agent_figures.p99_us, agent_figures.mean_us);
  std::printf("agent overhead over baseline   us  median %.1f\n",
              agent_figures.median_us - baseline.median_us);
  std::printf("init (Start -> Ready)          ms  %.2f\n", init_ms);
  std::printf("agent RSS idle after init      kB  %ld\n", idle_rss);
  std::printf("agent RSS after the run        kB  %ld\n", after_rss);
  std::printf("agent RSS after a 6 MB event   kB  %ld\n", big_rss);
  return 0;
}
