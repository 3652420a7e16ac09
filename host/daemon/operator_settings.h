// What the operator's config decides at run time and may change on SIGHUP:
// the host budget, the defaults under the per-function tunings, keep-alive,
// the log level. Read from the config at start and again at each reload.
#pragma once

// clang-format off
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <functional>
#include <string>

#include "host/daemon/config.h"
#include "host/invoke/admission.h"
#include "host/operator/tuning_store.h"

namespace wick::daemon {

// host_memory_budget_mb, else host_memory_budget_percent of MemTotal; the
// vCPU budget from cpu_overcommit_ratio (0: unlimited).
invoke::HostBudget hostBudget(const DaemonConfig& config);

struct LiveSettings {
  invoke::Admission* admission = nullptr;  // null: no invoker
  ops::TuningStore* tunings = nullptr;
  // The log level the command line fixed (it wins over the file's).
  std::string log_level_flag;
};

// Applies what can change live from `config`; logs each change.
void applyLiveSettings(const DaemonConfig& config, const LiveSettings& live);

// On SIGHUP: the config again (`rebuild` makes it as at start: the defaults,
// the file), then applyLiveSettings. A bad file is logged and changes nothing.
class ConfigReloader {
 public:
  ConfigReloader(boost::asio::io_context& io, std::function<Result<DaemonConfig>()> rebuild,
                 LiveSettings live);
  ConfigReloader(const ConfigReloader&) = delete;
  ConfigReloader& operator=(const ConfigReloader&) = delete;

 private:
  void wait();
  boost::asio::signal_set signals_;
  std::function<Result<DaemonConfig>()> rebuild_;
  LiveSettings live_;
};

}  // namespace wick::daemon
