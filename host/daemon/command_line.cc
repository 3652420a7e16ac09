#include "host/daemon/command_line.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>

#include "common/unique_fd.h"
#include "host/daemon/operator_settings.h"
#include "host/daemon/systemd.h"
#include "sandbox/cgroup_delegation.h"

namespace wick::daemon {

namespace {

// Under a delegated cgroup, cgroup_parent becomes a path below the daemon's own.
Status placeSandboxesUnderOwnCgroup(DaemonConfig& config) {
  auto hierarchy = sandbox::CgroupHierarchy::discover();
  if (!hierarchy) return std::move(hierarchy).error();
  auto own = readFile("/proc/self/cgroup");
  if (!own) return std::move(own).error();
  auto parent =
      sandbox::placeSandboxesUnderOwnCgroup(*hierarchy, ::getpid(), *own, config.cgroup_parent());
  if (!parent) return std::move(parent).error().context("cgroup_delegated");
  config.set_cgroup_parent(*parent);
  return {};
}

int fail(const std::string& message) {
  spdlog::critical("{}", message);
  return 1;
}

}  // namespace

std::variant<StartOptions, int> readCommandLine(int argc, char** argv) {
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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  spdlog::set_level(spdlog::level::from_str(log_level));
  logToJournalIfConnected();

  StartOptions options{defaultConfig(), config_file, app.count("--log-level") > 0 ? log_level : ""};
  DaemonConfig& config = options.config;
  if (!config_file.empty())
    if (auto merged = mergeConfigFile(config_file, config); !merged)
      return fail(merged.error().message());
  applyLiveSettings(config, {.log_level_flag = options.log_level_flag});
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
  return options;
}

Result<DaemonConfig> rereadConfigFile(const std::string& config_file) {
  DaemonConfig fresh = defaultConfig();
  if (!config_file.empty())
    if (auto merged = mergeConfigFile(config_file, fresh); !merged)
      return std::move(merged).error();
  return fresh;
}

Status makeStateDir(const DaemonConfig& config) {
  std::error_code ec;
  std::filesystem::create_directories(config.state_dir(), ec);
  if (ec) return Error("create state dir " + config.state_dir() + ": " + ec.message());
  ::chmod(config.state_dir().c_str(), 0700);
  return {};
}

}  // namespace wick::daemon
