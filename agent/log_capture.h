// The runtime's and the extensions' stdout and stderr: a pipe for each stream
// of each writer (the runtime and its children; the extensions), so that a
// line one writer leaves unfinished never runs into another's. Split into
// lines, tagged with the current request id (empty during init), bounded in
// bytes per invocation (one truncation notice, then nothing until the next
// invocation). A line longer than kMaxLineBytes is cut.
#pragma once

#include <array>
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

  enum class Writer { kRuntime = 0, kExtensions = 1 };
  // A pipe's index: the writer's stdout, then its stderr.
  static constexpr size_t kPipes = 4;
  static constexpr size_t pipeIndex(Writer writer, uint32_t stream) {
    return static_cast<size_t>(writer) * 2 + (stream == kStderr ? 1 : 0);
  }

  explicit LogCapture(Sink sink) : sink_(std::move(sink)) {}
  Status open();

  // The ends a writer's children get as their fds 1 and 2 (a flush reads
  // only the pipes whose ends were handed out: no extensions, no reads).
  int writeFd(Writer writer, uint32_t stream) {
    pipes_[pipeIndex(writer, stream)].written = true;
    return write_ends_[pipeIndex(writer, stream)].get();
  }
  // The end the agent reads (non-blocking) of pipe `index`.
  int readFd(size_t index) const { return pipes_[index].fd.get(); }

  void setBudget(uint64_t bytes) { budget_ = bytes > 0 ? bytes : kDefaultBudget; }
  void beginInvocation(const std::string& request_id);
  // Flushes partial lines into the invocation, then tags lines as outside one.
  void endInvocation();

  // Reads what is waiting on pipe `index` and emits whole lines.
  void readable(size_t index);
  // Reads everything waiting and emits partial lines too.
  void flush();
  // A line from the agent itself (stream 3), outside the budget.
  void agentLine(const std::string& line);

 private:
  struct Stream {
    UniqueFd fd;
    std::string partial;
    uint32_t number;
    bool written = false;  // its write end was handed to a child
  };
  void drain(Stream& stream);
  void emit(uint32_t stream, std::string_view line);

  Sink sink_;
  std::array<Stream, kPipes> pipes_{
      Stream{UniqueFd(), "", kStdout}, Stream{UniqueFd(), "", kStderr},
      Stream{UniqueFd(), "", kStdout}, Stream{UniqueFd(), "", kStderr}};
  std::array<UniqueFd, kPipes> write_ends_;
  std::string request_id_;
  uint64_t budget_ = kDefaultBudget;
  uint64_t used_ = 0;
  bool truncated_ = false;
};

}  // namespace wick::agent
