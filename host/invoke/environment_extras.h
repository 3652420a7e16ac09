// What the platform adds to a new execution environment (EnvironmentExtras):
// the network it joins, the daemon's network that the function's VpcConfig
// selects (the default one without it), taken from that network's pool
// (blocking until one is ready), none when the daemon has no such network (the
// sandbox has only loopback); and its role's credentials.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "common/error.h"
#include "host/invoke/role_credentials.h"
#include "host/invoke/runtime_environment.h"
#include "host/network/networks.h"
#include "host/registry/function_config.h"

namespace wick::invoke {

Result<std::optional<network::NetworkGrant>> grantNetwork(network::Networks* networks,
                                                          const registry::FunctionConfig& config);

// The credentials of the function's role (see role_credentials.h); nullopt
// when the operator maps no role (the placeholder keys stay).
Result<std::optional<EnvPairs>> roleEnvironment(RoleCredentials* roles,
                                                const registry::FunctionConfig& config);

}  // namespace wick::invoke
