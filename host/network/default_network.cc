#include "host/network/default_network.h"

#include <nlohmann/json.hpp>

namespace wick::network {

std::string defaultConflist(const DefaultNetworkOptions& options) {
  nlohmann::json ipam = {
      {"type", "host-local"},
      {"ranges", {{{{"subnet", options.subnet}}}}},
      {"routes", {{{"dst", "0.0.0.0/0"}}}},
      {"dataDir", options.lease_dir},
  };
  nlohmann::json bridge = {{"type", "bridge"}, {"bridge", options.bridge}, {"isGateway", true},
                           {"ipMasq", true},   {"hairpinMode", false},     {"ipam", ipam}};
  nlohmann::json list = {{"cniVersion", "1.0.0"},
                         {"name", options.name},
                         {"plugins", nlohmann::json::array({bridge})}};
  return list.dump(2);
}

std::vector<std::string> defaultPluginDirs() {
  return {"/usr/lib/cni", "/opt/cni/bin"};
}

}  // namespace wick::network
