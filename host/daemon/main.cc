// wickd: the Lambda control plane and invoke path, as one root daemon.
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "host/api/event_invoke_config_api.h"
#include "host/api/events_api.h"
#include "host/api/image_api.h"
#include "host/api/lambda_api.h"
#include "host/api/logs_api.h"
#include "host/api/operator_api.h"
#include "host/api/scheduler_api.h"
#include "host/async/async_invocations.h"
#include "host/async/event_store.h"
#include "host/daemon/api_access.h"
#include "host/daemon/config.h"
#include "host/daemon/destination_config.h"
#include "host/daemon/function_urls.h"
#include "host/daemon/network_config.h"
#include "host/daemon/operator_settings.h"
#include "host/daemon/systemd.h"
#include "host/functions/code_store.h"
#include "host/functions/function_service.h"
#include "host/http/server.h"
#include "host/invoke/agent_binary.h"
#include "host/invoke/agent_wire.h"
#include "host/invoke/environment_planner.h"
#include "host/invoke/invoker.h"
#include "host/invoke/payload_limit.h"
#include "host/logs/retention.h"
#include "host/metrics/metrics_server.h"
#include "host/metrics/network_metrics.h"
#include "host/registry/sqlite_registry.h"
#include "host/runtimes/base_store.h"
#include "host/scheduler/schedule_runner.h"
#include "images/image_store.h"
#include "sandbox/cgroup_delegation.h"
#include "sandbox/sandbox.h"

namespace {

int fail(const std::string& message) {
  spdlog::critical("{}", message);
  return 1;
}

// share/wick/rootfs beside the directory wickd runs from (bin/).
std::string defaultRootfsDir() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (exe.parent_path().parent_path() / "share/wick/rootfs").string();
}

// Under a delegated cgroup, cgroup_parent becomes a path below the daemon's own.
wick::Status placeSandboxesUnderOwnCgroup(wick::daemon::DaemonConfig& config) {
  auto hierarchy = wick::sandbox::CgroupHierarchy::discover();
  if (!hierarchy) return std::move(hierarchy).error();
  auto own = wick::readFile("/proc/self/cgroup");
  if (!own) return std::move(own).error();
  auto parent = wick::sandbox::placeSandboxesUnderOwnCgroup(*hierarchy, ::getpid(), *own,
                                                            config.cgroup_parent());
  if (!parent) return std::move(parent).error().context("cgroup_delegated");
  config.set_cgroup_parent(*parent);
  return {};
}

wick::async::AsyncSettings asyncSettings(const wick::daemon::DaemonConfig& config) {
  wick::async::AsyncSettings settings;
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

}  // namespace

