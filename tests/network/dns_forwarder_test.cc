// The DNS forwarder on loopback: queries over UDP and TCP reach the upstream
// byte for byte and its answers come back; a silent upstream is passed over
// for the next; a datagram that answers another query is not taken for ours.
#include "host/network/dns_forwarder.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace wick::network {
namespace {

sockaddr_in loopback(const char* address, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  ::inet_pton(AF_INET, address, &sa.sin_addr);
  return sa;
}

uint16_t boundPort(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  return ntohs(sa.sin_port);
}

// A query: header (id, flags, one question) and a question name.
std::string query(uint8_t id_high, uint8_t id_low, const std::string& tail) {
  std::string message = {
      static_cast<char>(id_high), static_cast<char>(id_low), 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  return message + tail;
}

// An upstream resolver on 127.0.0.1 (UDP and TCP on one port) that answers a
// query with "ANSWER:" + the query; `silent` answers nothing; `stray` first
// sends a datagram with another id.
class FakeUpstream {
 public:
  explicit FakeUpstream(bool silent = false, bool stray = false) : silent_(silent), stray_(stray) {
    // A port free for both: the UDP one may be a TCP connection's (another
    // test's clients use ephemeral ports too).
    for (int attempt = 0; attempt < 100; ++attempt) {
      udp_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      auto sa = loopback("127.0.0.1", 0);
      EXPECT_EQ(::bind(udp_, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
      port_ = boundPort(udp_);
      tcp_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      int one = 1;
      ::setsockopt(tcp_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      sa = loopback("127.0.0.1", port_);
      if (::bind(tcp_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) break;
      ::close(udp_);
      ::close(tcp_);
      udp_ = tcp_ = -1;
    }
    EXPECT_GE(tcp_, 0) << "no port free for both UDP and TCP";
    ::listen(tcp_, 8);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeUpstream() {
    stop_ = true;
    thread_.join();
    ::close(udp_);
    ::close(tcp_);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd fds[2] = {{udp_, POLLIN, 0}, {tcp_, POLLIN, 0}};
      if (::poll(fds, 2, 50) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        char buffer[4096];
        sockaddr_in from{};
        socklen_t len = sizeof from;
        ssize_t n =
            ::recvfrom(udp_, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n <= 0) continue;
        record(std::string(buffer, n));
        if (silent_) continue;
        if (stray_) {
          std::string other = std::string(buffer, n);
          other[0] ^= 0x55;
          other = "STRAY" + other;
          std::string stray = other.substr(5, 2) + other;
          ::sendto(udp_, stray.data(), stray.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
        }
        std::string answer = std::string(buffer, 2) + "ANSWER:" + std::string(buffer, n);
        ::sendto(udp_, answer.data(), answer.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
      }
      if (fds[1].revents & POLLIN) {
        int client = ::accept4(tcp_, nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0) continue;
        unsigned char length[2];
        if (::recv(client, length, 2, MSG_WAITALL) == 2) {
          std::string message(static_cast<size_t>(length[0] << 8 | length[1]), '\0');
          if (::recv(client, message.data(), message.size(), MSG_WAITALL) ==
              static_cast<ssize_t>(message.size())) {
            record(message);
            std::string answer = message.substr(0, 2) + "ANSWER:" + message;
            std::string framed = {static_cast<char>(answer.size() >> 8),
                                  static_cast<char>(answer.size() & 0xff)};
            framed += answer;
            (void)!::send(client, framed.data(), framed.size(), MSG_NOSIGNAL);
          }
        }
        ::close(client);
      }
    }
  }
  void record(std::string message) {
    std::lock_guard lock(mutex_);
    seen_.push_back(std::move(message));
  }

  bool silent_, stray_;
  int udp_ = -1, tcp_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<std::string> seen_;
  std::thread thread_;
};

// A port free for UDP and for TCP (the forwarder binds both).
uint16_t freePort() {
  for (int attempt = 0; attempt < 100; ++attempt) {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    auto sa = loopback("127.0.0.1", 0);
    ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    uint16_t port = boundPort(fd);
    ::close(fd);
    int tcp = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    auto any = loopback("0.0.0.0", port);
    const bool free = ::bind(tcp, reinterpret_cast<sockaddr*>(&any), sizeof any) == 0;
    ::close(tcp);
    if (free) return port;
  }
  return 0;
}

std::string askUdp(uint16_t port, const std::string& message, int timeout_ms = 5000,
                   const char* from = nullptr) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (from != nullptr) {
    auto source = loopback(from, 0);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&source), sizeof source), 0);
  }
  auto sa = loopback("127.0.0.1", port);
  ::sendto(fd, message.data(), message.size(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  pollfd pfd{fd, POLLIN, 0};
  std::string answer;
  if (::poll(&pfd, 1, timeout_ms) == 1) {
    char buffer[4096];
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n > 0) answer.assign(buffer, n);
  }
  ::close(fd);
  return answer;
}

std::string askTcp(uint16_t port, const std::vector<std::string>& messages) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto sa = loopback("127.0.0.1", port);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  std::string answers;
  for (const auto& message : messages) {
    std::string framed = {static_cast<char>(message.size() >> 8),
                          static_cast<char>(message.size() & 0xff)};
    framed += message;
    (void)!::send(fd, framed.data(), framed.size(), MSG_NOSIGNAL);
    unsigned char length[2];
    if (::recv(fd, length, 2, MSG_WAITALL) != 2) break;
    std::string answer(static_cast<size_t>(length[0] << 8 | length[1]), '\0');
    if (::recv(fd, answer.data(), answer.size(), MSG_WAITALL) !=
        static_cast<ssize_t>(answer.size()))
      break;
    answers += answer + "|";
  }
  ::close(fd);
  return answers;
}

TEST(DnsForwarder, RelaysUdpAndTcpQueriesByteForByte) {
  FakeUpstream upstream;
  const uint16_t port = freePort();
  auto forwarder = DnsForwarder::start(
      {.listen_address = "127.0.0.1", .port = port, .upstreams = {upstream.address()}});
  ASSERT_TRUE(forwarder.ok()) << forwarder.error().message();
  const std::string first = query(0x12, 0x34,
                                  "\x07"
                                  "example\x03"
                                  "com\x00\x00\x01\x00\x01");
  EXPECT_EQ(askUdp(port, first), first.substr(0, 2) + "ANSWER:" + first);
  const std::string second = query(0x56, 0x78, "tcp-one");
  const std::string third = query(0x9a, 0xbc, "tcp-two");
  EXPECT_EQ(askTcp(port, {second, third}), second.substr(0, 2) + "ANSWER:" + second + "|" +
                                               third.substr(0, 2) + "ANSWER:" + third + "|");
  EXPECT_EQ(upstream.seen(), (std::vector<std::string>{first, second, third}));
  auto stats = (*forwarder)->stats();
  EXPECT_EQ(stats.udp_queries, 1u);
  EXPECT_EQ(stats.tcp_queries, 2u);
  EXPECT_EQ(stats.answered, 3u);
  EXPECT_EQ(stats.dropped, 0u);
}

TEST(DnsForwarder, ASilentUpstreamIsPassedOverForTheNext) {
  FakeUpstream silent(true), answering;
  const uint16_t port = freePort();
  auto forwarder = DnsForwarder::start({.listen_address = "127.0.0.1",
                                        .port = port,
                                        .upstreams = {silent.address(), answering.address()}});
  ASSERT_TRUE(forwarder.ok()) << forwarder.error().message();
  const std::string message = query(0x01, 0x02, "failover");
  EXPECT_EQ(askUdp(port, message), message.substr(0, 2) + "ANSWER:" + message);
  EXPECT_EQ(silent.seen().size(), 1u);
  EXPECT_EQ(answering.seen().size(), 1u);
}

TEST(DnsForwarder, AnAnswerToAnotherQueryIsNotTakenForOurs) {
  FakeUpstream stray(false, true);
  const uint16_t port = freePort();
  auto forwarder = DnsForwarder::start(
      {.listen_address = "127.0.0.1", .port = port, .upstreams = {stray.address()}});
  ASSERT_TRUE(forwarder.ok()) << forwarder.error().message();
  const std::string message = query(0x0a, 0x0b, "mine");
  EXPECT_EQ(askUdp(port, message), message.substr(0, 2) + "ANSWER:" + message);
}

// A client that asks and never reads its answers (over TCP): once the answers
// fill the socket buffers, the forwarder's write waits. It must give up after
// the idle time, not hold the connection (one of its 128) for as long as the
// client likes: a sandbox could otherwise take every TCP slot for good.
TEST(DnsForwarder, AClientThatNeverReadsIsLetGoAfterTheIdleTime) {
  FakeUpstream upstream;
  const uint16_t port = freePort();
  auto forwarder = DnsForwarder::start({.listen_address = "127.0.0.1",
                                        .port = port,
                                        .upstreams = {upstream.address()},
                                        .tcp_idle = std::chrono::milliseconds(1000)});
  ASSERT_TRUE(forwarder.ok()) << forwarder.error().message();
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int small = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  auto sa = loopback("127.0.0.1", port);
  ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  pollfd connected{fd, POLLOUT, 0};
  ASSERT_EQ(::poll(&connected, 1, 5000), 1);
  // Big queries (the fake upstream's answers are as big) until the forwarder
  // stops taking them: it is stuck writing an answer nobody reads.
  const std::string message = query(0x42, 0x42, std::string(60000, 'q'));
  std::string framed = {static_cast<char>(message.size() >> 8),
                        static_cast<char>(message.size() & 0xff)};
  framed += message;
  size_t sent = 0;
  for (;;) {
    pollfd writable{fd, POLLOUT, 0};
    if (::poll(&writable, 1, 500) != 1) break;
    ssize_t n = ::send(fd, framed.data() + sent % framed.size(),
                       framed.size() - sent % framed.size(), MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  const size_t answer_size = 2 + 2 + 7 + message.size();
  const size_t owed = sent / framed.size() * answer_size;
  std::this_thread::sleep_for(std::chrono::seconds(3));
  // Whatever the forwarder wrote before it gave up, then the end: not every answer.
  size_t received = 0;
  bool ended = false;
  for (;;) {
    pollfd readable{fd, POLLIN, 0};
    if (::poll(&readable, 1, 3000) != 1) break;
    char buffer[65536];
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
      ended = true;
      break;
    }
    received += static_cast<size_t>(n);
  }
  ::close(fd);
  EXPECT_TRUE(ended);
  EXPECT_GT(owed, 0u);
  EXPECT_LT(received, owed) << "every answer was written: the stalled write waited for the client";
}

// One client address (one sandbox) cannot hold every TCP connection the
// forwarder serves: another sandbox's query is still answered.
TEST(DnsForwarder, OneClientCannotTakeEveryTcpConnection) {
  FakeUpstream upstream;
  const uint16_t port = freePort();
  auto forwarder = DnsForwarder::start(
      {.listen_address = "0.0.0.0", .port = port, .upstreams = {upstream.address()}});
  ASSERT_TRUE(forwarder.ok()) << forwarder.error().message();
  std::vector<int> held;
  for (int i = 0; i < 200; ++i) {  // connected, then silent (until the idle time)
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    auto sa = loopback("127.0.0.1", port);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    held.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // all accepted
  // Another sandbox: from 127.0.0.2.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto from = loopback("127.0.0.2", 0);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from), 0);
  auto sa = loopback("127.0.0.1", port);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  const std::string message = query(0x33, 0x44, "other-sandbox");
  std::string framed = {0, static_cast<char>(message.size())};
  framed += message;
  ASSERT_EQ(::send(fd, framed.data(), framed.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(framed.size()));
  pollfd readable{fd, POLLIN, 0};
  std::string answer(2 + 2 + 7 + message.size(), '\0');
  ssize_t n = -1;
  if (::poll(&readable, 1, 5000) == 1) n = ::recv(fd, answer.data(), answer.size(), MSG_WAITALL);
  ::close(fd);
  for (int held_fd : held)
    ::close(held_fd);
  EXPECT_EQ(n, static_cast<ssize_t>(answer.size())) << "closed: every connection was taken";
  EXPECT_EQ(answer.substr(2), message.substr(0, 2) + "ANSWER:" + message);
}

// Likewise over UDP: one client address's queries waiting on a slow upstream
// do not fill every place in flight.
TEST(DnsForwarder, OneClientCannotTakeEveryUdpPlaceInFlight) {
  FakeUpstream silent(true), answering;
  const uint16_t port = freePort();
  auto forwarder = DnsForwarder::start({.listen_address = "0.0.0.0",
                                        .port = port,
                                        .upstreams = {silent.address(), answering.address()},
                                        .max_in_flight = 16});
  ASSERT_TRUE(forwarder.ok()) << forwarder.error().message();
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  auto sa = loopback("127.0.0.1", port);
  for (int i = 0; i < 32; ++i) {  // each waits 2 s on the silent upstream
    const std::string flood = query(0x70, static_cast<uint8_t>(i), "flood");
    ::sendto(fd, flood.data(), flood.size(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const std::string message = query(0x71, 0x01, "other-sandbox");
  EXPECT_EQ(askUdp(port, message, 6000, "127.0.0.2"), message.substr(0, 2) + "ANSWER:" + message);
  ::close(fd);
}

TEST(DnsForwarder, RefusesWhatItCannotServe) {
  EXPECT_FALSE(
      DnsForwarder::start({.listen_address = "127.0.0.1", .port = freePort(), .upstreams = {}})
          .ok());
  auto bad = DnsForwarder::start(
      {.listen_address = "not-an-address", .port = freePort(), .upstreams = {"127.0.0.1"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("not-an-address"), std::string::npos);
  EXPECT_FALSE(
      DnsForwarder::start(
          {.listen_address = "127.0.0.1", .port = freePort(), .upstreams = {"127.0.0.1:99999"}})
          .ok());
}

}  // namespace
}  // namespace wick::network
