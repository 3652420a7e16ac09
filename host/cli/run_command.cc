// `wick run`: the sandbox library's front door, like bwrap or nsjail.
//
//   wick run --memory 256 --layer DIR --bind SRC:DST[:rw] --tmp-size 512
//            --timeout 10 --env K=V --cwd /tmp --seccomp-profile FILE --stats -- CMD
//
// Exit status: the command's (128+signal when killed); 124 on --timeout; 137
// with a message on an OOM kill; 2 for bad flags (checked before anything is
// created); 125 when the sandbox could not be created.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "host/cli/commands.h"
#include "host/cli/run_network.h"
#include "sandbox/sandbox.h"
#include "sandbox/seccomp_profile.h"

namespace wick::cli {

namespace {

constexpr int kExitUsage = 2;
constexpr int kExitTimeout = 124;
constexpr int kExitCreateFailed = 125;
constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
// Bound read-only when no --layer is given, so host programs run as they are.
constexpr const char* kHostDirs[] = {"/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc"};

struct RunOptions {
  uint64_t memory_mb = 128;
  std::vector<std::string> layers;
  std::vector<std::string> binds;
  uint64_t tmp_size_mb = 512;
  double timeout_s = 0;
  std::vector<std::string> env;
  std::string cwd = "/";
  std::string hostname = "wick";
  bool stats = false;
  bool share_network = false;  // --share-net, the same as --net host
  RunNetworkOptions network;
  uint64_t pids_max = sandbox::kPidsMax;
  uint64_t mb_per_vcpu = sandbox::kMbPerVcpu;
  std::string cgroup_parent = "wick";
  std::string seccomp_profile;  // empty: the default profile
  uint32_t uid = 993;
  uint32_t gid = 990;
  std::vector<std::string> command;
};

[[noreturn]] void usageError(const std::string& message) {
  std::fprintf(stderr, "wick run: %s\n", message.c_str());
  std::exit(kExitUsage);
}

bool isDirectory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

sandbox::BindMount parseBind(const std::string& text) {
  // SRC:DST[:rw|:ro]
  sandbox::BindMount bind;
  size_t first = text.find(':');
  if (first == std::string::npos) usageError("--bind " + text + ": expected SRC:DST[:rw]");
  bind.source = text.substr(0, first);
  std::string rest = text.substr(first + 1);
  size_t second = rest.find(':');
  bind.destination = rest.substr(0, second);
  if (second != std::string::npos) {
    std::string mode = rest.substr(second + 1);
    if (mode != "rw" && mode != "ro") usageError("--bind " + text + ": mode must be rw or ro");
    bind.writable = mode == "rw";
  }
  if (bind.destination.empty() || bind.destination[0] != '/')
    usageError("--bind " + text + ": destination must be an absolute path");
  struct stat st {};
  if (::stat(bind.source.c_str(), &st) != 0)
    usageError("--bind " + text + ": source " + bind.source + " does not exist");
  return bind;
}

sandbox::SandboxSpec buildSpec(const RunOptions& options) {
  if (options.memory_mb < 128 || options.memory_mb > 10240)
    usageError("--memory " + std::to_string(options.memory_mb) + ": must be within 128..10240 MB");
  if (options.tmp_size_mb < 1 || options.tmp_size_mb > 10240)
    usageError("--tmp-size " + std::to_string(options.tmp_size_mb) +
               ": must be within 1..10240 MB");
  if (options.timeout_s < 0) usageError("--timeout must not be negative");
  if (options.command.empty()) usageError("no command given (wick run [flags] -- COMMAND...)");
  // CLI11 hands unknown flags to the command; no program name starts with '-'.
  if (options.command.front().starts_with("-"))
    usageError("unknown flag " + options.command.front());
  if (options.cwd.empty() || options.cwd[0] != '/')
    usageError("--cwd " + options.cwd + ": must be an absolute path");
  if (auto problem = checkRunNetworkOptions(options.network)) usageError(*problem);

  sandbox::SandboxSpec spec;
  for (const auto& layer : options.layers) {
    if (!isDirectory(layer)) usageError("--layer " + layer + ": not a directory");
    spec.layers.push_back(layer);
  }
  if (spec.layers.empty())
    for (const char* dir : kHostDirs)
      if (isDirectory(dir)) spec.binds.push_back({dir, dir, false});
  for (const auto& bind : options.binds)
    spec.binds.push_back(parseBind(bind));
  bool has_path = false;
  for (const auto& entry : options.env) {
    if (entry.find('=') == std::string::npos || entry[0] == '=')
      usageError("--env " + entry + ": expected KEY=VALUE");
    has_path = has_path || entry.starts_with("PATH=");
    spec.env.push_back(entry);
  }
  if (!has_path) spec.env.push_back(std::string("PATH=") + kDefaultPath);
  spec.argv = options.command;
  spec.cwd = options.cwd;
  spec.hostname = options.hostname;
  spec.uid = options.uid;
  spec.gid = options.gid;
  spec.tmp_size_bytes = options.tmp_size_mb << 20;
  spec.resources.memory_mb = options.memory_mb;
  spec.resources.mb_per_vcpu = options.mb_per_vcpu;
  spec.resources.pids_max = options.pids_max;
  return spec;
}

void printStats(const sandbox::Sandbox& box, const std::optional<sandbox::ExitStatus>& status,
                bool timed_out, double wall_ms) {
  auto stats = box.stats();
  std::string json = "{";
  auto add = [&json](const std::string& key, const std::string& value) {
    if (json.size() > 1) json += ",";
    json += "\"" + key + "\":" + value;
  };
  add("sandbox", "\"" + box.id() + "\"");
  if (status) {
    add("exit_code", status->signaled ? "null" : std::to_string(status->code));
    add("signal", status->signaled ? std::to_string(status->signal) : "null");
  }
  add("timed_out", timed_out ? "true" : "false");
  if (stats) {
    add("memory_peak_bytes", std::to_string(stats->memory_peak_bytes));
    add("cpu_usage_ns", std::to_string(stats->cpu_usage_ns));
    add("oom_kills", std::to_string(stats->oom_kills));
  }
  char number[32];
  std::snprintf(number, sizeof number, "%.3f", wall_ms);
  add("wall_ms", number);
  std::snprintf(number, sizeof number, "%.3f", box.timings().total_ns / 1e6);
  add("create_ms", number);
  std::string steps = "{";
  for (const auto& step : box.timings().steps) {
    std::snprintf(number, sizeof number, "%.3f", step.ns / 1e6);
    steps += std::string(steps.size() > 1 ? "," : "") + "\"" + step.name + "\":" + number;
  }
  add("create_steps_ms", steps + "}");
  std::fprintf(stderr, "%s}\n", json.c_str());
}

int run(const RunOptions& options) {
  sandbox::SandboxSpec spec = buildSpec(options);

  // Signals arrive on a signalfd so the wait below sees them; the child
  // unblocks everything before exec.
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGINT, SIGTERM, SIGHUP})
    sigaddset(&signals, sig);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  UniqueFd signal_fd(::signalfd(-1, &signals, SFD_CLOEXEC));

