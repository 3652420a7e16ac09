#include "host/daemon/operator_settings.h"

#include <spdlog/spdlog.h>

#include <thread>

namespace wick::daemon {

invoke::HostBudget hostBudget(const DaemonConfig& config) {
  invoke::HostBudget budget;
  budget.memory_mb = config.host_memory_budget_mb();
  if (budget.memory_mb == 0 && config.host_memory_budget_percent() > 0)
    budget.memory_mb = invoke::hostMemoryMb() * config.host_memory_budget_percent() / 100;
  if (config.cpu_overcommit_ratio() > 0)
    budget.vcpus = config.cpu_overcommit_ratio() *
                   static_cast<double>(std::max(1u, std::thread::hardware_concurrency()));
  return budget;
}

void applyLiveSettings(const DaemonConfig& config, const LiveSettings& live) {
  const std::string level = !live.log_level_flag.empty() ? live.log_level_flag
                            : config.log_level().empty() ? std::string("info")
                                                         : config.log_level();
  if (const auto wanted = spdlog::level::from_str(level); wanted != spdlog::get_level()) {
    const auto was = spdlog::get_level();
    spdlog::set_level(wanted);
    // At warn: seen whatever the new level (short of error and off).
    spdlog::warn("log level {} (was {})", level, spdlog::level::to_string_view(was));
  }
  const invoke::HostBudget budget = hostBudget(config);
  if (live.admission) {
    const invoke::HostBudget before = live.admission->budget();
    if (before.memory_mb != budget.memory_mb || before.vcpus != budget.vcpus)
      spdlog::info("host budget: {} MB of sandbox memory{}, {}", budget.memory_mb,
                   budget.memory_mb == 0 ? " (unlimited)" : "",
                   budget.vcpus > 0 ? fmt::format("{:.1f} vCPUs", budget.vcpus)
                                    : std::string("no vCPU limit"));
    live.admission->setBudget(budget);
  }
  if (live.tunings) {
    invoke::ResourcePolicy defaults = live.tunings->defaults();
    const auto keep_alive =
        std::chrono::milliseconds(std::chrono::seconds(config.idle_keep_alive_seconds()));
    if (defaults.mb_per_vcpu != config.mb_per_vcpu() || defaults.pids_max != config.pids_max() ||
        live.tunings->defaultKeepAlive() != keep_alive)
      spdlog::info("defaults: mb_per_vcpu {}, pids_max {}, idle_keep_alive_seconds {}",
                   config.mb_per_vcpu(), config.pids_max(), config.idle_keep_alive_seconds());
    defaults.mb_per_vcpu = config.mb_per_vcpu();
    defaults.pids_max = config.pids_max();
    live.tunings->setDefaults(defaults, keep_alive);
  }
}

ConfigReloader::ConfigReloader(boost::asio::io_context& io,
                               std::function<Result<DaemonConfig>()> rebuild, LiveSettings live)
    : signals_(io, SIGHUP), rebuild_(std::move(rebuild)), live_(live) {
  wait();
}

void ConfigReloader::wait() {
  signals_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;  // cancelled: shutting down
    spdlog::info("SIGHUP: reloading the configuration");
    auto config = rebuild_();
    if (!config)
      spdlog::error("reload refused, nothing changed: {}", config.error().message());
    else
      applyLiveSettings(*config, live_);
    wait();
  });
}

}  // namespace wick::daemon
