// wick-agent: PID 1 of a sandbox. One epoll loop serves the Runtime API on
// 127.0.0.1:9001, the host socket, the runtime's output pipes and signals.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "agent/http_request.h"
#include "agent/protocol/agent.pb.h"
#include "agent/protocol/framing.h"
#include "common/unique_fd.h"

namespace wick::agent {

inline constexpr size_t kMaxResponseBytes = 6'291'556;

class Agent {
 public:
  explicit Agent(int host_fd);
  // Runs until the runtime has exited and the host heard it, or the host went away.
  int run();

 private:
  struct Connection {
    UniqueFd fd;
    std::string in;
    std::string out;
    HttpRequestParser parser{kMaxResponseBytes};
    bool close_after_write = false;
    bool waiting_for_event = false;  // a parked GET /next
    size_t discard_left = 0;         // body bytes of a refused request still to drop
  };
  struct OutputStream {
    UniqueFd fd;
    std::string partial;
    uint32_t number;
  };
  struct Invocation {
    Invoke invoke;
    bool delivered = false;
  };

  void watch(int fd, uint32_t events);
  void handleHost();
  void handleHostMessage(const HostMessage& message);
  void start(const Start& start);
  void acceptConnections();
  void handleConnection(int fd, uint32_t events);
  void serve(Connection& connection, HttpRequest& request);
  void refuse(Connection& connection, int status);
  void respond(Connection& connection, int status, const std::string& body,
               const std::string& extra_headers = "",
               const std::string& content_type = "application/json");
  void deliver(Connection& connection, const Invocation& invocation);
  void finishInvocation(bool function_error, std::string payload, std::string error_type,
                        std::string content_type);
  void handleOutput(OutputStream& stream);
  void emitLine(uint32_t stream, std::string_view line);
  void flushPartialLines();
  void handleSignals();
  void reap();
  void stopRuntime(uint32_t grace_ms);
  void send(const AgentMessage& message);
  void flushHost();
  void closeConnection(int fd);

  UniqueFd epoll_;
  UniqueFd host_;
  FrameReader host_reader_;
  std::string host_out_;
  bool host_gone_ = false;
  UniqueFd listener_;
  UniqueFd signal_pipe_;
  UniqueFd kill_timer_;
  std::map<int, std::unique_ptr<Connection>> connections_;
  std::optional<OutputStream> stdout_, stderr_;

  pid_t runtime_pid_ = -1;
  bool started_ = false;
  bool init_done_ = false;  // the runtime asked for its first event
  bool init_failed_ = false;
  bool runtime_exited_ = false;
  std::optional<Invocation> current_;
  std::string last_request_id_;  // answered already: a second answer is 403
  uint64_t log_budget_ = 1 << 20;
  uint64_t log_bytes_ = 0;
  bool log_truncated_ = false;
};

}  // namespace wick::agent