  // A profile that does not compile is a bad flag: exit 2 before anything exists.
  if (!options.seccomp_profile.empty())
    if (auto profile = sandbox::loadSeccompProfile(options.seccomp_profile); !profile)
      usageError("--seccomp-profile: " + profile.error().message());
  auto launcher = sandbox::Launcher::open(
      {.cgroup_parent = options.cgroup_parent, .seccomp_profile = options.seccomp_profile});
  if (!launcher) {
    std::fprintf(stderr, "wick run: %s\n", launcher.error().message().c_str());
    return kExitCreateFailed;
  }
  auto network = RunNetwork::setUp(options.network, spec);
  if (!network) {
    std::fprintf(stderr, "wick run: %s\n", network.error().message().c_str());
    return kExitCreateFailed;
  }
  const auto started = std::chrono::steady_clock::now();
  auto box = launcher->create(spec);
  if (!box) {
    std::fprintf(stderr, "wick run: %s\n", box.error().message().c_str());
    launcher->removeParentIfEmpty();
    return kExitCreateFailed;
  }

  const auto deadline = started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                      std::chrono::duration<double>(options.timeout_s));
  bool timed_out = false;
  int interrupted_by = 0;
  for (;;) {
    pollfd fds[2] = {{box->pidfd(), POLLIN, 0}, {signal_fd.get(), POLLIN, 0}};
    int wait_ms = -1;
    if (options.timeout_s > 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      wait_ms = static_cast<int>(std::max<int64_t>(left.count(), 0));
    }
    int ready = ::poll(fds, signal_fd ? 2 : 1, wait_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      timed_out = true;
      (void)box->kill(SIGKILL);
      break;
    }
    if (fds[0].revents) break;
    if (fds[1].revents) {
      signalfd_siginfo info{};
      if (::read(signal_fd.get(), &info, sizeof info) == sizeof info)
        interrupted_by = static_cast<int>(info.ssi_signo);
      (void)box->kill(SIGKILL);
      break;
    }
  }
  auto status = box->wait();
  const double wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  std::optional<sandbox::ExitStatus> exit_status;
  if (status) exit_status = *status;
  auto stats = box->stats();
  if (options.stats) printStats(*box, exit_status, timed_out, wall_ms);
  if (auto destroyed = box->destroy(); !destroyed)
    std::fprintf(stderr, "wick run: %s\n", destroyed.error().message().c_str());
  launcher->removeParentIfEmpty();
  if (auto torn_down = (*network)->tearDown(); !torn_down)
    std::fprintf(stderr, "wick run: %s\n", torn_down.error().message().c_str());

  if (!status) {
    std::fprintf(stderr, "wick run: %s\n", status.error().message().c_str());
    return kExitCreateFailed;
  }
  if (timed_out) {
    std::fprintf(stderr, "wick run: timed out after %g s, sandbox killed\n", options.timeout_s);
    return kExitTimeout;
  }
  if (interrupted_by != 0) return 128 + interrupted_by;
  if (exit_status->signaled && exit_status->signal == SIGKILL && stats && stats->oom_kills > 0) {
    std::fprintf(stderr, "wick run: out of memory: killed by the OOM killer at the %llu MB limit\n",
                 static_cast<unsigned long long>(options.memory_mb));
    return 137;
  }
  return exit_status->shellCode();
}

}  // namespace

