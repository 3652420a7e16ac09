#include "host/logs/log_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <regex>

#include "common/unique_fd.h"

namespace wick::logs {

namespace fs = std::filesystem;

namespace {
bool validStreamName(const std::string& stream) {
  static const std::regex pattern(R"(\d{4}/\d{2}/\d{2}/\[[A-Za-z0-9$_-]+\][0-9a-f]{32})");
  return std::regex_match(stream, pattern);
}
}  // namespace

Result<std::vector<StreamInfo>> listStreams(const std::string& root, const std::string& function) {
  std::vector<StreamInfo> streams;
  const fs::path group = fs::path(root) / function;
  std::error_code ec;
  if (!fs::exists(group, ec)) return streams;
  for (auto it = fs::recursive_directory_iterator(group, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    StreamInfo info;
    info.name = fs::relative(it->path(), group).string();
    if (!validStreamName(info.name)) continue;
    info.size = it->file_size();
    info.modified_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           it->last_write_time().time_since_epoch())
                           .count();
    streams.push_back(std::move(info));
  }
  if (ec) return Error("list log streams of " + function + ": " + ec.message(), ec.value());
  std::sort(streams.begin(), streams.end(),
            [](const StreamInfo& a, const StreamInfo& b) { return a.modified_ns < b.modified_ns; });
  return streams;
}

Result<std::string> readStream(const std::string& root, const std::string& function,
                               const std::string& stream, uint64_t offset, uint64_t max_bytes) {
  if (!validStreamName(stream)) return Error("no log stream '" + stream + "'", ENOENT);
  auto fd = openFile(root + "/" + function + "/" + stream, O_RDONLY);
  if (!fd) return std::move(fd).error();
  std::string data(max_bytes, '\0');
  ssize_t n = ::pread(fd->get(), data.data(), data.size(), static_cast<off_t>(offset));
  if (n < 0) return Error::fromErrno("read log stream " + stream);
  data.resize(static_cast<size_t>(n));
  return data;
}

}  // namespace wick::logs
