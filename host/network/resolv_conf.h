// /etc/resolv.conf for a sandbox: the resolvers the operator configures, else
// those CNI returned, else the host's that a sandbox can reach (a loopback
// resolver of the host, 127.0.0.53 say, is not reachable from another
// namespace and is left out).
#pragma once

#include <string>
#include <vector>

#include "common/error.h"

namespace wick::network {

struct DnsSettings {
  std::vector<std::string> nameservers;
  std::vector<std::string> search;
  std::vector<std::string> options;
};

std::string renderResolvConf(const DnsSettings& dns);
DnsSettings parseResolvConf(const std::string& text);
// The host's resolvers minus loopback ones.
DnsSettings reachableHostDns(const std::string& path = "/etc/resolv.conf");
// The same, and the loopback ones apart (a forwarder's upstreams).
struct HostDns {
  DnsSettings reachable;
  std::vector<std::string> loopback;
};
HostDns hostDns(const std::string& path = "/etc/resolv.conf");

}  // namespace wick::network
