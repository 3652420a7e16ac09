#include "host/daemon/network_config.h"

#include <spdlog/spdlog.h>

namespace wick::daemon {

std::vector<network::NetworkSettings> networkSettings(const DaemonConfig& config) {
  std::vector<network::NetworkSettings> all;
  for (const auto& entry : config.networks()) {
    network::NetworkSettings settings;
    settings.name = entry.name();
    settings.cni_config_path = entry.cni_config();
    settings.cni_path = {entry.cni_path().begin(), entry.cni_path().end()};
    settings.pool_size = entry.pool_size() ? entry.pool_size() : 4;
    settings.dns = {entry.dns().begin(), entry.dns().end()};
    if (!entry.host_resolv_conf().empty()) settings.host_resolv_conf = entry.host_resolv_conf();
    settings.allow = {entry.allow().begin(), entry.allow().end()};
    settings.deny = {entry.deny().begin(), entry.deny().end()};
    settings.internet = !entry.no_internet();
    settings.lambda_api = !entry.no_lambda_api();
    settings.subnet_ids = {entry.subnet_ids().begin(), entry.subnet_ids().end()};
    settings.security_group_ids = {entry.security_group_ids().begin(),
                                   entry.security_group_ids().end()};
    all.push_back(std::move(settings));
  }
  if (all.empty() && config.default_network()) {
    network::NetworkSettings settings;
    settings.name = network::kDefaultNetworkName;  // cni_config_path empty: wick's own
    all.push_back(std::move(settings));
  }
  return all;
}

Result<std::unique_ptr<network::Networks>> openNetworks(const DaemonConfig& config) {
  const auto settings = networkSettings(config);
  auto networks = network::Networks::open(settings, config.state_dir());
  if (networks || !config.networks().empty() || settings.empty()) return networks;
  spdlog::warn(
      "wick's default network is unavailable, so functions have only loopback: {} (install "
      "Debian's containernetworking-plugins and nftables, or set default_network: false)",
      networks.error().message());
  return network::Networks::open({}, config.state_dir());
}

std::vector<invoke::RoleMapping> roleMappings(const DaemonConfig& config) {
  std::vector<invoke::RoleMapping> all;
  for (const auto& entry : config.roles()) {
    invoke::RoleMapping mapping;
    mapping.role_arn = entry.role_arn();
    mapping.keys.access_key_id = entry.access_key_id();
    mapping.keys.secret_access_key = entry.secret_access_key();
    mapping.keys.session_token = entry.session_token();
    mapping.credential_process = entry.credential_process();
    all.push_back(std::move(mapping));
  }
  return all;
}

Result<std::vector<std::unique_ptr<http::Server>>> listenOnGateways(
    boost::asio::io_context& io,
    const std::function<http::Handler(const std::string& gateway)>& handler_for,
    network::Networks& networks, uint16_t port) {
  auto gateways = networks.openLambdaApi(port);
  if (!gateways) return std::move(gateways).error();
  std::vector<std::unique_ptr<http::Server>> servers;
  for (const auto& gateway : *gateways) {
    auto server = std::make_unique<http::Server>(io, handler_for(gateway));
    WICK_TRY(server->listen(gateway + ":" + std::to_string(port)),
             "Lambda API for functions on " + gateway);
    servers.push_back(std::move(server));
  }
  return servers;
}

}  // namespace wick::daemon
