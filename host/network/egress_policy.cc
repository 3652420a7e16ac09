#include "host/network/egress_policy.h"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>

#include "host/network/subprocess.h"

namespace wick::network {

const std::vector<std::string> kDefaultDeny = {"10.0.0.0/8",     "172.16.0.0/12", "192.168.0.0/16",
                                               "169.254.0.0/16", "100.64.0.0/10", "127.0.0.0/8",
                                               "0.0.0.0/8"};

namespace {

bool validCidr(const std::string& cidr) {
  std::string address = cidr.substr(0, cidr.find('/'));
  in_addr parsed{};
  if (::inet_pton(AF_INET, address.c_str(), &parsed) != 1) return false;
  if (cidr.find('/') == std::string::npos) return true;
  std::string bits = cidr.substr(cidr.find('/') + 1);
  if (bits.empty() || bits.size() > 2 || bits.find_first_not_of("0123456789") != std::string::npos)
    return false;
  return std::stoi(bits) <= 32;
}

bool validName(const std::string& name) {
  if (name.empty() || name.size() > 40) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
      return false;
  return true;
}

std::string set(const std::vector<std::string>& items) {
  std::string text = "{ ";
  for (size_t i = 0; i < items.size(); ++i)
    text += (i ? ", " : "") + items[i];
  return text + " }";
}

// FNV-1a: a digest to compare rules, not a secret.
std::string digestOf(const std::string& text) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return hex;
}

constexpr const char* kDigestComment = "wick rules ";

std::string allowRule(const Destination& destination) {
  if (!destination.port) return "    ip daddr " + destination.cidr + " accept\n";
  const std::string port = std::to_string(*destination.port);
  return "    ip daddr " + destination.cidr + " meta l4proto { tcp, udp } th dport " + port +
         " accept\n";
}

}  // namespace

std::string egressTableName(const std::string& network) {
  std::string table = "wick_" + network;
  for (char& c : table)
    if (c == '-' || c == '.') c = '_';
  return table;
}

Result<Destination> parseDestination(const std::string& text) {
  Destination destination;
  size_t colon = text.find(':');
  destination.cidr = text.substr(0, colon);
  if (!validCidr(destination.cidr))
    return Error("egress rule '" + text + "': not an IPv4 address or CIDR", EINVAL);
  if (colon != std::string::npos) {
    std::string port = text.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) < 1 ||
        std::stoi(port) > 65535)
      return Error("egress rule '" + text + "': port must be 1..65535", EINVAL);
    destination.port = static_cast<uint16_t>(std::stoi(port));
  }
  return destination;
}

Result<std::string> renderEgressPolicy(const EgressRules& rules) {
  const std::string what = "egress policy of network " + rules.network;
  if (!validName(rules.network)) return Error(what + ": invalid network name", EINVAL);
  if (!validName(rules.bridge))
    return Error(what + ": invalid bridge '" + rules.bridge + "'", EINVAL);
  const auto& deny = rules.deny_cidrs.empty() ? kDefaultDeny : rules.deny_cidrs;
  for (const auto& cidr : deny)
    if (!validCidr(cidr)) return Error(what + ": deny '" + cidr + "' is not a CIDR", EINVAL);
  for (const auto& server : rules.nameservers)
    if (!validCidr(server)) return Error(what + ": nameserver '" + server + "'", EINVAL);
  if (rules.lambda_port != 0 && !validCidr(rules.gateway))
    return Error(what + ": gateway '" + rules.gateway + "'", EINVAL);

  const std::string table = egressTableName(rules.network);
  const std::string bridge = "\"" + rules.bridge + "\"";
  std::string script;
  // Into the host: only the Lambda API on the gateway, and resolvers there.
  script += "  chain input {\n    type filter hook input priority filter - 5; policy accept;\n";
  script += "    iifname " + bridge + " jump to_host\n  }\n";
  script += "  chain to_host {\n";
  if (rules.lambda_port != 0)
    script += "    ip daddr " + rules.gateway + " tcp dport " + std::to_string(rules.lambda_port) +
              " accept\n";
  for (const auto& server : rules.nameservers)
    script += "    ip daddr " + server + " meta l4proto { tcp, udp } th dport 53 accept\n";
  script += "    drop\n  }\n";
  // Through the host: the allow list, then the deny list, then the internet.
  script += "  chain forward {\n    type filter hook forward priority filter - 5; policy accept;\n";
  script += "    iifname " + bridge + " jump egress\n  }\n";
  script += "  chain egress {\n";
  for (const auto& server : rules.nameservers)
    script += "    ip daddr " + server + " meta l4proto { tcp, udp } th dport 53 accept\n";
  for (const auto& destination : rules.allow)
    script += allowRule(destination);
  script += "    ip daddr " + set(deny) + " drop\n";
  script += "    meta nfproto ipv6 drop\n";
  script += rules.internet ? "    accept\n" : "    drop\n";
  script += "  }\n}\n";
  // Declare, delete, recreate: one transaction replaces whatever was there.
  return "table inet " + table + " {}\ndelete table inet " + table + "\ntable inet " + table +
         " {\n  comment \"" + kDigestComment + digestOf(script) + "\"\n" + script;
}

