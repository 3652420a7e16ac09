#include "host/network/networks.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>

#include "common/unique_fd.h"
#include "host/network/cni_plugin_exec.h"
#include "host/network/conntrack.h"
#include "host/network/default_network.h"
#include "host/network/dns_forwarder.h"
#include "host/network/host_links.h"
#include "host/network/resolv_conf.h"

namespace wick::network {

namespace {

Status makeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return Error::fromErrno("mkdir " + path);
  return {};
}

Result<CniNetwork> loadNetwork(const NetworkSettings& settings) {
  if (!settings.cni_config_path.empty()) return loadCniNetwork(settings.cni_config_path);
  return parseCniNetwork(defaultConflist(), "(wick's default network)");
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// A network's name names its directory under <state_dir>/net.
bool plainName(const std::string& name) {
  if (name.empty() || name.size() > 64 || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

bool ipAddress(const std::string& text) {
  unsigned char buffer[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
         ::inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

// What each network's policy would share with another's, refused before
// anything is set up: the egress policy is one nftables table per CNI network
// on its bridge, so a second network there would replace the first's policy
// (a "restricted" network open to the internet) and remove it when stopped.
// A bridge name longer than an interface name would fail every ADD in the
// pool's background, with the plugin's message in the log only.
Status checkDistinct(const std::vector<NetworkSettings>& settings) {
  std::map<std::string, std::string> tables, bridges;  // -> the network using it
  for (const auto& one : settings) {
    auto cni = loadNetwork(one);
    if (!cni) return std::move(cni).error().context("network " + one.name);
    const std::string table = egressTableName(cni->name);
    if (auto [user, added] = tables.emplace(table, one.name); !added)
      return Error("networks " + user->second + " and " + one.name +
                       " would share one egress policy (nftables table " + table +
                       ", CNI network " + cni->name + "): give each a CNI network of its own",
                   EINVAL);
    const std::string bridge = cni->bridgeName();
    if (bridge.empty()) continue;
    if (bridge.size() >= IFNAMSIZ)
      return Error("network " + one.name + ": bridge name '" + bridge +
                       "' is longer than an interface name (15 characters)",
                   EINVAL);
    if (auto [user, added] = bridges.emplace(bridge, one.name); !added)
      return Error("networks " + user->second + " and " + one.name + " are both on bridge " +
                       bridge + ", where one egress policy would apply to both: give each a " +
                       "bridge of its own",
                   EINVAL);
  }
  return {};
}

}  // namespace

Status Networks::start(Network& network, const std::string& dir) {
  const NetworkSettings& settings = network.settings;
  auto cni = loadNetwork(settings);
  if (!cni) return std::move(cni).error();
  network.bridge = cni->bridgeName();
  const std::vector<std::string> plugin_dirs =
      settings.cni_path.empty() ? defaultPluginDirs() : settings.cni_path;
  // A missing plugin fails here, not in the pool's background attempts.
  for (const auto& plugin : cni->plugins) {
    auto found = findCniPlugin(plugin.value("type", ""), plugin_dirs);
    if (!found) return std::move(found).error();
  }
  WICK_TRY(makeDir(dir), "network " + settings.name);
  const std::string cni_name = cni->name;
  // The resolvers: the operator's, else the host's that a sandbox can reach,
  // else (the host resolves on loopback only) a forwarder on the gateway.
  DnsSettings dns;
  dns.nameservers = settings.dns;
  std::vector<std::string> forward_to;
  if (dns.nameservers.empty()) {
    HostDns host = hostDns(settings.host_resolv_conf);
    dns = host.reachable;
    if (dns.nameservers.empty() && !network.bridge.empty()) forward_to = host.loopback;
  }

  auto runner = std::make_shared<const CniRunner>(std::move(*cni), plugin_dirs);
  auto pool = NetworkPool::start(runner, {.pin_dir = dir + "/pins", .size = settings.pool_size});
  if (!pool) return std::move(pool).error();
  network.pool = std::move(*pool);
  // Known before wickd listens (openLambdaApi then needs no wait, and a SIGTERM
  // right after the listen finds the signal handler installed).
  std::string gateway;
  if (!network.bridge.empty() && (settings.lambda_api || !forward_to.empty())) {
    auto known = network.pool->gateway();
    if (!known) return std::move(known).error();
    gateway = *known;
  }
  if (!forward_to.empty()) {
    auto forwarder = DnsForwarder::start({.listen_address = gateway, .upstreams = forward_to});
    if (forwarder) {
      network.dns_forwarder = std::move(*forwarder);
      spdlog::info("network {}: the host resolves on loopback only; DNS forwarded from {}:53",
                   settings.name, gateway);
    } else {
      // A resolver of the host's on every address (dnsmasq's default) answers
      // on the gateway itself.
      spdlog::warn("network {}: {}; sandboxes ask {}:53 all the same", settings.name,
                   forwarder.error().message(), gateway);
    }
    dns.nameservers = {gateway};
  }
  network.resolv_conf_path = dir + "/resolv.conf";
  auto file = openFile(network.resolv_conf_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!file) return std::move(file).error();
  WICK_TRY(writeAll(file->get(), renderResolvConf(dns)), "write " + network.resolv_conf_path);

  if (!network.bridge.empty()) {
    // Named for the CNI network (its bridge), not the daemon's name for it:
    // two daemons on one host name their networks "default" alike.
    EgressRules rules;
    rules.network = cni_name;
    rules.bridge = network.bridge;
    rules.internet = settings.internet;
    for (const auto& allowed : settings.allow) {
      auto destination = parseDestination(allowed);
      if (!destination) return std::move(destination).error();
      rules.allow.push_back(*destination);
    }
    rules.deny_cidrs = settings.deny;
    for (const auto& server : dns.nameservers)
      if (server.find(':') == std::string::npos) rules.nameservers.push_back(server);
    auto policy = EgressPolicy::install(rules);
    if (!policy) return std::move(policy).error();
    network.policy = std::move(*policy);
    network.rules = rules;
  }
  return {};
}

Result<std::unique_ptr<Networks>> Networks::open(const std::vector<NetworkSettings>& settings,
                                                 const std::string& state_dir) {
  std::unique_ptr<Networks> networks(new Networks);
  for (size_t i = 0; i < settings.size(); ++i) {
    if (!plainName(settings[i].name))
      return Error("network name '" + settings[i].name +
                       "': letters, digits, '_', '-' and '.' (not first), at most 64",
                   EINVAL);
    for (const auto& server : settings[i].dns)
      if (!ipAddress(server))
        return Error("network " + settings[i].name + ": dns '" + server + "' is not an IP address",
                     EINVAL);
    for (size_t j = 0; j < i; ++j)
      if (settings[i].name == settings[j].name)
        return Error("network " + settings[i].name + " is configured twice", EINVAL);
  }
  WICK_TRY(checkDistinct(settings), "open networks");
  WICK_TRY(makeDir(state_dir + "/net"), "open networks");
  for (const auto& one : settings) {
    Network& network = networks->networks_[one.name];
    network.settings = one;
    WICK_TRY(start(network, state_dir + "/net/" + one.name), "start network " + one.name);
    spdlog::info("network {}: bridge {}, pool of {}, policy {}", one.name,
                 network.bridge.empty() ? "-" : network.bridge, one.pool_size,
                 network.policy ? network.policy->table() : "none");
  }
  return networks;
}

Networks::~Networks() {
  stop();
}

Result<std::string> Networks::select(const nlohmann::json& vpc) const {
  std::vector<std::string> subnets, groups;
  if (vpc.is_object()) {
    for (const auto& id : vpc.value("SubnetIds", nlohmann::json::array()))
      if (id.is_string()) subnets.push_back(id);
    for (const auto& id : vpc.value("SecurityGroupIds", nlohmann::json::array()))
      if (id.is_string()) groups.push_back(id);
  }
  if (subnets.empty() && groups.empty())
    return networks_.count(kDefaultNetworkName) ? std::string(kDefaultNetworkName) : "";
  for (const auto& [name, network] : networks_) {
    bool all = std::all_of(subnets.begin(), subnets.end(), [&](const std::string& id) {
      return contains(network.settings.subnet_ids, id);
    });
    all = all && std::all_of(groups.begin(), groups.end(), [&](const std::string& id) {
            return contains(network.settings.security_group_ids, id);
          });
    if (all && !subnets.empty()) return name;
  }
  std::string ids;
  for (const auto& id : subnets)
    ids += (ids.empty() ? "" : ", ") + id;
  for (const auto& id : groups)
    ids += (ids.empty() ? "" : ", ") + id;
  return Error("VpcConfig: no configured network has subnets and security groups [" + ids + "]",
               EINVAL);
}

Result<NetworkGrant> Networks::take(const std::string& name) {
  auto found = networks_.find(name);
  if (found == networks_.end()) return Error("no network named '" + name + "'", ENOENT);
  auto lease = found->second.pool->take();
  if (!lease) return std::move(lease).error();
  return NetworkGrant{std::move(*lease), found->second.resolv_conf_path,
                      found->second.lambda_endpoint};
}

Result<std::vector<std::string>> Networks::openLambdaApi(uint16_t port) {
  std::vector<std::string> gateways;
  for (auto& [name, network] : networks_) {
    if (!network.settings.lambda_api || !network.policy) continue;
    auto gateway = network.pool->gateway();
    if (!gateway) return std::move(gateway).error().context("open the Lambda API to " + name);
    EgressRules rules = network.rules;
    rules.gateway = *gateway;
    rules.lambda_port = port;
    // The same table, replaced in one transaction: the old owner must not delete it.
    network.policy->release();
    auto policy = EgressPolicy::install(rules);
    if (!policy) return std::move(policy).error().context("open the Lambda API to " + name);
    network.policy = std::move(*policy);
    network.lambda_endpoint = "http://" + *gateway + ":" + std::to_string(port);
    gateways.push_back(*gateway);
  }
  return gateways;
}

void Networks::stop() {
  for (auto& [name, network] : networks_) {
    if (network.stopped) continue;  // the destructor's stop after wickd's
    if (network.pool) {
      const NetworkPoolStats stats = network.pool->stats();
      if (stats.attached > 0)
        spdlog::info(
            "network {}: {} namespaces attached ({:.1f} ms each), {} taken, {} takes waited "
            "({:.1f} ms in all), {} attach failures",
            name, stats.attached, stats.attach_ms_total / static_cast<double>(stats.attached),
            stats.taken, stats.waited, stats.wait_ms_total, stats.attach_failures);
      network.pool->stop();
    }
    if (network.policy)
      if (auto removed = network.policy->remove(); !removed)
        spdlog::warn("network {}: {}", name, removed.error().message());
    network.policy.reset();
    if (!network.bridge.empty()) {
      auto deleted = deleteBridgeIfUnused(network.bridge);
      if (!deleted) spdlog::warn("network {}: {}", name, deleted.error().message());
      // The bridge's own traffic (IGMP joins of the gateway address) is tracked too.
      auto gateway = network.pool ? network.pool->gateway() : Result<std::string>(Error("none"));
      if (deleted && *deleted && gateway)
        if (auto flushed = flushConntrack(*gateway); !flushed)
          spdlog::warn("network {}: {}", name, flushed.error().message());
    }
    ::unlink(network.resolv_conf_path.c_str());
    network.dns_forwarder.reset();
    network.stopped = true;
  }
}

std::map<std::string, NetworkPoolStats> Networks::stats() const {
  std::map<std::string, NetworkPoolStats> all;
  for (const auto& [name, network] : networks_)
    if (network.pool) all[name] = network.pool->stats();
  return all;
}

}  // namespace wick::network
