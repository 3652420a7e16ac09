// The daemon config's networks as host/network takes them.
#pragma once

#include <vector>

#include "host/network/networks.h"
#include "wickd_config.pb.h"

namespace wick::daemon {

std::vector<network::NetworkSettings> networkSettings(const DaemonConfig& config);

}  // namespace wick::daemon
