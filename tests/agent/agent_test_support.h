// A fake host for the real wick-agent binary: it starts the agent on a
// socketpair, speaks the protocol, and plays the runtime over real HTTP.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/protocol/agent.pb.h"
#include "agent/protocol/framing.h"
#include "common/unique_fd.h"

namespace wick::agent::testing {

class FakeHost {
 public:
  FakeHost() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    host_.reset(fds[0]);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 3);
    char* argv[] = {const_cast<char*>("wick-agent"), nullptr};
    char* envp[] = {nullptr};
    EXPECT_EQ(posix_spawn(&pid_, WICK_AGENT_PATH, &actions, nullptr, argv, envp), 0);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    char pattern[] = "/tmp/wick-agent-test-XXXXXX";
    dir_ = ::mkdtemp(pattern);
  }
  ~FakeHost() {
    host_.reset();
    if (pid_ > 0) {
      // The agent leaves when the host goes; give it a moment, then insist.
      for (int i = 0; i < 200 && ::waitpid(pid_, nullptr, WNOHANG) == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (::kill(pid_, 0) == 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
      }
    }
    std::filesystem::remove_all(dir_);
  }

  pid_t pid() const { return pid_; }
  const std::string& dir() const { return dir_; }

  void send(const HostMessage& message) {
    std::string frame;
    appendFrame(frame, message.SerializeAsString());
    ASSERT_EQ(writeAll(host_.get(), frame).ok(), true);
  }

  // Starts `script` under /bin/sh as the runtime; it finds the Runtime API in
  // $AWS_LAMBDA_RUNTIME_API, which the agent binds on a free port.
  void startShellRuntime(const std::string& script, std::vector<std::string> extra_env = {}) {
    HostMessage message;
    Start* start = message.mutable_start();
    start->add_argv("/bin/sh");
    start->add_argv("-c");
    start->add_argv(script);
    start->set_cwd(dir_);
    start->add_env("PATH=/usr/bin:/bin");
    start->add_env("ADDRESS_FILE=" + dir_ + "/address");
    for (auto& entry : extra_env)
      start->add_env(entry);
    start->set_listen_address("127.0.0.1:0");
    send(message);
  }

  // A runtime that only tells us where the API is; the test plays the runtime.
  void startIdleRuntime() {
    startShellRuntime("echo $AWS_LAMBDA_RUNTIME_API > $ADDRESS_FILE; exec sleep 60");
  }

  int apiPort() {
    const std::string file = dir_ + "/address";
    for (int i = 0; i < 500; ++i) {
      std::ifstream in(file);
      std::string address;
      if (in >> address && address.find(':') != std::string::npos)
        return std::atoi(address.substr(address.find(':') + 1).c_str());
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "the runtime never reported the Runtime API address";
    return 0;
  }

  // The next non-log message (logs are collected), within a timeout.
  std::optional<AgentMessage> next(int timeout_ms = 5000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      while (auto frame = reader_.next()) {
        AgentMessage message;
        EXPECT_TRUE(message.ParseFromString(*frame));
        if (message.has_log()) {
          logs.push_back(message.log());
          continue;
        }
        return message;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd fd{host_.get(), POLLIN, 0};
      if (::poll(&fd, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
      char buffer[65536];
      ssize_t n = ::read(host_.get(), buffer, sizeof buffer);
      if (n <= 0) return std::nullopt;
      reader_.feed(std::string_view(buffer, static_cast<size_t>(n)));
    }
  }

  void invoke(const std::string& id, const std::string& payload,
              const std::string& client_context = "", bool stream_response = false) {
    HostMessage message;
    Invoke* invoke = message.mutable_invoke();
    invoke->set_stream_response(stream_response);
    invoke->set_request_id(id);
    invoke->set_payload(payload);
    invoke->set_deadline_ms(1700000000123);
    invoke->set_invoked_function_arn("arn:aws:lambda:us-east-1:000000000000:function:f");
    invoke->set_trace_id("Root=1-5e1b4151-5ac6c58f3a9a9b0000000000;Parent=1;Sampled=0");
    invoke->set_client_context(client_context);
    send(message);
  }

  std::vector<Log> logs;

 private:
  UniqueFd host_;
  pid_t pid_ = -1;
  std::string dir_;
  FrameReader reader_;
};

struct HttpResponse {
  int status = 0;
  std::string headers;  // raw, lower-cased names
  std::string body;
  std::string header(const std::string& name) const {
    size_t at = headers.find("\r\n" + name + ":");
    if (at == std::string::npos) return "";
    size_t start = headers.find_first_not_of(' ', at + name.size() + 3);
    return headers.substr(start, headers.find("\r\n", start) - start);
  }
};

// One keep-alive HTTP/1.1 connection, as runtime clients hold.
class RuntimeClient {
 public:
  explicit RuntimeClient(int port) {
    fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  }
  void sendRaw(const std::string& bytes) { ASSERT_TRUE(writeAll(fd_.get(), bytes).ok()); }
  HttpResponse request(const std::string& method, const std::string& path,
                       const std::string& body = "", const std::string& extra_headers = "") {
    std::string head = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers;
    if (method == "POST" || method == "PUT" || !body.empty())
      head += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    sendRaw(head + "\r\n" + body);
    return read();
  }
  HttpResponse read(int timeout_ms = 5000) {
    HttpResponse response;
    for (;;) {
      size_t end = buffer_.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::string head = buffer_.substr(0, end + 2);
        response.status = std::atoi(head.substr(9, 3).c_str());
        for (size_t i = 0; i < head.size(); ++i) {
          // lower-case header names only (up to each colon)
          if (i > 0 && head[i - 1] == '\n') {
            for (size_t j = i; j < head.size() && head[j] != ':'; ++j)
              head[j] = static_cast<char>(std::tolower(head[j]));
          }
        }
        response.headers = "\r\n" + head.substr(head.find("\r\n") + 2);
        size_t length = std::strtoul(response.header("content-length").c_str(), nullptr, 10);
        while (buffer_.size() < end + 4 + length)
          fill(timeout_ms);
        response.body = buffer_.substr(end + 4, length);
        buffer_.erase(0, end + 4 + length);
        return response;
      }
      if (!fill(timeout_ms)) return response;
    }
  }
  // Whether the agent closed the connection cleanly (FIN, no reset) within
  // `timeout_ms`, with no unread bytes before it.
  bool closedByPeer(int timeout_ms = 2000) {
    if (!buffer_.empty()) return false;
    pollfd fd{fd_.get(), POLLIN, 0};
    if (::poll(&fd, 1, timeout_ms) <= 0) return false;
    char byte;
    return ::read(fd_.get(), &byte, 1) == 0;
  }
  int fd() const { return fd_.get(); }
  // Whether a response arrives within `timeout_ms` (for long polls).
  bool readable(int timeout_ms) {
    pollfd fd{fd_.get(), POLLIN, 0};
    return ::poll(&fd, 1, timeout_ms) > 0;
  }

 private:
  bool fill(int timeout_ms) {
    pollfd fd{fd_.get(), POLLIN, 0};
    if (::poll(&fd, 1, timeout_ms) <= 0) return false;
    char chunk[65536];
    ssize_t n = ::read(fd_.get(), chunk, sizeof chunk);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }
  UniqueFd fd_;
  std::string buffer_;
};

}  // namespace wick::agent::testing
