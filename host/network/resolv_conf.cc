#include "host/network/resolv_conf.h"

#include <algorithm>
#include <iterator>
#include <sstream>

#include "common/unique_fd.h"

namespace wick::network {

std::string renderResolvConf(const DnsSettings& dns) {
  std::string text = "# written by wick for this sandbox\n";
  for (const auto& server : dns.nameservers)
    text += "nameserver " + server + "\n";
  if (!dns.search.empty()) {
    text += "search";
    for (const auto& domain : dns.search)
      text += " " + domain;
    text += "\n";
  }
  if (!dns.options.empty()) {
    text += "options";
    for (const auto& option : dns.options)
      text += " " + option;
    text += "\n";
  }
  return text;
}

DnsSettings parseResolvConf(const std::string& text) {
  DnsSettings dns;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string key;
    words >> key;
    std::string value;
    if (key == "nameserver" && words >> value) dns.nameservers.push_back(value);
    if (key == "search" || key == "domain")
      while (words >> value)
        dns.search.push_back(value);
    if (key == "options")
      while (words >> value)
        dns.options.push_back(value);
  }
  return dns;
}

HostDns hostDns(const std::string& path) {
  auto text = readFile(path);
  HostDns host;
  host.reachable = parseResolvConf(text ? *text : "");
  auto& servers = host.reachable.nameservers;
  const auto loopback = [](const std::string& server) {
    return server.starts_with("127.") || server == "::1";
  };
  std::copy_if(servers.begin(), servers.end(), std::back_inserter(host.loopback), loopback);
  std::erase_if(servers, loopback);
  return host;
}

DnsSettings reachableHostDns(const std::string& path) {
  return hostDns(path).reachable;
}

}  // namespace wick::network