std::function<int()> addRunCommand(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Run a command in a sandbox");
  cmd->add_option("--memory", options->memory_mb, "Memory limit in MB (128..10240); CPU follows")
      ->capture_default_str();
  cmd->add_option("--layer", options->layers,
                  "Read-only root layer directory, bottom first (repeat)")
      ->allow_extra_args(false);
  cmd->add_option("--bind", options->binds, "Bind SRC:DST[:rw] (read-only unless :rw; repeat)")
      ->allow_extra_args(false);
  cmd->add_option("--tmp-size", options->tmp_size_mb, "Size of the /tmp tmpfs in MB")
      ->capture_default_str();
  cmd->add_option("--timeout", options->timeout_s,
                  "Kill the sandbox after this many seconds (exit 124)");
  cmd->add_option("--env", options->env,
                  "Environment entry KEY=VALUE (repeat; nothing is inherited)")
      ->allow_extra_args(false);
  cmd->add_option("--cwd", options->cwd, "Working directory inside the sandbox")
      ->capture_default_str();
  cmd->add_option("--hostname", options->hostname, "Hostname inside the sandbox")
      ->capture_default_str();
  cmd->add_option("--uid", options->uid, "User id inside the sandbox")->capture_default_str();
  cmd->add_option("--gid", options->gid, "Group id inside the sandbox")->capture_default_str();
  cmd->add_option("--pids-max", options->pids_max, "Most processes at once")->capture_default_str();
  cmd->add_option("--mb-per-vcpu", options->mb_per_vcpu, "Memory that buys one CPU")
      ->capture_default_str();
  cmd->add_option("--cgroup-parent", options->cgroup_parent, "Parent of the cgroup slice")
      ->capture_default_str();
  cmd->add_option("--seccomp-profile", options->seccomp_profile,
                  "Seccomp profile file (protobuf text; default: the built-in profile, "
                  "share/wick/seccomp/default.textproto)");
  cmd->add_flag("--share-net", options->share_network, "Stay in the host's network namespace");
  cmd->add_option("--net", options->network.mode,
                  "default: a CNI-attached namespace; none: only lo; host: the host's")
      ->capture_default_str();
  cmd->add_option("--net-config", options->network.config_path,
                  "CNI network configuration (conflist) for --net default")
      ->allow_extra_args(false);
  cmd->add_option("--cni-path", options->network.plugin_dirs,
                  "Directory of CNI plugins (repeat; default /usr/lib/cni, /opt/cni/bin)")
      ->allow_extra_args(false);
  cmd->add_option("--dns", options->network.dns, "Nameserver for /etc/resolv.conf (repeat)")
      ->allow_extra_args(false);
  cmd->add_option("--allow", options->network.allow,
                  "Egress allowed to CIDR[:PORT] despite the deny list (repeat)")
      ->allow_extra_args(false);
  cmd->add_option("--deny", options->network.deny,
                  "Egress denied to CIDR (repeat; replaces the default private ranges)")
      ->allow_extra_args(false);
  cmd->add_flag("--no-internet", options->network.no_internet,
                "Egress only to --allow destinations and the resolvers");
  cmd->add_flag("--stats", options->stats,
                "Print a JSON line of usage and create timings on stderr");
  cmd->prefix_command();
  return [&app, cmd, options]() {
    // Before `--` CLI11 leaves the command to the subcommand, after it to the app.
    if (options->share_network) options->network.mode = "host";
    options->command = cmd->remaining();
    for (const auto& arg : app.remaining())
      options->command.push_back(arg);
    if (!options->command.empty() && options->command.front() == "--")
      options->command.erase(options->command.begin());
    return run(*options);
  };
}

}  // namespace wick::cli
