#include "host/logs/log_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <regex>

#include "common/bounded_regex.h"
#include "common/unique_fd.h"
#include "host/functions/function_name.h"

namespace wick::logs {

namespace fs = std::filesystem;

namespace {

bool validStreamName(const std::string& stream) {
  static const std::regex pattern(R"(\d{4}/\d{2}/\d{2}/\[[A-Za-z0-9$_-]+\][0-9a-f]{32})");
  return boundedMatch(stream, pattern);
}

Result<UniqueFd> openStream(const std::string& root, const std::string& function,
                            const std::string& stream) {
  if (!validStreamName(stream)) return Error("no log stream '" + stream + "'", ENOENT);
  return openFile(root + "/" + function + "/" + stream, O_RDONLY | O_CLOEXEC);
}

Result<std::string> readAt(int fd, uint64_t offset, uint64_t max_bytes, const std::string& stream) {
  std::string data(max_bytes, '\0');
  size_t filled = 0;
  while (filled < data.size()) {
    ssize_t n = ::pread(fd, data.data() + filled, data.size() - filled,
                        static_cast<off_t>(offset + filled));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::fromErrno("read log stream " + stream);
    if (n == 0) break;
    filled += static_cast<size_t>(n);
  }
  data.resize(filled);
  return data;
}

}  // namespace

Result<std::vector<std::string>> listGroups(const std::string& root) {
  std::vector<std::string> groups;
  std::error_code ec;
  if (!fs::exists(root, ec)) return groups;
  for (auto it = fs::directory_iterator(root, ec); !ec && it != fs::directory_iterator();
       it.increment(ec))
    if (it->is_directory() && functions::validFunctionName(it->path().filename().string()))
      groups.push_back(it->path().filename().string());
  if (ec) return Error("list log groups in " + root + ": " + ec.message(), ec.value());
  std::sort(groups.begin(), groups.end());
  return groups;
}

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
    // stat(2): libstdc++'s file_time_type counts from another epoch than the
    // Unix one, and these times go out as epoch milliseconds.
    struct stat st {};
    if (::stat(it->path().c_str(), &st) != 0) continue;  // removed meanwhile
    info.size = static_cast<uint64_t>(st.st_size);
    info.modified_ns = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
    streams.push_back(std::move(info));
  }
  if (ec) return Error("list log streams of " + function + ": " + ec.message(), ec.value());
  std::sort(streams.begin(), streams.end(),
            [](const StreamInfo& a, const StreamInfo& b) { return a.modified_ns < b.modified_ns; });
  return streams;
}

Result<StreamChunk> readMessages(const std::string& root, const std::string& function,
                                 const std::string& stream, uint64_t offset, uint64_t max_bytes) {
  auto fd = openStream(root, function, stream);
  if (!fd) return std::move(fd).error();
  auto data = readAt(fd->get(), offset, max_bytes, stream);
  if (!data) return std::move(data).error();
  StreamChunk chunk;
  size_t end = wholeRecordsEnd(*data);
  // A record longer than max_bytes still moves on, a piece at a time.
  if (end == 0 && data->size() == max_bytes) end = data->size();
  for (const LogRecord& record : parseRecords(std::string_view(*data).substr(0, end), 0, 0)) {
    chunk.text += record.message;
    chunk.text += '\n';
  }
  if (end > 0 && wholeRecordsEnd(std::string_view(*data).substr(0, end)) != end)
    chunk.text += std::string_view(*data).substr(0, end);  // the piece of a long record
  chunk.next_offset = offset + end;
  return chunk;
}

int64_t firstRecordTime(const std::string& root, const std::string& function,
                        const StreamInfo& stream) {
  const int64_t fallback = stream.modified_ns / 1'000'000;
  auto fd = openStream(root, function, stream.name);
  if (!fd) return fallback;
  auto head = readAt(fd->get(), 0, 32, stream.name);
  if (!head) return fallback;
  head->push_back('\n');  // parse the first line even when it is longer than this
  auto records = parseRecords(*head, 0, fallback);
  return records.empty() ? fallback : records.front().timestamp_ms;
}

Result<StreamRecords> readRecords(const std::string& root, const std::string& function,
                                  const StreamInfo& stream) {
  auto fd = openStream(root, function, stream.name);
  if (!fd) return std::move(fd).error();
  StreamRecords read;
  auto data = readAt(fd->get(), 0, stream.size, stream.name);
  if (!data) return std::move(data).error();
  read.data = std::move(*data);
  read.records = parseRecords(read.data, 0, stream.modified_ns / 1'000'000);
  return read;
}

}  // namespace wick::logs
