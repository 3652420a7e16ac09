// The runtime's and the extensions' stdout and stderr: two pipes shared by
// every child, split into lines, tagged with the current request id (empty
// during init), bounded in bytes per invocation (one truncation notice, then
// nothing until the next invocation). A line longer than kMaxLineBytes is cut.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "agent/protocol/agent.pb.h"
#include "common/error.h"
#include "common/unique_fd.h"

namespace wick::agent {

inline constexpr uint32_t kStdout = 1;
inline constexpr uint32_t kStderr = 2;
inline constexpr uint32_t kAgentStream = 3;

class LogCapture {
 public:
  static constexpr size_t kMaxLineBytes = 256u << 10;
  static constexpr uint64_t kDefaultBudget = 1u << 20;
  using Sink = std::function<void(const AgentMessage&)>;

  explicit LogCapture(Sink sink) : sink_(std::move(sink)) {}
  Status open();

  // The ends children write to (their fds 1 and 2).
  int stdoutWriteFd() const { return out_write_.get(); }
  int stderrWriteFd() const { return err_write_.get(); }
  // The ends the agent reads (non-blocking).
  int stdoutReadFd() const { return out_.fd.get(); }
  int stderrReadFd() const { return err_.fd.get(); }

  void setBudget(uint64_t bytes) { budget_ = bytes > 0 ? bytes : kDefaultBudget; }
  void beginInvocation(const std::string& request_id);
  // Flushes partial lines into the invocation, then tags lines as outside one.
  void endInvocation();

  // Reads what is waiting on stream kStdout or kStderr and emits whole lines.
  void readable(uint32_t stream);
  // Reads everything waiting and emits partial lines too.
  void flush();
  // A line from the agent itself (stream 3), outside the budget.
  void agentLine(const std::string& line);

 private:
  struct Stream {
    UniqueFd fd;
    std::string partial;
    uint32_t number;
  };
  void drain(Stream& stream);
  void emit(uint32_t stream, std::string_view line);

  Sink sink_;
  Stream out_{UniqueFd(), "", kStdout};
  Stream err_{UniqueFd(), "", kStderr};
  UniqueFd out_write_, err_write_;
  std::string request_id_;
  uint64_t budget_ = kDefaultBudget;
  uint64_t used_ = 0;
  bool truncated_ = false;
};

}  // namespace wick::agent
