#include "host/network/cni_runner.h"

#include "host/network/cni_plugin_exec.h"

namespace wick::network {

CniRunner::CniRunner(CniNetwork network, std::vector<std::string> plugin_dirs)
    : network_(std::move(network)), plugin_dirs_(std::move(plugin_dirs)) {}

std::string CniRunner::pluginConfig(size_t index, const nlohmann::json& prev_result) const {
  nlohmann::json config = network_.plugins[index];
  config["name"] = network_.name;
  config["cniVersion"] = network_.cni_version;
  if (!prev_result.is_null()) config["prevResult"] = prev_result;
  return config.dump();
}

Result<std::string> CniRunner::call(size_t index, const char* command, const CniTarget& target,
                                    const nlohmann::json& prev_result) const {
  PluginCall plugin_call{.type = network_.plugins[index]["type"],
                         .command = command,
                         .container_id = target.container_id,
                         .netns_path = target.netns_path,
                         .ifname = target.ifname,
                         .plugin_dirs = plugin_dirs_,
                         .stdin_config = pluginConfig(index, prev_result)};
  return runCniPlugin(plugin_call);
}

Result<CniResult> CniRunner::add(const CniTarget& target) const {
  const std::string what = "attach " + target.container_id + " to network " + network_.name;
  nlohmann::json prev_result;
  std::string output;
  // Whatever failed, the plugins may have made a veth and taken an address:
  // undo the chain, as libcni does on a failed ADD.
  auto undo = [&](Error error) -> Result<CniResult> {
    (void)del(target, prev_result);
    return std::move(error).context(what);
  };
  for (size_t i = 0; i < network_.plugins.size(); ++i) {
    auto result = call(i, "ADD", target, prev_result);
    if (!result) return undo(std::move(result).error());
    output = std::move(*result);
    auto parsed = nlohmann::json::parse(output, nullptr, false);
    if (parsed.is_discarded())
      return undo(Error(
          "plugin " + network_.plugins[i]["type"].get<std::string>() + " printed no JSON result",
          EIO));
    prev_result = std::move(parsed);
  }
  auto result = parseCniResult(output);
  if (!result) return undo(std::move(result).error());
  return result;
}

Status CniRunner::del(const CniTarget& target, const nlohmann::json& prev_result) const {
  // Every plugin is asked even if one fails (DEL must be best effort and
  // idempotent); the first failure is reported.
  Status first;
  for (size_t i = network_.plugins.size(); i-- > 0;) {
    auto result = call(i, "DEL", target, prev_result);
    if (!result && first.ok())
      first = std::move(result).error().context("detach " + target.container_id + " from network " +
                                                network_.name);
  }
  return first;
}

Status CniRunner::check(const CniTarget& target, const nlohmann::json& prev_result) const {
  for (size_t i = 0; i < network_.plugins.size(); ++i)
    WICK_TRY(call(i, "CHECK", target, prev_result),
             "check " + target.container_id + " on network " + network_.name);
  return {};
}

}  // namespace wick::network
