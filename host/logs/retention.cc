#include "host/logs/retention.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>

#include "common/ids.h"
#include "common/staged_path.h"
#include "common/unique_fd.h"
#include "host/logs/log_reader.h"
#include "host/logs/log_records.h"

namespace wick::logs {

namespace fs = std::filesystem;

namespace {

constexpr std::array<int, 22> kRetentionDays = {1,    3,    5,    7,    14,   30,  60,  90,
                                                120,  150,  180,  365,  400,  545, 731, 1096,
                                                1827, 2192, 2557, 2922, 3288, 3653};

struct SweptStream {
  std::string function;
  StreamInfo info;
};

// Removes the stream's file, then its date directories if that left them empty.
void removeStream(const std::string& root, const SweptStream& stream) {
  const fs::path group = fs::path(root) / stream.function;
  fs::path path = group / stream.info.name;
  std::error_code ec;
  fs::remove(path, ec);
  for (path = path.parent_path(); path != group && !ec; path = path.parent_path())
    if (!fs::remove(path, ec)) break;  // not empty: stop
}

}  // namespace

bool validRetentionDays(int64_t days) {
  return std::find(kRetentionDays.begin(), kRetentionDays.end(), days) != kRetentionDays.end();
}

const std::string& retentionDaysList() {
  static const std::string list = [] {
    std::string text = "[";
    for (int days : kRetentionDays)
      text += (text.size() > 1 ? ", " : "") + std::to_string(days);
    return text + "]";
  }();
  return list;
}

std::string LogRetention::policyPath(const std::string& function) const {
  return root_ + "/" + function + "/retention";
}

Result<std::optional<int>> LogRetention::policy(const std::string& function) const {
  if (::access(policyPath(function).c_str(), F_OK) != 0) return std::optional<int>();
  auto text = readFile(policyPath(function));
  if (!text) return std::move(text).error().context("read the retention of " + function);
  return std::optional<int>(std::atoi(text->c_str()));
}

int LogRetention::effectiveDays(const std::string& function) const {
  auto own = policy(function);
  return own && *own ? **own : settings_.default_days;
}

Status LogRetention::putPolicy(const std::string& function, int days) {
  std::error_code ec;
  fs::create_directories(root_ + "/" + function, ec);
  if (ec) return Error("create log group " + function + ": " + ec.message(), ec.value());
  StagedPath staged = StagedPath::beside(policyPath(function));
  WICK_TRY(staged.writeFile(std::to_string(days) + "\n", 0600),
           "write the retention of " + function);
  return staged.commit();
}

Status LogRetention::deletePolicy(const std::string& function) {
  if (::unlink(policyPath(function).c_str()) != 0 && errno != ENOENT)
    return Error::fromErrno("remove " + policyPath(function));
  return {};
}

Result<SweepReport> LogRetention::sweep(int64_t now_ms) const {
  auto groups = listGroups(root_);
  if (!groups) return std::move(groups).error();
  SweepReport report;
  std::vector<SweptStream> kept;
  for (const std::string& function : *groups) {
    auto streams = listStreams(root_, function);
    if (!streams) return std::move(streams).error();
    const int64_t keep_ms = int64_t{effectiveDays(function)} * 86'400'000;
    for (StreamInfo& info : *streams) {
      SweptStream stream{function, std::move(info)};
      if (now_ms - stream.info.modified_ns / 1'000'000 > keep_ms) {
        removeStream(root_, stream);
        ++report.streams_removed;
        report.bytes_removed += stream.info.size;
      } else {
        report.bytes_kept += stream.info.size;
        kept.push_back(std::move(stream));
      }
    }
  }
  std::sort(kept.begin(), kept.end(), [](const SweptStream& a, const SweptStream& b) {
    return a.info.modified_ns < b.info.modified_ns;
  });
  const int64_t live_since_ms = now_ms - settings_.live_window.count();
  for (const SweptStream& stream : kept) {
    if (report.bytes_kept <= settings_.max_bytes) break;
    if (stream.info.modified_ns / 1'000'000 >= live_since_ms) break;
    removeStream(root_, stream);
    ++report.streams_removed;
    report.bytes_removed += stream.info.size;
    report.bytes_kept -= stream.info.size;
  }
  if (report.streams_removed > 0)
    spdlog::info("log retention: removed {} streams ({} bytes), {} bytes kept",
                 report.streams_removed, report.bytes_removed, report.bytes_kept);
  return report;
}

boost::asio::awaitable<void> sweepPeriodically(const LogRetention& retention,
                                               boost::asio::thread_pool& workers,
                                               std::chrono::seconds interval) {
  namespace asio = boost::asio;
  auto io = co_await asio::this_coro::executor;
  asio::steady_timer timer(io);
  for (;;) {
    co_await asio::post(workers.get_executor(), asio::use_awaitable);
    if (auto swept = retention.sweep(epochMillis()); !swept)
      spdlog::error("log retention: {}", swept.error().message());
    co_await asio::post(io, asio::use_awaitable);
    timer.expires_after(interval);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

}  // namespace wick::logs
