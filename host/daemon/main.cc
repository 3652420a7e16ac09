// wickd: the Lambda control plane and invoke path, as one root daemon. The
// start-up order is this file; each step is in its own file of daemon/.
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <thread>
#include <vector>

#include "host/daemon/api_access.h"
#include "host/daemon/api_parts.h"
#include "host/daemon/command_line.h"
#include "host/daemon/control_plane.h"
#include "host/daemon/invoke_path.h"
#include "host/daemon/listeners.h"
#include "host/daemon/network_config.h"
#include "host/daemon/operator_settings.h"
#include "host/daemon/shutdown.h"
#include "host/daemon/storage.h"
#include "host/daemon/systemd.h"

namespace {

int fail(const std::string& message) {
  spdlog::critical("{}", message);
  return 1;
}

// Runs `io` on io_threads threads (this one among them) until it stops.
void runIo(boost::asio::io_context& io, uint32_t io_threads) {
  std::vector<std::thread> threads;
  for (uint32_t i = 1; i < std::max<uint32_t>(io_threads, 1); ++i)
    threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& thread : threads)
    thread.join();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace wick;
  using namespace wick::daemon;
  auto started = readCommandLine(argc, argv);
  if (auto* exit_code = std::get_if<int>(&started)) return *exit_code;
  const StartOptions& options = std::get<StartOptions>(started);
  const DaemonConfig& config = options.config;
  if (auto made = makeStateDir(config); !made) return fail(made.error().message());
  // Who may call the API (issue 15): SigV4 principals (and the roles' keys
  // functions sign with), the admin socket. Before anything is made.
  invoke::RoleCredentials roles(roleMappings(config));
  auto access = ApiAccess::open(config, roles);
  if (!access) return fail(access.error().message());
  auto storage = openStorage(config);
  if (!storage) return fail(storage.error().message());
  auto launcher = openLauncher(config);
  if (!launcher) return fail(launcher.error().message());
  // Networks (issue 11): policies installed, pools filling, a crashed run's reclaimed.
  auto networks = openNetworks(config);
  if (!networks) return fail(networks.error().message());

  DaemonIo io;
  boost::asio::thread_pool workers(std::max<uint32_t>(config.worker_threads(), 1));
  ControlPlane plane = makeControlPlane(config, *storage, **access, **networks);
  auto path = buildInvokePath(
      {config, *storage, *plane.functions, *launcher, **networks, roles, io, workers});
  if (!path) return fail(path.error().message());
  auto parts = buildApiParts({config, *storage, plane, *path, **access, io, workers});
  if (!parts) return fail(parts.error().message());
  auto listeners =
      listen({config, **access, *parts, plane, **networks, *path->metrics, io, workers});
  if (!listeners) return fail(listeners.error().message());
  auto signals = drainOnSignal(io, *listeners, *parts, *path);
  // SIGHUP: the config file again, for what can change live.
  invoke::Invoker* invoker = path->invoker.get();
  ConfigReloader reloader(
      io, [&options] { return rereadConfigFile(options.config_file); },
      {invoker ? &invoker->admission() : nullptr, path->tunings.get(), options.log_level_flag});
  if (invoker) {
    const invoke::HostBudget budget = invoker->admission().budget();
    spdlog::info("host budget: {} MB of sandbox memory, {}", budget.memory_mb,
                 budget.vcpus > 0 ? fmt::format("{:.1f} vCPUs", budget.vcpus)
                                  : std::string("no vCPU limit"));
  }
  const uint16_t port = listeners->api->port();
  spdlog::info("wickd listening on {}:{} (state {}, admin socket {})", listeners->host, port,
               config.state_dir(), (*access)->adminSocketPath());
  notifyReady("Lambda API on " + listeners->host + ":" + std::to_string(port));

  runIo(io, config.io_threads());
  workers.join();
  io.destroyPending();  // before what the parked coroutines refer to
  if (invoker) invoker->destroyIdle();
  (*networks)->stop();
  storage->bases->stop();
  launcher->removeParentIfEmpty();
  spdlog::info("wickd stopped");
  return 0;
}
