// What sandboxes of one network may reach, enforced on the host with
// nftables (never inside the sandbox, where the function could change it).
// The default: the internet yes; the host itself (every host address, so the
// wickd API and whatever listens on the bridge), link-local addresses (the
// cloud metadata service 169.254.169.254), the operator's private ranges and
// other sandboxes no. Exceptions: the Lambda API port on the gateway (calls
// from function to function), the resolvers the sandboxes are given (port
// 53), and the operator's allow list.
//
// One EgressPolicy owns the table `inet wick_<network>` (traffic routed
// through the host and traffic to the host); the destructor deletes it.
// Installing replaces a crashed run's table of the same name atomically.
// Frames between two sandboxes of one bridge never reach nftables' inet hooks
// (unless br_netfilter is loaded): isolated bridge ports stop those
// (host_links.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"

namespace wick::network {

// "CIDR" or "CIDR:PORT" (a TCP/UDP port).
struct Destination {
  std::string cidr;
  std::optional<uint16_t> port;
};
Result<Destination> parseDestination(const std::string& text);

struct EgressRules {
  std::string network;                   // names the tables (letters, digits, '_', '-', '.')
  std::string bridge;                    // the host device the sandboxes' traffic arrives on
  bool internet = true;                  // false: only `allow` and the exceptions
  std::vector<Destination> allow;        // wins over `deny`
  std::vector<std::string> deny_cidrs;   // empty: kDefaultDeny
  std::vector<std::string> nameservers;  // reachable on port 53
  // The Lambda API for functions: the gateway address and wickd's port (0: none).
  std::string gateway;
  uint16_t lambda_port = 0;
};

// RFC 1918, link-local, shared address space (RFC 6598), loopback, "this network".
extern const std::vector<std::string> kDefaultDeny;

// The table of a network's policy: wick_<network>, '-' and '.' as '_' (so
// "a-b", "a.b" and "a_b" have one).
std::string egressTableName(const std::string& network);

// The nft script that installs the rules (replacing tables of the same name).
Result<std::string> renderEgressPolicy(const EgressRules& rules);

// A digest of the rules renderEgressPolicy writes (it is in the table's
// comment): whether a table in place holds the same rules.
Result<std::string> egressRulesDigest(const EgressRules& rules);
// The digest of the table in place for `network`; nullopt if there is none,
// "" if it has no digest (not ours).
Result<std::optional<std::string>> installedEgressDigest(const std::string& network);

class EgressPolicy {
 public:
  static Result<EgressPolicy> install(const EgressRules& rules);
  // The table another holder installed with the same rules, removed by
  // whichever holder is the last.
  static EgressPolicy share(const std::string& network);
  // Deletes the tables a crashed run left for `network`, if any.
  static Status removeLeftover(const std::string& network);

  EgressPolicy(EgressPolicy&& other) noexcept : table_(std::move(other.table_)) {
    other.table_.clear();
  }
  EgressPolicy& operator=(EgressPolicy&& other) noexcept;
  EgressPolicy(const EgressPolicy&) = delete;
  EgressPolicy& operator=(const EgressPolicy&) = delete;
  ~EgressPolicy() { (void)remove(); }

  const std::string& table() const { return table_; }
  Status remove();
  // Leaves the tables installed (another holder of the network still needs
  // them) and forgets them; returns the table name.
  std::string release() { return std::exchange(table_, std::string()); }

 private:
  EgressPolicy() = default;
  std::string table_;  // wick_<network>; empty once removed
};

// Runs an nft script (nft -f -): rules are installed once per network, so a
// process costs nothing that matters, and `wick run` needs no libnftables.
// The error is nft's own message.
Status runNft(const std::string& script);

}  // namespace wick::network