Result<std::string> egressRulesDigest(const EgressRules& rules) {
  auto script = renderEgressPolicy(rules);
  if (!script) return std::move(script).error();
  const size_t start = script->find(kDigestComment) + std::strlen(kDigestComment);
  return script->substr(start, 16);
}

Result<std::optional<std::string>> installedEgressDigest(const std::string& network) {
  if (!validName(network)) return Error("invalid network name '" + network + "'", EINVAL);
  const std::string table = egressTableName(network);
  auto output = runProgram({.argv = {"/usr/sbin/nft", "list", "table", "inet", table}});
  if (!output) return std::move(output).error().context("nftables");
  if (output->exit_code != 0) return std::optional<std::string>();  // none
  const size_t at = output->stdout_text.find(kDigestComment);
  if (at == std::string::npos) return std::optional<std::string>("");
  return std::optional<std::string>(
      output->stdout_text.substr(at + std::strlen(kDigestComment), 16));
}

Status runNft(const std::string& script) {
  auto output = runProgram({.argv = {"/usr/sbin/nft", "-f", "-"}, .stdin_text = script});
  if (!output) return std::move(output).error().context("nftables");
  if (output->exit_code != 0) {
    std::string message = output->stderr_text;
    while (!message.empty() && message.back() == '\n')
      message.pop_back();
    return Error("nftables: " + message, EINVAL);
  }
  return {};
}

Result<EgressPolicy> EgressPolicy::install(const EgressRules& rules) {
  auto script = renderEgressPolicy(rules);
  if (!script) return std::move(script).error();
  WICK_TRY(runNft(*script), "install egress policy of network " + rules.network);
  EgressPolicy policy;
  policy.table_ = egressTableName(rules.network);
  return policy;
}

EgressPolicy EgressPolicy::share(const std::string& network) {
  EgressPolicy policy;
  policy.table_ = egressTableName(network);
  return policy;
}

Status EgressPolicy::removeLeftover(const std::string& network) {
  if (!validName(network)) return Error("invalid network name '" + network + "'", EINVAL);
  const std::string table = egressTableName(network);
  WICK_TRY(runNft("table inet " + table + " {}\ndelete table inet " + table + "\n"),
           "remove egress policy of network " + network);
  return {};
}

EgressPolicy& EgressPolicy::operator=(EgressPolicy&& other) noexcept {
  if (this != &other) {
    (void)remove();
    table_ = std::move(other.table_);
    other.table_.clear();
  }
  return *this;
}

Status EgressPolicy::remove() {
  if (table_.empty()) return {};
  const std::string table = std::move(table_);
  table_.clear();
  WICK_TRY(runNft("delete table inet " + table + "\n"), "remove egress policy " + table);
  return {};
}

}  // namespace wick::network
