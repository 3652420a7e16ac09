#include "host/invoke/agent_binary.h"

#include <fcntl.h>
#include <sys/mman.h>

#include <filesystem>

namespace wick::invoke {

Result<AgentBinary> AgentBinary::load(const std::string& path) {
  std::string source = path;
  if (source.empty()) {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return Error("find wick-agent: readlink /proc/self/exe: " + ec.message(), ec.value());
    source = (exe.parent_path() / "wick-agent").string();
  }
  auto content = readFile(source);
  if (!content) return std::move(content).error().context("load wick-agent");
  UniqueFd memfd(::memfd_create("wick-agent", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!memfd) return Error::fromErrno("load wick-agent: memfd_create");
  WICK_TRY(writeAll(memfd.get(), *content), "load wick-agent: copy " + source);
  if (::fcntl(memfd.get(), F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) !=
      0)
    return Error::fromErrno("load wick-agent: seal memfd");
  return AgentBinary(std::move(memfd), source);
}

}  // namespace wick::invoke
