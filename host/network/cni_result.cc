#include "host/network/cni_result.h"

namespace wick::network {

std::string CniResult::ipv4() const {
  for (const auto& address : addresses)
    if (address.find(':') == std::string::npos) return address.substr(0, address.find('/'));
  return "";
}

Result<CniResult> parseCniResult(const std::string& text) {
  CniResult result;
  result.raw = nlohmann::json::parse(text, nullptr, false);
  if (result.raw.is_discarded() || !result.raw.is_object())
    return Error("CNI result is not a JSON object: " + text.substr(0, 200), EINVAL);
  if (result.raw.contains("ips") && result.raw["ips"].is_array()) {
    for (const auto& ip : result.raw["ips"]) {
      std::string address = ip.value("address", "");
      if (address.empty()) continue;
      result.addresses.push_back(address);
      if (result.gateway.empty() && address.find(':') == std::string::npos)
        result.gateway = ip.value("gateway", "");
    }
  }
  if (result.raw.contains("dns") && result.raw["dns"].is_object()) {
    const auto& dns = result.raw["dns"];
    if (dns.contains("nameservers") && dns["nameservers"].is_array())
      for (const auto& server : dns["nameservers"])
        if (server.is_string()) result.nameservers.push_back(server);
    if (dns.contains("search") && dns["search"].is_array())
      for (const auto& domain : dns["search"])
        if (domain.is_string()) result.search.push_back(domain);
  }
  return result;
}

}  // namespace wick::network
