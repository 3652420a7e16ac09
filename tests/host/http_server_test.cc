// wick::http::Server on a real loopback socket: what a client that sends its
// request's head or body slowly, or nothing at all, gets.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "host/http/server.h"

namespace wick::http {
namespace {

namespace asio = boost::asio;

class SlowClients : public ::testing::Test {
 protected:
  SlowClients()
      : server_(
            io_,
            [](Request) -> asio::awaitable<Response> {
              Response response{beast_http::status::ok, 11};
              response.body() = "served";
              co_return response;
            },
            options()) {
    EXPECT_TRUE(server_.listen("127.0.0.1:0"));
    thread_ = std::thread([this] { io_.run(); });
  }
  static ServerOptions options() {
    ServerOptions options;
    options.header_timeout = std::chrono::milliseconds(300);
    options.body_timeout = std::chrono::milliseconds(600);
    return options;
  }
  ~SlowClients() override {
    asio::post(io_, [this] { server_.stopAccepting(); });
    io_.stop();
    thread_.join();
  }

  // A connected socket with a receive timeout of `seconds`.
  int connectClient(int seconds = 10) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(server_.port());
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    timeval timeout{seconds, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    return fd;
  }
  static void send(int fd, std::string_view text) {
    ASSERT_EQ(::send(fd, text.data(), text.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(text.size()));
  }
  // Everything until the server closes (or the receive timeout: then "TIMEOUT").
  static std::string readToClose(int fd) {
    std::string got;
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n == 0) return got;
      if (n < 0) return got + "TIMEOUT";
      got.append(buffer, static_cast<size_t>(n));
    }
  }

  asio::io_context io_;
  Server server_;
  std::thread thread_;
};

TEST_F(SlowClients, AHeadThatNeverEndsIsAnswered408AndClosed) {
  const int fd = connectClient();
  const auto started = std::chrono::steady_clock::now();
  send(fd, "GET /slow HTTP/1.1\r\nHost: a\r\nX-Slow: ");  // slowloris: never the blank line
  const std::string got = readToClose(fd);
  EXPECT_TRUE(got.starts_with("HTTP/1.1 408 ")) << got;
  EXPECT_NE(got.find("RequestTimeoutException"), std::string::npos) << got;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(8));
  ::close(fd);
}

TEST_F(SlowClients, AConnectionThatSendsNothingIsClosedQuietly) {
  const int fd = connectClient();
  EXPECT_EQ(readToClose(fd), "");
  ::close(fd);
}

TEST_F(SlowClients, AnIdleKeepAliveConnectionIsClosedAfterItsRequest) {
  const int fd = connectClient();
  send(fd, "GET /first HTTP/1.1\r\nHost: a\r\n\r\n");
  const std::string got = readToClose(fd);
  EXPECT_TRUE(got.starts_with("HTTP/1.1 200 ")) << got;
  EXPECT_TRUE(got.ends_with("served")) << got;  // then closed: no 408 for an idle one
  ::close(fd);
}

TEST_F(SlowClients, ABodyShorterThanItsLengthIsAnswered408AndClosed) {
  const int fd = connectClient();
  const auto started = std::chrono::steady_clock::now();
  send(fd, "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\npart of it");
  const std::string got = readToClose(fd);
  EXPECT_TRUE(got.starts_with("HTTP/1.1 408 ")) << got;
  EXPECT_NE(got.find("The request's body did not arrive within 600 ms"), std::string::npos) << got;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(8));
  ::close(fd);
}

TEST_F(SlowClients, ARequestWithinTheTimeIsServedAsBefore) {
  const int fd = connectClient();
  send(fd, "GET /a HTTP/1.1\r\nHost: a\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  send(fd, "\r\n");
  char buffer[4096];
  const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
  ASSERT_GT(n, 0);
  EXPECT_TRUE(std::string(buffer, static_cast<size_t>(n)).starts_with("HTTP/1.1 200 "));
  ::close(fd);
}

}  // namespace
}  // namespace wick::http
