// An Invoke frame written in two pieces: everything but the payload, then
// the payload itself, so the host hands a 6 MB event to the socket without
// copying it into a serialized message first. The pieces together are the
// frame of HostMessage{invoke: Invoke{..., payload}} (protobuf fields may come
// in any order: the payload field is simply last).
#pragma once

#include <string>

#include "agent/protocol/agent.pb.h"

namespace wick::agent {

// The frame's bytes up to the payload: length prefix, HostMessage tag, the
// Invoke's other fields and the payload's tag and length. `invoke` must not
// carry a payload itself.
std::string invokeFrameHead(const Invoke& invoke, size_t payload_size);

}  // namespace wick::agent
