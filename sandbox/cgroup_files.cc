#include "sandbox/cgroup_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <thread>

#include "common/unique_fd.h"

namespace wick::sandbox::cgroupfs {

Status makeDirs(const std::string& root, const std::string& relative) {
  std::string path = root;
  size_t start = 0;
  while (start < relative.size()) {
    size_t end = relative.find('/', start);
    if (end == std::string::npos) end = relative.size();
    if (end > start) {
      path += "/" + relative.substr(start, end - start);
      if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
        return Error::fromErrno("mkdir " + path);
    }
    start = end + 1;
  }
  return {};
}

Status write(const std::string& path, std::string_view value, bool create_missing) {
  if (create_missing) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Error::fromErrno("create " + path);
    ::close(fd);
  }
  return writeFile(path, value);
}

static Result<uint64_t> parseUint(std::string_view text, const std::string& path) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.remove_suffix(1);
  if (text == "max") return UINT64_MAX;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    return Error("unexpected content '" + std::string(text) + "' in " + path, EINVAL);
  return value;
}

Result<uint64_t> readUint(const std::string& path) {
  auto content = readFile(path);
  if (!content) return std::move(content).error();
  return parseUint(*content, path);
}

Result<uint64_t> readLimit(const std::string& path) {
  auto content = readFile(path);
  if (!content) return std::move(content).error();
  std::string_view value = *content;
  while (!value.empty() && (value.back() == '\n' || value.back() == ' '))
    value.remove_suffix(1);
  if (value == "max" || value == "-1") return uint64_t{0};
  return parseUint(value, path);
}

Result<uint64_t> readKeyed(const std::string& path, std::string_view key) {
  auto content = readFile(path);
  if (!content) return std::move(content).error();
  std::string_view rest = *content;
  while (!rest.empty()) {
    size_t eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
    if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == ' ')
      return parseUint(line.substr(key.size() + 1), path);
  }
  return Error("no '" + std::string(key) + "' in " + path, ENOENT);
}

std::vector<int> readPids(const std::string& procs_path) {
  std::vector<int> pids;
  auto content = readFile(procs_path);
  if (!content) return pids;
  std::string_view rest = *content;
  while (!rest.empty()) {
    size_t eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
    int pid = 0;
    if (std::from_chars(line.data(), line.data() + line.size(), pid).ec == std::errc())
      pids.push_back(pid);
  }
  return pids;
}

Status removeDir(const std::string& path) {
  using namespace std::chrono_literals;
  auto deadline = std::chrono::steady_clock::now() + 2s;
  for (auto pause = 100us;; pause = std::min(pause * 2, std::chrono::microseconds(20ms))) {
    if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return {};
    if (errno != EBUSY || std::chrono::steady_clock::now() > deadline)
      return Error::fromErrno("rmdir " + path);
    std::this_thread::sleep_for(pause);
  }
}

}  // namespace wick::sandbox::cgroupfs
