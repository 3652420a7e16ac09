// The network wick uses when the operator names none: Debian's bridge plugin
// (a bridge on the host, one veth per sandbox, the bridge as gateway, outbound
// traffic masqueraded) with host-local addresses whose leases live under /run.
#pragma once

#include <string>
#include <vector>

namespace wick::network {

struct DefaultNetworkOptions {
  std::string name = "wick";
  std::string bridge = "wick0";
  std::string subnet = "10.131.0.0/16";
  std::string lease_dir = "/run/wick/cni/networks";
};

std::string defaultConflist(const DefaultNetworkOptions& options = {});

// Where plugins are looked for unless told otherwise (Debian's
// containernetworking-plugins, then the usual upstream location).
std::vector<std::string> defaultPluginDirs();

}  // namespace wick::network
