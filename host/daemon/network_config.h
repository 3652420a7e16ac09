// The daemon config's networks and role credentials as host/ takes them.
#pragma once

#include <vector>

#include "host/invoke/role_credentials.h"
#include "host/network/networks.h"
#include "wickd_config.pb.h"

namespace wick::daemon {

std::vector<network::NetworkSettings> networkSettings(const DaemonConfig& config);
std::vector<invoke::RoleMapping> roleMappings(const DaemonConfig& config);

}  // namespace wick::daemon
