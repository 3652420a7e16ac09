#include "host/invoke/agent_wire.h"

namespace wick::invoke {

// The wire protocol lands with wick-agent (issue 3).
ChannelFactory agentChannelFactory() {
  return {};
}

}  // namespace wick::invoke
