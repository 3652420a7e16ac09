// wick-agent as the sandboxes exec it: a sealed in-memory copy made once at
// start-up. Nothing inside a sandbox can modify it (runc CVE-2019-5736: a
// container overwrote the host's runc through /proc/self/exe): the memfd is
// sealed against writes, and the sandbox execs it by fd, never by a path.
#pragma once

#include <string>

#include "common/error.h"
#include "common/unique_fd.h"

namespace wick::invoke {

class AgentBinary {
 public:
  // Reads `path` (default: wick-agent beside this executable) into a sealed memfd.
  static Result<AgentBinary> load(const std::string& path = "");
  int fd() const { return memfd_.get(); }
  const std::string& source() const { return source_; }

 private:
  AgentBinary(UniqueFd memfd, std::string source)
      : memfd_(std::move(memfd)), source_(std::move(source)) {}
  UniqueFd memfd_;
  std::string source_;
};

}  // namespace wick::invoke
