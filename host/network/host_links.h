// Host network devices a network leaves behind once its last sandbox is gone
// (the bridge plugin makes the bridge on the first ADD and never removes it).
#pragma once

#include <string>

#include "common/error.h"

namespace wick::network {

bool linkExists(const std::string& name);
// Marks a bridge port isolated: the bridge forwards nothing between two
// isolated ports (not even ARP), so sandboxes on one bridge cannot reach each
// other while each still reaches the gateway.
Status isolateBridgePort(const std::string& port);
// Whether the bridge `name` exists with a port (a sandbox of someone's on it).
bool bridgeHasPorts(const std::string& name);
// Deletes the bridge `name` if it has no port left; true if it was deleted.
Result<bool> deleteBridgeIfUnused(const std::string& name);

}  // namespace wick::network
