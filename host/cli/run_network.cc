#include "host/cli/run_network.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "common/unique_fd.h"
#include "host/network/conntrack.h"
#include "host/network/default_network.h"
#include "host/network/host_links.h"
#include "host/network/resolv_conf.h"

namespace wick::cli {

namespace {

bool validAddress(const std::string& text) {
  unsigned char buffer[16];
  return ::inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
         ::inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

constexpr const char* kRunPrefix = "wick-run-";

// wick-run-<pid>-<random> whose pid is gone: a `wick run` killed before it
// could detach.
bool heldByDeadRun(const std::string& name) {
  int pid = std::atoi(name.c_str() + std::strlen(kRunPrefix));
  return pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH;
}

std::string containerId() {
  uint32_t random = 0;
  (void)!::getrandom(&random, sizeof random, 0);
  char text[48];
  std::snprintf(text, sizeof text, "%s%d-%08x", kRunPrefix, static_cast<int>(::getpid()), random);
  return text;
}

Result<network::CniNetwork> loadNetwork(const RunNetworkOptions& options) {
  if (options.config_path.empty())
    return network::parseCniNetwork(network::defaultConflist(), "(wick's default network)");
  return network::loadCniNetwork(options.config_path);
}

network::DnsSettings dnsFor(const RunNetworkOptions& options, const network::CniResult& result) {
  network::DnsSettings dns;
  if (!options.dns.empty()) {
    dns.nameservers = options.dns;
  } else if (!result.nameservers.empty()) {
    dns.nameservers = result.nameservers;
    dns.search = result.search;
  } else {
    dns = network::reachableHostDns();
  }
  return dns;
}

network::EgressRules egressRules(const RunNetworkOptions& options,
                                 const network::CniNetwork& network,
                                 const network::DnsSettings& dns) {
  network::EgressRules rules;
  rules.network = network.name;
  rules.bridge = network.bridgeName();
  rules.internet = !options.no_internet;
  for (const auto& allowed : options.allow)
    rules.allow.push_back(*network::parseDestination(allowed));
  rules.deny_cidrs = options.deny;
  for (const auto& server : dns.nameservers)
    if (server.find(':') == std::string::npos) rules.nameservers.push_back(server);
  return rules;
}

}  // namespace

std::optional<std::string> checkRunNetworkOptions(const RunNetworkOptions& options) {
  if (options.mode != "none" && options.mode != "host" && options.mode != "default")
    return "--net " + options.mode + ": must be default, none or host";
  if (options.mode != "default" &&
      (!options.config_path.empty() || !options.dns.empty() || !options.allow.empty() ||
       !options.deny.empty() || options.no_internet))
    return "--net-config, --dns, --allow, --deny and --no-internet need --net default";
  for (const auto& allowed : options.allow)
    if (auto parsed = network::parseDestination(allowed); !parsed)
      return "--allow: " + parsed.error().message();
  for (const auto& denied : options.deny)
    if (auto parsed = network::parseDestination(denied); !parsed || parsed->port)
      return "--deny " + denied + ": not a CIDR";
  for (const auto& server : options.dns)
    if (!validAddress(server)) return "--dns " + server + ": not an IP address";
  if (options.mode == "default")
    if (auto network = loadNetwork(options); !network) return network.error().message();
  return std::nullopt;
}

Result<std::unique_ptr<RunNetwork>> RunNetwork::setUp(const RunNetworkOptions& options,
                                                      sandbox::SandboxSpec& spec) {
  auto run_network = std::make_unique<RunNetwork>();
  if (options.mode == "host") {
    spec.isolate_network = false;
    return run_network;
  }
  if (options.mode == "none") return run_network;

  auto network = loadNetwork(options);
  if (!network) return std::move(network).error();
  run_network->bridge_ = network->bridgeName();
  auto plugin_dirs =
      options.plugin_dirs.empty() ? network::defaultPluginDirs() : options.plugin_dirs;
  auto runner = std::make_shared<const network::CniRunner>(*network, plugin_dirs);
  // Sandboxes of another run (or of wickd) on the bridge: its policy is theirs too.
  const bool bridge_held =
      !run_network->bridge_.empty() && network::bridgeHasPorts(run_network->bridge_);
  // Pins and resolv.conf files per network: a reclaim only meets its own.
  const std::string dir = options.runtime_dir + "/net/" + network->name;
  for (const auto& path : {options.runtime_dir + "/net", dir})
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
      return Error::fromErrno("network: mkdir " + path);
  run_network->dir_ = dir;
  if (auto reclaimed = network::NetworkAttachment::reclaim(*runner, dir, kRunPrefix, heldByDeadRun);
      !reclaimed)
    return std::move(reclaimed).error().context("network");
  auto attachment = network::NetworkAttachment::attach(runner, containerId(), dir);
  if (!attachment) return std::move(attachment).error().context("network");
  run_network->attachment_ = std::move(*attachment);

  run_network->resolv_conf_path_ = dir + "/" + run_network->attachment_->containerId() + ".resolv";
  auto file = openFile(run_network->resolv_conf_path_, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!file) return std::move(file).error().context("network");
  const auto dns = dnsFor(options, run_network->attachment_->result());
  WICK_TRY(writeAll(file->get(), network::renderResolvConf(dns)),
           "network: write " + run_network->resolv_conf_path_);
  if (!run_network->bridge_.empty()) {
    // One table per network: installing ours would change the policy of the
    // sandboxes already there. The same rules are shared; others refused.
    const auto rules = egressRules(options, *network, dns);
    std::optional<std::string> installed;
    if (bridge_held) {
      auto digest = network::installedEgressDigest(rules.network);
      if (!digest) return std::move(digest).error().context("network");
      installed = *digest;
    }
    auto ours = network::egressRulesDigest(rules);
    if (!ours) return std::move(ours).error().context("network");
    if (installed && *installed != *ours)
      return Error("network " + network->name + ": bridge " + run_network->bridge_ +
                       " has sandboxes under another egress policy (another wick run with "
                       "other flags, or wickd's); these flags would change theirs: give the "
                       "same flags, or a network of its own (--net-config)",
                   EBUSY);
    if (installed) {
      run_network->policy_ = network::EgressPolicy::share(rules.network);
    } else {
      auto policy = network::EgressPolicy::install(rules);
      if (!policy) return std::move(policy).error().context("network");
      run_network->policy_ = std::move(*policy);
    }
  }
  spec.netns_fd = run_network->attachment_->netnsFd();
  spec.binds.push_back({run_network->resolv_conf_path_, "/etc/resolv.conf", false});
  return run_network;
}

RunNetwork::~RunNetwork() {
  (void)tearDown();
}

Status RunNetwork::tearDown() {
  Status result;
  std::string gateway;
  if (attachment_) {
    gateway = attachment_->result().gateway;
    result = attachment_->detach();
    attachment_.reset();
  }
  if (!resolv_conf_path_.empty()) {
    ::unlink(resolv_conf_path_.c_str());
    resolv_conf_path_.clear();
  }
  if (!dir_.empty()) {
    ::rmdir(dir_.c_str());  // fails while another run of the network is alive: fine
    dir_.clear();
  }
  if (!bridge_.empty()) {
    auto deleted = network::deleteBridgeIfUnused(bridge_);
    if (!deleted && result.ok()) result = std::move(deleted).error();
    // The last run of the network takes its policy with it; others leave it.
    if (policy_ && deleted && *deleted) {
      if (auto removed = policy_->remove(); !removed && result.ok())
        result = std::move(removed).error();
    } else if (policy_) {
      policy_->release();
    }
    policy_.reset();
    // The bridge's own traffic (IGMP joins of the gateway address) is tracked too.
    if (deleted && *deleted && !gateway.empty())
      if (auto flushed = network::flushConntrack(gateway); !flushed && result.ok())
        result = std::move(flushed).error();
    bridge_.clear();
  }
  return result;
}

}  // namespace wick::cli