int main(int argc, char** argv) {
  using namespace wick;
  CLI::App app{"wickd: a self-hosted, Lambda-compatible function host"};
  std::string listen, url_listen, state_dir, config_file, cgroup_parent, runtimes_dir,
      log_level = "info";
  app.add_option("--listen", listen, "HTTP listen address (default 127.0.0.1:3001)");
  app.add_option("--url-listen", url_listen,
                 "Function URL listen address (default 127.0.0.1:3002)");
  app.add_option("--state-dir", state_dir,
                 "State directory (default ./var/wick in a checkout, else /var/lib/wick)");
  app.add_option("--config", config_file,
                 "Config file, protobuf text format (see host/daemon/wickd.conf.example)");
  app.add_option("--cgroup-parent", cgroup_parent, "Parent cgroup of the sandboxes (default wick)");
  app.add_option("--runtimes-dir", runtimes_dir,
                 "Cache of built base roots (default <state dir>/runtimes)");
  bool cgroup_delegated = false;
  app.add_flag("--cgroup-delegated", cgroup_delegated,
               "Sandboxes go under wickd's own cgroup (systemd Delegate=yes)");
  bool insecure_no_auth = false;
  app.add_flag("--insecure-no-auth", insecure_no_auth,
               "Accept unsigned API requests (local development only; warned at every start)");
  bool no_default_network = false;
  app.add_flag("--no-default-network", no_default_network,
               "Without networks in the config, sandboxes get only loopback");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::from_str(log_level));
  daemon::logToJournalIfConnected();

  daemon::DaemonConfig config = daemon::defaultConfig();
  if (!config_file.empty())
    if (auto merged = daemon::mergeConfigFile(config_file, config); !merged)
      return fail(merged.error().message());
  const std::string log_level_flag = app.count("--log-level") > 0 ? log_level : "";
  daemon::applyLiveSettings(config, {.log_level_flag = log_level_flag});
  if (!listen.empty()) config.set_listen(listen);
  if (!url_listen.empty()) config.set_url_listen(url_listen);
  if (!state_dir.empty()) config.set_state_dir(state_dir);
  if (!runtimes_dir.empty()) config.set_runtimes_dir(runtimes_dir);
  if (!cgroup_parent.empty()) config.set_cgroup_parent(cgroup_parent);
  if (cgroup_delegated) config.set_cgroup_delegated(true);
  if (insecure_no_auth) config.set_insecure_no_auth(true);
  if (no_default_network) config.set_default_network(false);
  if (config.cgroup_delegated())
    if (auto placed = placeSandboxesUnderOwnCgroup(config); !placed)
      return fail(placed.error().message());

  std::error_code ec;
  std::filesystem::create_directories(config.state_dir(), ec);
  if (ec) return fail("create state dir " + config.state_dir() + ": " + ec.message());
  ::chmod(config.state_dir().c_str(), 0700);
  // Who may call the API (issue 15): SigV4 principals (and the roles' keys
  // functions sign with), the admin socket. Before anything is made.
  invoke::RoleCredentials roles(roleMappings(config));
  auto access = daemon::ApiAccess::open(config, roles);
  if (!access) return fail(access.error().message());

  auto registry = registry::SqliteRegistry::open(config.state_dir() + "/wick.db");
  if (!registry) return fail(registry.error().message());
  functions::LocalCodeStore code(config.state_dir() + "/code");
  if (auto prepared = code.prepare(); !prepared) return fail(prepared.error().message());
  auto image_store = images::ImageStore::open(config.state_dir() + "/images");
  if (!image_store) return fail("image store: " + image_store.error().message());
  functions::LocalCodeStore layer_content(config.state_dir() + "/layers", "opt");
  if (auto prepared = layer_content.prepare(); !prepared) return fail(prepared.error().message());

  // Base roots of the runtimes, built on first need by rootfs/build-base.
  const std::string rootfs_dir =
      config.rootfs_dir().empty() ? defaultRootfsDir() : config.rootfs_dir();
  if (::access((rootfs_dir + "/build-base").c_str(), X_OK) != 0)
    return fail("no base root builder at " + rootfs_dir + "/build-base: " + std::strerror(errno) +
                " (set rootfs_dir to wick's rootfs/ directory)");
  runtimes::BaseStore bases(
      config.runtimes_dir().empty() ? config.state_dir() + "/runtimes" : config.runtimes_dir(),
      rootfs_dir + "/build-base");
  if (auto prepared = bases.prepare(); !prepared) return fail(prepared.error().message());

  // Sandboxes: the cgroup layout is discovered, and what a crashed earlier run
  // left (slices and their processes) is reclaimed before anything starts.
  auto launcher =
      sandbox::Launcher::open({.cgroup_parent = config.cgroup_parent(),
                               .seccomp_profile = config.seccomp_profile(),
                               .host_id_first = config.host_id_first(),
                               .host_id_slots = config.host_id_slots(),
                               .every_sandbox_own_identity = config.host_id_slots() > 0});
  if (!launcher) return fail(launcher.error().message());
  auto reclaimed = launcher->reclaimLeftovers();
  if (!reclaimed) return fail(reclaimed.error().message());
  if (*reclaimed > 0) spdlog::warn("reclaimed {} sandboxes left by an earlier run", *reclaimed);
  spdlog::info("cgroup {} under '{}'", sandbox::toString(launcher->cgroupVersion()),
               config.cgroup_parent());

  // Networks (issue 11): policies installed, pools filling, a crashed run's reclaimed.
  auto networks = daemon::openNetworks(config);
  if (!networks) return fail(networks.error().message());

  boost::asio::io_context io;
  boost::asio::thread_pool workers(std::max<uint32_t>(config.worker_threads(), 1));
  functions::ServiceSettings settings;
  settings.scope = {config.region(), config.account_id()};
  settings.account_concurrency = config.account_concurrency();
  settings.presign_location = (*access)->presigner();
  if ((*networks)->configured())
    settings.vpc_check = [&networks](const nlohmann::json& function) -> std::optional<std::string> {
      auto selected = (*networks)->select(function);
      if (selected) return std::nullopt;
      return selected.error().message();
    };
  functions::LayerSettings layer_settings;
  layer_settings.scope = settings.scope;
  layer_settings.presign_location = (*access)->presigner();
  functions::LayerService layers(**registry, layer_content, layer_settings);
  functions::FunctionService service(**registry, code, layers, &bases, &*image_store, settings);
  invoke::PlannerSettings planner_settings;
  planner_settings.region = config.region();
  planner_settings.logs_root = config.state_dir() + "/logs";
  planner_settings.resources = {.mb_per_vcpu = config.mb_per_vcpu(), .pids_max = config.pids_max()};
  if (config.stream_bandwidth_shaping())
    planner_settings.stream_shape = {config.stream_bytes_per_second(), config.stream_burst_bytes()};
  // The operator's per-function tuning (wick tune) over these defaults.
  auto tunings =
      ops::TuningStore::open(config.state_dir() + "/operator.db", planner_settings.resources,
                             std::chrono::seconds(config.idle_keep_alive_seconds()));
  if (!tunings) return fail(tunings.error().message());
  planner_settings.resources_for = [&tunings](const std::string& function,
                                              const std::string& version,
                                              const invoke::ResourcePolicy&) {
    return (*tunings)->policyFor(function, version);
  };
  invoke::EnvironmentPlanner planner(code, layer_content, bases, &*image_store, planner_settings);

  // The async queue: what a crashed run had in flight is due again.
  auto event_store = async::openSqliteEventStore(config.state_dir() + "/events.db");
  if (!event_store) return fail(event_store.error().message());
  if (auto released = (*event_store)->releaseLeases(); !released)
    return fail(released.error().message());
  auto event_invoke_configs =
      async::openSqliteEventInvokeConfigs(config.state_dir() + "/events.db");
  if (!event_invoke_configs) return fail(event_invoke_configs.error().message());
  auto delivery = daemon::destinationDelivery(config);
  if (!delivery) return fail(delivery.error().message());
  std::unique_ptr<async::AsyncInvocations> async_invocations;
  metrics::Metrics metrics;  // outlives the invoker and the async queue
  std::unique_ptr<invoke::Invoker> invoker;
  auto agent = invoke::AgentBinary::load();
  invoke::ChannelFactory channels = invoke::agentChannelFactory();
  if (!agent) {
    spdlog::error("synchronous invoke disabled: {}", agent.error().message());
  } else if (!channels) {
    spdlog::error("synchronous invoke disabled: this build has no agent channel");
  } else {
    invoke::InvokerSettings invoker_settings;
    invoker_settings.keep_alive = std::chrono::seconds(config.idle_keep_alive_seconds());
    invoker_settings.budget = daemon::hostBudget(config);
    invoker_settings.keep_alive_for = [&tunings](const std::string& function,
                                                 const std::string& version) {
      return (*tunings)->keepAliveFor(function, version);
    };
    invoker = std::make_unique<invoke::Invoker>(service, planner, *launcher, agent->fd(), channels,
                                                workers, invoker_settings);
    invoker->setNetworks(networks->get());
    invoker->setRoleCredentials(&roles);
    if (!config.metrics_listen().empty()) invoker->setMetrics(&metrics);
    if (!config.metrics_listen().empty())
      metrics.addScrapeSource(
          [&networks] { return metrics::networkPoolFamilies((*networks)->stats()); });
    boost::asio::co_spawn(io, invoker->housekeeping(), boost::asio::detached);
    async_invocations = std::make_unique<async::AsyncInvocations>(
        **event_store, **event_invoke_configs, service, *invoker, workers, io.get_executor(),
        asyncSettings(config));
    if (!config.metrics_listen().empty()) async_invocations->setMetrics(&metrics);
    async_invocations->setDelivery(delivery->get());
    async_invocations->start();
  }
  api::LambdaApi lambda_api(service, layers, bases, code, config.state_dir() + "/logs", workers,
                            invoker.get());
  // Images that functions (and their versions) run stay, with their layers.
  api::ImageApi image_api(
      *image_store, [&service] { return service.imageReferences(); }, config.max_image_bytes());
  lambda_api.setImageApi(&image_api);
  lambda_api.setAsyncInvocations(async_invocations.get());
  lambda_api.setEventInvokeConfigs(event_invoke_configs->get());
  // The CloudWatch Logs subset shares the listener: one --endpoint-url for both.
  logs::LogRetention log_retention(config.state_dir() + "/logs",
                                   {.default_days = static_cast<int>(config.log_retention_days()),
                                    .max_bytes = config.max_log_bytes()});
  api::LogsApi logs_api({config.state_dir() + "/logs", config.region(), config.account_id()},
                        log_retention, workers);
  boost::asio::co_spawn(io,
                        logs::sweepPeriodically(log_retention, workers, std::chrono::minutes(10)),
                        boost::asio::detached);
  api::OperatorApi operator_api(invoker.get(), **tunings, workers);
  if (!config.metrics_listen().empty()) operator_api.addMetrics(metrics);
  api::EventsApi events_api(**event_store, async_invocations.get(), workers);
  api::EventInvokeConfigApi event_invoke_config_api(**event_invoke_configs, service, workers);
  // Schedules (EventBridge Scheduler subset): their firings go into the async queue.
  auto schedules = scheduler::openSqliteScheduleStore(config.state_dir() + "/events.db");
  if (!schedules) return fail(schedules.error().message());
  scheduler::ScheduleRunner schedule_runner(
      **schedules, **event_store,
      [&async_invocations] {
        if (async_invocations) async_invocations->wake();
      },
      workers, io.get_executor(),
      {.scope = settings.scope, .minute_ms = std::max<int64_t>(config.scheduler_minute_ms(), 1)});
  schedule_runner.start();
  api::SchedulerApi scheduler_api(**schedules, schedule_runner, service, workers);
  // Function URLs: their API beside Lambda's, their own listener (issue 13);
  // AWS_IAM URLs check signatures against the API's principals.
  auto function_urls = daemon::FunctionUrls::open(config, io, service, invoker.get(), workers,
                                                  daemon::urlSecrets((*access)->principals()));
  if (!function_urls) return fail(function_urls.error().message());
  lambda_api.setDeletionListener([&url_parts = **function_urls](auto& name, auto& qualifier) {
    url_parts.api().forgetDeleted(name, qualifier);
  });
  const http::Handler dispatch = [&](http::Request request) {
    if (api::LogsApi::claims(request)) return logs_api.handle(std::move(request));
    if (api::EventsApi::claims(request)) return events_api.handle(std::move(request));
    if (api::OperatorApi::claims(request)) return operator_api.handle(std::move(request));
    if (api::SchedulerApi::claims(request)) return scheduler_api.handle(std::move(request));
    if (api::FunctionUrlApi::claims(request))
      return (*function_urls)->api().handle(std::move(request));
    if (api::EventInvokeConfigApi::claims(request))
      return event_invoke_config_api.handle(std::move(request));
    return lambda_api.handle(std::move(request));
  };
  http::ServerOptions server_options;
  // Refused by the head alone: unsigned, foreign Host, a 6 MB+ invoke upload.
  server_options.refuse_head = (*access)->refuseHead(invoke::refuseOversizedInvoke);
  http::Server server(io, (*access)->guardListener(dispatch, workers), server_options);
  if (auto listening = server.listen(config.listen()); !listening)
    return fail(listening.error().message());
  if (auto listening = (*function_urls)->listen(); !listening)
    return fail(listening.error().message());
  // wick's admin routes (and the rest) for the wick CLI: root's socket, never TCP.
  http::Server admin_server(io, api::guardAdminSocket(dispatch));
  if (auto listening = admin_server.listenUnix((*access)->adminSocketPath(), 0600); !listening)
    return fail(listening.error().message());
  auto gateway_servers = daemon::listenOnGateways(
      io,
      [&](const std::string& gateway) {
        return (*access)->guardGateway(
            gateway,
            [&lambda_api](http::Request request) { return lambda_api.handle(std::move(request)); },
            workers);
      },
      **networks, server.port());
  if (!gateway_servers) return fail(gateway_servers.error().message());
  // Declared after the invoker: stops serving before what it scrapes goes.
  std::unique_ptr<metrics::MetricsServer> metrics_server;
  if (!config.metrics_listen().empty()) {
    auto serving = metrics::MetricsServer::start(config.metrics_listen(), metrics);
    if (!serving) return fail(serving.error().message());
    metrics_server = std::move(*serving);
    spdlog::info("metrics on http://{}/metrics", config.metrics_listen());
  }
  // Code.Location of GetFunction points back at us.
  const std::string host = config.listen().substr(0, config.listen().rfind(':'));
  const std::string base_url = "http://" + host + ":" + std::to_string(server.port());
  service.mutableSettings().code_url_base = base_url + "/wick/code";
  layers.settings().content_url_base = base_url + "/wick/layer-content";

  // SIGTERM: stop accepting, let in-flight invocations finish, destroy every
  // sandbox, exit 0.
  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code&, int signal) {
    spdlog::info("signal {}: draining", signal);
    daemon::notifyStopping();
    server.stopAccepting();
    (*function_urls)->stopAccepting();
    admin_server.stopAccepting();
    if (async_invocations) async_invocations->stop();
    schedule_runner.stop();
    for (auto& gateway_server : *gateway_servers)
      gateway_server->stopAccepting();
    if (invoker) invoker->stop();
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          boost::asio::steady_timer timer(io);
          // In-flight invocations end; housekeeping puts back what it was
          // freezing: then every environment is in the pool for destroyIdle.
          while ((async_invocations && !async_invocations->stopped()) ||
                 !schedule_runner.stopped() ||
                 (invoker && (invoker->inFlight() > 0 || !invoker->housekeepingStopped()))) {
            timer.expires_after(std::chrono::milliseconds(20));
            co_await timer.async_wait(boost::asio::use_awaitable);
          }
          io.stop();
        },
        boost::asio::detached);
  });
  // SIGHUP: the config file again, for what can change live.
  daemon::ConfigReloader reloader(
      io,
      [&config_file]() -> Result<daemon::DaemonConfig> {
        daemon::DaemonConfig fresh = daemon::defaultConfig();
        if (!config_file.empty())
          if (auto merged = daemon::mergeConfigFile(config_file, fresh); !merged)
            return std::move(merged).error();
        return fresh;
      },
      {invoker ? &invoker->admission() : nullptr, tunings->get(), log_level_flag});
  if (invoker) {
    const invoke::HostBudget budget = invoker->admission().budget();
    spdlog::info("host budget: {} MB of sandbox memory, {}", budget.memory_mb,
                 budget.vcpus > 0 ? fmt::format("{:.1f} vCPUs", budget.vcpus)
                                  : std::string("no vCPU limit"));
  }
  spdlog::info("wickd listening on {}:{} (state {}, admin socket {})", host, server.port(),
               config.state_dir(), (*access)->adminSocketPath());
  daemon::notifyReady("Lambda API on " + host + ":" + std::to_string(server.port()));

  std::vector<std::thread> threads;
  for (uint32_t i = 1; i < std::max<uint32_t>(config.io_threads(), 1); ++i)
    threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& thread : threads)
    thread.join();
  workers.join();
  if (invoker) invoker->destroyIdle();
  (*networks)->stop();
  bases.stop();
  launcher->removeParentIfEmpty();
  spdlog::info("wickd stopped");
  return 0;
}
