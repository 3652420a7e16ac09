// The host's side of the conversation with wick-agent, in the terms the
// invoke path needs. The wire (protobuf frames on the socket the sandbox
// inherited) is the implementation's business: see agent/protocol/.
#pragma once

// clang-format off
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "common/error.h"

namespace wick::invoke {

// What the agent starts: for custom runtimes an empty argv means "find
// /var/task/bootstrap, else /opt/bootstrap".
struct StartCommand {
  std::vector<std::string> argv;
  std::string cwd = "/var/task";
  std::vector<std::string> env;
  // Lambda's bandwidth shape for streamed responses (0: unshaped).
  uint64_t stream_bytes_per_second = 0;
  uint64_t stream_burst_bytes = 0;
};

struct InvokeCommand {
  std::string request_id;
  std::string payload;
  int64_t deadline_ms = 0;  // epoch milliseconds
  std::string invoked_function_arn;
  std::string trace_id;
  std::string client_context;
  std::string cognito_identity;
  // Pass a streamed response on as ResponseChunks (InvokeWithResponseStream).
  bool stream_response = false;
};

// Events from the agent.
struct RuntimeReady {};  // the runtime asked for its first event: init is over
struct InvocationResult {
  std::string request_id;
  bool function_error = false;  // posted to /error, or the response was too large
  std::string payload;          // response or error body, verbatim
  std::string error_type;
  bool streamed = false;  // the response came as ResponseChunks before this
};
// A piece of a streamed response, as it came (no chunk fidelity).
struct ResponseChunk {
  std::string request_id;
  std::string data;
  std::string content_type;  // the first chunk of an invocation only
};
struct InitFailure {
  std::string error_type;  // e.g. Runtime.InvalidEntrypoint
  std::string payload;     // the /init/error body
};
struct RuntimeExit {
  bool signaled = false;
  int code = 0;
  int signal = 0;
  bool between_invocations = false;  // no event had reached the runtime
};
struct ChannelClosed {
  std::string reason;
};
using AgentEvent = std::variant<RuntimeReady, InvocationResult, ResponseChunk, InitFailure,
                                RuntimeExit, ChannelClosed>;

// A line the runtime (or an extension) wrote, tagged with its invocation.
struct LogLine {
  std::string request_id;  // empty during init
  std::string text;
};

class AgentChannel {
 public:
  virtual ~AgentChannel() = default;
  virtual boost::asio::awaitable<Status> start(const StartCommand& command) = 0;
  virtual boost::asio::awaitable<Status> invoke(const InvokeCommand& command) = 0;
  // The next event; log lines go to the sink given at construction meanwhile.
  virtual boost::asio::awaitable<AgentEvent> next() = 0;
  // Asks the agent to stop the runtime (SIGTERM, then SIGKILL) and exit.
  virtual boost::asio::awaitable<void> shutdown() = 0;
};

using LogSink = std::function<void(const LogLine&)>;

}  // namespace wick::invoke
