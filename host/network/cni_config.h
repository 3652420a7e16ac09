// A CNI network configuration (the CNI spec's "network configuration list"):
// a name, a cniVersion and a chain of plugin objects, run in order on ADD and
// in reverse on DEL. A single-plugin ".conf" is read as a list of one.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/error.h"

namespace wick::network {

struct CniNetwork {
  std::string name;
  std::string cni_version;
  std::vector<nlohmann::json> plugins;  // each has at least "type"
  std::string source;                   // file it came from, for errors

  // The bridge device the chain's "bridge" plugin makes, if it has one (wick
  // deletes it when it tears the network down).
  std::string bridgeName() const;
};

Result<CniNetwork> parseCniNetwork(const std::string& text, const std::string& source);
Result<CniNetwork> loadCniNetwork(const std::string& path);

}  // namespace wick::network
