#include "host/network/cni_config.h"

#include <cctype>

#include "common/unique_fd.h"

namespace wick::network {

namespace {

// The CNI spec: names are letters, digits, '_', '.', '-', starting alphanumeric.
bool validNetworkName(const std::string& name) {
  if (name.empty() || !std::isalnum(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-')
      return false;
  return true;
}

bool validPluginType(const std::string& type) {
  if (type.empty()) return false;
  for (char c : type)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
      return false;
  return type != "." && type != "..";
}

}  // namespace

std::string CniNetwork::bridgeName() const {
  for (const auto& plugin : plugins)
    if (plugin.value("type", "") == "bridge") return plugin.value("bridge", "cni0");
  return "";
}

Result<CniNetwork> parseCniNetwork(const std::string& text, const std::string& source) {
  const std::string what = "CNI network configuration " + source;
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return Error(what + ": not a JSON object", EINVAL);
  CniNetwork network;
  network.source = source;
  if (!doc.contains("name") || !doc["name"].is_string())
    return Error(what + ": no \"name\"", EINVAL);
  network.name = doc["name"];
  if (!validNetworkName(network.name))
    return Error(what + ": invalid name '" + network.name + "'", EINVAL);
  network.cni_version = doc.value("cniVersion", "");
  if (network.cni_version.empty()) return Error(what + ": no \"cniVersion\"", EINVAL);
  if (doc.contains("plugins")) {
    if (!doc["plugins"].is_array() || doc["plugins"].empty())
      return Error(what + ": \"plugins\" must be a non-empty array", EINVAL);
    for (const auto& plugin : doc["plugins"])
      network.plugins.push_back(plugin);
  } else {
    network.plugins.push_back(doc);  // a single-plugin .conf
  }
  for (const auto& plugin : network.plugins) {
    if (!plugin.is_object() || !plugin.contains("type") || !plugin["type"].is_string())
      return Error(what + ": a plugin has no \"type\"", EINVAL);
    if (!validPluginType(plugin["type"]))
      return Error(what + ": invalid plugin type '" + plugin["type"].get<std::string>() + "'",
                   EINVAL);
  }
  return network;
}

Result<CniNetwork> loadCniNetwork(const std::string& path) {
  auto text = readFile(path);
  if (!text) return std::move(text).error().context("load CNI network configuration");
  return parseCniNetwork(*text, path);
}

}  // namespace wick::network
