// wick-agent: PID 1 of a sandbox. One epoll loop serves the Runtime API (and
// the Extensions API) on 127.0.0.1:9001, the host socket, the children's
// output pipes and signals. Single-threaded: no locks, no surprises.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/extensions_api.h"
#include "agent/host_channel.h"
#include "agent/http_request.h"
#include "agent/log_capture.h"
#include "agent/output_queue.h"
#include "agent/protocol/agent.pb.h"
#include "agent/runtime_state.h"
#include "common/error.h"
#include "common/unique_fd.h"

namespace wick::agent {

inline constexpr size_t kMaxResponseBytes = 6'291'556;
// A streamed response (contract 1.6): Lambda's 200 MB.
inline constexpr size_t kMaxStreamedResponseBytes = 200u << 20;
// While more than this waits for the host, a streamed body is not read.
inline constexpr size_t kStreamWindowBytes = 1u << 20;
inline constexpr uint32_t kSigtermGraceMs = 500;

class Agent {
 public:
  // The agent on the host socket `host_fd`: its epoll set, signal pipe and log
  // pipes made, or what could not be made.
  static wick::Result<std::unique_ptr<Agent>> create(int host_fd);
  // Runs until the runtime has exited and the host heard it, or the host went
  // away. Every child is killed and reaped before it returns.
  int run();

 private:
  struct Connection {
    UniqueFd fd;
    std::string in;
    OutputQueue out;
    HttpRequestParser parser{kMaxResponseBytes};
    bool close_after_write = false;  // the last answer ends the connection (then a lingering close)
    bool parked = false;             // a long poll (runtime or extension next) is waiting
    bool runtime_next = false;       // ... and it is the runtime's
    bool http10_keep_alive = false;  // an HTTP/1.0 client asked for keep-alive: say we keep it
    bool continue_sent = false;      // 100 Continue went out for the request being read
    bool lingering = false;          // our side is shut: input is read and dropped until EOF
    size_t lingered = 0;             // bytes dropped while lingering
    size_t discard_left = 0;         // body bytes of a refused request still to drop
    uint32_t watched = 0;            // its epoll mask (EPOLLIN and EPOLLOUT as needed)
    bool paused = false;             // a streamed body waits for the host (no EPOLLIN)
  };
  struct Invocation {
    Invoke invoke;                               // its payload moved out, into:
    std::shared_ptr<const std::string> payload;  // shared with the writes that carry it
    bool delivered = false;
    // Its response streams: chunks sent so far, and when the first went.
    bool streaming = false;
    uint64_t streamed_bytes = 0;
    int64_t stream_started_ms = 0;  // CLOCK_MONOTONIC
  };
  struct Child {
    pid_t pid;
    std::string name;  // extension name (file basename)
  };
  struct PendingRuntime {
    std::vector<std::string> argv;
    std::string cwd;
    std::vector<std::string> env;
  };

  // epoll data of the shape's timer (the other tags are in agent.cc).
  static constexpr uint64_t kShapeTimerTag = 7ull << 40;
  void watch(int fd, uint32_t events, uint64_t tag);
  // EPOLLOUT only while bytes wait (one epoll_ctl per change, not per request).
  void watchOutput(Connection& connection);
  void handleHost();
  void handleHostMessage(HostMessage& message);
  void start(const Start& start);
  void initError(const std::string& type, const std::string& message);
  bool listen(const std::string& address);
  void launchExtensions(const std::string& dir, const std::vector<std::string>& env);
  void maybeStartRuntime();
  void maybeReady();
  void maybeFinishInvocation();

  void acceptConnections();
  void handleConnection(int fd, uint32_t events);
  void serve(Connection& connection, HttpRequest& request);
  void serveExtensions(Connection& connection, HttpRequest& request);
  void refuse(Connection& connection, int status);
  void respond(Connection& connection, int status, const std::string& body,
               const std::string& extra_headers = "",
               const std::string& content_type = "application/json");
  // The same with a body that is queued, not copied (an event).
  void respond(Connection& connection, int status, std::shared_ptr<const std::string> body,
               const std::string& extra_headers, const std::string& content_type);
  void queueHead(Connection& connection, int status, size_t body_size,
                 const std::string& extra_headers, const std::string& content_type);
  void answerParked(std::vector<ParkedAnswer> answers);
  void deliver(Connection& connection, Invocation& invocation);
  void finishInvocation(bool function_error, std::string payload, std::string error_type,
                        std::string content_type, bool streamed = false);
  // Streamed responses (response_stream.cc): whether a request's body streams
  // (its limit, or 0); its parsed bytes to the host as ResponseChunks; whether
  // it must wait (the host is behind, or the bandwidth shape says so).
  size_t streamLimit(const HttpRequest& request) const;
  void forwardStream(Connection& connection);
  bool streamMustWait();
  void setPaused(Connection& connection, bool paused);
  // The host caught up (or the shape's timer fired): paused streams read on.
  void resumeStreams();
  void closeConnection(int fd);
  // Reads what the socket has into connection.in; false when the peer is gone.
  bool readInput(Connection& connection);
  // Parses and serves what connection.in holds, one request at a time.
  void serveInput(Connection& connection);
  // Writes what is queued; then, for a connection that ends, shuts our side
  // and lingers. Returns false when the connection was closed.
  bool flushOutput(Connection& connection, bool peer_gone);

  void handleSignals();
  void reap();
  void stop(uint32_t grace_ms, const std::string& reason);
  void killChildren(int signal);
  void killAndReapAll();
  bool finished() const;

  explicit Agent(int host_fd);
  Status init();

  UniqueFd epoll_;
  HostChannel host_;
  LogCapture logs_;
  ExtensionsApi extensions_{FunctionIdentity{}};
  UniqueFd listener_;
  std::string api_address_;
  UniqueFd signal_pipe_;
  UniqueFd kill_timer_;
  std::map<int, std::unique_ptr<Connection>> connections_;
  uint64_t stream_bytes_per_second_ = 0;  // 0: streams are not shaped
  uint64_t stream_burst_bytes_ = 0;
  UniqueFd shape_timer_;  // wakes a stream paused by the shape

  pid_t runtime_pid_ = -1;
  std::optional<PendingRuntime> pending_runtime_;  // waits for external extensions
  std::vector<Child> extension_children_;
  RuntimeLifecycle lifecycle_;
  std::optional<Invocation> current_;
  std::optional<AgentMessage> pending_result_;  // waits for extensions to be back in next
  std::string last_request_id_;                 // answered already: a second answer is 403
};

}  // namespace wick::agent
