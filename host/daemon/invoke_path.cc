#include "host/daemon/invoke_path.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "host/daemon/destination_config.h"
#include "host/daemon/operator_settings.h"
#include "host/invoke/agent_wire.h"
#include "host/metrics/network_metrics.h"

namespace wick::daemon {

namespace {

async::AsyncSettings asyncSettings(const DaemonConfig& config) {
  async::AsyncSettings settings;
  if (config.async_retry_delays_ms_size() > 0) {
    settings.delays.after_function_error.clear();
    for (uint32_t ms : config.async_retry_delays_ms())
      settings.delays.after_function_error.emplace_back(ms);
  }
  settings.delays.throttle_first =
      std::chrono::milliseconds(config.async_throttle_backoff_first_ms());
  settings.delays.throttle_max = std::chrono::milliseconds(config.async_throttle_backoff_max_ms());
  settings.max_in_flight = std::max<uint32_t>(config.async_max_in_flight(), 1);
  return settings;
}

// The planner's settings, each function's resources from the tunings.
Status addPlanner(const DaemonConfig& config, Storage& storage, InvokePath& path) {
  invoke::PlannerSettings planner_settings;
  planner_settings.region = config.region();
  planner_settings.logs_root = config.state_dir() + "/logs";
  planner_settings.resources = {.mb_per_vcpu = config.mb_per_vcpu(), .pids_max = config.pids_max()};
  if (config.stream_bandwidth_shaping())
    planner_settings.stream_shape = {config.stream_bytes_per_second(), config.stream_burst_bytes()};
  auto tunings =
      ops::TuningStore::open(config.state_dir() + "/operator.db", planner_settings.resources,
                             std::chrono::seconds(config.idle_keep_alive_seconds()));
  if (!tunings) return std::move(tunings).error();
  path.tunings = std::move(*tunings);
  planner_settings.resources_for = [tunings = path.tunings.get()](const std::string& function,
                                                                  const std::string& version,
                                                                  const invoke::ResourcePolicy&) {
    return tunings->policyFor(function, version);
  };
  path.planner = std::make_unique<invoke::EnvironmentPlanner>(*storage.code, *storage.layer_content,
                                                              *storage.bases, storage.images.get(),
                                                              planner_settings);
  return {};
}

Status addAsyncQueue(const DaemonConfig& config, InvokePath& path) {
  auto event_store = async::openSqliteEventStore(config.state_dir() + "/events.db");
  if (!event_store) return std::move(event_store).error();
  path.event_store = std::move(*event_store);
  WICK_TRY(path.event_store->releaseLeases(), "release the leases of an earlier run");
  auto configs = async::openSqliteEventInvokeConfigs(config.state_dir() + "/events.db");
  if (!configs) return std::move(configs).error();
  path.event_invoke_configs = std::move(*configs);
  auto delivery = destinationDelivery(config);
  if (!delivery) return std::move(delivery).error();
  path.delivery = std::move(*delivery);
  return {};
}

// The invoker and the async dispatcher behind it, when wick-agent is here.
void addInvoker(const InvokeParts& parts, InvokePath& path) {
  const DaemonConfig& config = parts.config;
  auto agent = invoke::AgentBinary::load();
  invoke::ChannelFactory channels = invoke::agentChannelFactory();
  if (!agent) {
    spdlog::error("synchronous invoke disabled: {}", agent.error().message());
    return;
  }
  if (!channels) {
    spdlog::error("synchronous invoke disabled: this build has no agent channel");
    return;
  }
  path.agent = std::make_unique<invoke::AgentBinary>(std::move(*agent));
  invoke::InvokerSettings settings;
  settings.keep_alive = std::chrono::seconds(config.idle_keep_alive_seconds());
  settings.budget = hostBudget(config);
  settings.keep_alive_for = [tunings = path.tunings.get()](const std::string& function,
                                                           const std::string& version) {
    return tunings->keepAliveFor(function, version);
  };
  path.invoker =
      std::make_unique<invoke::Invoker>(parts.functions, *path.planner, parts.launcher,
                                        path.agent->fd(), channels, parts.workers, settings);
  path.invoker->setNetworks(&parts.networks);
  path.invoker->setRoleCredentials(&parts.roles);
  if (!config.metrics_listen().empty()) path.invoker->setMetrics(path.metrics.get());
  if (!config.metrics_listen().empty())
    path.metrics->addScrapeSource(
        [&networks = parts.networks] { return metrics::networkPoolFamilies(networks.stats()); });
  boost::asio::co_spawn(parts.io, path.invoker->housekeeping(), boost::asio::detached);
  path.async_invocations = std::make_unique<async::AsyncInvocations>(
      *path.event_store, *path.event_invoke_configs, parts.functions, *path.invoker, parts.workers,
      parts.io.get_executor(), asyncSettings(config));
  if (!config.metrics_listen().empty()) path.async_invocations->setMetrics(path.metrics.get());
  path.async_invocations->setDelivery(path.delivery.get());
  path.async_invocations->start();
}

}  // namespace

Result<sandbox::Launcher> openLauncher(const DaemonConfig& config) {
  auto launcher =
      sandbox::Launcher::open({.cgroup_parent = config.cgroup_parent(),
                               .seccomp_profile = config.seccomp_profile(),
                               .host_id_first = config.host_id_first(),
                               .host_id_slots = config.host_id_slots(),
                               .every_sandbox_own_identity = config.host_id_slots() > 0});
  if (!launcher) return launcher;
  auto reclaimed = launcher->reclaimLeftovers();
  if (!reclaimed) return std::move(reclaimed).error();
  if (*reclaimed > 0) spdlog::warn("reclaimed {} sandboxes left by an earlier run", *reclaimed);
  spdlog::info("cgroup {} under '{}'", sandbox::toString(launcher->cgroupVersion()),
               config.cgroup_parent());
  return launcher;
}

Result<InvokePath> buildInvokePath(const InvokeParts& parts) {
  InvokePath path;
  WICK_TRY(addPlanner(parts.config, parts.storage, path), "planner");
  WICK_TRY(addAsyncQueue(parts.config, path), "async queue");
  path.metrics = std::make_unique<metrics::Metrics>();
  addInvoker(parts, path);
  return path;
}

}  // namespace wick::daemon
