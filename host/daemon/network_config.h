// The daemon config's networks and role credentials as host/ takes them.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "host/http/server.h"
#include "host/invoke/role_credentials.h"
#include "host/network/networks.h"
#include "wickd_config.pb.h"

namespace wick::daemon {

// The configured networks; none configured: wick's default network, unless
// default_network is off.
std::vector<network::NetworkSettings> networkSettings(const DaemonConfig& config);
// Opens them. If wick's default network cannot start (no bridge plugin, no
// nft), wickd warns and runs with loopback-only sandboxes; a configured
// network that cannot start is an error.
Result<std::unique_ptr<network::Networks>> openNetworks(const DaemonConfig& config);
std::vector<invoke::RoleMapping> roleMappings(const DaemonConfig& config);

// The Lambda API also on each network's gateway at `port`, for calls from
// function to function (the networks' policies let exactly that port through).
// `handler_for` gives the handler of the listener on a gateway address.
Result<std::vector<std::unique_ptr<http::Server>>> listenOnGateways(
    boost::asio::io_context& io,
    const std::function<http::Handler(const std::string& gateway)>& handler_for,
    network::Networks& networks, uint16_t port);

}  // namespace wick::daemon
