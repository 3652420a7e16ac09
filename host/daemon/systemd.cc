#include "host/daemon/systemd.h"

#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace wick::daemon {

namespace {

// $JOURNAL_STREAM is "DEVICE:INODE" of the stream systemd connected; it is
// inherited by children whose stderr may be elsewhere, so compare (systemd.exec(5)).
bool stderrIsTheJournal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  unsigned long long device = 0, inode = 0;
  if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) return false;
  struct stat st {};
  return ::fstat(STDERR_FILENO, &st) == 0 && st.st_dev == device && st.st_ino == inode;
}

}  // namespace

void logToJournalIfConnected() {
  if (!stderrIsTheJournal()) return;
  auto logger = std::make_shared<spdlog::logger>(
      "wickd", std::make_shared<spdlog::sinks::systemd_sink_mt>("wickd"));
  logger->set_level(spdlog::get_level());
  spdlog::set_default_logger(std::move(logger));
}

void notifyReady(const std::string& status) {
  const std::string message = "READY=1\nSTATUS=" + status;
  if (int sent = sd_notify(0, message.c_str()); sent < 0)
    spdlog::warn("sd_notify READY: {}", std::strerror(-sent));
}

void notifyStopping() {
  (void)sd_notify(0, "STOPPING=1\nSTATUS=draining");
}

}  // namespace wick::daemon
