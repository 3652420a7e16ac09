// The AgentChannel that speaks wick-agent's wire protocol (agent/protocol/).
#pragma once

#include "host/invoke/environment.h"

namespace wick::invoke {

// Empty when this build has no channel implementation.
ChannelFactory agentChannelFactory();

}  // namespace wick::invoke
