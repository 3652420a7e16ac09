// Runs a CNI network's plugin chain for one attachment, as a CNI runtime
// (libcni) does: ADD through the plugins in order, each given the previous
// one's result as prevResult; DEL in reverse with the ADD's result; CHECK in
// order with it.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "host/network/cni_config.h"
#include "host/network/cni_result.h"

namespace wick::network {

// Who is attached: the spec's CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME.
struct CniTarget {
  std::string container_id;
  std::string netns_path;  // empty on a DEL after the namespace is gone
  std::string ifname = "eth0";
};

class CniRunner {
 public:
  CniRunner(CniNetwork network, std::vector<std::string> plugin_dirs);

  Result<CniResult> add(const CniTarget& target) const;
  // prev_result: the ADD's result if known (null JSON if not, e.g. reclaim).
  Status del(const CniTarget& target, const nlohmann::json& prev_result) const;
  Status check(const CniTarget& target, const nlohmann::json& prev_result) const;

  const CniNetwork& network() const { return network_; }
  const std::vector<std::string>& pluginDirs() const { return plugin_dirs_; }

 private:
  std::string pluginConfig(size_t index, const nlohmann::json& prev_result) const;
  Result<std::string> call(size_t index, const char* command, const CniTarget& target,
                           const nlohmann::json& prev_result) const;

  CniNetwork network_;
  std::vector<std::string> plugin_dirs_;
};

}  // namespace wick::network
